#include "rollouts/condition.h"

#include <charconv>
#include <cmath>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace governor::rollouts {

enum class NodeKind { kNumber, kResult, kNegate, kIsNaN, kIsInf, kCompare, kNot, kAnd, kOr };
enum class CompareOp { kLess, kLessEqual, kGreater, kGreaterEqual, kEqual, kNotEqual };

struct Condition::Node {
  NodeKind kind = NodeKind::kNumber;
  double number = 0;                 // kNumber.
  CompareOp op = CompareOp::kEqual;  // kCompare.
  // kNegate, kIsNaN, kIsInf, kNot: one; kCompare: two; kAnd, kOr: two or more. And/or are
  // n-ary so that a long chain does not make a deep tree.
  std::vector<Node> children;
};

namespace {

using Node = Condition::Node;

// Deep enough for any condition a person writes; shallow enough that the recursive parser
// and evaluator cannot exhaust the stack on hostile input.
constexpr int kMaxDepth = 64;

enum class TokenKind {
  kNumber,
  kName,  // An identifier: result, and, or, not, isNaN, isInf, or unknown.
  kCompare,
  kMinus,
  kLeftParen,
  kRightParen,
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  size_t offset = 0;
  std::string_view text;
  double number = 0;                 // kNumber.
  CompareOp op = CompareOp::kEqual;  // kCompare.
};

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isNameChar(char c) { return isNameStart(c) || isDigit(c); }

// A value is boolean (a condition) or a number: checked while parsing.
enum class Type { kNumber, kBool };

struct Typed {
  Node node;
  Type type = Type::kNumber;
  size_t offset = 0;  // Where it starts, for type errors.
};

class Compiler {
 public:
  explicit Compiler(std::string_view text) : text_(text) {}

  // Returns the tree of the whole text, type-checked as a condition.
  Result<Node> compile() {
    Status s = advance();
    if (!s.ok()) return s;
    auto root = parseOr();
    if (!root.ok()) return root.status();
    if (token_.kind != TokenKind::kEnd) {
      return error(token_.offset, "expected \"and\", \"or\" or the end, got " + shown(token_));
    }
    s = expectBool(*root);
    if (!s.ok()) return s;
    return std::move(root->node);
  }

  bool usesIsNaN() const { return uses_is_nan_; }

 private:
  static Status error(size_t offset, const std::string& what) {
    return invalidArgument("offset " + std::to_string(offset) + ": " + what);
  }

  static std::string shown(const Token& t) {
    if (t.kind == TokenKind::kEnd) return "the end";
    return "\"" + std::string(t.text) + "\"";
  }

  static Status expectBool(const Typed& t) {
    if (t.type == Type::kBool) return Status();
    return error(t.offset, "expected a comparison, got a number; compare it, e.g. result >= 0.95");
  }
  static Status expectNumber(const Typed& t) {
    if (t.type == Type::kNumber) return Status();
    return error(t.offset, "expected a number, got a condition");
  }

  // Reads the next token into token_.
  Status advance() {
    size_t i = pos_;
    while (i < text_.size() &&
           (text_[i] == ' ' || text_[i] == '\t' || text_[i] == '\n' || text_[i] == '\r')) {
      ++i;
    }
    token_ = Token{};
    token_.offset = i;
    if (i >= text_.size()) {
      pos_ = i;
      return Status();
    }
    const char c = text_[i];
    const auto take = [&](TokenKind kind, size_t len) {
      token_.kind = kind;
      token_.text = text_.substr(i, len);
      pos_ = i + len;
      return Status();
    };
    const auto at = [&](size_t k) { return i + k < text_.size() ? text_[i + k] : '\0'; };
    if (isDigit(c) || (c == '.' && isDigit(at(1)))) return number(i);
    if (isNameStart(c)) {
      size_t end = i;
      while (end < text_.size() && isNameChar(text_[end])) ++end;
      return take(TokenKind::kName, end - i);
    }
    switch (c) {
      case '(':
        return take(TokenKind::kLeftParen, 1);
      case ')':
        return take(TokenKind::kRightParen, 1);
      case '-':
        return take(TokenKind::kMinus, 1);
      case '<':
      case '>': {
        const bool equal = at(1) == '=';
        token_.op = c == '<' ? (equal ? CompareOp::kLessEqual : CompareOp::kLess)
                             : (equal ? CompareOp::kGreaterEqual : CompareOp::kGreater);
        return take(TokenKind::kCompare, equal ? 2 : 1);
      }
      case '=':
        if (at(1) != '=') return error(i, "write == to compare, not =");
        token_.op = CompareOp::kEqual;
        return take(TokenKind::kCompare, 2);
      case '!':
        if (at(1) != '=') return error(i, "write not, not !");
        token_.op = CompareOp::kNotEqual;
        return take(TokenKind::kCompare, 2);
      case '&':
        return error(i, "write and, not &&");
      case '|':
        return error(i, "write or, not ||");
      default:
        break;
    }
    const auto u = static_cast<unsigned char>(c);
    const std::string what =
        u >= 0x20 && u < 0x7F ? "\"" + std::string(1, c) + "\"" : "byte " + std::to_string(u);
    return error(i, "unexpected character " + what);
  }

  // A number at text_[start]: digits [. digits] [e [+-] digits], or .digits.
  Status number(size_t start) {
    size_t i = start;
    while (i < text_.size() && isDigit(text_[i])) ++i;
    if (i < text_.size() && text_[i] == '.') {
      ++i;
      while (i < text_.size() && isDigit(text_[i])) ++i;
    }
    if (i < text_.size() && (text_[i] == 'e' || text_[i] == 'E')) {
      size_t j = i + 1;
      if (j < text_.size() && (text_[j] == '+' || text_[j] == '-')) ++j;
      if (j < text_.size() && isDigit(text_[j])) {
        while (j < text_.size() && isDigit(text_[j])) ++j;
        i = j;
      }
    }
    // "5m", "1.2.3", "1e": not a number followed by something, but a bad number.
    size_t end = i;
    while (end < text_.size() && (isNameChar(text_[end]) || text_[end] == '.')) ++end;
    const std::string_view literal = text_.substr(start, end - start);
    if (end != i) return error(start, "invalid number \"" + std::string(literal) + "\"");
    double value = 0;
    const auto [ptr, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), value);
    if (ec == std::errc::result_out_of_range) {
      return error(start, "number \"" + std::string(literal) + "\" is out of range");
    }
    if (ec != std::errc() || ptr != literal.data() + literal.size()) {
      return error(start, "invalid number \"" + std::string(literal) + "\"");
    }
    token_.kind = TokenKind::kNumber;
    token_.text = literal;
    token_.number = value;
    pos_ = i;
    return Status();
  }

  bool isKeyword(std::string_view word) const {
    return token_.kind == TokenKind::kName && token_.text == word;
  }

  // Counts one level of nesting; an error past kMaxDepth.
  Status enter(size_t offset) {
    if (++depth_ > kMaxDepth) {
      return error(offset,
                   "nested too deeply (more than " + std::to_string(kMaxDepth) + " levels)");
    }
    return Status();
  }

  // or := and { "or" and }; and := not { "and" not }.
  Result<Typed> parseOr() { return parseChain("or", NodeKind::kOr); }
  Result<Typed> parseAnd() { return parseChain("and", NodeKind::kAnd); }

  Result<Typed> parseChain(std::string_view keyword, NodeKind kind) {
    auto first = kind == NodeKind::kOr ? parseAnd() : parseNot();
    if (!first.ok()) return first;
    if (!isKeyword(keyword)) return first;
    Status s = expectBool(*first);
    if (!s.ok()) return s;
    Typed out{Node{kind, 0, CompareOp::kEqual, {}}, Type::kBool, first->offset};
    out.node.children.push_back(std::move(first->node));
    while (isKeyword(keyword)) {
      s = advance();
      if (!s.ok()) return s;
      auto next = kind == NodeKind::kOr ? parseAnd() : parseNot();
      if (!next.ok()) return next;
      s = expectBool(*next);
      if (!s.ok()) return s;
      out.node.children.push_back(std::move(next->node));
    }
    return out;
  }

  // not := "not" not | comparison
  Result<Typed> parseNot() {
    if (!isKeyword("not")) return parseComparison();
    const size_t offset = token_.offset;
    Status s = enter(offset);
    if (!s.ok()) return s;
    s = advance();
    if (!s.ok()) return s;
    auto operand = parseNot();
    if (!operand.ok()) return operand;
    s = expectBool(*operand);
    if (!s.ok()) return s;
    --depth_;
    Typed out{Node{NodeKind::kNot, 0, CompareOp::kEqual, {}}, Type::kBool, offset};
    out.node.children.push_back(std::move(operand->node));
    return out;
  }

  // comparison := sum [ op sum ]
  Result<Typed> parseComparison() {
    auto left = parseSum();
    if (!left.ok()) return left;
    if (token_.kind != TokenKind::kCompare) return left;
    const CompareOp op = token_.op;
    Status s = expectNumber(*left);
    if (!s.ok()) return s;
    s = advance();
    if (!s.ok()) return s;
    auto right = parseSum();
    if (!right.ok()) return right;
    s = expectNumber(*right);
    if (!s.ok()) return s;
    if (token_.kind == TokenKind::kCompare) {
      return error(token_.offset,
                   "comparisons do not chain; join them with and, e.g. "
                   "0 < result and result < 1");
    }
    Typed out{Node{NodeKind::kCompare, 0, op, {}}, Type::kBool, left->offset};
    out.node.children.push_back(std::move(left->node));
    out.node.children.push_back(std::move(right->node));
    return out;
  }

  // sum := "-" sum | primary
  Result<Typed> parseSum() {
    if (token_.kind != TokenKind::kMinus) return parsePrimary();
    const size_t offset = token_.offset;
    Status s = enter(offset);
    if (!s.ok()) return s;
    s = advance();
    if (!s.ok()) return s;
    auto operand = parseSum();
    if (!operand.ok()) return operand;
    s = expectNumber(*operand);
    if (!s.ok()) return s;
    --depth_;
    Typed out{Node{NodeKind::kNegate, 0, CompareOp::kEqual, {}}, Type::kNumber, offset};
    out.node.children.push_back(std::move(operand->node));
    return out;
  }

  // Reads `)` or fails naming what was there.
  Status closeParen(size_t open_offset) {
    if (token_.kind != TokenKind::kRightParen) {
      return error(token_.offset, "expected \")\" to close the \"(\" at offset " +
                                      std::to_string(open_offset) + ", got " + shown(token_));
    }
    return advance();
  }

  Result<Typed> parsePrimary() {
    const Token t = token_;
    switch (t.kind) {
      case TokenKind::kNumber: {
        Status s = advance();
        if (!s.ok()) return s;
        return Typed{Node{NodeKind::kNumber, t.number, CompareOp::kEqual, {}}, Type::kNumber,
                     t.offset};
      }
      case TokenKind::kLeftParen: {
        Status s = enter(t.offset);
        if (!s.ok()) return s;
        s = advance();
        if (!s.ok()) return s;
        auto inner = parseOr();
        if (!inner.ok()) return inner;
        s = closeParen(t.offset);
        if (!s.ok()) return s;
        --depth_;
        inner->offset = t.offset;
        return inner;
      }
      case TokenKind::kName:
        break;
      default:
        return error(t.offset, "expected a number or \"result\", got " + shown(t));
    }
    if (t.text == "result") {
      // Argo's templates index the result (`result[0]`); say why that is not needed here.
      size_t next = pos_;
      while (next < text_.size() && (text_[next] == ' ' || text_[next] == '\t')) ++next;
      if (next < text_.size() && text_[next] == '[') {
        return error(next, "\"result\" is the query's single value: write result, not result[0]");
      }
      Status s = advance();
      if (!s.ok()) return s;
      return Typed{Node{NodeKind::kResult, 0, CompareOp::kEqual, {}}, Type::kNumber, t.offset};
    }
    if (t.text == "isNaN" || t.text == "isInf") {
      const bool nan = t.text == "isNaN";
      uses_is_nan_ = uses_is_nan_ || nan;
      Status s = enter(t.offset);
      if (!s.ok()) return s;
      s = advance();
      if (!s.ok()) return s;
      if (token_.kind != TokenKind::kLeftParen) {
        return error(token_.offset,
                     "expected \"(\" after " + std::string(t.text) + ", got " + shown(token_));
      }
      const size_t open = token_.offset;
      s = advance();
      if (!s.ok()) return s;
      auto arg = parseOr();
      if (!arg.ok()) return arg;
      s = expectNumber(*arg);
      if (!s.ok()) return s;
      s = closeParen(open);
      if (!s.ok()) return s;
      --depth_;
      Typed out{Node{nan ? NodeKind::kIsNaN : NodeKind::kIsInf, 0, CompareOp::kEqual, {}},
                Type::kBool, t.offset};
      out.node.children.push_back(std::move(arg->node));
      return out;
    }
    if (t.text == "and" || t.text == "or" || t.text == "not") {
      return error(t.offset, "expected a number or \"result\", got " + shown(t));
    }
    return error(t.offset,
                 "unknown name " + shown(t) + " (known: result, isNaN, isInf, and, or, not)");
  }

  std::string_view text_;
  size_t pos_ = 0;  // Where the next token starts (after token_).
  Token token_;
  int depth_ = 0;
  bool uses_is_nan_ = false;
};

bool compare(CompareOp op, double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return false;
  switch (op) {
    case CompareOp::kLess:
      return a < b;
    case CompareOp::kLessEqual:
      return a <= b;
    case CompareOp::kGreater:
      return a > b;
    case CompareOp::kGreaterEqual:
      return a >= b;
    case CompareOp::kEqual:
      return a == b;
    case CompareOp::kNotEqual:
      return a != b;
  }
  return false;
}

double numberOf(const Node& n, double result);

bool truthOf(const Node& n, double result) {
  switch (n.kind) {
    case NodeKind::kIsNaN:
      return std::isnan(numberOf(n.children[0], result));
    case NodeKind::kIsInf:
      return std::isinf(numberOf(n.children[0], result));
    case NodeKind::kCompare:
      return compare(n.op, numberOf(n.children[0], result), numberOf(n.children[1], result));
    case NodeKind::kNot:
      return !truthOf(n.children[0], result);
    case NodeKind::kAnd:
      for (const Node& c : n.children) {
        if (!truthOf(c, result)) return false;
      }
      return true;
    case NodeKind::kOr:
      for (const Node& c : n.children) {
        if (truthOf(c, result)) return true;
      }
      return false;
    case NodeKind::kNumber:
    case NodeKind::kResult:
    case NodeKind::kNegate:
      break;  // Numbers: the compiler's type check keeps them out of boolean places.
  }
  return false;
}

double numberOf(const Node& n, double result) {
  switch (n.kind) {
    case NodeKind::kNumber:
      return n.number;
    case NodeKind::kResult:
      return result;
    case NodeKind::kNegate:
      return -numberOf(n.children[0], result);
    default:
      break;  // Booleans: kept out of numeric places by the type check.
  }
  return std::nan("");
}

}  // namespace

Result<Condition> compileCondition(std::string_view text) {
  Compiler compiler(text);
  auto root = compiler.compile();
  if (!root.ok()) return root.status();
  return Condition(std::string(text), std::make_shared<const Node>(std::move(root).value()),
                   compiler.usesIsNaN());
}

bool evaluate(const Condition& condition, double result) {
  return truthOf(*condition.root_, result);
}

}  // namespace governor::rollouts
