#pragma once

// The ProposalSource the operator and the simulator plug into the reconciler: one
// policies::PredictivePolicy per ScalingPolicy, fed with every observation the reconciler
// makes. A changed `spec.predictive` (or its metric) starts that policy's history afresh.
//
// Backfill. With a MetricHistory (the operator's Prometheus), a policy's model does not wait
// two seasons to learn: the first time a key is proposed for (at start-up, after a fail-over,
// after its spec changed), the load of the predictive metric over the policy's `history` is
// read with range queries (policies::loadQueryOf on the metric's rendered query) and added
// before this evaluation's sample. A failed backfill is retried on a later evaluation, at
// most once per `retry_after`, while the policy learns from live samples meanwhile; a metric
// whose load no query carries (a Utilization target that is not per-pod) is not backfilled.
//
// Thread-safety: calls for different keys may run concurrently (the map of models is
// locked; a backfill's I/O runs outside the lock); calls for one key must not overlap, as a
// work queue guarantees.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "controller/ports.h"
#include "controller/proposal_source.h"
#include "policies/predictive.h"

namespace governor::controller {

struct BackfillOptions {
  // Time between two attempts at a failed backfill. Default: 1m.
  Duration retry_after{60'000};
  // The step of the range queries: the model's resolution divided by this, so each bucket
  // averages several points as live samples do. Default: 5.
  int points_per_bucket = 5;
  // The smallest step. Default: 15s.
  Duration min_step{15'000};
};

// What the backfill of one key did, for logs and tests.
struct BackfillState {
  bool done = false;    // Finished: succeeded, or not possible for this metric.
  int64_t points = 0;   // Finite values added.
  std::string message;  // "backfilled 4032 points of ...", "not possible: ...", the last error.
  std::optional<TimePoint> retry_at;  // After a failure: the earliest next attempt.
};

class PredictiveProposalSource final : public ProposalSource {
 public:
  // `history` may be null (the simulator: no backfill); it must outlive the source.
  explicit PredictiveProposalSource(MetricHistory* history = nullptr, BackfillOptions options = {})
      : history_(history), options_(options) {}

  std::optional<policies::Proposal> propose(const ObjectKey& key, const policies::PolicySpec& spec,
                                            const policies::Observation& obs,
                                            const std::vector<MetricQuery>& queries,
                                            TimePoint now) override;

  // The latest outcome's reason and message and the backfill's message.
  std::optional<PredictiveStatus> explain(const ObjectKey& key) const override;

  // The latest outcome for `key` (why there is or is not a forecast); nullptr if none.
  // REQUIRES: no concurrent propose() for `key`.
  const policies::PredictiveOutcome* lastOutcome(const ObjectKey& key) const;

  // The backfill of `key`; nullptr if the key has no predictive policy.
  // REQUIRES: no concurrent propose() for `key`.
  const BackfillState* backfill(const ObjectKey& key) const;

  // The policy of `key` for `spec`, created if needed: for backfilling history before the
  // first reconcile (the part of a trace before a replay). nullptr when `spec` has no
  // predictive block. REQUIRES: no concurrent propose() for `key`.
  policies::PredictivePolicy* policyFor(const ObjectKey& key, const policies::PolicySpec& spec);

 private:
  struct Entry {
    policies::PredictiveSpec spec;
    policies::MetricSpec metric;
    std::unique_ptr<policies::PredictivePolicy> policy;
    policies::PredictiveOutcome last;
    BackfillState backfill;
  };

  // The entry of `key` for `spec`, (re)created when its predictive block or metric changed;
  // nullptr (and the entry dropped) when `spec` has none. Entries are map nodes: the pointer
  // stays valid while other keys come and go.
  Entry* entryFor(const ObjectKey& key, const policies::PolicySpec& spec);
  void runBackfill(Entry& entry, const std::vector<MetricQuery>& queries, TimePoint now);

  MetricHistory* history_;
  BackfillOptions options_;
  mutable std::mutex mu_;  // Guards the map's structure, not the entries.
  std::map<ObjectKey, Entry> entries_;
};

}  // namespace governor::controller
