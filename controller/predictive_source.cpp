#include "controller/predictive_source.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <spdlog/spdlog.h>

namespace governor::controller {

PredictiveProposalSource::Entry* PredictiveProposalSource::entryFor(
    const ObjectKey& key, const policies::PolicySpec& spec) {
  std::lock_guard lock(mu_);
  if (!spec.predictive) {
    entries_.erase(key);
    return nullptr;
  }
  const policies::MetricSpec* metric = nullptr;
  for (const auto& m : spec.metrics) {
    if (m.name == spec.predictive->metric) metric = &m;
  }
  if (metric == nullptr) return nullptr;  // The parser prevents this.
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.spec == *spec.predictive && it->second.metric == *metric) {
    return &it->second;
  }
  Entry entry{*spec.predictive,
              *metric,
              std::make_unique<policies::PredictivePolicy>(*spec.predictive, *metric),
              {},
              {}};
  auto [pos, inserted] = entries_.insert_or_assign(key, std::move(entry));
  return &pos->second;
}

policies::PredictivePolicy* PredictiveProposalSource::policyFor(const ObjectKey& key,
                                                                const policies::PolicySpec& spec) {
  Entry* entry = entryFor(key, spec);
  return entry == nullptr ? nullptr : entry->policy.get();
}

void PredictiveProposalSource::runBackfill(Entry& entry, const std::vector<MetricQuery>& queries,
                                           TimePoint now) {
  BackfillState& state = entry.backfill;
  const auto rendered = std::find_if(queries.begin(), queries.end(), [&](const MetricQuery& q) {
    return q.name == entry.metric.name;
  });
  if (rendered == queries.end()) {
    // The templates could not be rendered this time (the reconciler says why): try later.
    state.message = "the query of metric " + entry.metric.name + " is not available";
    state.retry_at = now + options_.retry_after;
    return;
  }
  auto load_query = policies::loadQueryOf(entry.metric, rendered->query);
  if (!load_query) {
    state.done = true;
    state.message = "not possible for metric " + entry.metric.name +
                    ": a Utilization target that is not perPod gives no load query (the load "
                    "is the average times the ready count at each instant); learning from "
                    "live samples";
    spdlog::info("predictive backfill: {}", state.message);
    return;
  }
  MetricQuery query = *rendered;
  query.query = std::move(*load_query);
  query.per_pod = false;
  const Duration resolution = entry.spec.resolution;
  const Duration step =
      std::max(options_.min_step, resolution / std::max(1, options_.points_per_bucket));
  // From the start of the oldest bucket the model keeps, to now.
  const int64_t res_ms = std::max<int64_t>(1, resolution.count());
  int64_t start_ms = (now - entry.spec.history).time_since_epoch().count();
  start_ms -= ((start_ms % res_ms) + res_ms) % res_ms;
  const TimePoint start{Duration(start_ms)};
  auto points = history_->history(query, start, now, step);
  if (!points.ok()) {
    state.message = "backfill of metric " + entry.metric.name +
                    " failed: " + points.status().message() +
                    " (learning from live samples; retrying)";
    state.retry_at = now + options_.retry_after;
    spdlog::warn("predictive backfill: {}", state.message);
    return;
  }
  // A fresh model: after a failed attempt, live samples have started the history, and the
  // policy ignores samples older than its open bucket. The range covers them up to now.
  entry.policy = std::make_unique<policies::PredictivePolicy>(entry.spec, entry.metric);
  int64_t added = 0;
  for (const HistoryPoint& p : *points) {
    if (p.time > now || !std::isfinite(p.value) || p.value < 0) continue;
    entry.policy->addLoad(p.time, p.value);
    ++added;
  }
  state.done = true;
  state.points = added;
  state.retry_at.reset();
  state.message = "backfilled " + std::to_string(added) + " points of metric " + entry.metric.name +
                  " from " + std::to_string(points->size()) + " returned";
  spdlog::info("predictive backfill: {}", state.message);
}

std::optional<policies::Proposal> PredictiveProposalSource::propose(
    const ObjectKey& key, const policies::PolicySpec& spec, const policies::Observation& obs,
    const std::vector<MetricQuery>& queries, TimePoint now) {
  Entry* entry = entryFor(key, spec);
  if (entry == nullptr) return std::nullopt;
  if (history_ != nullptr && !entry->backfill.done &&
      (!entry->backfill.retry_at || now >= *entry->backfill.retry_at)) {
    runBackfill(*entry, queries, now);
  }
  entry->policy->observe(obs, now);
  entry->last = entry->policy->propose(now);
  return entry->last.proposal;
}

const policies::PredictiveOutcome* PredictiveProposalSource::lastOutcome(
    const ObjectKey& key) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second.last;
}

std::optional<PredictiveStatus> PredictiveProposalSource::explain(const ObjectKey& key) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return PredictiveStatus{it->second.last.reason, it->second.last.message,
                          it->second.backfill.message};
}

const BackfillState* PredictiveProposalSource::backfill(const ObjectKey& key) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second.backfill;
}

}  // namespace governor::controller
