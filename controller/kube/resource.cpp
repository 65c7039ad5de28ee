#include "controller/kube/resource.h"

#include <string>

namespace governor::controller::kube {
namespace {

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Appends "/<segment>", refusing segments that would change which path is addressed.
Status appendSegment(std::string& path, std::string_view field, std::string_view segment) {
  if (segment == "." || segment == "..") {
    return invalidArgument(std::string(field) + ": \"" + std::string(segment) +
                           "\" is not a valid path segment");
  }
  path += '/';
  path += percentEncode(segment);
  return {};
}

}  // namespace

std::string ResourceRef::toString() const {
  std::string out = group.empty() ? version : group + "/" + version;
  out += ' ';
  out += resource;
  if (!namespace_.empty() || !name.empty()) out += ' ';
  if (!namespace_.empty()) {
    out += namespace_;
    if (!name.empty()) out += '/';
  }
  out += name;
  if (!subresource.empty()) out += "/" + subresource;
  return out;
}

Result<std::string> resourcePath(const ResourceRef& ref) {
  if (ref.version.empty()) return invalidArgument("resource reference: version is empty");
  if (ref.resource.empty()) return invalidArgument("resource reference: resource is empty");
  if (!ref.subresource.empty() && ref.name.empty()) {
    return invalidArgument("resource reference: subresource \"" + ref.subresource +
                           "\" needs a name");
  }
  std::string path;
  if (ref.group.empty()) {
    path = "/api";
  } else {
    path = "/apis";
    if (Status s = appendSegment(path, "group", ref.group); !s.ok()) return s;
  }
  if (Status s = appendSegment(path, "version", ref.version); !s.ok()) return s;
  if (!ref.namespace_.empty()) {
    path += "/namespaces";
    if (Status s = appendSegment(path, "namespace", ref.namespace_); !s.ok()) return s;
  }
  if (Status s = appendSegment(path, "resource", ref.resource); !s.ok()) return s;
  if (!ref.name.empty()) {
    if (Status s = appendSegment(path, "name", ref.name); !s.ok()) return s;
  }
  if (!ref.subresource.empty()) {
    if (Status s = appendSegment(path, "subresource", ref.subresource); !s.ok()) return s;
  }
  return path;
}

std::string percentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (unreserved(c)) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string queryString(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out += '&';
    out += percentEncode(key);
    out += '=';
    out += percentEncode(value);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> listParams(const ListOptions& options) {
  std::vector<std::pair<std::string, std::string>> params;
  if (!options.label_selector.empty()) params.emplace_back("labelSelector", options.label_selector);
  if (!options.field_selector.empty()) params.emplace_back("fieldSelector", options.field_selector);
  if (!options.resource_version.empty()) {
    params.emplace_back("resourceVersion", options.resource_version);
  }
  if (!options.resource_version_match.empty()) {
    params.emplace_back("resourceVersionMatch", options.resource_version_match);
  }
  if (options.limit > 0) params.emplace_back("limit", std::to_string(options.limit));
  if (!options.continue_token.empty()) params.emplace_back("continue", options.continue_token);
  return params;
}

std::string objectKey(std::string_view namespace_, std::string_view name) {
  if (namespace_.empty()) return std::string(name);
  std::string key(namespace_);
  key += '/';
  key += name;
  return key;
}

}  // namespace governor::controller::kube
