#pragma once

// The seam for stateful policies — the predictive policy — that the pure engine cannot host:
// they keep a history of the metric values and a fitted model between evaluations. The
// reconciler hands each one every observation it makes (so the source can grow its history)
// and puts the answer in Observation::predictive, where the engine combines it with the
// threshold proposal as max(reactive, predictive).
//
// The operator and the simulator plug the same implementation in, so a predictive decision
// in a dry run is the decision production would make.

#include <optional>
#include <vector>

#include "base/time.h"
#include "controller/ports.h"
#include "policies/observation.h"
#include "policies/spec.h"

namespace governor::controller {

class ProposalSource {
 public:
  virtual ~ProposalSource() = default;

  // Called once per reconcile of the policy at `key`, after its metrics are fetched and before
  // the engine decides; `obs` holds this evaluation's replica counts and metric values (a
  // missing metric is absent); `queries` are the metrics' queries as rendered for this
  // evaluation (empty when they could not be rendered), for a source that backfills history.
  // Returns the proposal, or nullopt when `spec` asks for no prediction or there is no
  // forecast yet (too little history). Must not block on I/O for long: it runs inside the
  // reconcile. Implementations keep their state per key and say whether they are
  // thread-safe.
  virtual std::optional<policies::Proposal> propose(const ObjectKey& key,
                                                    const policies::PolicySpec& spec,
                                                    const policies::Observation& obs,
                                                    const std::vector<MetricQuery>& queries,
                                                    TimePoint now) = 0;

  // Why the latest propose() for `key` did or did not propose, for the policy's status;
  // nullopt when there is nothing to say. Called right after propose(), under the same
  // one-caller-per-key rule, and only for a policy with a predictive block (without one
  // there is nothing to explain).
  virtual std::optional<PredictiveStatus> explain(const ObjectKey& key) const {
    (void)key;
    return std::nullopt;
  }
};

}  // namespace governor::controller
