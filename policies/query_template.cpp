#include "policies/query_template.h"

#include <cstdint>
#include <string>
#include <vector>

namespace governor::policies {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// The length of the valid UTF-8 sequence starting at s[i], or 0 if there is none (a stray
// continuation byte, a truncated or overlong sequence, a surrogate, or beyond U+10FFFF).
size_t utf8SequenceLength(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  size_t len = 0;
  uint32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

void appendHexEscape(std::string& out, unsigned char b) {
  out += "\\x";
  out += kHex[b >> 4];
  out += kHex[b & 0x0F];
}

bool isSelectorSpecial(char c) {
  return c == ',' || c == '(' || c == ')' || c == '=' || c == '!' || c == '<' || c == '>';
}
bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A Kubernetes label selector, parsed as k8s.io/apimachinery/pkg/labels.Parse reads it, and
// rendered as PromQL matchers while it is read.
class SelectorParser {
 public:
  explicit SelectorParser(std::string_view text) : text_(text) {}

  Result<std::string> parse() {
    std::string out;
    skipSpace();
    if (atEnd()) return out;
    while (true) {
      Status s = requirement(out);
      if (!s.ok()) return s;
      skipSpace();
      if (atEnd()) return out;
      if (text_[pos_] != ',') return error("expected \",\" between requirements");
      ++pos_;
      out += ',';
    }
  }

 private:
  bool atEnd() const { return pos_ >= text_.size(); }
  void skipSpace() {
    while (!atEnd() && isSpace(text_[pos_])) ++pos_;
  }
  bool startsWith(std::string_view prefix) const {
    return text_.substr(pos_).substr(0, prefix.size()) == prefix;
  }
  // A key or value: a run of characters that are neither space nor selector syntax.
  std::string_view word() {
    const size_t start = pos_;
    while (!atEnd() && !isSpace(text_[pos_]) && !isSelectorSpecial(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }
  Status error(const std::string& what) const {
    return invalidArgument("label selector \"" + escapeStringLiteral(text_) + "\": " + what +
                           " at offset " + std::to_string(pos_));
  }

  Status requirement(std::string& out) {
    skipSpace();
    if (!atEnd() && text_[pos_] == '!') {
      ++pos_;
      skipSpace();
      const std::string_view key = word();
      if (key.empty()) return error("expected a label key after \"!\"");
      out += sanitizeLabelName(key) + "=\"\"";
      return Status();
    }
    const std::string_view key = word();
    if (key.empty()) return error("expected a label key");
    const std::string name = sanitizeLabelName(key);
    skipSpace();
    if (atEnd() || text_[pos_] == ',') {  // Exists.
      out += name + "!=\"\"";
      return Status();
    }
    if (startsWith("==") || startsWith("=") || startsWith("!=")) {
      const bool negate = text_[pos_] == '!';
      pos_ += startsWith("=") && !startsWith("==") ? 1 : 2;
      skipSpace();
      const std::string_view value = word();  // May be empty: `key=` selects key="".
      out += name + (negate ? "!=\"" : "=\"") + escapeStringLiteral(value) + "\"";
      return Status();
    }
    if (text_[pos_] == '<' || text_[pos_] == '>') {
      return error("the operators < and > have no PromQL label matcher");
    }
    const size_t op_at = pos_;
    const std::string_view op = word();
    if (op != "in" && op != "notin") {
      pos_ = op_at;
      return error("expected =, ==, !=, in or notin after \"" + escapeStringLiteral(key) + "\"");
    }
    skipSpace();
    if (atEnd() || text_[pos_] != '(') return error("expected \"(\"");
    ++pos_;
    std::string alternatives;
    for (bool first = true;; first = false) {
      skipSpace();
      const std::string_view value = word();
      if (!first) alternatives += '|';
      alternatives += quoteRegex(value);
      skipSpace();
      if (atEnd()) return error("expected \",\" or \")\"");
      if (text_[pos_] == ')') {
        if (first && value.empty()) return error("expected at least one value");
        ++pos_;
        break;
      }
      if (text_[pos_] != ',') return error("expected \",\" or \")\"");
      ++pos_;
    }
    out += name + (op == "in" ? "=~\"" : "!~\"") + escapeStringLiteral(alternatives) + "\"";
    return Status();
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// Where in the template a variable lands.
enum class Context { kCode, kDoubleQuoted, kSingleQuoted, kRaw, kComment };

// "namespace, name, target, selector, args.a, args.b": what an unknown-variable error lists.
std::string knownVariables(const TemplateSchema& schema) {
  std::string out = schema.builtins ? "namespace, name, target, selector" : "";
  for (const std::string& arg : schema.args) {
    if (!out.empty()) out += ", ";
    out += "args." + escapeStringLiteral(arg);
  }
  return out.empty() ? "none" : out;
}

constexpr std::string_view kArgsPrefix = "args.";

// Scans a template as PromQL's lexer would and substitutes variables by context. With
// `vars` null it only checks (validateQueryTemplate) and substitutes nothing useful.
// `schema` says which variables are known.
Result<std::string> renderTemplate(std::string_view tmpl, const TemplateVars* vars,
                                   const TemplateSchema& schema) {
  std::string out;
  out.reserve(tmpl.size() + 64);
  Context ctx = Context::kCode;
  bool regex = false;  // The current string is the right side of =~ or !~.
  size_t i = 0;
  const auto fail = [&](size_t at, const std::string& what) {
    return invalidArgument("query template, offset " + std::to_string(at) + ": " + what);
  };
  while (i < tmpl.size()) {
    // "{{{" outside a variable is a brace followed by a variable (`metric{{{selector}}}`).
    if (tmpl.substr(i, 2) == "{{" && tmpl.substr(i, 3) != "{{{") {
      const size_t close = tmpl.find("}}", i + 2);
      if (close == std::string_view::npos) return fail(i, "unterminated \"{{\"");
      std::string_view var = tmpl.substr(i + 2, close - i - 2);
      while (!var.empty() && isSpace(var.front())) var.remove_prefix(1);
      while (!var.empty() && isSpace(var.back())) var.remove_suffix(1);
      const std::string shown = "{{" + escapeStringLiteral(var) + "}}";
      const std::string* value = nullptr;
      const bool builtin =
          var == "selector" || var == "namespace" || var == "name" || var == "target";
      const bool arg = var.substr(0, kArgsPrefix.size()) == kArgsPrefix &&
                       schema.args.count(std::string(var.substr(kArgsPrefix.size()))) > 0;
      if ((builtin && !schema.builtins) || (!builtin && !arg)) {
        return fail(i, "unknown variable " + shown + " (known: " + knownVariables(schema) + ")");
      }
      if (var == "selector") {
        if (ctx == Context::kDoubleQuoted || ctx == Context::kSingleQuoted ||
            ctx == Context::kRaw) {
          return fail(i,
                      "{{selector}} inside a string; it renders label matchers and belongs "
                      "between a selector's braces, e.g. metric{{{selector}}}");
        }
        if (vars != nullptr) {
          if (!vars->selector) return fail(i, "{{selector}} used, but the selector is unknown");
          auto matchers = selectorToMatchers(*vars->selector);
          if (!matchers.ok()) return matchers.status();
          // In a comment the matchers are harmless text; escape them like a string anyway
          // so nothing can end the comment.
          out += ctx == Context::kComment ? escapeStringLiteral(*matchers) : *matchers;
        }
        i = close + 2;
        continue;
      }
      if (var == "namespace") {
        value = vars != nullptr ? &vars->namespace_ : nullptr;
      } else if (var == "name") {
        value = vars != nullptr ? &vars->name : nullptr;
      } else if (var == "target") {
        value = vars != nullptr ? &vars->target : nullptr;
      } else if (vars != nullptr) {  // An arg the schema knows, so one of vars->args.
        value = &vars->args.at(std::string(var.substr(kArgsPrefix.size())));
      }
      if (ctx == Context::kCode) {
        return fail(i, shown +
                           " outside a string literal; write it inside quotes, e.g. "
                           "namespace=\"{{namespace}}\", where its value is escaped");
      }
      if (value != nullptr) {
        const std::string literal = regex ? quoteRegex(*value) : *value;
        switch (ctx) {
          case Context::kDoubleQuoted:
          case Context::kComment:
            out += escapeStringLiteral(literal, '"');
            break;
          case Context::kSingleQuoted:
            out += escapeStringLiteral(literal, '\'');
            break;
          case Context::kRaw:
            if (literal.find('`') != std::string::npos) {
              return fail(i, "the value of " + shown +
                                 " contains a backtick and cannot be placed in a raw string");
            }
            out += literal;
            break;
          case Context::kCode:
            break;
        }
      }
      i = close + 2;
      continue;
    }

    const char c = tmpl[i];
    switch (ctx) {
      case Context::kCode:
        if (c == '"' || c == '\'' || c == '`') {
          // The matcher operator before the quote, ignoring whitespace.
          size_t end = out.size();
          while (end > 0 && isSpace(out[end - 1])) --end;
          regex = end >= 2 && (out[end - 1] == '~') && (out[end - 2] == '=' || out[end - 2] == '!');
          ctx = c == '"' ? Context::kDoubleQuoted
                         : (c == '\'' ? Context::kSingleQuoted : Context::kRaw);
        } else if (c == '#') {
          ctx = Context::kComment;
        }
        out += c;
        ++i;
        break;
      case Context::kDoubleQuoted:
      case Context::kSingleQuoted:
        out += c;
        ++i;
        if (c == '\\' && i < tmpl.size()) {  // An escape: the next byte cannot close.
          out += tmpl[i];
          ++i;
        } else if (c == (ctx == Context::kDoubleQuoted ? '"' : '\'')) {
          ctx = Context::kCode;
        }
        break;
      case Context::kRaw:
        out += c;
        ++i;
        if (c == '`') ctx = Context::kCode;
        break;
      case Context::kComment:
        out += c;
        ++i;
        if (c == '\n') ctx = Context::kCode;
        break;
    }
  }
  return out;
}

}  // namespace

std::string escapeStringLiteral(std::string_view value, char quote) {
  std::string out;
  out.reserve(value.size() + 8);
  size_t i = 0;
  while (i < value.size()) {
    const char c = value[i];
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\' || c == quote) {
      out += '\\';
      out += c;
      ++i;
    } else if (c == '\n') {
      out += "\\n";
      ++i;
    } else if (c == '\r') {
      out += "\\r";
      ++i;
    } else if (c == '\t') {
      out += "\\t";
      ++i;
    } else if (u < 0x20 || u == 0x7F) {
      appendHexEscape(out, u);
      ++i;
    } else if (u < 0x80) {
      out += c;
      ++i;
    } else if (const size_t len = utf8SequenceLength(value, i); len > 0) {
      out.append(value.substr(i, len));
      i += len;
    } else {
      appendHexEscape(out, u);
      ++i;
    }
  }
  return out;
}

std::string quoteRegex(std::string_view value) {
  static constexpr std::string_view kMeta = "\\.+*?()|[]{}^$";
  std::string out;
  out.reserve(value.size() + 4);
  for (const char c : value) {
    if (kMeta.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string sanitizeLabelName(std::string_view key) {
  std::string out;
  out.reserve(key.size() + 1);
  if (!key.empty() && key.front() >= '0' && key.front() <= '9') out += '_';
  for (const char c : key) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    out += ok ? c : '_';
  }
  return out;
}

Result<std::string> selectorToMatchers(std::string_view selector) {
  return SelectorParser(selector).parse();
}

Result<std::string> renderQuery(std::string_view query_template, const TemplateVars& vars) {
  TemplateSchema schema;
  for (const auto& [name, value] : vars.args) schema.args.insert(name);
  return renderTemplate(query_template, &vars, schema);
}

Status validateQueryTemplate(std::string_view query_template, const TemplateSchema& schema) {
  return renderTemplate(query_template, nullptr, schema).status();
}

}  // namespace governor::policies
