#pragma once

// The ProposalSource the operator and the simulator plug into the reconciler: one
// policies::PredictivePolicy per ScalingPolicy, fed with every observation the reconciler
// makes. A changed `spec.predictive` (or its metric) starts that policy's history afresh.
//
// Thread-safety: not thread-safe; the reconciler calls it from one worker at a time per key,
// and keys of one source must not be reconciled concurrently.

#include <map>
#include <memory>
#include <optional>

#include "controller/proposal_source.h"
#include "policies/predictive.h"

namespace governor::controller {

class PredictiveProposalSource final : public ProposalSource {
 public:
  std::optional<policies::Proposal> propose(const ObjectKey& key, const policies::PolicySpec& spec,
                                            const policies::Observation& obs,
                                            TimePoint now) override;

  // The latest outcome for `key` (why there is or is not a forecast); nullptr if none.
  const policies::PredictiveOutcome* lastOutcome(const ObjectKey& key) const;

  // The policy of `key` for `spec`, created if needed: for backfilling history before the
  // first reconcile (from a Prometheus range query, or the part of a trace before a replay).
  // nullptr when `spec` has no predictive block.
  policies::PredictivePolicy* policyFor(const ObjectKey& key, const policies::PolicySpec& spec);

 private:
  struct Entry {
    policies::PredictiveSpec spec;
    policies::MetricSpec metric;
    std::unique_ptr<policies::PredictivePolicy> policy;
    policies::PredictiveOutcome last;
  };
  std::map<ObjectKey, Entry> entries_;
};

}  // namespace governor::controller
