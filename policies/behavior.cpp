#include "policies/behavior.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <utility>

namespace governor::policies {
namespace {

constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
// Longer than any window or period that makes sense (HPA caps windows at 1 h and periods at
// 30 min); keeps every TimePoint subtraction far from int64 overflow.
constexpr int64_t kMaxSpanSeconds = int64_t{10} * 366 * 24 * 3600;

int32_t saturate(int64_t v) { return static_cast<int32_t>(std::clamp(v, kInt32Min, kInt32Max)); }

// int64 arithmetic on replica counts stays exact: every input is an int32 or a sum of a few
// int32s. Doubles come from Percent policies and are clamped before converting back.
int64_t clampToInt64Range(double v) {
  if (std::isnan(v)) return 0;
  // 2^62: far outside int32, exactly representable, safe to convert and to add to.
  constexpr double kBound = 4611686018427387904.0;
  return static_cast<int64_t>(std::clamp(v, -kBound, kBound));
}

// Windows and periods as durations, negative values as 0.
Duration span(Seconds s) {
  return std::chrono::duration_cast<Duration>(
      Seconds(std::clamp<int64_t>(s.count(), 0, kMaxSpanSeconds)));
}

// now - d without overflow: an entry is visible in a window or period iff its time is after
// this cutoff.
TimePoint cutoff(TimePoint now, Duration d) {
  const int64_t n = now.time_since_epoch().count();
  const int64_t lowest = std::numeric_limits<int64_t>::min();
  if (n < lowest + d.count()) return TimePoint(Duration(lowest));
  return now - d;
}

// t + d without overflow (d >= 0).
TimePoint later(TimePoint t, Duration d) {
  const int64_t n = t.time_since_epoch().count();
  const int64_t highest = std::numeric_limits<int64_t>::max();
  if (n > highest - d.count()) return TimePoint(Duration(highest));
  return t + d;
}

// Appends `v` in decimal, as std::to_string writes it, without a temporary string.
void appendInt(std::string& out, int64_t v) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof(buf), v).ptr);
}

// Appends "300s".
void appendSeconds(std::string& out, Seconds s) {
  appendInt(out, s.count());
  out += 's';
}

// The messages below are built in one reserved string: a limit binds on many evaluations,
// and concatenating temporaries cost several allocations each time.
constexpr size_t kMessageReserve = 96;

Duration longestWindow(const Behavior& b) {
  return std::max(span(b.scale_up.stabilization_window), span(b.scale_down.stabilization_window));
}

Duration longestPeriod(const Behavior& b) {
  Duration longest{0};
  for (const ScalingRules* rules : {&b.scale_up, &b.scale_down}) {
    for (const ScalingRule& rule : rules->policies) longest = std::max(longest, span(rule.period));
  }
  return longest;
}

// Drops the entries with `at <= horizon_cutoff`: nothing can see them again.
template <typename Entry>
void prune(std::vector<Entry>& entries, TimePoint horizon_cutoff) {
  const auto old = [&](const Entry& e) { return e.at <= horizon_cutoff; };
  const auto first = std::find_if(entries.begin(), entries.end(), old);
  if (first == entries.end()) return;
  // Entries are recorded in time order, so what leaves is nearly always a run at the front
  // (one entry per evaluation): one erase moves the rest at once, where erase_if moved them
  // one by one. A clock that stepped back can leave an old entry behind a newer one: then
  // every old entry is found one by one.
  const auto run_end = std::find_if_not(first, entries.end(), old);
  if (std::none_of(run_end, entries.end(), old)) {
    entries.erase(first, run_end);
    return;
  }
  std::erase_if(entries, old);
}

// The earliest `at` of the entries in (cutoff, ...) for which `holds(entry)`, or nullopt.
// Without a branch per entry: whether an entry holds depends on the load, which no branch
// predictor guesses (this runs at every evaluation over the whole stabilization window).
template <typename Entry, typename Holds>
std::optional<TimePoint> earliestAfter(const std::vector<Entry>& entries, TimePoint cutoff_at,
                                       Holds holds) {
  bool found = false;
  TimePoint earliest = TimePoint::max();
  for (const Entry& e : entries) {
    const bool take = e.at > cutoff_at && holds(e);
    found |= take;
    earliest = std::min(earliest, take ? e.at : TimePoint::max());
  }
  if (!found) return std::nullopt;
  return earliest;
}

void pruneEvents(const Behavior& b, BehaviorState& state, TimePoint now) {
  const TimePoint horizon = cutoff(now, longestPeriod(b));
  prune(state.scale_up_events, horizon);
  prune(state.scale_down_events, horizon);
}

// Replicas changed by the events of the last `period` (HPA's getReplicasChangePerPeriod).
int64_t changedWithin(const std::vector<ScaleEvent>& events, Duration period, TimePoint now) {
  const TimePoint from = cutoff(now, period);
  int64_t sum = 0;
  for (const ScaleEvent& e : events) {
    if (e.at > from) sum += e.change;
  }
  return sum;
}

// Writes the limits of one evaluation into a vector kept from the last one: elements are
// overwritten in place (their strings keep their storage) and the rest dropped at the end.
class LimitWriter {
 public:
  explicit LimitWriter(std::vector<Limit>& limits) : limits_(limits) {}
  LimitWriter(const LimitWriter&) = delete;
  LimitWriter& operator=(const LimitWriter&) = delete;
  ~LimitWriter() { limits_.resize(used_); }

  // The next limit, to be filled (reason and message both set by the caller).
  Limit& next() {
    if (used_ == limits_.size()) limits_.emplace_back();
    return limits_[used_++];
  }

 private:
  std::vector<Limit>& limits_;
  size_t used_ = 0;
};

// Keeps the earliest of several candidate moments.
class Earliest {
 public:
  void offer(TimePoint t) {
    if (!best_ || t < *best_) best_ = t;
  }
  const std::optional<TimePoint>& get() const { return best_; }

 private:
  std::optional<TimePoint> best_;
};

// ---- 1. Stabilization ------------------------------------------------------------------

struct Stabilization {
  int32_t value = 0;
  std::optional<TimePoint> release;  // When a recommendation that holds `value` leaves.
};

// Sets `text` to "highest recommendation in the last 300s is 7; proposed 5".
void stabilizedMessage(std::string& text, const char* which, Seconds window, int32_t value,
                       int32_t proposed) {
  text.clear();
  text.reserve(kMessageReserve);
  text += which;
  text += " recommendation in the last ";
  appendSeconds(text, window);
  text += " is ";
  appendInt(text, value);
  text += "; proposed ";
  appendInt(text, proposed);
}

// Writes a limit into `limits` when stabilization moved the proposal.
// REQUIRES: the history already holds the seed, not yet the proposal (which is within both
// bounds anyway).
Stabilization stabilize(const Behavior& b, int32_t current, int32_t proposed,
                        const BehaviorState& state, TimePoint now, LimitWriter& limits) {
  const Duration up_window = span(b.scale_up.stabilization_window);
  const Duration down_window = span(b.scale_down.stabilization_window);
  const TimePoint up_cutoff = cutoff(now, up_window);
  const TimePoint down_cutoff = cutoff(now, down_window);

  // The lowest recommendation of the scale-up window and the highest of the scale-down
  // window, the proposal included.
  int32_t lowest = proposed;
  int32_t highest = proposed;
  for (const TimedRecommendation& r : state.recommendations) {
    if (r.at > up_cutoff) lowest = std::min(lowest, r.replicas);
    if (r.at > down_cutoff) highest = std::max(highest, r.replicas);
  }
  Stabilization s;
  s.value = std::clamp(current, lowest, highest);  // lowest <= proposed <= highest.
  if (s.value == proposed) return s;

  // later() keeps order, so the first to leave is the earliest recorded.
  std::optional<TimePoint> release;
  if (proposed > current) {
    const auto oldest =
        earliestAfter(state.recommendations, up_cutoff,
                      [&](const TimedRecommendation& r) { return r.replicas < proposed; });
    if (oldest) release = later(*oldest, up_window);
    Limit& limit = limits.next();
    limit.reason = "ScaleUpStabilized";
    stabilizedMessage(limit.message, "lowest", b.scale_up.stabilization_window, lowest, proposed);
  } else {
    const auto oldest =
        earliestAfter(state.recommendations, down_cutoff,
                      [&](const TimedRecommendation& r) { return r.replicas > proposed; });
    if (oldest) release = later(*oldest, down_window);
    Limit& limit = limits.next();
    limit.reason = "ScaleDownStabilized";
    stabilizedMessage(limit.message, "highest", b.scale_down.stabilization_window, highest,
                      proposed);
  }
  s.release = release;
  return s;
}

// ---- 2. Rate limits --------------------------------------------------------------------

struct RateLimit {
  int32_t value = 0;
  std::optional<TimePoint> release;  // When an event that tightens the limit leaves.
  bool permanent = false;            // Disabled: nothing in the state releases it.
};

// Sets `text` to "at most 4 pods per 15s (Pods policy)".
void describe(std::string& text, const ScalingRule& rule, int64_t period_start, int32_t current) {
  text.clear();
  text.reserve(kMessageReserve);
  text += "at most ";
  appendInt(text, rule.value);
  text += rule.type == ScalingPolicyType::kPods ? " pods per " : "% per ";
  appendSeconds(text, rule.period);
  text += rule.type == ScalingPolicyType::kPods ? " (Pods policy)" : " (Percent policy)";
  if (period_start != current) {
    text += " from ";
    appendInt(text, period_start);
    text += " at the period start";
  }
}

// The count `rules` allow, moving from `current` towards `target`; writes a limit into
// `limits`, naming the policy that set it, when it binds. `up`: scaling up (target > current)
// or down (target < current).
RateLimit limitRate(const ScalingRules& rules, bool up, int32_t current, int32_t target,
                    const BehaviorState& state, TimePoint now, LimitWriter& limits) {
  RateLimit out;
  out.value = target;
  if (rules.select_policy == SelectPolicy::kDisabled) {
    out.value = current;
    Limit& limit = limits.next();
    limit.reason = up ? "ScaleUpDisabled" : "ScaleDownDisabled";
    limit.message =
        std::string("scaling ") + (up ? "up" : "down") + " is disabled (selectPolicy: Disabled)";
    out.permanent = true;
    return out;
  }

  // Max picks the policy allowing the largest change: the highest limit going up, the
  // lowest going down; Min the opposite. Starting from the identity of the selection, as
  // HPA does (MinInt32 / MaxInt32), so that no policies means no change (Max) or any (Min).
  const bool pick_highest = up == (rules.select_policy == SelectPolicy::kMax);
  int64_t limit = pick_highest ? kInt32Min : kInt32Max;
  const ScalingRule* binding = nullptr;
  int64_t binding_start = current;
  for (const ScalingRule& rule : rules.policies) {
    const Duration period = span(rule.period);
    const int64_t added = changedWithin(state.scale_up_events, period, now);
    const int64_t removed = changedWithin(state.scale_down_events, period, now);
    const int64_t start = int64_t{current} - added + removed;
    int64_t allowed = 0;
    if (rule.type == ScalingPolicyType::kPods) {
      allowed = up ? start + rule.value : start - rule.value;
    } else {
      // Double arithmetic exactly as HPA's, rounding included: up rounds up so that a small
      // percentage still allows one pod; down truncates (towards zero).
      const double fraction = static_cast<double>(rule.value) / 100;
      allowed = up ? clampToInt64Range(std::ceil(static_cast<double>(start) * (1 + fraction)))
                   : clampToInt64Range(std::trunc(static_cast<double>(start) * (1 - fraction)));
    }
    if (binding == nullptr || (pick_highest ? allowed > limit : allowed < limit)) {
      limit = allowed;
      binding = &rule;
      binding_start = start;
    }
  }
  // A limit behind the current count (the period already moved more than the policies
  // allow) holds at the current count until those events leave their periods.
  const int32_t bound = up ? saturate(std::max<int64_t>(limit, current))
                           : saturate(std::min<int64_t>(limit, current));
  if (up ? target <= bound : target >= bound) return out;

  out.value = bound;
  Limit& bound_by = limits.next();
  bound_by.reason = up ? "ScaleUpLimit" : "ScaleDownLimit";
  if (binding != nullptr) {
    describe(bound_by.message, *binding, binding_start, current);
  } else {
    bound_by.message = "no scaling policy allows a change";
  }
  // The limit loosens when a same-direction event leaves a period; the change about to be
  // applied is such an event, recorded at `now`.
  Earliest release;
  const std::vector<ScaleEvent>& events = up ? state.scale_up_events : state.scale_down_events;
  for (const ScalingRule& rule : rules.policies) {
    const Duration period = span(rule.period);
    const TimePoint from = cutoff(now, period);
    for (const ScaleEvent& e : events) {
      if (e.at > from && e.change > 0) release.offer(later(e.at, period));
    }
    if (bound != current && period > Duration(0)) release.offer(later(now, period));
  }
  out.release = release.get();
  return out;
}

// ---- 3. Cooldown -----------------------------------------------------------------------

// Time left before another scale this way, if any.
std::optional<Duration> cooldownLeft(Seconds cooldown, const std::optional<TimePoint>& last,
                                     TimePoint now) {
  const Duration length = span(cooldown);
  if (length <= Duration(0) || !last) return std::nullopt;
  // A last scale in the future (a clock that went back) counts as now.
  const Duration elapsed = *last >= now ? Duration(0) : now - *last;
  if (elapsed >= length) return std::nullopt;
  return length - elapsed;
}

// Sets `text` to "cooldown: 42s left".
void cooldownMessage(std::string& text, Duration left) {
  const int64_t secs = (left.count() + 999) / 1000;  // left > 0: round up.
  text.clear();
  text.reserve(32);
  text += "cooldown: ";
  appendInt(text, secs);
  text += "s left";
}

}  // namespace

BehaviorResult applyBehavior(const Behavior& behavior, int32_t current, int32_t proposed,
                             BehaviorState& state, TimePoint now) {
  BehaviorResult result;
  applyBehavior(behavior, current, proposed, state, now, result);
  return result;
}

void applyBehavior(const Behavior& behavior, int32_t current, int32_t proposed,
                   BehaviorState& state, TimePoint now, BehaviorResult& result) {
  if (!state.initialized) {
    state.recommendations.push_back({now, current});
    state.initialized = true;
  }

  result.recheck_after.reset();
  LimitWriter limits(result.limits);
  Stabilization stab = stabilize(behavior, current, proposed, state, now, limits);
  result.stabilized = stab.value;
  result.replicas = stab.value;
  Earliest release;
  if (stab.release) release.offer(*stab.release);

  // Record the unstabilized proposal, then forget what no window or period can see.
  state.recommendations.push_back({now, proposed});
  prune(state.recommendations, cutoff(now, longestWindow(behavior)));
  pruneEvents(behavior, state, now);

  if (result.stabilized != current) {
    const bool up = result.stabilized > current;
    RateLimit rate = limitRate(up ? behavior.scale_up : behavior.scale_down, up, current,
                               result.stabilized, state, now, limits);
    result.replicas = rate.value;
    if (rate.release) release.offer(*rate.release);
    // Whatever stabilization releases later, this direction stays held.
    if (rate.permanent) release = Earliest();
  }

  if (result.replicas != current) {
    const bool up = result.replicas > current;
    const std::optional<Duration> left =
        up ? cooldownLeft(behavior.scale_up.cooldown, state.last_scale_up, now)
           : cooldownLeft(behavior.scale_down.cooldown, state.last_scale_down, now);
    if (left) {
      result.replicas = current;
      Limit& limit = limits.next();
      limit.reason = up ? "ScaleUpCooldown" : "ScaleDownCooldown";
      cooldownMessage(limit.message, *left);
      // Nothing proceeds before the cooldown ends; then it can.
      result.recheck_after = *left;
      return;
    }
  }

  if (result.replicas != proposed && release.get()) {
    // At least 1 ms, even at the end of time where later() saturates.
    result.recheck_after = std::max(Duration(1), *release.get() - now);
  }
}

void recordScale(const Behavior& behavior, int32_t from, int32_t to, BehaviorState& state,
                 TimePoint now) {
  if (from == to) return;
  const int64_t change = int64_t{to} - int64_t{from};
  if (change > 0) {
    state.scale_up_events.push_back({now, saturate(change)});
    state.last_scale_up = now;
  } else {
    state.scale_down_events.push_back({now, saturate(-change)});
    state.last_scale_down = now;
  }
  pruneEvents(behavior, state, now);
}

}  // namespace governor::policies
