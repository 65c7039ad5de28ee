#pragma once

// Addressing Kubernetes resources: which REST path a (group, version, resource, namespace,
// name, subresource) names, and the query string of list and watch requests. Pure string
// functions, so the URL rules are tested as tables without a server.
//
//   ResourceRef deployments{.group = "apps", .version = "v1", .resource = "deployments",
//                           .namespace_ = "web"};
//   resourcePath(deployments)                 -> "/apis/apps/v1/namespaces/web/deployments"
//   resourcePath(deployments.named("api").sub("scale"))
//                                             -> ".../deployments/api/scale"
//
// Thread-safety: value types and pure functions.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace governor::controller::kube {

// One resource, or a collection when `name` is empty. The core group is "" (served under
// /api/v1); every other group under /apis/<group>/<version>. (The `{}` initializers here and
// in the other option structs let designated initializers leave fields out without GCC 12's
// -Wmissing-field-initializers.)
struct ResourceRef {
  std::string group{};        // "" (core), "apps", "governor.io", ...
  std::string version{};      // "v1", "v1alpha1"
  std::string resource{};     // The plural: "deployments", "scalingpolicies".
  std::string namespace_{};   // "" for cluster-scoped resources, or all namespaces in a list.
  std::string name{};         // "" for the collection.
  std::string subresource{};  // "", "status", "scale". REQUIRES a name.

  // Copies with one field replaced, for building refs from a collection.
  ResourceRef named(std::string object_name) const {
    ResourceRef copy = *this;
    copy.name = std::move(object_name);
    return copy;
  }
  ResourceRef inNamespace(std::string ns) const {
    ResourceRef copy = *this;
    copy.namespace_ = std::move(ns);
    return copy;
  }
  ResourceRef sub(std::string sub_resource) const {
    ResourceRef copy = *this;
    copy.subresource = std::move(sub_resource);
    return copy;
  }
  // The collection this object belongs to (name and subresource cleared).
  ResourceRef collection() const {
    ResourceRef copy = *this;
    copy.name.clear();
    copy.subresource.clear();
    return copy;
  }
  // "apps/v1 deployments web/api/scale": for messages and logs.
  std::string toString() const;

  friend bool operator==(const ResourceRef&, const ResourceRef&) = default;
};

// The path of `ref`: /api/v1/namespaces/<ns>/<resource>/<name>/<subresource> or
// /apis/<group>/<version>/..., each segment percent-encoded. InvalidArgument when version or
// resource is empty, when a subresource has no name, or when a segment is "." or ".."
// (they would address another path).
Result<std::string> resourcePath(const ResourceRef& ref);

// Options of a list (and the starting point of a watch), as the API server's query.
struct ListOptions {
  std::string label_selector{};  // "app=web,tier in (a,b),!canary". Default: everything.
  std::string field_selector{};  // "metadata.name=x". Default: everything.
  // "" (a consistent read from etcd), "0" (any cached state), or a version to start from.
  // Default: "".
  std::string resource_version{};
  // "NotOlderThan" or "Exact", with resource_version. Default: "" (not sent).
  std::string resource_version_match{};
  // Page size; 0 = no limit. Default: 0.
  int64_t limit = 0;
  // The continue token of the previous page. Default: "".
  std::string continue_token{};
};

// Percent-encodes everything but RFC 3986's unreserved characters (A-Z a-z 0-9 - . _ ~), so
// selectors with spaces, commas, parentheses, '!' and '=' survive as one query value.
std::string percentEncode(std::string_view text);

// "k1=v1&k2=v2" with keys and values percent-encoded, in the given order; "" when empty.
std::string queryString(const std::vector<std::pair<std::string, std::string>>& params);

// The query parameters of a list with `options` (only those that are set).
std::vector<std::pair<std::string, std::string>> listParams(const ListOptions& options);

// "namespace/name", or "name" for cluster-scoped objects: the informer cache's key, as
// client-go's MetaNamespaceKeyFunc.
std::string objectKey(std::string_view namespace_, std::string_view name);

}  // namespace governor::controller::kube
