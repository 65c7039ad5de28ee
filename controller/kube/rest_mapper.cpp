#include "controller/kube/rest_mapper.h"

#include <optional>
#include <utility>

namespace governor::controller::kube {
namespace {

std::optional<ResourceMapping> findKind(const std::vector<ResourceMapping>& resources,
                                        std::string_view kind) {
  for (const auto& mapping : resources) {
    if (mapping.kind == kind) return mapping;
  }
  return std::nullopt;
}

}  // namespace

ResourceRef ResourceMapping::ref(std::string namespace_, std::string name) const {
  ResourceRef out;
  out.group = group;
  out.version = version;
  out.resource = resource;
  if (namespaced) out.namespace_ = std::move(namespace_);
  out.name = std::move(name);
  return out;
}

Result<std::pair<std::string, std::string>> splitApiVersion(std::string_view api_version) {
  const auto bad = [&] {
    return invalidArgument("apiVersion \"" + std::string(api_version) +
                           "\" is not \"<version>\" or \"<group>/<version>\"");
  };
  if (api_version.empty()) return bad();
  const size_t slash = api_version.find('/');
  if (slash == std::string_view::npos) {
    return std::pair<std::string, std::string>("", std::string(api_version));
  }
  if (slash == 0 || slash + 1 == api_version.size() ||
      api_version.find('/', slash + 1) != std::string_view::npos) {
    return bad();
  }
  return std::pair<std::string, std::string>(std::string(api_version.substr(0, slash)),
                                             std::string(api_version.substr(slash + 1)));
}

Result<std::vector<ResourceMapping>> parseApiResourceList(const nlohmann::json& list,
                                                          std::string_view group,
                                                          std::string_view version) {
  if (!list.is_object()) return invalidArgument("APIResourceList: not an object");
  auto resources = list.find("resources");
  if (resources == list.end() || resources->is_null()) return std::vector<ResourceMapping>{};
  if (!resources->is_array()) return invalidArgument("APIResourceList: resources: not a list");
  std::vector<ResourceMapping> out;
  std::vector<std::pair<std::string, std::string>> subresources;  // (resource, subresource)
  for (size_t i = 0; i < resources->size(); ++i) {
    const auto& entry = (*resources)[i];
    const std::string field = "APIResourceList: resources[" + std::to_string(i) + "]";
    if (!entry.is_object()) return invalidArgument(field + ": not an object");
    auto name = entry.find("name");
    if (name == entry.end() || !name->is_string() || name->get<std::string>().empty()) {
      return invalidArgument(field + ".name: missing");
    }
    const std::string& full = name->get_ref<const std::string&>();
    if (const size_t slash = full.find('/'); slash != std::string::npos) {
      subresources.emplace_back(full.substr(0, slash), full.substr(slash + 1));
      continue;
    }
    auto kind = entry.find("kind");
    if (kind == entry.end() || !kind->is_string() || kind->get<std::string>().empty()) {
      return invalidArgument(field + ".kind: missing");
    }
    ResourceMapping mapping;
    mapping.group = std::string(group);
    mapping.version = std::string(version);
    mapping.resource = full;
    mapping.kind = kind->get<std::string>();
    auto namespaced = entry.find("namespaced");
    mapping.namespaced =
        namespaced != entry.end() && namespaced->is_boolean() && namespaced->get<bool>();
    out.push_back(std::move(mapping));
  }
  for (const auto& [resource, sub] : subresources) {
    for (auto& mapping : out) {
      if (mapping.resource != resource) continue;
      if (sub == "scale") mapping.has_scale = true;
      if (sub == "status") mapping.has_status = true;
    }
  }
  return out;
}

RestMapper::RestMapper(Client& client, RestMapperOptions options)
    : client_(client), options_(std::move(options)) {}

Result<ResourceMapping> RestMapper::resolve(std::string_view api_version, std::string_view kind) {
  auto split = splitApiVersion(api_version);
  if (!split.ok()) return split.status();
  const auto& [group, version] = *split;
  const std::string key = group + "/" + version;
  const auto missing = [&](bool served) {
    if (!served) return notFound("apiVersion \"" + std::string(api_version) + "\" is not served");
    return notFound("no resource of kind \"" + std::string(kind) + "\" in apiVersion \"" +
                    std::string(api_version) + "\"");
  };
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      if (auto found = findKind(it->second.resources, kind)) return *found;
      if (options_.now() - it->second.fetched < options_.min_refresh_interval) {
        return missing(it->second.served);
      }
    }
    ++requests_;
  }
  const std::string path = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  auto answer = client_.getPath(path);
  GroupVersion fresh;
  fresh.fetched = options_.now();
  if (answer.ok()) {
    auto parsed = parseApiResourceList(*answer, group, version);
    if (!parsed.ok()) return parsed.status().withContext("GET " + path);
    fresh.served = true;
    fresh.resources = std::move(*parsed);
  } else if (answer.status().code() != StatusCode::kNotFound) {
    return answer.status();
  }
  std::lock_guard lock(mu_);
  GroupVersion& entry = cache_[key] = std::move(fresh);
  if (auto found = findKind(entry.resources, kind)) return *found;
  return missing(entry.served);
}

void RestMapper::invalidate() {
  std::lock_guard lock(mu_);
  cache_.clear();
}

uint64_t RestMapper::discoveryRequests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

}  // namespace governor::controller::kube
