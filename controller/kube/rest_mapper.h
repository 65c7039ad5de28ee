#pragma once

// From (apiVersion, kind), as a scaleTargetRef or an Event's involvedObject names a target,
// to the REST resource that serves it: plural name, scope, and whether it has /scale and
// /status. Answered from discovery (GET /api/v1, GET /apis/<group>/<version>), cached per
// group version. A kind not found triggers one refresh of its group version, so a CRD
// installed after the operator started is found; refreshes of a group version are at most
// one per min_refresh_interval, so a misspelt kind in a policy cannot hammer discovery.
//
// Thread-safety: thread-safe. Discovery requests run without the lock held.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/time.h"
#include "controller/kube/client.h"
#include "controller/kube/resource.h"
#include "controller/kube/time_source.h"

namespace governor::controller::kube {

struct ResourceMapping {
  std::string group{};     // "" for the core group.
  std::string version{};   // "v1"
  std::string resource{};  // The plural: "deployments".
  std::string kind{};      // "Deployment"
  bool namespaced = false;
  bool has_scale = false;   // Serves the /scale subresource.
  bool has_status = false;  // Serves the /status subresource.

  // The reference of one object of this resource (`namespace_` ignored when cluster-scoped).
  ResourceRef ref(std::string namespace_, std::string name) const;
};

// The resources of one APIResourceList (a discovery answer), subresources folded into
// has_scale/has_status of their resource. InvalidArgument naming the field when the list is
// malformed (resources not a list, an entry without name or kind).
Result<std::vector<ResourceMapping>> parseApiResourceList(const nlohmann::json& list,
                                                          std::string_view group,
                                                          std::string_view version);

// Splits "apps/v1" into ("apps", "v1") and "v1" into ("", "v1"). InvalidArgument for "",
// "a/b/c", "/v1", "apps/".
Result<std::pair<std::string, std::string>> splitApiVersion(std::string_view api_version);

struct RestMapperOptions {
  // A group version is re-read on a miss at most this often. Default: 5 s.
  Duration min_refresh_interval{std::chrono::seconds(5)};
  // Default: the system clock.
  NowFn now = systemNow;
};

class RestMapper {
 public:
  // `client` must outlive the mapper.
  explicit RestMapper(Client& client, RestMapperOptions options = {});

  // The resource serving `kind` in `api_version` ("apps/v1", "v1", "governor.io/v1alpha1").
  // NotFound when the group version is not served or has no such kind (after a refresh,
  // unless one happened within min_refresh_interval); InvalidArgument for a malformed
  // apiVersion; discovery errors (Unavailable, PermissionDenied, ...) as the client
  // returns them.
  Result<ResourceMapping> resolve(std::string_view api_version, std::string_view kind);

  // Forgets everything cached.
  void invalidate();

  // Discovery requests sent (for tests and metrics).
  uint64_t discoveryRequests() const;

 private:
  struct GroupVersion {
    bool served = false;
    std::vector<ResourceMapping> resources{};
    TimePoint fetched{};
  };

  Client& client_;
  const RestMapperOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, GroupVersion> cache_;  // By "group/version". Guarded by mu_.
  uint64_t requests_ = 0;                      // Guarded by mu_.
};

}  // namespace governor::controller::kube
