#pragma once

// The LeaseStore of leader election (controller/leader_election.h) on the API server: the
// coordination.k8s.io/v1 Lease `name` in `namespace_`, read with GET and written with PUT
// carrying the resourceVersion last read, so the API server's optimistic concurrency decides
// races between replicas (Conflict for the loser).
//
// Thread-safety: thread-safe (the client is; the adapter has no state of its own).

#include <string>

#include "controller/kube/client.h"
#include "controller/leader_election.h"

namespace governor::controller {

class KubeLeaseStore final : public LeaseStore {
 public:
  // `client` must outlive the store.
  KubeLeaseStore(kube::Client& client, std::string namespace_, std::string name);

  Result<Lease> get() override;
  Status create(const Lease& lease) override;
  Status update(const Lease& lease) override;

 private:
  nlohmann::json toJson(const Lease& lease) const;

  kube::Client& client_;
  kube::ResourceRef ref_;
};

// A Lease object (as the API server returns it) -> Lease. InvalidArgument naming the field
// when a field has the wrong type or time format.
Result<Lease> leaseFromJson(const nlohmann::json& object);

}  // namespace governor::controller
