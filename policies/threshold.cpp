#include "policies/threshold.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace governor::policies {
namespace {

constexpr int32_t kMaxReplicas = std::numeric_limits<int32_t>::max();
constexpr double kMaxDouble = std::numeric_limits<double>::max();

bool usable(double v) { return std::isfinite(v) && v >= 0.0; }

// Keeps derived numbers finite so that callers can print and serialize them.
double finiteOrMax(double v) {
  if (std::isnan(v)) return 0.0;
  return std::clamp(v, -kMaxDouble, kMaxDouble);
}

// `v` itself, or the integer it is within kEdgeSlack (relative) of.
double snapToInteger(double v) {
  const double nearest = std::round(v);
  if (std::abs(v - nearest) <= Tolerances::kEdgeSlack * std::max(1.0, std::abs(nearest))) {
    return nearest;
  }
  return v;
}

// ceil() into a replica count, saturating instead of overflowing. `v` is never negative here;
// NaN (which the callers rule out) gives 0.
int32_t ceilReplicas(double v) {
  if (!(v > 0.0)) return 0;
  const double up = std::ceil(snapToInteger(v));
  if (up >= static_cast<double>(kMaxReplicas)) return kMaxReplicas;
  return static_cast<int32_t>(up);
}

// A whole percent, truncated as HPA's int32 utilization is.
double truncatePercent(double v) { return std::floor(snapToInteger(v)); }

// The most characters writeNumber() writes: "-1.23457e+300", or 12 digits, a point and 3
// decimals with a sign.
constexpr size_t kNumberChars = 24;

// Writes `v` as formatNumber() formats it at `p`; returns the end.
// REQUIRES: kNumberChars writable characters at `p`.
char* writeNumber(char* p, double v) {
  const auto put = [&p](std::string_view text) {
    std::memcpy(p, text.data(), text.size());
    return p + text.size();
  };
  if (std::isnan(v)) return put("NaN");
  if (std::isinf(v)) return put(v > 0 ? "+Inf" : "-Inf");
  if (v == 0.0) return put("0");  // Also -0.
  char* const end = p + kNumberChars;
  const double a = std::abs(v);
  if (a < 1e12 && a >= 1) {
    // Whole numbers (targets, tolerances in percent) are common: printed as integers, which
    // is what the fixed form below gives them (no decimals), with less work.
    const auto whole = static_cast<uint64_t>(a);
    if (static_cast<double>(whole) == a) {
      if (v < 0) *p++ = '-';
      return std::to_chars(p, end, whole).ptr;
    }
  }
  if (a < 1e12 && a >= 1e-3) {
    // Fixed with 3 decimals, trailing zeros dropped. Fast path: a * 1000 is below 2^53, so it
    // is within m * 2^-53 of the exact product; unless it lies within twice that of a
    // rounding midpoint, rounding it gives what rounding the exact value (to_chars) gives.
    const double m = a * 1000.0;
    // m is in [1, 1e15): truncating to an integer is floor(m), exactly, without a libm call.
    const double floor_m = static_cast<double>(static_cast<uint64_t>(m));
    const double frac = m - floor_m;  // Exact.
    if (std::abs(frac - 0.5) > m * 0x1p-51) {
      const auto n = static_cast<uint64_t>(frac < 0.5 ? floor_m : floor_m + 1.0);
      if (v < 0) *p++ = '-';
      p = std::to_chars(p, end, n / 1000).ptr;
      uint64_t milli = n % 1000;
      if (milli != 0) {
        *p++ = '.';
        *p++ = static_cast<char>('0' + milli / 100);
        milli %= 100;
        if (milli != 0) {
          *p++ = static_cast<char>('0' + milli / 10);
          milli %= 10;
          if (milli != 0) *p++ = static_cast<char>('0' + milli);
        }
      }
      return p;
    }
    const std::to_chars_result r = std::to_chars(p, end, v, std::chars_format::fixed, 3);
    std::string_view s(p, static_cast<size_t>(r.ptr - p));
    s = s.substr(0, s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.remove_suffix(1);
    return p + s.size();
  }
  return std::to_chars(p, end, v, std::chars_format::general, 6).ptr;
}

// Appends `v` as formatNumber() writes it.
void appendNumber(std::string& out, double v) {
  char buf[kNumberChars];
  out.append(buf, writeNumber(buf, v));
}

// "84", "28.5", "0.333", "1e+300": short, locale-free.
std::string formatNumber(double v) {
  std::string s;
  appendNumber(s, v);
  return s;
}

// Writes "tolerance +10%/-10%" at `p`; returns the end.
// REQUIRES: kToleranceChars writable characters at `p`.
constexpr size_t kToleranceChars = 2 * kNumberChars + 16;
char* writeTolerances(char* p, const Tolerances& t) {
  constexpr std::string_view kHead = "tolerance +";
  std::memcpy(p, kHead.data(), kHead.size());
  p = writeNumber(p + kHead.size(), t.scale_up * 100.0);
  std::memcpy(p, "%/-", 3);
  p = writeNumber(p + 3, t.scale_down * 100.0);
  *p++ = '%';
  return p;
}

// Appends "tolerance +10%/-10%".
void appendTolerances(std::string& out, const Tolerances& t) {
  char buf[kToleranceChars];
  out.append(buf, writeTolerances(buf, t));
}

// Appends " (within tolerance +10%/-10%)".
void appendWithinTolerances(std::string& out, const Tolerances& t) {
  char buf[kToleranceChars + 16];
  std::memcpy(buf, " (within ", 9);
  char* p = writeTolerances(buf + 9, t);
  *p++ = ')';
  out.append(buf, p);
}

// Appends " (tolerance +10%/-10%)" and then `tail` (") over ", "), total ").
void appendTolerancesThen(std::string& out, const Tolerances& t, std::string_view tail) {
  char buf[kToleranceChars + 16];
  buf[0] = ' ';
  buf[1] = '(';
  char* p = writeTolerances(buf + 2, t);
  tail = tail.substr(0, 12);  // Bounded by the buffer's size; the tails are shorter.
  std::memcpy(p, tail.data(), tail.size());
  out.append(buf, p + tail.size());
}

std::string formatTolerances(const Tolerances& t) {
  std::string s;
  appendTolerances(s, t);
  return s;
}

// What is wrong with a value that is not usable.
std::string describeUnusable(double v) {
  if (std::isnan(v)) return "is NaN";
  if (std::isinf(v)) return v > 0 ? "is +Inf" : "is -Inf";
  return formatNumber(v) + " is negative";
}

// Appends "1 pod" / "3 pods".
void appendPlural(std::string& out, int64_t n, const char* one, const char* many) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof(buf), n).ptr);
  out += ' ';
  out += n == 1 ? one : many;
}

std::string plural(int64_t n, const char* one, const char* many) {
  std::string s;
  appendPlural(s, n, one, many);
  return s;
}

TimePoint addSaturating(TimePoint t, Duration d) {
  int64_t out = 0;
  if (__builtin_add_overflow(t.time_since_epoch().count(), d.count(), &out)) {
    return d.count() > 0 ? TimePoint::max() : TimePoint::min();
  }
  return TimePoint(Duration(out));
}

// The reason for a proposal that follows the metric's direction.
const char* directionReason(double ratio) {
  if (ratio > 1.0) return "AboveTarget";
  if (ratio < 1.0) return "BelowTarget";
  return "AtTarget";
}

MetricRecommendation invalidRecommendation(const MetricSpec& spec, std::string reason,
                                           std::string message) {
  MetricRecommendation rec;
  rec.metric = spec.name;
  rec.valid = false;
  rec.reason = std::move(reason);
  rec.message = spec.name + ": " + std::move(message);
  return rec;
}

// The display unit of a metric's values.
const char* unitOf(const MetricSpec& spec) {
  return spec.target.type == TargetType::kUtilization ? "%" : "";
}

// Appends "cpu 84% > target 60%". `label` is one of this file's literals ("", "per pod ").
void appendComparison(std::string& s, const MetricSpec& spec, double usage, double ratio,
                      const char* label) {
  // Written into one buffer and appended once: this runs for every metric at every
  // evaluation (a simulation runs it for each of its steps), and each append costs a call.
  const std::string_view unit = unitOf(spec);
  const std::string_view op = ratio > 1.0 ? " > " : (ratio < 1.0 ? " < " : " = ");
  const std::string_view label_text = label;
  char buf[2 * kNumberChars + 64];
  char* p = buf;
  const auto put = [&p](std::string_view text) {
    std::memcpy(p, text.data(), text.size());
    p += text.size();
  };
  s += spec.name;  // Of any length.
  put(" ");
  put(label_text.substr(0, 16));  // Bounded by the buffer's size; the labels are shorter.
  p = writeNumber(p, usage);
  put(unit);
  put(op);
  put("target ");
  p = writeNumber(p, spec.target.value);
  put(unit);
  s.append(buf, p);
}

// "cpu 84% > target 60%"; `reserve` more characters are reserved for what follows.
std::string comparison(const MetricSpec& spec, double usage, double ratio, const char* label,
                       size_t reserve = 64) {
  std::string s;
  s.reserve(spec.name.size() + 32 + reserve);
  appendComparison(s, spec, usage, ratio, label);
  return s;
}

// Sets `rec` to a fresh MetricRecommendation of `spec`'s metric, its strings keeping their
// storage.
void resetRecommendation(MetricRecommendation& rec, const MetricSpec& spec) {
  rec.metric = spec.name;
  rec.valid = false;
  rec.replicas = 0;
  rec.usage = 0;
  rec.ratio = 0;
  rec.reason.clear();
  rec.message.clear();
  rec.pods = PodCounts();
}

// Ready pods for Value and non-per-pod Utilization (HPA's getReadyPodsCount, with Governor's
// fallbacks when the controller did not list pods).
int64_t readyPodCount(const Observation& obs, int32_t current) {
  if (obs.ready_replicas.has_value()) return std::max<int64_t>(0, *obs.ready_replicas);
  if (obs.pods.empty()) return current;
  return std::count_if(obs.pods.begin(), obs.pods.end(), [](const PodInfo& pod) {
    return pod.phase == PodPhase::kRunning && pod.ready.value_or(false);
  });
}

// HPA's getUsageRatioReplicaCount: Object/External Value, and non-per-pod Utilization.
// REQUIRES: `rec` reset (resetRecommendation).
void fromRatioAndReadyPods(const MetricSpec& spec, const Observation& obs,
                           const Tolerances& tolerances, int32_t current, double usage,
                           MetricRecommendation& rec) {
  rec.valid = true;
  rec.usage = finiteOrMax(usage);
  rec.ratio = finiteOrMax(usage / spec.target.value);
  appendComparison(rec.message, spec, rec.usage, rec.ratio, "");
  if (current == 0) {
    // Scale from zero: neither tolerance nor ready pods apply.
    rec.replicas = ceilReplicas(rec.ratio);
    rec.reason = directionReason(rec.ratio);
    rec.message += " at 0 replicas";
    return;
  }
  if (tolerances.within(rec.ratio)) {
    rec.replicas = current;
    rec.reason = "WithinTolerance";
    appendWithinTolerances(rec.message, tolerances);
    return;
  }
  const int64_t ready = readyPodCount(obs, current);
  rec.replicas = ceilReplicas(rec.ratio * static_cast<double>(ready));
  rec.reason = directionReason(rec.ratio);
  appendTolerancesThen(rec.message, tolerances, ") over ");
  appendPlural(rec.message, ready, "ready pod", "ready pods");
}

// HPA's GetExternalPerPodMetricReplicas / GetObjectPerPodMetricReplicas.
// REQUIRES: `rec` reset (resetRecommendation).
void fromTotalPerPod(const MetricSpec& spec, const Observation& obs, const Tolerances& tolerances,
                     int32_t current, double total, MetricRecommendation& rec) {
  const int32_t replicas = std::max(0, obs.status_replicas.value_or(current));
  rec.valid = true;
  // With no replicas HPA's ratio is +Inf (or NaN for 0/0) and the count is recomputed; the
  // total itself is reported then, to keep the numbers finite.
  const double per_pod = replicas > 0 ? total / static_cast<double>(replicas) : total;
  rec.usage = finiteOrMax(per_pod);
  rec.ratio = finiteOrMax(per_pod / spec.target.value);
  appendComparison(rec.message, spec, rec.usage, rec.ratio, "per pod ");
  if (replicas > 0 && tolerances.within(rec.ratio)) {
    rec.replicas = replicas;
    rec.reason = "WithinTolerance";
    appendWithinTolerances(rec.message, tolerances);
    return;
  }
  rec.replicas = ceilReplicas(finiteOrMax(total / spec.target.value));
  rec.reason = directionReason(rec.ratio);
  appendTolerancesThen(rec.message, tolerances, "), total ");
  appendNumber(rec.message, total);
  rec.message += " over ";
  appendPlural(rec.message, replicas, "replica", "replicas");
}

// HPA's CPU readiness test in groupPods.
bool cpuUnready(const PodInfo& pod, const PodSample& sample, const PodTimings& timings,
                TimePoint now) {
  if (!pod.ready.has_value() || !pod.start_time.has_value()) return true;
  const bool ready = *pod.ready;
  if (addSaturating(*pod.start_time, timings.cpu_initialization_period) > now) {
    // Still initializing: the sample counts only if the pod is ready and a whole window of
    // the sample was collected after it became so.
    if (!ready) return true;
    if (!pod.ready_transition.has_value()) return false;
    return sample.timestamp < addSaturating(*pod.ready_transition, sample.window);
  }
  // Initialized: leave out a pod that is not ready and has never been since it started.
  if (ready) return false;
  if (!pod.ready_transition.has_value()) return true;
  return addSaturating(*pod.start_time, timings.initial_readiness_delay) > *pod.ready_transition;
}

struct GroupedPods {
  std::map<std::string, double> values;  // Ready pods' samples; fill-ins are added later.
  std::vector<std::string> unready;
  std::vector<std::string> missing;
  PodCounts counts;
  int32_t unusable_samples = 0;  // NaN, infinite or negative samples (their pods are missing).
};

GroupedPods groupPods(const Observation& obs, const MetricSample& sample, bool cpu_rules,
                      const PodTimings& timings, TimePoint now) {
  GroupedPods g;
  std::set<std::string> seen;
  for (const PodInfo& pod : obs.pods) {
    if (!seen.insert(pod.name).second) continue;  // A pod listed twice counts once.
    if (pod.deleting || pod.phase == PodPhase::kFailed) {
      ++g.counts.ignored;
      continue;
    }
    if (pod.phase == PodPhase::kPending) {
      g.unready.push_back(pod.name);
      continue;
    }
    const auto it = sample.per_pod.find(pod.name);
    if (it == sample.per_pod.end() || !usable(it->second.value)) {
      if (it != sample.per_pod.end()) ++g.unusable_samples;
      g.missing.push_back(pod.name);
      continue;
    }
    if (cpu_rules && cpuUnready(pod, it->second, timings, now)) {
      g.unready.push_back(pod.name);
      continue;
    }
    g.values.emplace(pod.name, it->second.value);
  }
  g.counts.ready = static_cast<int32_t>(g.values.size());
  g.counts.unready = static_cast<int32_t>(g.unready.size());
  g.counts.missing = static_cast<int32_t>(g.missing.size());
  return g;
}

double meanOf(const std::map<std::string, double>& values) {
  const double n = static_cast<double>(values.size());
  double sum = 0;
  for (const auto& [name, v] : values) sum += v;
  if (std::isfinite(sum)) return sum / n;
  // The sum overflowed: average term by term instead (every term is finite).
  double mean = 0;
  for (const auto& [name, v] : values) mean += v / n;
  return mean;
}

// HPA's GetResourceReplicas (cpu_rules) and calcPlainMetricReplicas.
MetricRecommendation fromPodSamples(const MetricSpec& spec, const Observation& obs,
                                    const MetricSample& sample, const Tolerances& tolerances,
                                    const PodTimings& timings, TimePoint now, int32_t current) {
  const bool cpu_rules = spec.target.type == TargetType::kUtilization;
  if (obs.pods.empty()) {
    return invalidRecommendation(spec, "NoPods",
                                 "no pods observed for a per-pod metric (the target's pods "
                                 "were not listed, or it has none)");
  }
  GroupedPods g = groupPods(obs, sample, cpu_rules, timings, now);
  if (g.values.empty()) {
    const bool bad = g.unusable_samples > 0;
    MetricRecommendation rec = invalidRecommendation(
        spec, bad ? "InvalidMetric" : "MissingMetric",
        "no usable sample from a ready pod (" + plural(g.counts.unready, "unready", "unready") +
            ", " + std::to_string(g.counts.missing) + " without a usable sample" +
            (bad ? " of which " + std::to_string(g.unusable_samples) + " NaN, infinite or negative"
                 : std::string()) +
            ", " + std::to_string(g.counts.ignored) + " deleting or failed)");
    rec.pods = g.counts;
    return rec;
  }

  const double target = spec.target.value;
  auto usageOf = [&](const std::map<std::string, double>& values) {
    const double mean = finiteOrMax(meanOf(values));
    return cpu_rules ? truncatePercent(mean) : mean;
  };

  MetricRecommendation rec;
  rec.metric = spec.name;
  rec.valid = true;
  rec.pods = g.counts;
  rec.usage = usageOf(g.values);
  rec.ratio = finiteOrMax(rec.usage / target);
  const double ratio = rec.ratio;
  const std::string compared = comparison(spec, rec.usage, ratio, "");
  const std::string tolerance_text = formatTolerances(tolerances);

  const bool scale_up_with_unready = !g.unready.empty() && ratio > 1.0;
  if (!scale_up_with_unready && g.missing.empty()) {
    if (tolerances.within(ratio)) {
      rec.replicas = current;
      rec.reason = "WithinTolerance";
      rec.message = compared + " (within " + tolerance_text + ")";
      return rec;
    }
    rec.replicas = ceilReplicas(ratio * static_cast<double>(g.values.size()));
    rec.reason = directionReason(ratio);
    rec.message = compared + " (" + tolerance_text + ") over " +
                  plural(static_cast<int64_t>(g.values.size()), "ready pod", "ready pods");
    return rec;
  }

  // Be conservative about pods without a say: on a scale-down a missing pod is assumed at
  // the target (Utilization: at its request, or the target if higher); on a scale-up
  // missing and unready pods are assumed idle.
  std::string assumed;
  const char* unit = unitOf(spec);
  if (!g.missing.empty()) {
    double fill = -1;
    if (ratio < 1.0) {
      fill = cpu_rules ? std::max(100.0, target) : target;
    } else if (ratio > 1.0) {
      fill = 0;
    }
    if (fill >= 0) {
      for (const std::string& name : g.missing) g.values[name] = fill;
      assumed += "; " + plural(g.counts.missing, "pod", "pods") + " without a sample counted at " +
                 formatNumber(fill) + unit;
    }
  }
  if (scale_up_with_unready) {
    for (const std::string& name : g.unready) g.values[name] = 0;
    assumed +=
        "; " + plural(g.counts.unready, "unready pod", "unready pods") + " counted at 0" + unit;
  }
  const double new_ratio = finiteOrMax(usageOf(g.values) / target);
  const std::string adjusted = "adjusted ratio " + formatNumber(new_ratio);

  if (tolerances.within(new_ratio)) {
    rec.replicas = current;
    rec.reason = "WithinTolerance";
    rec.message = compared + assumed + ": " + adjusted + " within " + tolerance_text;
    return rec;
  }
  if ((ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0)) {
    rec.replicas = current;
    rec.reason = "DirectionUncertain";
    rec.message = compared + assumed + ": " + adjusted + " points the other way; holding";
    return rec;
  }
  const int32_t proposed = ceilReplicas(new_ratio * static_cast<double>(g.values.size()));
  if ((new_ratio < 1.0 && proposed > current) || (new_ratio > 1.0 && proposed < current)) {
    rec.replicas = current;
    rec.reason = "DirectionUncertain";
    rec.message = compared + assumed + ": " + adjusted + " over " +
                  plural(static_cast<int64_t>(g.values.size()), "pod", "pods") +
                  " would move the count the other way; holding";
    return rec;
  }
  rec.replicas = proposed;
  rec.reason = directionReason(ratio);
  rec.message = compared + " (" + tolerance_text + ")" + assumed + ": " + adjusted + " over " +
                plural(static_cast<int64_t>(g.values.size()), "pod", "pods");
  return rec;
}

}  // namespace

Tolerances tolerancesFor(const Behavior& behavior) {
  return Tolerances{behavior.scale_up.tolerance, behavior.scale_down.tolerance};
}

MetricRecommendation recommendForMetric(const MetricSpec& spec, const Observation& obs,
                                        const Tolerances& tolerances, const PodTimings& timings,
                                        TimePoint now) {
  MetricRecommendation rec;
  recommendForMetric(spec, obs, tolerances, timings, now, rec);
  return rec;
}

void recommendForMetric(const MetricSpec& spec, const Observation& obs,
                        const Tolerances& tolerances, const PodTimings& timings, TimePoint now,
                        MetricRecommendation& out) {
  // The rare outcomes (invalid metrics, per-pod samples) are built afresh and moved in; the
  // common ones are written into `out`, keeping its strings' storage.
  const double target = spec.target.value;
  if (!std::isfinite(target) || target <= 0.0) {
    out = invalidRecommendation(spec, "InvalidTarget",
                                "target " + formatNumber(target) + " must be a positive number");
    return;
  }
  const auto found = obs.metrics.find(spec.name);
  if (found == obs.metrics.end()) {
    out = invalidRecommendation(spec, "MissingMetric", "no sample in this evaluation");
    return;
  }
  const MetricSample& sample = found->second;
  const int32_t current = std::max(0, obs.current_replicas);
  const bool per_pod = spec.prometheus.per_pod;

  if (per_pod && spec.target.type != TargetType::kValue) {
    out = fromPodSamples(spec, obs, sample, tolerances, timings, now, current);
    return;
  }

  double value = 0;
  if (per_pod) {
    // Value over per-pod series: their sum, as HPA sums an External metric's series.
    if (sample.per_pod.empty()) {
      out = invalidRecommendation(spec, "MissingMetric", "the query returned no series");
      return;
    }
    int32_t unusable = 0;
    int32_t used = 0;
    for (const auto& [name, pod_sample] : sample.per_pod) {
      if (!usable(pod_sample.value)) {
        ++unusable;
        continue;
      }
      value = finiteOrMax(value + pod_sample.value);
      ++used;
    }
    if (used == 0) {
      out = invalidRecommendation(
          spec, "InvalidMetric",
          "every series is NaN, infinite or negative (" + std::to_string(unusable) + " series)");
      return;
    }
  } else {
    if (!sample.value.has_value()) {
      out = invalidRecommendation(spec, "MissingMetric", "the query returned no value");
      return;
    }
    value = *sample.value;
    if (!usable(value)) {
      out = invalidRecommendation(spec, "InvalidMetric", "value " + describeUnusable(value));
      return;
    }
  }

  resetRecommendation(out, spec);
  if (spec.target.type == TargetType::kAverageValue) {
    fromTotalPerPod(spec, obs, tolerances, current, value, out);
  } else {
    fromRatioAndReadyPods(spec, obs, tolerances, current, value, out);
  }
}

ThresholdResult evaluateThreshold(const PolicySpec& spec, const Observation& obs,
                                  const PodTimings& timings, TimePoint now) {
  ThresholdResult result;
  Proposal proposal;
  if (evaluateThreshold(spec, obs, timings, now, result.metrics, proposal, result.reason,
                        result.message)) {
    result.reason = proposal.reason;
    result.message = proposal.message;
    result.proposal = std::move(proposal);
  }
  return result;
}

bool evaluateThreshold(const PolicySpec& spec, const Observation& obs, const PodTimings& timings,
                       TimePoint now, std::vector<MetricRecommendation>& metrics,
                       Proposal& proposal, std::string& reason, std::string& message) {
  const Tolerances tolerances = tolerancesFor(spec.behavior);
  // Resized, not cleared: the recommendations kept are overwritten in place.
  metrics.resize(spec.metrics.size());
  for (size_t i = 0; i < spec.metrics.size(); ++i) {
    recommendForMetric(spec.metrics[i], obs, tolerances, timings, now, metrics[i]);
  }
  if (metrics.empty()) {
    reason = "NoMetrics";
    message = "the policy has no metrics";
    return false;
  }

  const MetricRecommendation* best = nullptr;
  const MetricRecommendation* first_invalid = nullptr;
  int64_t invalid = 0;
  for (const MetricRecommendation& rec : metrics) {
    if (!rec.valid) {
      ++invalid;
      if (first_invalid == nullptr) first_invalid = &rec;
      continue;
    }
    // Ties go to the first metric, as in HPA.
    if (best == nullptr || rec.replicas > best->replicas) best = &rec;
  }
  const auto total = static_cast<int64_t>(metrics.size());
  if (best == nullptr) {
    reason = "AllMetricsInvalid";
    message =
        "all " + plural(total, "metric", "metrics") + " invalid; first: " + first_invalid->message;
    return false;
  }
  const int32_t current = std::max(0, obs.current_replicas);
  if (invalid > 0 && best->replicas < current) {
    reason = "InvalidMetricBlocksScaleDown";
    message = std::to_string(invalid) + " of " + plural(total, "metric", "metrics") +
              " invalid, and the others would scale down to " + std::to_string(best->replicas) +
              "; holding. First: " + first_invalid->message;
    return false;
  }

  proposal.replicas = best->replicas;
  proposal.policy = "threshold/";
  proposal.policy += best->metric;
  proposal.reason = best->reason;
  proposal.message = best->message;
  if (invalid > 0) {
    proposal.message += " (" + std::to_string(invalid) + " of " +
                        plural(total, "metric", "metrics") + " invalid: " + first_invalid->message +
                        ")";
  }
  return true;
}

}  // namespace governor::policies
