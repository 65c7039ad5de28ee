#include "rollouts/analysis_run.h"

#include <chrono>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace governor::rollouts {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// A fixed epoch: 2024-01-01T00:00:00Z.
const TimePoint kT0 = fromUnixSeconds(1'704'067'200);

Condition compiled(const std::string& text) {
  auto c = compileCondition(text);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return *c;
}

// A metric as the parser would give it, built field by field.
struct MetricBuilder {
  AnalysisMetric m;
  explicit MetricBuilder(std::string name) { m.name = std::move(name); }
  MetricBuilder& success(const std::string& text) {
    m.success_condition = compiled(text);
    return *this;
  }
  MetricBuilder& failure(const std::string& text) {
    m.failure_condition = compiled(text);
    return *this;
  }
  MetricBuilder& range(std::optional<double> min, std::optional<double> max) {
    m.threshold_range = ThresholdRange{min, max};
    return *this;
  }
  MetricBuilder& count(int32_t n) {
    m.count = n;
    return *this;
  }
  MetricBuilder& limits(int32_t failure, int32_t inconclusive, int32_t consecutive_error) {
    m.failure_limit = failure;
    m.inconclusive_limit = inconclusive;
    m.consecutive_error_limit = consecutive_error;
    return *this;
  }
  MetricBuilder& timing(int64_t initial_delay_s, int64_t interval_s) {
    m.initial_delay = std::chrono::seconds(initial_delay_s);
    m.interval = std::chrono::seconds(interval_s);
    return *this;
  }
  operator AnalysisMetric() const { return m; }  // NOLINT(google-explicit-constructor)
};

AnalysisTemplateSpec templateOf(std::vector<AnalysisMetric> metrics) {
  AnalysisTemplateSpec spec;
  spec.name = "t";
  spec.namespace_ = "shop";
  spec.metrics = std::move(metrics);
  return spec;
}

// A query's outcome: a value, or (nullopt) the error "prometheus: connection refused".
using Outcome = std::optional<double>;

Result<double> resultOf(const Outcome& o) {
  if (o) return *o;
  return Status(StatusCode::kUnavailable, "prometheus: connection refused");
}

// --- One measurement. ---

struct ClassifyCase {
  std::string name;
  AnalysisMetric metric;
  Outcome value;
  MeasurementPhase want;
  std::string message;
};

// gtest prints a failing case by its name.
void PrintTo(const ClassifyCase& c, std::ostream* os) { *os << c.name; }

class ClassifyTest : public testing::TestWithParam<ClassifyCase> {};

TEST_P(ClassifyTest, Classifies) {
  const ClassifyCase& c = GetParam();
  const MeasurementVerdict v = classifyMeasurement(c.metric, resultOf(c.value));
  EXPECT_EQ(measurementPhaseName(v.phase), measurementPhaseName(c.want));
  EXPECT_EQ(v.message, c.message);
}

const MetricBuilder kSuccessOnly = MetricBuilder("rate").success("result >= 0.95");
const MetricBuilder kFailureOnly = MetricBuilder("rate").failure("result < 0.5");
const MetricBuilder kBoth = MetricBuilder("rate").success("result >= 0.95").failure("result < 0.5");

INSTANTIATE_TEST_SUITE_P(
    Table, ClassifyTest,
    testing::Values(
        ClassifyCase{"SuccessConditionTrue", kSuccessOnly, 0.97, MeasurementPhase::kSuccessful,
                     "met successCondition `result >= 0.95`"},
        ClassifyCase{"SuccessConditionFalse", kSuccessOnly, 0.91, MeasurementPhase::kFailed,
                     "failed successCondition `result >= 0.95`"},
        ClassifyCase{"FailureConditionTrue", kFailureOnly, 0.3, MeasurementPhase::kFailed,
                     "met failureCondition `result < 0.5`"},
        ClassifyCase{"FailureConditionFalse", kFailureOnly, 0.7, MeasurementPhase::kSuccessful,
                     "did not meet failureCondition `result < 0.5`"},
        ClassifyCase{"BothSuccess", kBoth, 0.99, MeasurementPhase::kSuccessful,
                     "met successCondition `result >= 0.95`"},
        ClassifyCase{"BothFailure", kBoth, 0.2, MeasurementPhase::kFailed,
                     "met failureCondition `result < 0.5`"},
        ClassifyCase{"BothNeither", kBoth, 0.7, MeasurementPhase::kInconclusive,
                     "inconclusive: neither successCondition `result >= 0.95` nor "
                     "failureCondition `result < 0.5` holds"},
        // Overlapping conditions: failure wins.
        ClassifyCase{"BothTrueFailureWins",
                     MetricBuilder("rate").success("result > 0").failure("result > 10"), 20,
                     MeasurementPhase::kFailed, "met failureCondition `result > 10`"},
        ClassifyCase{"RangeInside", MetricBuilder("p99").range(0, 0.5), 0.5,
                     MeasurementPhase::kSuccessful, "in thresholdRange [0, 0.5]"},
        ClassifyCase{"RangeAtMin", MetricBuilder("p99").range(0, 0.5), 0,
                     MeasurementPhase::kSuccessful, "in thresholdRange [0, 0.5]"},
        ClassifyCase{"RangeAbove", MetricBuilder("p99").range(0, 0.5), 0.51,
                     MeasurementPhase::kFailed, "outside thresholdRange [0, 0.5]"},
        ClassifyCase{"RangeMinOnly", MetricBuilder("rate").range(0.95, std::nullopt), 0.94,
                     MeasurementPhase::kFailed, "outside thresholdRange [0.95, +Inf]"},
        ClassifyCase{"RangeMaxOnlyInfinity", MetricBuilder("p99").range(std::nullopt, 0.5), -kInf,
                     MeasurementPhase::kSuccessful, "in thresholdRange [-Inf, 0.5]"},
        ClassifyCase{"QueryError", kSuccessOnly, std::nullopt, MeasurementPhase::kError,
                     "prometheus: connection refused"},
        // NaN: "no data" is an Error unless a condition asks for it.
        ClassifyCase{"NaNSuccessOnly", kSuccessOnly, kNaN, MeasurementPhase::kError,
                     "the query returned NaN (no data, e.g. a ratio over zero requests); a "
                     "condition that calls isNaN(result) decides NaN itself"},
        ClassifyCase{"NaNFailureOnly", kFailureOnly, kNaN, MeasurementPhase::kError,
                     "the query returned NaN (no data, e.g. a ratio over zero requests); a "
                     "condition that calls isNaN(result) decides NaN itself"},
        ClassifyCase{"NaNRange", MetricBuilder("p99").range(0, 1), kNaN, MeasurementPhase::kError,
                     "the query returned NaN (no data, e.g. a ratio over zero requests); a "
                     "condition that calls isNaN(result) decides NaN itself"},
        ClassifyCase{"NaNAcceptedByIsNaN",
                     MetricBuilder("rate").success("isNaN(result) or result >= 0.95"), kNaN,
                     MeasurementPhase::kSuccessful,
                     "met successCondition `isNaN(result) or result >= 0.95`"},
        ClassifyCase{"NaNFailedByIsNaN", MetricBuilder("rate").failure("isNaN(result)"), kNaN,
                     MeasurementPhase::kFailed, "met failureCondition `isNaN(result)`"},
        ClassifyCase{"InfIsANumber", kSuccessOnly, kInf, MeasurementPhase::kSuccessful,
                     "met successCondition `result >= 0.95`"}),
    [](const testing::TestParamInfo<ClassifyCase>& info) { return info.param.name; });

// --- A metric's measurements in sequence. ---

struct SequenceCase {
  std::string name;
  AnalysisMetric metric;
  std::vector<Outcome> values;
  // After the last value:
  AnalysisPhase metric_phase;
  AnalysisPhase run_phase;
  std::string message;  // The metric's (and the run's, one metric) message; "" while Running.
  // successful, failed, inconclusive, errors, consecutive errors.
  std::vector<int64_t> counters;
};

// gtest prints a failing case by its name.
void PrintTo(const SequenceCase& c, std::ostream* os) { *os << c.name; }

class SequenceTest : public testing::TestWithParam<SequenceCase> {};

TEST_P(SequenceTest, Verdict) {
  const SequenceCase& c = GetParam();
  const AnalysisTemplateSpec spec = templateOf({c.metric});
  AnalysisRun run = startAnalysisRun(spec, kT0);
  for (size_t i = 0; i < c.values.size(); ++i) {
    const TimePoint at = kT0 + std::chrono::minutes(i + 1);
    ASSERT_TRUE(recordMeasurement(spec, run, c.metric.name, at, resultOf(c.values[i])).ok())
        << "measurement " << i + 1;
    // Only the last measurement may end the metric.
    if (i + 1 < c.values.size()) {
      ASSERT_EQ(run.metrics[0].phase, AnalysisPhase::kRunning) << "after measurement " << i + 1;
    }
  }
  const MetricRun& m = run.metrics[0];
  EXPECT_EQ(analysisPhaseName(m.phase), analysisPhaseName(c.metric_phase));
  EXPECT_EQ(analysisPhaseName(run.phase), analysisPhaseName(c.run_phase));
  EXPECT_EQ(m.message, c.message);
  EXPECT_EQ(run.message, c.message);
  const std::vector<int64_t> counters = {m.successful, m.failed, m.inconclusive, m.errors,
                                         m.consecutive_errors};
  EXPECT_EQ(counters, c.counters);
  EXPECT_EQ(m.measured, static_cast<int64_t>(c.values.size()));
}

INSTANTIATE_TEST_SUITE_P(
    Table, SequenceTest,
    testing::Values(
        SequenceCase{"CountReached",
                     MetricBuilder(kSuccessOnly).count(3),
                     {0.99, 0.98, 0.97},
                     AnalysisPhase::kSuccessful,
                     AnalysisPhase::kSuccessful,
                     "metric rate: 3 of 3 measurements taken: 3 successful, 0 failed, 0 "
                     "inconclusive, 0 errors",
                     {3, 0, 0, 0, 0}},
        SequenceCase{"CountNotYetReached",
                     MetricBuilder(kSuccessOnly).count(3),
                     {0.99, 0.98},
                     AnalysisPhase::kRunning,
                     AnalysisPhase::kRunning,
                     "",
                     {2, 0, 0, 0, 0}},
        SequenceCase{"FailsAtOnceWithLimitZero",
                     MetricBuilder(kSuccessOnly).count(5),
                     {0.99, 0.91},
                     AnalysisPhase::kFailed,
                     AnalysisPhase::kFailed,
                     "metric rate: measurement 2 = 0.91 failed successCondition `result >= 0.95`",
                     {1, 1, 0, 0, 0}},
        SequenceCase{"FailureWithinLimit",
                     MetricBuilder(kSuccessOnly).count(3).limits(1, 0, 4),
                     {0.91, 0.99, 0.99},
                     AnalysisPhase::kSuccessful,
                     AnalysisPhase::kSuccessful,
                     "metric rate: 3 of 3 measurements taken: 2 successful, 1 failed, 0 "
                     "inconclusive, 0 errors",
                     {2, 1, 0, 0, 0}},
        SequenceCase{"FailureLimitExceeded",
                     MetricBuilder(kSuccessOnly).count(5).limits(1, 0, 4),
                     {0.91, 0.99, 0.9},
                     AnalysisPhase::kFailed,
                     AnalysisPhase::kFailed,
                     "metric rate: measurement 3 = 0.9 failed successCondition `result >= 0.95` "
                     "(2 failed > failureLimit 1)",
                     {1, 2, 0, 0, 0}},
        // The last measurement fails past the limit although it completes the count: the
        // limit is checked first.
        SequenceCase{"FailureOnTheLastMeasurement",
                     MetricBuilder(kSuccessOnly).count(2),
                     {0.99, 0.5},
                     AnalysisPhase::kFailed,
                     AnalysisPhase::kFailed,
                     "metric rate: measurement 2 = 0.5 failed successCondition `result >= 0.95`",
                     {1, 1, 0, 0, 0}},
        SequenceCase{"Inconclusive",
                     MetricBuilder(kBoth).count(3),
                     {0.99, 0.7},
                     AnalysisPhase::kInconclusive,
                     AnalysisPhase::kInconclusive,
                     "metric rate: measurement 2 = 0.7 inconclusive: neither successCondition "
                     "`result >= 0.95` nor failureCondition `result < 0.5` holds",
                     {1, 0, 1, 0, 0}},
        SequenceCase{"InconclusiveLimitExceeded",
                     MetricBuilder(kBoth).count(5).limits(0, 1, 4),
                     {0.7, 0.99, 0.8},
                     AnalysisPhase::kInconclusive,
                     AnalysisPhase::kInconclusive,
                     "metric rate: measurement 3 = 0.8 inconclusive: neither successCondition "
                     "`result >= 0.95` nor failureCondition `result < 0.5` holds (2 inconclusive "
                     "> inconclusiveLimit 1)",
                     {1, 0, 2, 0, 0}},
        // Errors in a row past the limit: Error, and the run fails.
        SequenceCase{"ConsecutiveErrors",
                     MetricBuilder(kSuccessOnly).count(3).limits(0, 0, 2),
                     {std::nullopt, std::nullopt, std::nullopt},
                     AnalysisPhase::kError,
                     AnalysisPhase::kFailed,
                     "metric rate: 3 errors in a row > consecutiveErrorLimit 2; last: measurement "
                     "3: prometheus: connection refused",
                     {0, 0, 0, 3, 3}},
        SequenceCase{"ConsecutiveErrorsAtTheLimit",
                     MetricBuilder(kSuccessOnly).count(3).limits(0, 0, 2),
                     {std::nullopt, std::nullopt},
                     AnalysisPhase::kRunning,
                     AnalysisPhase::kRunning,
                     "",
                     {0, 0, 0, 2, 2}},
        // A decisive measurement resets the streak; errors do not count toward `count`.
        SequenceCase{"ErrorsResetBySuccess",
                     MetricBuilder(kSuccessOnly).count(3).limits(0, 0, 2),
                     {std::nullopt, std::nullopt, 0.99, std::nullopt, std::nullopt, 0.99},
                     AnalysisPhase::kRunning,
                     AnalysisPhase::kRunning,
                     "",
                     {2, 0, 0, 4, 0}},
        SequenceCase{"ErrorsThenCount",
                     MetricBuilder(kSuccessOnly).count(2),
                     {std::nullopt, 0.99, std::nullopt, 0.99},
                     AnalysisPhase::kSuccessful,
                     AnalysisPhase::kSuccessful,
                     "metric rate: 2 of 2 measurements taken: 2 successful, 0 failed, 0 "
                     "inconclusive, 2 errors",
                     {2, 0, 0, 2, 0}},
        SequenceCase{"NaNIsAnError",
                     MetricBuilder(kSuccessOnly).count(1).limits(0, 0, 1),
                     {kNaN, kNaN},
                     AnalysisPhase::kError,
                     AnalysisPhase::kFailed,
                     "metric rate: 2 errors in a row > consecutiveErrorLimit 1; last: measurement "
                     "2 = NaN the query returned NaN (no data, e.g. a ratio over zero requests); "
                     "a condition that calls isNaN(result) decides NaN itself",
                     {0, 0, 0, 2, 2}},
        SequenceCase{"ThresholdRange",
                     MetricBuilder("p99").range(std::nullopt, 0.5).count(2),
                     {0.3, 0.7},
                     AnalysisPhase::kFailed,
                     AnalysisPhase::kFailed,
                     "metric p99: measurement 2 = 0.7 outside thresholdRange [-Inf, 0.5]",
                     {1, 1, 0, 0, 0}},
        // count 0: never Successful on its own; runs until it fails or is stopped.
        SequenceCase{"Unbounded",
                     MetricBuilder(kSuccessOnly).count(0),
                     std::vector<Outcome>(50, 0.99),
                     AnalysisPhase::kRunning,
                     AnalysisPhase::kRunning,
                     "",
                     {50, 0, 0, 0, 0}},
        // docs/analysis.md, "Worked example".
        SequenceCase{
            "DocsWorkedExample",
            MetricBuilder("success-rate").success("result >= 0.95").count(5).limits(1, 0, 4),
            {0.97, std::nullopt, kNaN, 0.93, 0.96, 0.91},
            AnalysisPhase::kFailed,
            AnalysisPhase::kFailed,
            "metric success-rate: measurement 6 = 0.91 failed successCondition `result >= "
            "0.95` (2 failed > failureLimit 1)",
            {2, 2, 0, 2, 0}},
        SequenceCase{
            "DocsWorkedExampleOtherBranch",
            MetricBuilder("success-rate").success("result >= 0.95").count(5).limits(1, 0, 4),
            {0.97, std::nullopt, kNaN, 0.93, 0.96, 0.98},
            AnalysisPhase::kRunning,
            AnalysisPhase::kRunning,
            "",
            {3, 1, 0, 2, 0}},
        SequenceCase{"UnboundedFails",
                     MetricBuilder(kSuccessOnly).count(0),
                     {0.99, 0.99, 0.99, 0.2},
                     AnalysisPhase::kFailed,
                     AnalysisPhase::kFailed,
                     "metric rate: measurement 4 = 0.2 failed successCondition `result >= 0.95`",
                     {3, 1, 0, 0, 0}}),
    [](const testing::TestParamInfo<SequenceCase>& info) { return info.param.name; });

// --- The run over several metrics. ---

struct RunCase {
  std::string name;
  Outcome rate;     // One measurement of "rate" (success >= 0.95 / failure < 0.5, count 1),
  Outcome latency;  // then one of "latency" (thresholdRange max 0.5, count 2); nullopt in
                    // `skip_latency` means not measured.
  bool skip_latency;
  AnalysisPhase want;
  std::string message;
};

// gtest prints a failing case by its name.
void PrintTo(const RunCase& c, std::ostream* os) { *os << c.name; }

class RunTest : public testing::TestWithParam<RunCase> {};

TEST_P(RunTest, Aggregates) {
  const RunCase& c = GetParam();
  const AnalysisTemplateSpec spec =
      templateOf({MetricBuilder(kBoth).count(1).limits(0, 0, 0),
                  MetricBuilder("latency").range(std::nullopt, 0.5).count(2).limits(0, 0, 0)});
  AnalysisRun run = startAnalysisRun(spec, kT0);
  ASSERT_TRUE(recordMeasurement(spec, run, "rate", kT0, resultOf(c.rate)).ok());
  if (!c.skip_latency) {
    // The run may already have ended on the first metric.
    const Status s = recordMeasurement(spec, run, "latency", kT0, resultOf(c.latency));
    EXPECT_EQ(s.ok(), run.metrics[0].phase == AnalysisPhase::kSuccessful ||
                          run.metrics[0].phase == AnalysisPhase::kRunning)
        << s.toString();
  }
  EXPECT_EQ(analysisPhaseName(run.phase), analysisPhaseName(c.want));
  EXPECT_EQ(run.message, c.message);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RunTest,
    testing::Values(
        RunCase{"OneDoneOneRunning", 0.99, 0.1, false, AnalysisPhase::kRunning, ""},
        RunCase{"FailedWhileOtherRuns", 0.99, 0.9, false, AnalysisPhase::kFailed,
                "metric latency: measurement 1 = 0.9 outside thresholdRange [-Inf, 0.5]"},
        RunCase{"FailedFirst", 0.1, 0.1, false, AnalysisPhase::kFailed,
                "metric rate: measurement 1 = 0.1 met failureCondition `result < 0.5`"},
        RunCase{"InconclusiveWhileOtherRuns", 0.7, std::nullopt, true, AnalysisPhase::kInconclusive,
                "metric rate: measurement 1 = 0.7 inconclusive: neither successCondition "
                "`result >= 0.95` nor failureCondition `result < 0.5` holds"},
        RunCase{"ErrorFailsTheRun", std::nullopt, std::nullopt, true, AnalysisPhase::kFailed,
                "metric rate: 1 errors in a row > consecutiveErrorLimit 0; last: measurement 1: "
                "prometheus: connection refused"}),
    [](const testing::TestParamInfo<RunCase>& info) { return info.param.name; });

TEST(AnalysisRun, SuccessfulWhenEveryMetricIs) {
  const AnalysisTemplateSpec spec =
      templateOf({MetricBuilder(kSuccessOnly).count(1), MetricBuilder("p99").range(0, 1)});
  AnalysisRun run = startAnalysisRun(spec, kT0);
  ASSERT_TRUE(recordMeasurement(spec, run, "rate", kT0, 0.99).ok());
  EXPECT_EQ(run.phase, AnalysisPhase::kRunning);
  ASSERT_TRUE(recordMeasurement(spec, run, "p99", kT0, 0.2).ok());
  EXPECT_EQ(run.phase, AnalysisPhase::kSuccessful);
  EXPECT_EQ(run.message, "all 2 metrics successful");
}

TEST(RecordMeasurement, RefusesWhatCannotBeRecorded) {
  const AnalysisTemplateSpec spec =
      templateOf({MetricBuilder(kSuccessOnly).count(1), MetricBuilder("p99").range(0, 1)});
  AnalysisRun run = startAnalysisRun(spec, kT0);
  Status s = recordMeasurement(spec, run, "nope", kT0, 1.0);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "AnalysisTemplate shop/t has no metric \"nope\"");

  ASSERT_TRUE(recordMeasurement(spec, run, "rate", kT0, 0.99).ok());
  const AnalysisRun before = run;
  s = recordMeasurement(spec, run, "rate", kT0, 0.99);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "metric rate is already Successful");
  EXPECT_EQ(run, before);

  ASSERT_TRUE(recordMeasurement(spec, run, "p99", kT0, 7.0).ok());
  ASSERT_EQ(run.phase, AnalysisPhase::kFailed);
  const AnalysisRun failed = run;
  s = recordMeasurement(spec, run, "p99", kT0, 0.5);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "the analysis run is already Failed");
  EXPECT_EQ(run, failed);
}

TEST(RecordMeasurement, KeepsTheLastMeasurementsAndExactCounters) {
  const AnalysisTemplateSpec spec = templateOf({MetricBuilder(kSuccessOnly).count(0)});
  AnalysisRun run = startAnalysisRun(spec, kT0);
  for (int i = 1; i <= 25; ++i) {
    const Result<double> value =
        i % 5 == 0 ? Result<double>(unavailable("timeout")) : Result<double>(0.99);
    ASSERT_TRUE(recordMeasurement(spec, run, "rate", kT0 + std::chrono::minutes(i), value, 3).ok());
  }
  const MetricRun& m = run.metrics[0];
  EXPECT_EQ(m.measured, 25);
  EXPECT_EQ(m.successful, 20);
  EXPECT_EQ(m.errors, 5);
  ASSERT_EQ(m.measurements.size(), 3u);
  EXPECT_EQ(m.measurements[0].number, 23);
  EXPECT_EQ(m.measurements[2].number, 25);
  EXPECT_EQ(m.measurements[2].phase, MeasurementPhase::kError);
  EXPECT_EQ(m.measurements[2].value, std::nullopt);
  EXPECT_EQ(m.measurements[2].message, "timeout");
  EXPECT_EQ(m.measurements[2].measured_at, kT0 + std::chrono::minutes(25));
  EXPECT_EQ(m.measurements[1].value, 0.99);

  // The default keeps 10.
  AnalysisRun other = startAnalysisRun(spec, kT0);
  for (int i = 1; i <= 25; ++i) {
    ASSERT_TRUE(recordMeasurement(spec, other, "rate", kT0 + std::chrono::minutes(i), 0.99).ok());
  }
  EXPECT_EQ(other.metrics[0].measurements.size(), kDefaultMeasurementsKept);
  EXPECT_EQ(other.metrics[0].measurements.front().number, 16);
}

// A metric added to the template under a running run is measured from a fresh state.
TEST(RecordMeasurement, MetricWithoutStateStartsFresh) {
  const AnalysisTemplateSpec before = templateOf({MetricBuilder(kSuccessOnly).count(2)});
  AnalysisRun run = startAnalysisRun(before, kT0);
  const AnalysisTemplateSpec after =
      templateOf({MetricBuilder(kSuccessOnly).count(2), MetricBuilder("p99").range(0, 1)});
  EXPECT_EQ(dueMetrics(after, run, kT0), (std::vector<std::string>{"rate", "p99"}));
  ASSERT_TRUE(recordMeasurement(after, run, "p99", kT0, 0.5).ok());
  ASSERT_EQ(run.metrics.size(), 2u);
  EXPECT_EQ(run.metrics[1].name, "p99");
  EXPECT_EQ(run.metrics[1].phase, AnalysisPhase::kSuccessful);
  EXPECT_EQ(run.phase, AnalysisPhase::kRunning);  // "rate" still runs.
}

// --- Scheduling. ---

TEST(Schedule, InitialDelayThenIntervalFromTheLastMeasurement) {
  const AnalysisTemplateSpec spec =
      templateOf({MetricBuilder(kSuccessOnly).count(3).timing(30, 60)});
  AnalysisRun run = startAnalysisRun(spec, kT0);
  const auto s = [](int64_t seconds) { return kT0 + std::chrono::seconds(seconds); };

  EXPECT_EQ(nextMeasurementAt(spec, run, kT0), s(30));
  EXPECT_TRUE(dueMetrics(spec, run, s(29)).empty());
  EXPECT_EQ(dueMetrics(spec, run, s(30)), std::vector<std::string>{"rate"});

  // Measured late, at 45 s: the next one is an interval after that, not at 90 s.
  ASSERT_TRUE(recordMeasurement(spec, run, "rate", s(45), 0.99).ok());
  EXPECT_EQ(nextMeasurementAt(spec, run, s(45)), s(105));
  EXPECT_TRUE(dueMetrics(spec, run, s(104)).empty());
  // Overdue (the operator was down): measure now, once.
  EXPECT_EQ(nextMeasurementAt(spec, run, s(500)), s(500));
  EXPECT_EQ(dueMetrics(spec, run, s(500)), std::vector<std::string>{"rate"});

  // An error is retried after the interval too.
  ASSERT_TRUE(recordMeasurement(spec, run, "rate", s(500), unavailable("down")).ok());
  EXPECT_EQ(nextMeasurementAt(spec, run, s(500)), s(560));
  ASSERT_TRUE(recordMeasurement(spec, run, "rate", s(560), 0.99).ok());
  ASSERT_TRUE(recordMeasurement(spec, run, "rate", s(620), 0.99).ok());
  // Count reached: nothing more to measure.
  EXPECT_EQ(run.phase, AnalysisPhase::kSuccessful);
  EXPECT_EQ(nextMeasurementAt(spec, run, s(620)), std::nullopt);
  EXPECT_TRUE(dueMetrics(spec, run, s(10'000)).empty());
}

TEST(Schedule, EarliestMetricFirstAndFinishedMetricsSkipped) {
  const AnalysisTemplateSpec spec =
      templateOf({MetricBuilder(kSuccessOnly).count(1).timing(0, 60),
                  MetricBuilder("p99").range(0, 1).count(5).timing(120, 30)});
  AnalysisRun run = startAnalysisRun(spec, kT0);
  const auto s = [](int64_t seconds) { return kT0 + std::chrono::seconds(seconds); };
  EXPECT_EQ(nextMeasurementAt(spec, run, kT0), kT0);
  EXPECT_EQ(dueMetrics(spec, run, kT0), std::vector<std::string>{"rate"});
  ASSERT_TRUE(recordMeasurement(spec, run, "rate", kT0, 0.99).ok());
  // "rate" is done (count 1); "p99" waits for its initial delay.
  EXPECT_EQ(nextMeasurementAt(spec, run, s(1)), s(120));
  EXPECT_EQ(dueMetrics(spec, run, s(120)), std::vector<std::string>{"p99"});
  // A failed run measures nothing more.
  ASSERT_TRUE(recordMeasurement(spec, run, "p99", s(120), 2.0).ok());
  EXPECT_EQ(run.phase, AnalysisPhase::kFailed);
  EXPECT_EQ(nextMeasurementAt(spec, run, s(120)), std::nullopt);
  EXPECT_TRUE(dueMetrics(spec, run, s(10'000)).empty());
}

// --- Stopping background analysis. ---

TEST(StopAnalysisRun, EndsRunningMetricsAsSuccessful) {
  const AnalysisTemplateSpec spec =
      templateOf({MetricBuilder(kSuccessOnly).count(0).limits(2, 0, 4)});
  AnalysisRun run = startAnalysisRun(spec, kT0);
  for (double v : {0.99, 0.5, 0.99}) {
    ASSERT_TRUE(recordMeasurement(spec, run, "rate", kT0, v).ok());
  }
  ASSERT_EQ(run.phase, AnalysisPhase::kRunning);
  stopAnalysisRun(spec, run, "rollout promoted");
  EXPECT_EQ(run.phase, AnalysisPhase::kSuccessful);
  EXPECT_EQ(run.metrics[0].phase, AnalysisPhase::kSuccessful);
  EXPECT_EQ(run.message,
            "metric rate: stopped (rollout promoted) after 3 measurements: 2 successful, 1 "
            "failed, 0 inconclusive, 0 errors");
  EXPECT_EQ(nextMeasurementAt(spec, run, kT0), std::nullopt);
}

TEST(StopAnalysisRun, KeepsAVerdictAlreadyReached) {
  const AnalysisTemplateSpec spec = templateOf({MetricBuilder(kSuccessOnly).count(0)});
  AnalysisRun run = startAnalysisRun(spec, kT0);
  ASSERT_TRUE(recordMeasurement(spec, run, "rate", kT0, 0.1).ok());
  ASSERT_EQ(run.phase, AnalysisPhase::kFailed);
  const AnalysisRun failed = run;
  stopAnalysisRun(spec, run, "rollout promoted");
  EXPECT_EQ(run, failed);
}

// --- Helpers. ---

TEST(SingleValue, OneSampleOnly) {
  EXPECT_EQ(*singleValue({0.5}), 0.5);
  auto none = singleValue({});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(),
            "the query returned no samples (nothing matched; if that means no traffic, make the "
            "query return a value for it, e.g. with `or vector(0)`)");
  auto many = singleValue({1, 2, 3});
  ASSERT_FALSE(many.ok());
  EXPECT_EQ(many.status().message(),
            "the query returned 3 samples; a condition needs one value: aggregate them, e.g. "
            "with sum() or max()");
}

TEST(FormatValue, ShortestExactForm) {
  EXPECT_EQ(formatValue(0.91), "0.91");
  EXPECT_EQ(formatValue(100), "100");
  EXPECT_EQ(formatValue(-2.5), "-2.5");
  EXPECT_EQ(formatValue(1e-5), "1e-05");
  EXPECT_EQ(formatValue(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(formatValue(kNaN), "NaN");
  EXPECT_EQ(formatValue(kInf), "+Inf");
  EXPECT_EQ(formatValue(-kInf), "-Inf");
}

TEST(PhaseNames, RoundTrip) {
  for (auto p : {AnalysisPhase::kRunning, AnalysisPhase::kSuccessful, AnalysisPhase::kFailed,
                 AnalysisPhase::kInconclusive, AnalysisPhase::kError}) {
    EXPECT_EQ(parseAnalysisPhase(analysisPhaseName(p)), p);
  }
  for (auto p : {MeasurementPhase::kSuccessful, MeasurementPhase::kFailed,
                 MeasurementPhase::kInconclusive, MeasurementPhase::kError}) {
    EXPECT_EQ(parseMeasurementPhase(measurementPhaseName(p)), p);
  }
  EXPECT_EQ(parseAnalysisPhase("running"), std::nullopt);
  EXPECT_EQ(parseMeasurementPhase("Running"), std::nullopt);
}

}  // namespace
}  // namespace governor::rollouts
