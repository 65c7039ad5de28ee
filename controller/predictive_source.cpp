#include "controller/predictive_source.h"

#include <utility>

namespace governor::controller {
namespace {

bool sameSpec(const policies::PredictiveSpec& a, const policies::PredictiveSpec& b) {
  return a.metric == b.metric && a.model == b.model && a.seasonal_periods == b.seasonal_periods &&
         a.history == b.history && a.lead == b.lead && a.quantile == b.quantile &&
         a.refit == b.refit && a.mode == b.mode && a.resolution == b.resolution &&
         a.max_backtest_mase == b.max_backtest_mase;
}

bool sameMetric(const policies::MetricSpec& a, const policies::MetricSpec& b) {
  return a.name == b.name && a.prometheus.query == b.prometheus.query &&
         a.prometheus.per_pod == b.prometheus.per_pod && a.target.type == b.target.type &&
         a.target.value == b.target.value;
}

}  // namespace

policies::PredictivePolicy* PredictiveProposalSource::policyFor(const ObjectKey& key,
                                                                const policies::PolicySpec& spec) {
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
  if (it != entries_.end() && sameSpec(it->second.spec, *spec.predictive) &&
      sameMetric(it->second.metric, *metric)) {
    return it->second.policy.get();
  }
  Entry entry{*spec.predictive,
              *metric,
              std::make_unique<policies::PredictivePolicy>(*spec.predictive, *metric),
              {}};
  auto [pos, inserted] = entries_.insert_or_assign(key, std::move(entry));
  return pos->second.policy.get();
}

std::optional<policies::Proposal> PredictiveProposalSource::propose(
    const ObjectKey& key, const policies::PolicySpec& spec, const policies::Observation& obs,
    TimePoint now) {
  policies::PredictivePolicy* policy = policyFor(key, spec);
  if (policy == nullptr) return std::nullopt;
  policy->observe(obs, now);
  Entry& entry = entries_.at(key);
  entry.last = policy->propose(now);
  return entry.last.proposal;
}

const policies::PredictiveOutcome* PredictiveProposalSource::lastOutcome(
    const ObjectKey& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second.last;
}

}  // namespace governor::controller
