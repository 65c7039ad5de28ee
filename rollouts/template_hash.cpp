#include "rollouts/template_hash.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

namespace governor::rollouts {
namespace {

constexpr uint32_t kFnvOffsetBasis = 2166136261u;
constexpr uint32_t kFnvPrime = 16777619u;

uint32_t fnvUpdate(uint32_t hash, std::string_view bytes) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= kFnvPrime;
  }
  return hash;
}

void appendJsonString(std::string_view s, std::string& out) {
  out += '"';
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += ch;  // UTF-8 passes through: JSON text is UTF-8.
        }
    }
  }
  out += '"';
}

bool oneOf(std::string_view s, std::initializer_list<std::string_view> options) {
  return std::find(options.begin(), options.end(), s) != options.end();
}

// Parses the digits of `s` in `base` into `out`; false when `s` is empty, has another
// character or overflows int64.
bool parseInt(std::string_view s, int base, bool negative, int64_t& out) {
  if (s.empty()) return false;
  uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude, base);
  if (ec != std::errc() || end != s.data() + s.size()) return false;
  constexpr uint64_t kMax = static_cast<uint64_t>(INT64_MAX);
  if (magnitude > kMax + (negative ? 1 : 0)) return false;
  out = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return true;
}

// YAML 1.1 integer forms (go-yaml v2): decimal, 0x hex, 0o or leading-0 octal, 0b binary.
bool resolveInt(std::string_view s, int64_t& out) {
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    return parseInt(s.substr(2), 16, negative, out);
  }
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
    return parseInt(s.substr(2), 8, negative, out);
  }
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
    return parseInt(s.substr(2), 2, negative, out);
  }
  if (s.size() > 1 && s[0] == '0') return parseInt(s.substr(1), 8, negative, out);
  return parseInt(s, 10, negative, out);
}

// A decimal float: [-+]?(digits[.digits*]|.digits)([eE][-+]?digits)?.
bool looksLikeFloat(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exponent = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++exponent;
    if (exponent == 0) return false;
  }
  return i == s.size();
}

std::string formatDouble(double v) {
  // Integral values in int64 range print as integers, so `1.0`, `1` and `1e0` agree.
  if (std::trunc(v) == v && std::fabs(v) < 9.2e18) {
    return std::to_string(static_cast<int64_t>(v));
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, ec == std::errc() ? end : buf);
}

class Canonicalizer {
 public:
  Status write(const YAML::Node& node, const std::string& path, std::string& out) {
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        out += "null";
        return Status::okStatus();
      case YAML::NodeType::Scalar:
        return scalar(node, path, out);
      case YAML::NodeType::Sequence: {
        out += '[';
        for (size_t i = 0; i < node.size(); ++i) {
          if (i > 0) out += ',';
          Status s = write(node[i], path + "[" + std::to_string(i) + "]", out);
          if (!s.ok()) return s;
        }
        out += ']';
        return Status::okStatus();
      }
      case YAML::NodeType::Map:
        return mapping(node, path, out);
    }
    return Status::okStatus();
  }

 private:
  static std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }

  Status mapping(const YAML::Node& node, const std::string& path, std::string& out) {
    // Sorted by index, never by moving nodes: assigning a YAML::Node rebinds the node it
    // shares with others, which would scramble the document.
    std::vector<YAML::Node> values;
    std::vector<std::pair<std::string, size_t>> keys;
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) {
        return invalidArgument((path.empty() ? std::string("(root)") : path) +
                               ": a mapping key must be a string, got " +
                               (kv.first.IsMap() ? "a mapping" : "a list"));
      }
      keys.emplace_back(kv.first.Scalar(), values.size());
      values.push_back(kv.second);
    }
    std::stable_sort(keys.begin(), keys.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    out += '{';
    for (size_t i = 0; i < keys.size(); ++i) {
      // A repeated key keeps its last value, as encoding/json does with duplicate keys.
      if (i + 1 < keys.size() && keys[i + 1].first == keys[i].first) continue;
      if (out.back() != '{') out += ',';
      appendJsonString(keys[i].first, out);
      out += ':';
      Status s = write(values[keys[i].second], join(path, keys[i].first), out);
      if (!s.ok()) return s;
    }
    out += '}';
    return Status::okStatus();
  }

  static Status scalar(const YAML::Node& node, const std::string& path, std::string& out) {
    const std::string& s = node.Scalar();
    const std::string& tag = node.Tag();
    constexpr std::string_view kCore = "tag:yaml.org,2002:";
    const bool plain = tag == "?";
    const bool tagged = tag.rfind(kCore, 0) == 0;
    const std::string_view core = tagged ? std::string_view(tag).substr(kCore.size()) : "";
    if (!plain && !tagged) {  // Quoted, block or custom-tagged: a string.
      appendJsonString(s, out);
      return Status::okStatus();
    }
    if (core == "str") {
      appendJsonString(s, out);
      return Status::okStatus();
    }
    if ((plain || core == "null") && oneOf(s, {"", "~", "null", "Null", "NULL"})) {
      out += "null";
      return Status::okStatus();
    }
    if (plain || core == "bool") {
      if (oneOf(s, {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})) {
        out += "true";
        return Status::okStatus();
      }
      if (oneOf(s, {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})) {
        out += "false";
        return Status::okStatus();
      }
    }
    if (plain || core == "int" || core == "float") {
      int64_t i = 0;
      if (resolveInt(s, i)) {
        out += std::to_string(i);
        return Status::okStatus();
      }
      if (looksLikeFloat(s)) {
        double v = 0;
        std::string_view digits = s;
        if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
        if (ec == std::errc() && end == digits.data() + digits.size() && std::isfinite(v)) {
          out += formatDouble(v);
          return Status::okStatus();
        }
      }
      const std::string lower = [&] {
        std::string l = s;
        for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return l;
      }();
      if (oneOf(lower, {".inf", "+.inf", "-.inf", ".nan"})) {
        return invalidArgument((path.empty() ? std::string("(root)") : path) + ": \"" + s +
                               "\" is not a JSON number (quote it for a string)");
      }
    }
    appendJsonString(s, out);
    return Status::okStatus();
  }
};

}  // namespace

Result<std::string> canonicalJson(const YAML::Node& node) {
  std::string out;
  Canonicalizer c;
  Status s = c.write(node, "", out);
  if (!s.ok()) return s;
  return out;
}

Result<std::string> canonicalJsonText(std::string_view text) {
  YAML::Node node;
  try {
    node = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return invalidArgument("invalid YAML: " + e.msg);
  }
  return canonicalJson(node);
}

uint32_t fnv1a32(std::string_view bytes) { return fnvUpdate(kFnvOffsetBasis, bytes); }

std::string safeEncodeString(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) out += kSafeAlphabet[c % kSafeAlphabet.size()];
  return out;
}

std::string podTemplateHash(std::string_view canonical_json,
                            std::optional<int32_t> collision_count) {
  uint32_t hash = fnvUpdate(kFnvOffsetBasis, canonical_json);
  if (collision_count) {
    const auto count = static_cast<uint32_t>(*collision_count);
    char bytes[8] = {};
    for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>((count >> (8 * i)) & 0xff);
    hash = fnvUpdate(hash, std::string_view(bytes, sizeof(bytes)));
  }
  return safeEncodeString(std::to_string(hash));
}

std::string podTemplateHash(const RolloutSpec& spec, std::optional<int32_t> collision_count) {
  return podTemplateHash(spec.pod_template.json, collision_count);
}

}  // namespace governor::rollouts
