#include "controller/work_queue.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace governor::controller {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

const TimePoint kT0 = fromUnixSeconds(1'767'225'600);  // 2026-01-01T00:00:00Z.

// A manual clock that worker and delay threads may read while the test moves it.
class TestClock final : public Clock {
 public:
  explicit TestClock(TimePoint start) : ms_(start.time_since_epoch().count()) {}
  TimePoint now() const override { return TimePoint(Duration(ms_.load())); }
  void advance(Duration d) { ms_ += d.count(); }

 private:
  std::atomic<int64_t> ms_;
};

// Polls `pred` for at most 10 s of real time: for things that happen on another thread.
template <typename Pred>
bool eventually(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

ObjectKey key(const std::string& name) { return {"shop", name}; }

// Pops every key ready now (get + done), in queue order.
std::vector<std::string> drainReady(WorkQueue& queue) {
  std::vector<std::string> names;
  while (queue.len() > 0) {
    std::optional<ObjectKey> k = queue.get();
    if (!k) break;
    queue.done(*k);
    names.push_back(k->name);
  }
  return names;
}

// Moves the clock by `d` and returns the keys that became ready, once the delay thread has
// acted on the new time. How we know it has: a sentinel key due exactly at the new time is
// queued, and one pass of the delay loop queues every key then due, all under one lock.
std::vector<std::string> advance(WorkQueue& queue, TestClock& clock, Duration d) {
  static int sentinels = 0;
  const ObjectKey sentinel{"sentinel", std::to_string(sentinels++)};
  queue.addAfter(sentinel, d);
  clock.advance(d);
  queue.wakeDelayed();
  std::vector<std::string> names;
  bool seen = false;
  EXPECT_TRUE(eventually([&] {
    for (const std::string& name : drainReady(queue)) {
      if (name == sentinel.name) {
        seen = true;
      } else {
        names.push_back(name);
      }
    }
    return seen;
  })) << "the delay thread never queued the sentinel";
  return names;
}

RateLimiterOptions noBucket(Duration base, Duration max) {
  RateLimiterOptions options;
  options.base = base;
  options.max = max;
  options.bucket_qps = 0;
  return options;
}

TEST(WorkQueueTest, AddQueuesEachKeyOnceInFifoOrder) {
  TestClock clock(kT0);
  WorkQueue queue(clock);
  queue.add(key("a"));
  queue.add(key("b"));
  queue.add(key("a"));
  EXPECT_EQ(queue.len(), 2u);
  EXPECT_THAT(drainReady(queue), ::testing::ElementsAre("a", "b"));
}

TEST(WorkQueueTest, KeyAddedWhileHeldIsQueuedAgainOnDone) {
  TestClock clock(kT0);
  WorkQueue queue(clock);
  queue.add(key("a"));
  std::optional<ObjectKey> held = queue.get();
  ASSERT_TRUE(held.has_value());
  queue.add(key("a"));
  queue.add(key("a"));
  EXPECT_EQ(queue.len(), 0u) << "a key a worker holds must not be handed to another";
  queue.done(*held);
  EXPECT_EQ(queue.len(), 1u);
  EXPECT_THAT(drainReady(queue), ::testing::ElementsAre("a"));
}

TEST(WorkQueueTest, DoneWithoutNewAddDoesNotRequeue) {
  TestClock clock(kT0);
  WorkQueue queue(clock);
  queue.add(key("a"));
  std::optional<ObjectKey> held = queue.get();
  ASSERT_TRUE(held.has_value());
  queue.done(*held);
  EXPECT_EQ(queue.len(), 0u);
}

// Many workers and a producer hammering three keys: no key is ever processed by two workers
// at once, and every key is processed after its last add (no update is lost).
TEST(WorkQueueTest, ConcurrentWorkersNeverShareAKeyAndLoseNoAdd) {
  TestClock clock(kT0);
  WorkQueue queue(clock);
  const std::vector<std::string> names = {"a", "b", "c"};
  std::mutex mu;
  std::map<std::string, int> in_flight;
  std::map<std::string, int> max_in_flight;
  std::map<std::string, int64_t> last_add;
  std::map<std::string, int64_t> last_start;
  std::atomic<int64_t> sequence{0};

  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (std::optional<ObjectKey> k = queue.get()) {
        {
          std::lock_guard lock(mu);
          last_start[k->name] = ++sequence;
          max_in_flight[k->name] = std::max(max_in_flight[k->name], ++in_flight[k->name]);
        }
        std::this_thread::yield();
        {
          std::lock_guard lock(mu);
          --in_flight[k->name];
        }
        queue.done(*k);
      }
    });
  }
  for (int i = 0; i < 3000; ++i) {
    const std::string& name = names[static_cast<size_t>(i) % names.size()];
    {
      std::lock_guard lock(mu);
      last_add[name] = ++sequence;
    }
    queue.add(key(name));
  }
  EXPECT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return std::all_of(names.begin(), names.end(),
                       [&](const std::string& n) { return last_start[n] > last_add[n]; });
  })) << "a key added was never processed after its last add";
  queue.shutDownWithDrain();
  for (std::thread& t : workers) t.join();
  for (const std::string& n : names) EXPECT_EQ(max_in_flight[n], 1) << n;
}

TEST(WorkQueueTest, AddAfterWaitsForTheClock) {
  TestClock clock(kT0);
  WorkQueue queue(clock);
  queue.addAfter(key("a"), seconds(10));
  EXPECT_EQ(queue.len(), 0u);
  EXPECT_EQ(queue.numDelayed(), 1u);
  EXPECT_THAT(advance(queue, clock, seconds(9)), ::testing::IsEmpty());
  EXPECT_EQ(queue.numDelayed(), 1u);
  EXPECT_THAT(advance(queue, clock, seconds(1)), ::testing::ElementsAre("a"));
  EXPECT_EQ(queue.numDelayed(), 0u);
}

TEST(WorkQueueTest, AddAfterZeroOrNegativeQueuesAtOnce) {
  TestClock clock(kT0);
  WorkQueue queue(clock);
  queue.addAfter(key("a"), Duration(0));
  queue.addAfter(key("b"), Duration(-5));
  EXPECT_EQ(queue.numDelayed(), 0u);
  EXPECT_THAT(drainReady(queue), ::testing::ElementsAre("a", "b"));
}

TEST(WorkQueueTest, DelayedKeysComeOutInDueOrder) {
  TestClock clock(kT0);
  WorkQueue queue(clock);
  queue.addAfter(key("late"), seconds(3));
  queue.addAfter(key("early"), seconds(1));
  queue.addAfter(key("middle"), seconds(2));
  EXPECT_THAT(advance(queue, clock, seconds(5)), ::testing::ElementsAre("early", "middle", "late"));
}

TEST(WorkQueueTest, AbsurdDelayWaitsWithoutOverflowing) {
  TestClock clock(kT0);
  WorkQueue queue(clock);
  queue.addAfter(key("never"), Duration::max());
  EXPECT_EQ(queue.numDelayed(), 1u);
  EXPECT_THAT(advance(queue, clock, hours(24 * 365)), ::testing::IsEmpty());
  EXPECT_EQ(queue.numDelayed(), 1u);
}

struct AddAfterTwiceCase {
  std::string name;
  Duration first;
  Duration second;
};

void PrintTo(const AddAfterTwiceCase& c, std::ostream* os) { *os << c.name; }

class AddAfterTwiceTest : public ::testing::TestWithParam<AddAfterTwiceCase> {};

// client-go's delaying queue: of two pending addAfter for one key, the earlier time wins, and
// the key comes out once.
TEST_P(AddAfterTwiceTest, EarlierTimeWins) {
  TestClock clock(kT0);
  WorkQueue queue(clock);
  queue.addAfter(key("a"), GetParam().first);
  queue.addAfter(key("a"), GetParam().second);
  EXPECT_EQ(queue.numDelayed(), 1u);
  EXPECT_THAT(advance(queue, clock, seconds(1)), ::testing::IsEmpty());
  EXPECT_THAT(advance(queue, clock, seconds(1)), ::testing::ElementsAre("a"));
  EXPECT_THAT(advance(queue, clock, seconds(10)), ::testing::IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, AddAfterTwiceTest,
    ::testing::Values(AddAfterTwiceCase{"LaterThenEarlier", seconds(10), seconds(2)},
                      AddAfterTwiceCase{"EarlierThenLater", seconds(2), seconds(10)}),
    [](const auto& info) { return info.param.name; });

TEST(WorkQueueTest, RateLimitedBackoffDoublesUpToTheCapAndForgetResetsIt) {
  TestClock clock(kT0);
  WorkQueue queue(clock, noBucket(seconds(1), seconds(4)));
  // base 1s, doubling, capped at 4s: 1, 2, 4, 4.
  const std::vector<Duration> expected = {seconds(1), seconds(2), seconds(4), seconds(4)};
  for (size_t i = 0; i < expected.size(); ++i) {
    queue.addRateLimited(key("a"));
    EXPECT_EQ(queue.numRequeues(key("a")), static_cast<int32_t>(i + 1));
    EXPECT_THAT(advance(queue, clock, expected[i] - milliseconds(1)), ::testing::IsEmpty())
        << "retry " << i;
    EXPECT_THAT(advance(queue, clock, milliseconds(1)), ::testing::ElementsAre("a"))
        << "retry " << i;
  }
  queue.forget(key("a"));
  EXPECT_EQ(queue.numRequeues(key("a")), 0);
  queue.addRateLimited(key("a"));
  EXPECT_THAT(advance(queue, clock, milliseconds(999)), ::testing::IsEmpty());
  EXPECT_THAT(advance(queue, clock, milliseconds(1)), ::testing::ElementsAre("a"));
}

TEST(WorkQueueTest, BackoffIsPerKey) {
  TestClock clock(kT0);
  WorkQueue queue(clock, noBucket(seconds(1), seconds(100)));
  queue.addRateLimited(key("a"));
  queue.addRateLimited(key("a"));  // The second failure of a (2s), while still delayed.
  queue.addRateLimited(key("b"));  // The first failure of b: 1s.
  EXPECT_EQ(queue.numRequeues(key("a")), 2);
  EXPECT_EQ(queue.numRequeues(key("b")), 1);
  // a waits for the earlier of its two delays (1s), like b.
  EXPECT_THAT(advance(queue, clock, seconds(1)), ::testing::ElementsAre("a", "b"));
}

TEST(WorkQueueTest, LongFailureStreakSaturatesAtTheCap) {
  TestClock clock(kT0);
  WorkQueue queue(clock, noBucket(milliseconds(5), seconds(1000)));
  for (int i = 0; i < 5000; ++i) {
    queue.addRateLimited(key("a"));
    queue.forget(key("b"));  // Unrelated keys do not matter.
  }
  EXPECT_EQ(queue.numRequeues(key("a")), 5000);
  EXPECT_THAT(advance(queue, clock, milliseconds(5)), ::testing::ElementsAre("a"));
  queue.addRateLimited(key("a"));
  EXPECT_THAT(advance(queue, clock, seconds(999)), ::testing::IsEmpty());
  EXPECT_THAT(advance(queue, clock, seconds(1)), ::testing::ElementsAre("a"));
}

TEST(WorkQueueTest, TokenBucketSpacesRetriesOfManyKeys) {
  TestClock clock(kT0);
  RateLimiterOptions options;
  options.base = Duration(0);  // Only the bucket delays.
  options.bucket_qps = 1;
  options.bucket_burst = 2;
  WorkQueue queue(clock, options);
  for (const char* name : {"k1", "k2", "k3", "k4"}) queue.addRateLimited(key(name));
  // The burst goes at once; then one key per second.
  EXPECT_EQ(queue.len(), 2u);
  EXPECT_EQ(queue.numDelayed(), 2u);
  EXPECT_THAT(drainReady(queue), ::testing::ElementsAre("k1", "k2"));
  EXPECT_THAT(advance(queue, clock, seconds(1)), ::testing::ElementsAre("k3"));
  EXPECT_THAT(advance(queue, clock, seconds(1)), ::testing::ElementsAre("k4"));
  // Idle time refills the bucket, up to the burst.
  EXPECT_THAT(advance(queue, clock, seconds(60)), ::testing::IsEmpty());
  for (const char* name : {"k5", "k6", "k7"}) queue.addRateLimited(key(name));
  EXPECT_THAT(drainReady(queue), ::testing::ElementsAre("k5", "k6"));
  EXPECT_EQ(queue.numDelayed(), 1u);
}

TEST(WorkQueueTest, ShutDownWakesBlockedWorkersAndDropsQueuedKeys) {
  TestClock clock(kT0);
  WorkQueue queue(clock);
  std::atomic<bool> returned{false};
  std::optional<ObjectKey> got{key("placeholder")};
  std::thread worker([&] {
    got = queue.get();
    returned = true;
  });
  queue.shutDown();
  worker.join();
  EXPECT_TRUE(returned);
  EXPECT_FALSE(got.has_value());

  queue.add(key("a"));
  queue.addAfter(key("b"), seconds(1));
  queue.addRateLimited(key("c"));
  EXPECT_EQ(queue.len(), 0u);
  EXPECT_EQ(queue.numDelayed(), 0u);
  EXPECT_FALSE(queue.get().has_value());
}

TEST(WorkQueueTest, GetReturnsNulloptAfterShutDownEvenWithKeysQueued) {
  TestClock clock(kT0);
  WorkQueue queue(clock);
  queue.add(key("a"));
  queue.addAfter(key("b"), seconds(5));
  queue.shutDown();
  EXPECT_TRUE(queue.shuttingDown());
  EXPECT_FALSE(queue.get().has_value());
  EXPECT_EQ(queue.len(), 0u);
  EXPECT_EQ(queue.numDelayed(), 0u);
}

TEST(WorkQueueTest, ShutDownWithDrainWaitsForKeysInFlight) {
  TestClock clock(kT0);
  WorkQueue queue(clock);
  queue.add(key("a"));
  queue.add(key("b"));
  std::optional<ObjectKey> held = queue.get();
  ASSERT_TRUE(held.has_value());

  std::atomic<bool> drained{false};
  std::thread stopper([&] {
    queue.shutDownWithDrain();
    drained = true;
  });
  ASSERT_TRUE(eventually([&] { return queue.shuttingDown(); }));
  EXPECT_FALSE(queue.get().has_value()) << "nothing new starts once draining";
  EXPECT_FALSE(drained) << "returned while a key was still in flight";
  queue.add(*held);  // A change arriving while draining is not queued again.
  queue.done(*held);
  stopper.join();
  EXPECT_TRUE(drained);
  EXPECT_EQ(queue.len(), 0u);
}

TEST(WorkQueueTest, ShutDownWithDrainReturnsAtOnceWhenIdle) {
  TestClock clock(kT0);
  WorkQueue queue(clock);
  queue.add(key("a"));
  queue.shutDownWithDrain();
  EXPECT_TRUE(queue.shuttingDown());
}

// --- The outcome -> queue mapping, as a table ---------------------------------------------

struct DecisionCase {
  std::string name;
  Result<Duration> outcome;
  RequeueDecision expected;
};

void PrintTo(const DecisionCase& c, std::ostream* os) { *os << c.name; }

class RequeueDecisionTest : public ::testing::TestWithParam<DecisionCase> {};

TEST_P(RequeueDecisionTest, MapsTheOutcome) {
  EXPECT_EQ(requeueDecisionFor(GetParam().outcome), GetParam().expected);
}

using Kind = RequeueDecision::Kind;
const RequeueDecision kRateLimited{Kind::kRateLimited, Duration(0)};
const RequeueDecision kForget{Kind::kForget, Duration(0)};

INSTANTIATE_TEST_SUITE_P(
    Outcomes, RequeueDecisionTest,
    ::testing::Values(
        DecisionCase{
            "OkRequeuesAfter", Result<Duration>(seconds(15)), {Kind::kRequeueAfter, seconds(15)}},
        DecisionCase{"OkZeroRequeuesAtOnce",
                     Result<Duration>(Duration(0)),
                     {Kind::kRequeueAfter, Duration(0)}},
        DecisionCase{"OkNegativeIsClampedToZero",
                     Result<Duration>(Duration(-3)),
                     {Kind::kRequeueAfter, Duration(0)}},
        DecisionCase{"NotFoundForgets", Result<Duration>(notFound("gone")), kForget},
        DecisionCase{"InvalidArgumentForgets", Result<Duration>(invalidArgument("spec")), kForget},
        DecisionCase{"ConflictRetriesRateLimited",
                     Result<Duration>(Status(StatusCode::kConflict, "rv")), kRateLimited},
        DecisionCase{"UnavailableBacksOff", Result<Duration>(unavailable("down")), kRateLimited},
        DecisionCase{"DeadlineExceededBacksOff",
                     Result<Duration>(Status(StatusCode::kDeadlineExceeded, "slow")), kRateLimited},
        DecisionCase{"ResourceExhaustedBacksOff",
                     Result<Duration>(Status(StatusCode::kResourceExhausted, "429")), kRateLimited},
        DecisionCase{"PermissionDeniedBacksOff",
                     Result<Duration>(Status(StatusCode::kPermissionDenied, "403")), kRateLimited},
        DecisionCase{"FailedPreconditionBacksOff", Result<Duration>(failedPrecondition("x")),
                     kRateLimited},
        DecisionCase{"AlreadyExistsBacksOff",
                     Result<Duration>(Status(StatusCode::kAlreadyExists, "x")), kRateLimited},
        DecisionCase{"InternalBacksOff", Result<Duration>(internalError("bug")), kRateLimited}),
    [](const auto& info) { return info.param.name; });

TEST(ApplyRequeueDecisionTest, EachKindActsOnTheQueue) {
  TestClock clock(kT0);
  WorkQueue queue(clock, noBucket(seconds(1), seconds(100)));

  applyRequeueDecision(queue, key("a"), kRateLimited);
  applyRequeueDecision(queue, key("a"), kRateLimited);
  EXPECT_EQ(queue.numRequeues(key("a")), 2);

  applyRequeueDecision(queue, key("a"), {Kind::kRequeueAfter, seconds(30)});
  EXPECT_EQ(queue.numRequeues(key("a")), 0) << "success forgets the failures";

  applyRequeueDecision(queue, key("b"), kRateLimited);
  applyRequeueDecision(queue, key("b"), kForget);
  EXPECT_EQ(queue.numRequeues(key("b")), 0);

  // a's rate-limited retry (1s) stands: the earlier time wins over the 30s requeue.
  EXPECT_THAT(advance(queue, clock, seconds(1)), ::testing::ElementsAre("a", "b"));
  applyRequeueDecision(queue, key("c"), kForget);
  EXPECT_THAT(advance(queue, clock, seconds(30)), ::testing::IsEmpty())
      << "a was delivered at 1s; a forgotten key is not added";
}

// --- runWorkers, end to end -----------------------------------------------------------------

TEST(RunWorkersTest, ReconcilesUntilDrainedFollowingEachOutcome) {
  TestClock clock(kT0);
  // Zero backoff: rate-limited retries come back at once, without moving the clock.
  RateLimiterOptions options = noBucket(Duration(0), Duration(0));
  WorkQueue queue(clock, options);

  std::mutex mu;
  std::map<std::string, int> calls;
  ReconcileFunc reconcile = [&](const ObjectKey& k) -> Result<Duration> {
    int n = 0;
    {
      std::lock_guard lock(mu);
      n = ++calls[k.name];
    }
    if (k.name == "steady") return Duration(hours(1));
    if (k.name == "gone") return notFound("deleted");
    if (k.name == "invalid") return invalidArgument("spec.maxReplicas: must be >= 1");
    if (k.name == "flaky" && n <= 2) return unavailable("api server down");
    if (k.name == "throws" && n == 1) throw std::runtime_error("boom");
    return Duration(hours(1));
  };

  std::thread runner([&] { runWorkers(queue, 3, reconcile); });
  for (const char* name : {"steady", "gone", "invalid", "flaky", "throws"}) queue.add(key(name));

  auto callsOf = [&](const std::string& name) {
    std::lock_guard lock(mu);
    return calls[name];
  };
  // Settled: the three that end successfully wait for their 1h requeue.
  ASSERT_TRUE(eventually([&] { return queue.numDelayed() == 3 && queue.len() == 0; }))
      << "delayed " << queue.numDelayed() << ", ready " << queue.len();
  EXPECT_EQ(queue.numRequeues(key("flaky")), 0) << "success forgets the failures";
  queue.shutDownWithDrain();
  runner.join();

  EXPECT_EQ(callsOf("steady"), 1);
  EXPECT_EQ(callsOf("gone"), 1);
  EXPECT_EQ(callsOf("invalid"), 1);
  EXPECT_EQ(callsOf("flaky"), 3);
  EXPECT_EQ(callsOf("throws"), 2) << "a throwing reconcile is retried like an Internal error";
}

}  // namespace
}  // namespace governor::controller
