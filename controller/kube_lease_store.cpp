#include "controller/kube_lease_store.h"

#include <utility>

#include "base/rfc3339.h"

namespace governor::controller {
namespace {

using nlohmann::json;

Status readTime(const json& spec, const char* field, std::optional<TimePoint>& out) {
  auto it = spec.find(field);
  if (it == spec.end() || it->is_null()) return Status();
  if (!it->is_string()) {
    return invalidArgument(std::string("Lease spec.") + field + ": must be a MicroTime string");
  }
  auto parsed = parseRfc3339(it->get<std::string>());
  if (!parsed.ok()) {
    return invalidArgument(std::string("Lease spec.") + field + ": " + parsed.status().message());
  }
  out = *parsed;
  return Status();
}

Status readInt(const json& spec, const char* field, int32_t& out) {
  auto it = spec.find(field);
  if (it == spec.end() || it->is_null()) return Status();
  if (!it->is_number_integer()) {
    return invalidArgument(std::string("Lease spec.") + field + ": must be an integer");
  }
  out = it->get<int32_t>();
  return Status();
}

}  // namespace

Result<Lease> leaseFromJson(const json& object) {
  Lease lease;
  if (!object.is_object()) return invalidArgument("Lease: not an object");
  if (auto md = object.find("metadata"); md != object.end() && md->is_object()) {
    lease.resource_version = md->value("resourceVersion", "");
  }
  auto spec_it = object.find("spec");
  if (spec_it == object.end() || spec_it->is_null()) return lease;
  const json& spec = *spec_it;
  if (!spec.is_object()) return invalidArgument("Lease spec: must be an object");
  if (auto h = spec.find("holderIdentity"); h != spec.end() && !h->is_null()) {
    if (!h->is_string()) return invalidArgument("Lease spec.holderIdentity: must be a string");
    lease.holder_identity = h->get<std::string>();
  }
  for (Status s : {readInt(spec, "leaseDurationSeconds", lease.lease_duration_seconds),
                   readInt(spec, "leaseTransitions", lease.lease_transitions),
                   readTime(spec, "acquireTime", lease.acquire_time),
                   readTime(spec, "renewTime", lease.renew_time)}) {
    if (!s.ok()) return s;
  }
  return lease;
}

KubeLeaseStore::KubeLeaseStore(kube::Client& client, std::string namespace_, std::string name)
    : client_(client) {
  ref_.group = "coordination.k8s.io";
  ref_.version = "v1";
  ref_.resource = "leases";
  ref_.namespace_ = std::move(namespace_);
  ref_.name = std::move(name);
}

json KubeLeaseStore::toJson(const Lease& lease) const {
  json spec = json::object();
  spec["holderIdentity"] = lease.holder_identity;
  spec["leaseDurationSeconds"] = lease.lease_duration_seconds;
  spec["leaseTransitions"] = lease.lease_transitions;
  if (lease.acquire_time) {
    spec["acquireTime"] = formatRfc3339(*lease.acquire_time, TimePrecision::kMicroseconds);
  }
  if (lease.renew_time) {
    spec["renewTime"] = formatRfc3339(*lease.renew_time, TimePrecision::kMicroseconds);
  }
  json metadata = {{"name", ref_.name}, {"namespace", ref_.namespace_}};
  if (!lease.resource_version.empty()) metadata["resourceVersion"] = lease.resource_version;
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", std::move(metadata)},
          {"spec", std::move(spec)}};
}

Result<Lease> KubeLeaseStore::get() {
  auto object = client_.get(ref_);
  if (!object.ok()) return object.status();
  return leaseFromJson(*object);
}

Status KubeLeaseStore::create(const Lease& lease) {
  Lease fresh = lease;
  fresh.resource_version.clear();
  auto created = client_.create(ref_.collection(), toJson(fresh));
  return created.ok() ? Status() : created.status();
}

Status KubeLeaseStore::update(const Lease& lease) {
  auto updated = client_.update(ref_, toJson(lease));
  return updated.ok() ? Status() : updated.status();
}

}  // namespace governor::controller
