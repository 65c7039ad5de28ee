// Cost of evaluating one scheduled window, and of the cron searches under it. The engine
// evaluates every schedule of a policy on each sync, so evaluateSchedule should stay around a
// microsecond for ordinary expressions.

#include <chrono>
#include <string>

#include <benchmark/benchmark.h>
#include <date/date.h>
#include <date/tz.h>

#include "base/time.h"
#include "policies/cron.h"
#include "policies/schedule.h"
#include "policies/spec.h"

namespace governor::policies {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

ScheduleSpec makeSpec(const char* zone, const char* start, Duration duration,
                      const char* end = nullptr) {
  ScheduleSpec spec;
  spec.time_zone = zone;
  spec.zone = *findTimeZone(zone);
  spec.start = *CronExpr::parse(start);
  if (end != nullptr) {
    spec.end = *CronExpr::parse(end);
  } else {
    spec.duration = duration;
  }
  return spec;
}

// 2024-06-03 is a Monday; step through a week in 7-minute steps so that both active and
// inactive states, and weekends, are measured.
TimePoint instant(int64_t i) {
  return TimePoint(date::sys_days{date::year{2024} / 6 / 3}) + minutes(7 * (i % 1440));
}

void BM_EvaluateBusinessHours(benchmark::State& state) {
  ScheduleSpec spec = makeSpec("Europe/Berlin", "0 8 * * 1-5", hours(10));
  int64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(evaluateSchedule(spec, instant(i++)));
}
BENCHMARK(BM_EvaluateBusinessHours);

void BM_EvaluateBusinessHoursUtc(benchmark::State& state) {
  ScheduleSpec spec = makeSpec("UTC", "0 8 * * 1-5", hours(10));
  int64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(evaluateSchedule(spec, instant(i++)));
}
BENCHMARK(BM_EvaluateBusinessHoursUtc);

void BM_EvaluateStartEnd(benchmark::State& state) {
  ScheduleSpec spec = makeSpec("America/New_York", "0 22 * * *", Duration(0), "0 6 * * *");
  int64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(evaluateSchedule(spec, instant(i++)));
}
BENCHMARK(BM_EvaluateStartEnd);

void BM_EvaluateImpossible(benchmark::State& state) {
  ScheduleSpec spec = makeSpec("Europe/Berlin", "0 0 31 2 *", hours(1));
  int64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(evaluateSchedule(spec, instant(i++)));
}
BENCHMARK(BM_EvaluateImpossible);

void BM_EvaluateLeapDay(benchmark::State& state) {
  ScheduleSpec spec = makeSpec("UTC", "0 0 29 2 *", hours(24));
  int64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(evaluateSchedule(spec, instant(i++)));
}
BENCHMARK(BM_EvaluateLeapDay);

void BM_CronNext(benchmark::State& state) {
  CronExpr cron = *CronExpr::parse("*/15 9-17 * * mon-fri");
  date::local_seconds t{date::local_days{date::year{2024} / 6 / 3}};
  int64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(cron.next(t + minutes(7 * (i++ % 1440))));
}
BENCHMARK(BM_CronNext);

void BM_CronParse(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(CronExpr::parse("*/15 9-17 * * mon-fri"));
}
BENCHMARK(BM_CronParse);

}  // namespace
}  // namespace governor::policies
