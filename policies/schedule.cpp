#include "policies/schedule.h"

#include <chrono>
#include <exception>
#include <optional>
#include <string>

#include <date/tz.h>

namespace governor::policies {
namespace {

using std::chrono::seconds;

// Offsets never change by anything near this much at once, so an instant this far inside a
// zone interval is neither ambiguous nor skipped.
constexpr seconds kMargin = date::days(3);

// The zone's mapping between absolute and local time, with the interval around one anchor
// instant cached: every instant an evaluation touches is usually in the same DST interval,
// and then no further time zone lookups are needed.
class ZoneView {
 public:
  ZoneView(const date::time_zone* zone, date::sys_seconds anchor) : zone_(zone) {
    if (zone_ != nullptr) {
      date::sys_info info = zone_->get_info(anchor);
      begin_ = info.begin;
      end_ = info.end;
      offset_ = info.offset;
    }
  }

  // The latest local time l such that every cron match at or before l fires at or before t.
  // Usually the wall-clock reading at t; during the second pass of a repeated hour (fall
  // back) it is the end of the repeated hour, whose matches already fired in the first pass.
  date::local_seconds lookBackBound(date::sys_seconds t) const {
    if (zone_ == nullptr) return date::local_seconds(t.time_since_epoch());
    date::sys_seconds begin = begin_;
    seconds offset = offset_;
    if (t < begin_ || t >= end_) {
      date::sys_info info = zone_->get_info(t);
      begin = info.begin;
      offset = info.offset;
    }
    date::local_seconds reading(t.time_since_epoch() + offset);
    if (t - begin >= kMargin) return reading;
    seconds before = zone_->get_info(begin - seconds(1)).offset;
    if (before > offset && t < begin + (before - offset)) {
      // Local times in [begin + offset, begin + before) were read first with `before`.
      return date::local_seconds((begin + before - seconds(1)).time_since_epoch());
    }
    return reading;
  }

  // When a match at local time l fires: its first occurrence; the end of the gap if skipped.
  date::sys_seconds fireInstant(date::local_seconds l) const {
    if (zone_ == nullptr) return date::sys_seconds(l.time_since_epoch());
    date::sys_seconds guess(l.time_since_epoch() - offset_);
    if (guess >= begin_ + kMargin && guess < end_ - kMargin) return guess;
    date::local_info info = zone_->get_info(l);
    if (info.result == date::local_info::nonexistent) return info.first.end;
    return date::sys_seconds(l.time_since_epoch() - info.first.offset);
  }

 private:
  const date::time_zone* zone_;
  date::sys_seconds begin_{};
  date::sys_seconds end_{};
  seconds offset_{0};
};

TimePoint toTimePoint(date::sys_seconds t) { return std::chrono::time_point_cast<Duration>(t); }

std::optional<date::sys_seconds> latestFire(const CronExpr& cron, const ZoneView& zone,
                                            date::sys_seconds t, date::days horizon) {
  std::optional<date::local_seconds> l = cron.previous(zone.lookBackBound(t), horizon);
  if (!l) return std::nullopt;
  return zone.fireInstant(*l);
}

std::optional<date::sys_seconds> firstFireAfter(const CronExpr& cron, const ZoneView& zone,
                                                date::sys_seconds t, date::days horizon) {
  std::optional<date::local_seconds> l = cron.next(zone.lookBackBound(t), horizon);
  if (!l) return std::nullopt;
  return zone.fireInstant(*l);
}

WindowState evaluateWithDuration(const ScheduleSpec& spec, const ZoneView& zone, TimePoint now,
                                 date::sys_seconds t) {
  WindowState state;
  const Duration duration = *spec.duration;
  std::optional<date::sys_seconds> start = latestFire(spec.start, zone, t, kScheduleHorizon);
  if (!start || now >= toTimePoint(*start) + duration) {
    if (std::optional<date::sys_seconds> next =
            firstFireAfter(spec.start, zone, t, kScheduleHorizon)) {
      state.next_change = toTimePoint(*next);
    }
    return state;
  }
  state.active = true;
  state.started = toTimePoint(*start);
  // Follow overlapping windows: the window closes at the end of the last start that comes
  // before the current window closes. Jumping to the latest such start skips the others.
  date::sys_seconds current = *start;
  TimePoint end = toTimePoint(current) + duration;
  for (int i = 0; i < kMaxWindowExtensions; ++i) {
    date::sys_seconds end_s = date::floor<seconds>(end);
    date::days reach = date::ceil<date::days>(end_s - current) + date::days(1);
    std::optional<date::sys_seconds> later = latestFire(spec.start, zone, end_s, reach);
    if (!later || *later <= current) {
      state.ends = end;
      state.next_change = end;
      return state;
    }
    current = *later;
    end = toTimePoint(current) + duration;
  }
  state.next_change = end;
  return state;
}

WindowState evaluateWithEnd(const ScheduleSpec& spec, const ZoneView& zone, date::sys_seconds t) {
  WindowState state;
  const CronExpr& end_cron = *spec.end;
  std::optional<date::sys_seconds> start = latestFire(spec.start, zone, t, kScheduleHorizon);
  std::optional<date::sys_seconds> end = latestFire(end_cron, zone, t, kScheduleHorizon);
  if (!start || (end && *end > *start)) {
    if (std::optional<date::sys_seconds> next =
            firstFireAfter(spec.start, zone, t, kScheduleHorizon)) {
      state.next_change = toTimePoint(*next);
    }
    return state;
  }
  state.active = true;
  std::optional<date::sys_seconds> began;
  if (!end) {
    began = firstFireAfter(spec.start, zone, t - kScheduleHorizon, kScheduleHorizon);
  } else if (*end < *start) {
    began = firstFireAfter(spec.start, zone, *end, kScheduleHorizon);
  }
  state.started = toTimePoint(began.value_or(*start));
  // The window closes at the first end fire after now that no start fire coincides with.
  date::sys_seconds from = t;
  for (int i = 0; i < kMaxWindowExtensions; ++i) {
    std::optional<date::sys_seconds> close = firstFireAfter(end_cron, zone, from, kScheduleHorizon);
    if (!close) return state;
    std::optional<date::sys_seconds> reopen = latestFire(spec.start, zone, *close, date::days(1));
    if (!reopen || *reopen != *close) {
      state.ends = toTimePoint(*close);
      state.next_change = state.ends;
      return state;
    }
    from = *close;
  }
  state.next_change = toTimePoint(from);
  return state;
}

}  // namespace

Result<const date::time_zone*> findTimeZone(const std::string& name) {
  if (name.empty()) return invalidArgument("time zone: empty name (expected an IANA name)");
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return invalidArgument("unknown time zone \"" + name +
                           "\" (expected an IANA name such as \"Europe/Berlin\" or \"UTC\")");
  }
}

std::optional<TimePoint> previousFire(const CronExpr& cron, const date::time_zone* zone,
                                      TimePoint t, date::days horizon) {
  date::sys_seconds at = date::floor<seconds>(t);
  std::optional<date::sys_seconds> fire = latestFire(cron, ZoneView(zone, at), at, horizon);
  if (!fire) return std::nullopt;
  return toTimePoint(*fire);
}

std::optional<TimePoint> nextFire(const CronExpr& cron, const date::time_zone* zone, TimePoint t,
                                  date::days horizon) {
  date::sys_seconds at = date::floor<seconds>(t);
  std::optional<date::sys_seconds> fire = firstFireAfter(cron, ZoneView(zone, at), at, horizon);
  if (!fire) return std::nullopt;
  return toTimePoint(*fire);
}

WindowState evaluateSchedule(const ScheduleSpec& spec, TimePoint now) {
  date::sys_seconds t = date::floor<seconds>(now);
  ZoneView zone(spec.zone, t);
  if (spec.end) return evaluateWithEnd(spec, zone, t);
  if (!spec.duration || *spec.duration <= Duration::zero()) return {};
  return evaluateWithDuration(spec, zone, now, t);
}

}  // namespace governor::policies
