#include "controller/prometheus/endpoints_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "base/duration.h"
#include "policies/manifest_reader.h"

namespace governor::controller::prom {
namespace {

using policies::ManifestReader;

// A ConfigMap holds at most 1 MiB; a bigger file is not an endpoints file.
constexpr size_t kMaxFileBytes = 1 << 20;

bool isSet(const YAML::Node& node) { return node.IsDefined() && !node.IsNull(); }

// validateEndpoint() names PrometheusEndpoint's fields; this file's readers wrote YAML ones.
std::string inYamlTerms(std::string message) {
  static const std::pair<std::string_view, std::string_view> kNames[] = {
      {"basic_auth_username and basic_auth_password_file",
       "basicAuth.username and basicAuth.passwordFile"},
      {"bearer_token_file or basic auth", "bearerTokenFile or basicAuth"},
      {"bearer_token_file", "bearerTokenFile"},
  };
  for (const auto& [from, to] : kNames) {
    for (size_t at = message.find(from); at != std::string::npos; at = message.find(from, at)) {
      message.replace(at, from.size(), to);
      at += to.size();
    }
  }
  return message;
}

// How a message names a node where a scalar may be a credential written in the wrong place
// ("basicAuth: user:password", "- https://user:password@host"): scalars are not quoted.
std::string kindWithoutValue(const YAML::Node& node) {
  return node.IsScalar() ? "a string" : ManifestReader::kindName(node);
}

bool hasUnknown(const YAML::Node& node, std::initializer_list<std::string_view> known) {
  if (!node.IsMap()) return false;
  for (const auto& kv : node) {
    bool found = false;
    for (auto k : known) found = found || kv.first.Scalar() == k;
    if (!found) return true;
  }
  return false;
}

// Reads one endpoints document. Each entry's problems are collected in full, then
// validateEndpoint() runs on entries whose fields all parsed, so one mistake is reported
// once, under the YAML field it belongs to.
class Parser : public ManifestReader {
 public:
  using ManifestReader::ManifestReader;

  EndpointsConfig parseDocument(const YAML::Node& doc);

 private:
  void parseEndpoint(const YAML::Node& node, const std::string& path, size_t i,
                     EndpointsConfig& out);
  // An optional non-empty string field; clears `entry_ok` when it is present but invalid.
  std::optional<std::string> optionalString(const YAML::Node& parent, const std::string& path,
                                            const char* key, bool& entry_ok);
  // validateEndpoint()'s message starts with its field ("url: ...", "headers.X: ..."):
  // reported at that YAML node, under the entry's path.
  void reportInvalid(const YAML::Node& node, const std::string& path, const Status& invalid);

  std::map<std::string, size_t> index_by_url_;
};

EndpointsConfig Parser::parseDocument(const YAML::Node& doc) {
  EndpointsConfig out;
  if (!doc.IsMap()) {
    error(doc, "(document)", "must be a mapping, got " + kindWithoutValue(doc));
    return out;
  }
  rejectUnknown(doc, "", {"endpoints", "allowUnlistedAddresses"});
  out.allow_unlisted_addresses = boolean(doc, "", "allowUnlistedAddresses").value_or(true);
  const YAML::Node endpoints = doc["endpoints"];
  if (!isSet(endpoints)) return out;
  if (!endpoints.IsSequence()) {
    error(endpoints, "endpoints", "must be a list, got " + kindWithoutValue(endpoints));
    return out;
  }
  for (size_t i = 0; i < endpoints.size(); ++i) {
    parseEndpoint(endpoints[i], index("endpoints", i), i, out);
  }
  return out;
}

std::optional<std::string> Parser::optionalString(const YAML::Node& parent, const std::string& path,
                                                  const char* key, bool& entry_ok) {
  auto value = nonEmptyString(parent, path, key, false);
  if (!value && isSet(parent[key])) entry_ok = false;
  return value;
}

void Parser::parseEndpoint(const YAML::Node& node, const std::string& path, size_t i,
                           EndpointsConfig& out) {
  if (!node.IsMap()) {
    error(node, path, "must be a mapping, got " + kindWithoutValue(node));
    return;
  }
  // bearerToken is known only to be refused with a better message than "unknown field".
  const std::initializer_list<std::string_view> kKnown = {
      "url",    "timeout", "bearerTokenFile",    "bearerToken",
      "caFile", "headers", "insecureSkipVerify", "basicAuth"};
  bool entry_ok = !hasUnknown(node, kKnown);
  rejectUnknown(node, path, kKnown);

  PrometheusEndpoint endpoint;
  const auto url = nonEmptyString(node, path, "url", true);
  bool url_ok = url.has_value();
  if (url) {
    endpoint.url = *url;
    // The URL alone first, so that its problems are reported whatever the other fields hold.
    if (Status s = validateEndpoint(PrometheusEndpoint{.url = *url}); !s.ok()) {
      reportInvalid(node, path, s);
      url_ok = false;
    }
  }
  entry_ok = entry_ok && url_ok;

  if (isSet(node["timeout"])) {
    const std::string timeout_path = join(path, "timeout");
    if (auto text = string(node, path, "timeout", true)) {
      auto d = parseDuration(*text);
      if (!d.ok()) {
        error(node["timeout"], timeout_path, d.status().message());
        entry_ok = false;
      } else if (*d <= Duration::zero()) {
        error(node["timeout"], timeout_path, "must be > 0s, got \"" + *text + "\"");
        entry_ok = false;
      } else {
        endpoint.timeout = *d;
      }
    } else {
      entry_ok = false;
    }
  }

  if (isSet(node["bearerToken"])) {
    // Never echo the value: it is a credential.
    error(node["bearerToken"], join(path, "bearerToken"),
          "inline credentials are not accepted: put the token in a file (e.g. a mounted "
          "Secret) and name it with bearerTokenFile");
    entry_ok = false;
  }
  endpoint.bearer_token_file = optionalString(node, path, "bearerTokenFile", entry_ok).value_or("");

  const YAML::Node basic = node["basicAuth"];
  if (isSet(basic)) {
    const std::string basic_path = join(path, "basicAuth");
    if (!basic.IsMap()) {
      error(basic, basic_path,
            "must be a mapping {username, passwordFile}, got " + kindWithoutValue(basic));
      entry_ok = false;
    } else {
      const std::initializer_list<std::string_view> kBasicKnown = {"username", "passwordFile",
                                                                   "password"};
      if (hasUnknown(basic, kBasicKnown)) entry_ok = false;
      rejectUnknown(basic, basic_path, kBasicKnown);
      const bool inline_password = isSet(basic["password"]);
      if (inline_password) {
        error(basic["password"], join(basic_path, "password"),
              "inline credentials are not accepted: put the password in a file (e.g. a mounted "
              "Secret) and name it with passwordFile");
        entry_ok = false;
      }
      auto username = nonEmptyString(basic, basic_path, "username", true);
      // With an inline password, "passwordFile: required" would only repeat the point.
      auto password_file = nonEmptyString(basic, basic_path, "passwordFile", !inline_password);
      if (!username || !password_file) entry_ok = false;
      endpoint.basic_auth_username = username.value_or("");
      endpoint.basic_auth_password_file = password_file.value_or("");
      if (isSet(node["bearerTokenFile"])) {
        error(basic, basic_path, "cannot be combined with bearerTokenFile: choose one");
        entry_ok = false;
      }
    }
  }

  endpoint.ca_file = optionalString(node, path, "caFile", entry_ok).value_or("");
  if (auto insecure = boolean(node, path, "insecureSkipVerify")) {
    endpoint.insecure_skip_tls_verify = *insecure;
  } else if (isSet(node["insecureSkipVerify"])) {
    entry_ok = false;
  }

  const YAML::Node headers = node["headers"];
  if (isSet(headers)) {
    const std::string headers_path = join(path, "headers");
    if (!expectMap(headers, headers_path)) {
      entry_ok = false;
    } else {
      for (const auto& kv : headers) {
        const std::string name = kv.first.Scalar();
        // A null value is refused too: an empty header is almost always a templating slip.
        if (!kv.second.IsScalar()) {
          error(kv.second, join(headers_path, name),
                "must be a string, got " + kindName(kv.second));
          entry_ok = false;
          continue;
        }
        // Each header on its own first, so that a problem is reported at its own line.
        const PrometheusEndpoint probe{.url = "http://h", .headers = {{name, kv.second.Scalar()}}};
        if (Status s = validateEndpoint(probe); !s.ok()) {
          const size_t colon = s.message().find(": ");
          error(kv.first, join(headers_path, name),
                inYamlTerms(colon == std::string::npos ? s.message()
                                                       : s.message().substr(colon + 2)));
          entry_ok = false;
          continue;
        }
        endpoint.headers[name] = kv.second.Scalar();
      }
    }
  }

  if (url_ok) {
    if (auto [it, inserted] = index_by_url_.emplace(endpoint.url, i); !inserted) {
      error(node["url"], join(path, "url"),
            "duplicate url \"" + endpoint.url + "\" (also " + index("endpoints", it->second) + ")");
      entry_ok = false;
    }
  }
  if (!entry_ok) return;
  if (Status s = validateEndpoint(endpoint); !s.ok()) {
    reportInvalid(node, path, s);
    return;
  }
  out.by_address[endpoint.url] = std::move(endpoint);
}

void Parser::reportInvalid(const YAML::Node& node, const std::string& path, const Status& invalid) {
  const std::string& message = invalid.message();
  for (const char* field : {"url", "timeout", "headers"}) {
    const std::string prefix = std::string(field) + ": ";
    if (message.starts_with(prefix) && isSet(node[field])) {
      error(node[field], join(path, field), inYamlTerms(message.substr(prefix.size())));
      return;
    }
  }
  error(node, path, inYamlTerms(message));
}

}  // namespace

Result<EndpointsConfig> parseEndpointsConfig(std::string_view yaml_text, std::string_view source) {
  std::vector<YAML::Node> docs;
  try {
    for (const YAML::Node& doc : YAML::LoadAll(std::string(yaml_text))) {
      if (isSet(doc)) docs.push_back(doc);
    }
  } catch (const YAML::Exception& e) {
    return ManifestReader::invalidYaml(source, e);
  }
  if (docs.empty()) return EndpointsConfig{};
  Parser parser(source);
  if (docs.size() > 1) {
    parser.error(docs[1], "(document)",
                 "expected one YAML document, got " + std::to_string(docs.size()));
    return parser.status();
  }
  EndpointsConfig config;
  try {
    config = parser.parseDocument(docs[0]);
  } catch (const YAML::Exception& e) {
    // yaml-cpp throws on a few malformed shapes (e.g. a mapping used as a key).
    return ManifestReader::invalidYaml(source, e);
  }
  if (!parser.ok()) return parser.status();
  return config;
}

Result<EndpointsConfig> loadEndpointsConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalidArgument("cannot read " + path + ": " + std::strerror(errno));
  std::string text(kMaxFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return invalidArgument("cannot read " + path + ": " + std::strerror(errno));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxFileBytes) return invalidArgument(path + ": larger than 1 MiB");
  return parseEndpointsConfig(text, path);
}

}  // namespace governor::controller::prom
