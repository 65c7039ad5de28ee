#include "policies/manifest_reader.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace governor::policies {
namespace {

std::string joinLines(const std::vector<std::string>& lines) {
  std::string message;
  for (const auto& line : lines) {
    if (!message.empty()) message += "\n";
    message += line;
  }
  return message;
}

}  // namespace

std::string ManifestReader::where(const YAML::Node& at) const {
  std::string s = source_;
  if (at.IsDefined() && at.Mark().line >= 0) s += ":" + std::to_string(at.Mark().line + 1);
  return s;
}

void ManifestReader::error(const YAML::Node& at, const std::string& path,
                           const std::string& message) {
  errors_.push_back(where(at) + ": " + path + ": " + message);
}

Status ManifestReader::status() const { return invalidArgument(joinLines(errors_)); }

void ManifestReader::rejectUnknown(const YAML::Node& node, const std::string& path,
                                   std::initializer_list<std::string_view> known) {
  if (!node.IsMap()) return;
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    bool found = false;
    for (auto k : known) found = found || key == k;
    if (!found) error(kv.first, join(path, key), "unknown field");
  }
}

ManifestReader::Envelope ManifestReader::envelope(const YAML::Node& doc,
                                                  std::string_view api_version,
                                                  std::string_view kind) {
  Envelope out;
  if (!expectMap(doc, "(document)")) return out;
  rejectUnknown(doc, "", {"apiVersion", "kind", "metadata", "spec", "status"});
  auto version = string(doc, "", "apiVersion", true);
  if (version && *version != api_version) {
    error(doc["apiVersion"], "apiVersion",
          "must be " + std::string(api_version) + ", got \"" + *version + "\"");
  }
  auto got_kind = string(doc, "", "kind", true);
  if (got_kind && *got_kind != kind) {
    error(doc["kind"], "kind", "must be " + std::string(kind) + ", got \"" + *got_kind + "\"");
  }
  auto section = [&](const char* field, YAML::Node& into) {
    const YAML::Node node = doc[field];
    if (!node.IsDefined()) {
      error(doc, field, "required");
    } else if (expectMap(node, field)) {
      into = node;
    }
  };
  section("metadata", out.metadata);
  section("spec", out.spec);
  return out;
}

bool ManifestReader::expectMap(const YAML::Node& node, const std::string& path) {
  if (node.IsMap()) return true;
  error(node, path, "must be a mapping, got " + kindName(node));
  return false;
}

bool ManifestReader::present(const YAML::Node& parent, const YAML::Node& node,
                             const std::string& path, bool required) {
  if (node.IsDefined() && !node.IsNull()) return true;
  if (required) error(parent, path, "required");
  return false;
}

std::optional<double> ManifestReader::finiteNumber(const YAML::Node& node,
                                                   const std::string& path) {
  double value = 0;
  const std::string s = node.IsScalar() ? node.Scalar() : std::string();
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (!node.IsScalar() || ec != std::errc() || end != s.data() + s.size() ||
      !std::isfinite(value)) {
    error(node, path, "must be a number, got " + kindName(node));
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> ManifestReader::string(const YAML::Node& parent,
                                                  const std::string& parent_path, const char* key,
                                                  bool required) {
  const std::string path = join(parent_path, key);
  const YAML::Node node = parent[key];
  if (!present(parent, node, path, required)) return std::nullopt;
  if (!node.IsScalar()) {
    error(node, path, "must be a string, got " + kindName(node));
    return std::nullopt;
  }
  if (required && node.Scalar().empty()) {
    error(node, path, "must not be empty");
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<std::string> ManifestReader::nonEmptyString(const YAML::Node& parent,
                                                          const std::string& parent_path,
                                                          const char* key, bool required) {
  const std::string path = join(parent_path, key);
  const YAML::Node node = parent[key];
  if (!present(parent, node, path, required)) return std::nullopt;
  if (!node.IsScalar() || node.Scalar().empty()) {
    error(node, path, "must be a non-empty string, got " + kindName(node));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<int64_t> ManifestReader::integer(const YAML::Node& parent,
                                               const std::string& parent_path, const char* key,
                                               bool required, int64_t min, int64_t max) {
  const std::string path = join(parent_path, key);
  const YAML::Node node = parent[key];
  if (!present(parent, node, path, required)) return std::nullopt;
  int64_t value = 0;
  const std::string s = node.IsScalar() ? node.Scalar() : std::string();
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (!node.IsScalar() || ec != std::errc() || end != s.data() + s.size()) {
    error(node, path, "must be an integer, got " + kindName(node));
    return std::nullopt;
  }
  if (value < min || value > max) {
    if (max == std::numeric_limits<int32_t>::max()) {
      error(node, path, "must be >= " + std::to_string(min) + ", got " + s);
    } else {
      error(node, path,
            "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " + s);
    }
    return std::nullopt;
  }
  return value;
}

std::optional<double> ManifestReader::number(const YAML::Node& parent,
                                             const std::string& parent_path, const char* key,
                                             bool required, double min, double max) {
  const std::string path = join(parent_path, key);
  const YAML::Node node = parent[key];
  if (!present(parent, node, path, required)) return std::nullopt;
  auto value = finiteNumber(node, path);
  if (!value) return std::nullopt;
  if (*value < min || *value > max) {
    error(
        node, path,
        "must be in [" + formatNumber(min) + ", " + formatNumber(max) + "], got " + node.Scalar());
    return std::nullopt;
  }
  return value;
}

std::optional<double> ManifestReader::numberAbove(const YAML::Node& parent,
                                                  const std::string& parent_path, const char* key,
                                                  bool required, double min) {
  const std::string path = join(parent_path, key);
  const YAML::Node node = parent[key];
  if (!present(parent, node, path, required)) return std::nullopt;
  auto value = finiteNumber(node, path);
  if (!value) return std::nullopt;
  if (*value <= min) {
    error(node, path, "must be > " + formatNumber(min) + ", got " + node.Scalar());
    return std::nullopt;
  }
  return value;
}

std::optional<bool> ManifestReader::boolean(const YAML::Node& parent,
                                            const std::string& parent_path, const char* key) {
  const std::string path = join(parent_path, key);
  const YAML::Node node = parent[key];
  if (!present(parent, node, path, false)) return std::nullopt;
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    if (s == "true") return true;
    if (s == "false") return false;
  }
  error(node, path, "must be true or false, got " + kindName(node));
  return std::nullopt;
}

std::string ManifestReader::kindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Scalar:
      return "\"" + node.Scalar() + "\"";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::string ManifestReader::join(const std::string& path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return path + "." + std::string(key);
}

std::string ManifestReader::index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

std::string ManifestReader::formatNumber(double v) {
  std::string s = std::to_string(v);
  while (s.size() > 1 && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

Status ManifestReader::invalidYaml(std::string_view source, const YAML::Exception& e) {
  std::string message(source);
  if (e.mark.line >= 0) message += ":" + std::to_string(e.mark.line + 1);
  message += ": invalid YAML: " + e.msg;
  return invalidArgument(message);
}

Status ManifestReader::forEachDocument(std::string_view text, std::string_view source,
                                       const std::function<Status(const YAML::Node& doc)>& parse) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return invalidYaml(source, e);
  }
  std::vector<std::string> problems;
  for (const auto& doc : docs) {
    if (!doc.IsDefined() || doc.IsNull()) continue;
    Status status;
    try {
      status = parse(doc);
    } catch (const YAML::Exception& e) {
      status = invalidYaml(source, e);
    }
    if (!status.ok()) problems.push_back(status.message());
  }
  if (!problems.empty()) return invalidArgument(joinLines(problems));
  return Status::okStatus();
}

}  // namespace governor::policies
