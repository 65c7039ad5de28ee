#include "controller/kube/config.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include <yaml-cpp/yaml.h>

namespace governor::controller::kube {
namespace {

constexpr char kDefaultKubeconfig[] = "/.kube/config";

// One named entry (cluster, user or context) with the file and position that defined it, so
// errors can name "/path: users[2].user.tokenFile".
struct Entry {
  std::string file;
  std::string field;  // "clusters[0]"
  YAML::Node node;    // The entry's body: the value of its "cluster"/"user"/"context" key.
};

struct Merged {
  std::map<std::string, Entry> clusters;
  std::map<std::string, Entry> users;
  std::map<std::string, Entry> contexts;
  std::string current_context;
  std::string current_context_file;
  std::vector<std::string> files;  // The files read, for messages.
};

Status fieldError(const std::string& file, const std::string& field, const std::string& message) {
  return invalidArgument(file + ": " + field + ": " + message);
}

bool fileExists(const std::string& path) {
  std::ifstream in(path);
  return in.good();
}

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return invalidArgument("cannot read \"" + path + "\": " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return invalidArgument("cannot read \"" + path + "\"");
  return text.str();
}

std::string directoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string resolveAgainst(const std::string& dir, const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  return dir + "/" + path;
}

std::string trim(std::string text) {
  const char* space = " \t\r\n";
  const size_t begin = text.find_first_not_of(space);
  if (begin == std::string::npos) return "";
  const size_t end = text.find_last_not_of(space);
  return text.substr(begin, end - begin + 1);
}

// A string field of a mapping: nullopt when absent or null; an error when it is not a scalar.
Result<std::optional<std::string>> optionalString(const YAML::Node& map, const char* key,
                                                  const std::string& file,
                                                  const std::string& field) {
  const YAML::Node value = map[key];
  if (!value || value.IsNull()) return std::optional<std::string>();
  if (!value.IsScalar()) return fieldError(file, field + "." + key, "expected a string");
  return std::optional<std::string>(value.Scalar());
}

Result<bool> optionalBool(const YAML::Node& map, const char* key, const std::string& file,
                          const std::string& field) {
  const YAML::Node value = map[key];
  if (!value || value.IsNull()) return false;
  bool out = false;
  if (!value.IsScalar() || !YAML::convert<bool>::decode(value, out)) {
    return fieldError(
        file, field + "." + key,
        "expected true or false, got \"" + (value.IsScalar() ? value.Scalar() : "") + "\"");
  }
  return out;
}

// Reads the list `key` ("clusters", "users", "contexts") of one file into `into`, keeping
// entries already defined by an earlier file.
Status mergeList(const YAML::Node& root, const char* key, const char* body_key,
                 const std::string& file, std::map<std::string, Entry>& into) {
  const YAML::Node list = root[key];
  if (!list || list.IsNull()) return {};
  if (!list.IsSequence()) return fieldError(file, key, "expected a list");
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string field = std::string(key) + "[" + std::to_string(i) + "]";
    const YAML::Node item = list[i];
    if (!item.IsMap()) return fieldError(file, field, "expected a mapping");
    auto name = optionalString(item, "name", file, field);
    if (!name.ok()) return name.status();
    if (!name->has_value() || (*name)->empty()) return fieldError(file, field + ".name", "missing");
    YAML::Node body = item[body_key];
    if (body && !body.IsNull() && !body.IsMap()) {
      return fieldError(file, field + "." + body_key, "expected a mapping");
    }
    // First definition wins, across and within files, as kubectl's merge does.
    into.emplace(**name, Entry{file, field + "." + body_key, body});
  }
  return {};
}

Status mergeFile(const std::string& file, Merged& merged) {
  auto text = readFile(file);
  if (!text.ok()) return text.status();
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::Exception& e) {
    return invalidArgument(file + ": line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  merged.files.push_back(file);
  if (!root || root.IsNull()) return {};  // An empty kubeconfig adds nothing.
  if (!root.IsMap()) return invalidArgument(file + ": not a kubeconfig (expected a mapping)");
  if (Status s = mergeList(root, "clusters", "cluster", file, merged.clusters); !s.ok()) return s;
  if (Status s = mergeList(root, "users", "user", file, merged.users); !s.ok()) return s;
  if (Status s = mergeList(root, "contexts", "context", file, merged.contexts); !s.ok()) return s;
  auto current = optionalString(root, "current-context", file, "");
  if (!current.ok()) return fieldError(file, "current-context", "expected a string");
  if (merged.current_context.empty() && current->has_value() && !(*current)->empty()) {
    merged.current_context = **current;
    merged.current_context_file = file;
  }
  return {};
}

// Reads the pair "<key>-data" (base64) / "<key>" (a file relative to the entry's kubeconfig)
// into `out`. Both set is an error, as kubectl's validation says.
Status dataOrFile(const Entry& entry, const char* data_key, const char* file_key,
                  std::string& out) {
  auto data = optionalString(entry.node, data_key, entry.file, entry.field);
  if (!data.ok()) return data.status();
  auto path = optionalString(entry.node, file_key, entry.file, entry.field);
  if (!path.ok()) return path.status();
  const bool has_data = data->has_value() && !(*data)->empty();
  const bool has_path = path->has_value() && !(*path)->empty();
  if (has_data && has_path) {
    return fieldError(
        entry.file, entry.field + "." + data_key,
        std::string("both ") + data_key + " and " + file_key + " are set; set only one");
  }
  if (has_data) {
    auto decoded = decodeBase64(**data);
    if (!decoded.ok()) {
      return fieldError(entry.file, entry.field + "." + data_key, decoded.status().message());
    }
    out = std::move(*decoded);
  } else if (has_path) {
    auto content = readFile(resolveAgainst(directoryOf(entry.file), **path));
    if (!content.ok()) {
      return fieldError(entry.file, entry.field + "." + file_key, content.status().message());
    }
    out = std::move(*content);
  }
  return {};
}

Status rejectUnsupported(const Entry& entry, const char* key, const std::string& why) {
  const YAML::Node value = entry.node[key];
  if (value && !value.IsNull()) return fieldError(entry.file, entry.field + "." + key, why);
  return {};
}

Status readCluster(const Entry& cluster, ClientConfig& config) {
  if (!cluster.node || cluster.node.IsNull())
    return fieldError(cluster.file, cluster.field, "missing");
  auto server = optionalString(cluster.node, "server", cluster.file, cluster.field);
  if (!server.ok()) return server.status();
  if (!server->has_value() || (*server)->empty()) {
    return fieldError(cluster.file, cluster.field + ".server", "missing");
  }
  config.server = **server;
  if (config.server.rfind("https://", 0) != 0 && config.server.rfind("http://", 0) != 0) {
    return fieldError(cluster.file, cluster.field + ".server",
                      "\"" + config.server + "\" is not an http:// or https:// URL");
  }
  while (config.server.size() > 1 && config.server.back() == '/') config.server.pop_back();
  if (Status s = dataOrFile(cluster, "certificate-authority-data", "certificate-authority",
                            config.ca_data);
      !s.ok()) {
    return s;
  }
  auto insecure =
      optionalBool(cluster.node, "insecure-skip-tls-verify", cluster.file, cluster.field);
  if (!insecure.ok()) return insecure.status();
  config.insecure_skip_tls_verify = *insecure;
  if (config.insecure_skip_tls_verify && !config.ca_data.empty()) {
    return fieldError(cluster.file, cluster.field + ".insecure-skip-tls-verify",
                      "a certificate authority and insecure-skip-tls-verify are both set; "
                      "set only one");
  }
  if (Status s = rejectUnsupported(cluster, "proxy-url", "proxies are not supported"); !s.ok()) {
    return s;
  }
  return rejectUnsupported(cluster, "tls-server-name",
                           "tls-server-name is not supported (the server's certificate must "
                           "name the host of the server URL)");
}

Status readUser(const Entry& user, ClientConfig& config) {
  if (!user.node || user.node.IsNull()) return {};  // A user with no credentials: anonymous.
  static const std::pair<const char*, const char*> kUnsupported[] = {
      {"exec",
       "exec credential plugins are not supported; use a token, tokenFile or a "
       "client certificate"},
      {"auth-provider",
       "auth-provider plugins are not supported; use a token, tokenFile or a "
       "client certificate"},
      {"username", "basic authentication is not supported"},
      {"password", "basic authentication is not supported"},
      {"as", "impersonation is not supported"},
      {"as-groups", "impersonation is not supported"},
  };
  for (const auto& [key, why] : kUnsupported) {
    if (Status s = rejectUnsupported(user, key, why); !s.ok()) return s;
  }
  auto token = optionalString(user.node, "token", user.file, user.field);
  if (!token.ok()) return token.status();
  if (token->has_value()) config.token = trim(**token);
  auto token_file = optionalString(user.node, "tokenFile", user.file, user.field);
  if (!token_file.ok()) return token_file.status();
  if (token_file->has_value() && !(*token_file)->empty()) {
    config.token_file = resolveAgainst(directoryOf(user.file), **token_file);
    auto content = readFile(config.token_file);
    if (!content.ok()) {
      return fieldError(user.file, user.field + ".tokenFile", content.status().message());
    }
  }
  if (Status s = dataOrFile(user, "client-certificate-data", "client-certificate",
                            config.client_cert_data);
      !s.ok()) {
    return s;
  }
  if (Status s = dataOrFile(user, "client-key-data", "client-key", config.client_key_data);
      !s.ok()) {
    return s;
  }
  if (config.client_cert_data.empty() != config.client_key_data.empty()) {
    return fieldError(user.file, user.field,
                      config.client_cert_data.empty() ? "client-key without client-certificate"
                                                      : "client-certificate without client-key");
  }
  return {};
}

std::string joined(const std::vector<std::string>& files) {
  std::string out;
  for (const auto& f : files) {
    if (!out.empty()) out += ":";
    out += f;
  }
  return out;
}

}  // namespace

std::optional<std::string> processEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe)
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

Result<std::string> decodeBase64(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  size_t symbols = 0;
  bool padding = false;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    int value = -1;
    if (c >= 'A' && c <= 'Z') {
      value = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      value = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      value = c - '0' + 52;
    } else if (c == '+') {
      value = 62;
    } else if (c == '/') {
      value = 63;
    } else if (c == '=') {
      padding = true;
      continue;
    }
    if (value < 0 || padding) return invalidArgument("not valid base64");
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    ++symbols;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  // One symbol alone in the last group carries no whole byte: the text was cut.
  if (symbols % 4 == 1) return invalidArgument("not valid base64 (truncated)");
  return out;
}

Result<ClientConfig> inClusterConfig(const InClusterOptions& options) {
  const auto host = options.env("KUBERNETES_SERVICE_HOST");
  const auto port = options.env("KUBERNETES_SERVICE_PORT");
  if (!host || !port || host->empty() || port->empty()) {
    return notFound(
        "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not "
        "set");
  }
  ClientConfig config;
  config.origin = "in-cluster";
  // An IPv6 address goes in brackets in a URL, as net.JoinHostPort does.
  const bool ipv6 = host->find(':') != std::string::npos && host->front() != '[';
  config.server = "https://" + (ipv6 ? "[" + *host + "]" : *host) + ":" + *port;
  config.token_file = options.root + "/token";
  auto token = readFile(config.token_file);
  if (!token.ok()) return invalidArgument("in-cluster: token: " + token.status().message());
  if (trim(*token).empty())
    return invalidArgument("in-cluster: " + config.token_file + " is empty");
  auto ca = readFile(options.root + "/ca.crt");
  if (!ca.ok()) return invalidArgument("in-cluster: CA: " + ca.status().message());
  if (trim(*ca).empty()) return invalidArgument("in-cluster: " + options.root + "/ca.crt is empty");
  config.ca_data = std::move(*ca);
  // The namespace file is optional (client-go falls back to "default" elsewhere).
  if (auto ns = readFile(options.root + "/namespace"); ns.ok()) config.namespace_ = trim(*ns);
  return config;
}

Result<ClientConfig> loadKubeconfig(const std::vector<std::string>& paths,
                                    const std::string& context, bool skip_missing) {
  Merged merged;
  for (const auto& path : paths) {
    if (path.empty()) continue;
    if (skip_missing && !fileExists(path)) continue;
    if (Status s = mergeFile(path, merged); !s.ok()) return s;
  }
  if (merged.files.empty()) {
    return notFound("no kubeconfig found (looked at " + joined(paths) + ")");
  }
  const std::string where = joined(merged.files);
  std::string context_name = context;
  if (context_name.empty()) {
    if (merged.current_context.empty()) {
      return invalidArgument(where + ": current-context is not set and no context was given");
    }
    context_name = merged.current_context;
  }
  auto ctx = merged.contexts.find(context_name);
  if (ctx == merged.contexts.end()) {
    if (context.empty()) {
      return fieldError(merged.current_context_file, "current-context",
                        "context \"" + context_name + "\" not found");
    }
    return invalidArgument(where + ": context \"" + context_name + "\" not found");
  }
  const Entry& c = ctx->second;
  if (!c.node || c.node.IsNull()) return fieldError(c.file, c.field, "missing");
  auto cluster_name = optionalString(c.node, "cluster", c.file, c.field);
  if (!cluster_name.ok()) return cluster_name.status();
  if (!cluster_name->has_value() || (*cluster_name)->empty()) {
    return fieldError(c.file, c.field + ".cluster", "missing");
  }
  auto cluster = merged.clusters.find(**cluster_name);
  if (cluster == merged.clusters.end()) {
    return fieldError(c.file, c.field + ".cluster", "cluster \"" + **cluster_name + "\" not found");
  }
  ClientConfig config;
  config.origin = where + " (context " + context_name + ")";
  if (Status s = readCluster(cluster->second, config); !s.ok()) return s;
  auto user_name = optionalString(c.node, "user", c.file, c.field);
  if (!user_name.ok()) return user_name.status();
  if (user_name->has_value() && !(*user_name)->empty()) {
    auto user = merged.users.find(**user_name);
    if (user == merged.users.end()) {
      return fieldError(c.file, c.field + ".user", "user \"" + **user_name + "\" not found");
    }
    if (Status s = readUser(user->second, config); !s.ok()) return s;
  }
  auto ns = optionalString(c.node, "namespace", c.file, c.field);
  if (!ns.ok()) return ns.status();
  if (ns->has_value()) config.namespace_ = **ns;
  return config;
}

Result<ClientConfig> loadClientConfig(const LoadOptions& options) {
  if (!options.kubeconfig.empty()) return loadKubeconfig({options.kubeconfig}, options.context);
  const EnvLookup& env = options.in_cluster.env;
  if (auto list = env("KUBECONFIG"); list && !list->empty()) {
    std::vector<std::string> paths;
    std::stringstream parts(*list);
    std::string part;
    while (std::getline(parts, part, ':')) {
      if (!part.empty()) paths.push_back(part);
    }
    auto config = loadKubeconfig(paths, options.context, /*skip_missing=*/true);
    if (config.ok() || config.status().code() != StatusCode::kNotFound) return config;
    // kubectl goes on when none of the listed files exists.
  }
  auto in_cluster = inClusterConfig(options.in_cluster);
  if (in_cluster.ok() || in_cluster.status().code() != StatusCode::kNotFound) {
    if (in_cluster.ok() && !options.context.empty()) {
      return invalidArgument("--context \"" + options.context +
                             "\" needs a kubeconfig; in-cluster configuration has no contexts");
    }
    return in_cluster;
  }
  std::string home = options.home;
  if (home.empty()) home = env("HOME").value_or("");
  if (home.empty()) {
    return notFound(
        "no configuration: no --kubeconfig, $KUBECONFIG, in-cluster service account "
        "or $HOME");
  }
  const std::string path = home + kDefaultKubeconfig;
  if (!fileExists(path)) {
    return notFound(
        "no configuration: no --kubeconfig, $KUBECONFIG, in-cluster service account "
        "or " +
        path);
  }
  return loadKubeconfig({path}, options.context);
}

}  // namespace governor::controller::kube
