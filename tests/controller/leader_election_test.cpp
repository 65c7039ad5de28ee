#include "controller/leader_election.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace governor::controller {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const TimePoint kT0 = fromUnixSeconds(1'767'225'600);  // 2026-01-01T00:00:00Z.

// Manual time for electors: the clock they read and the sleep they wait in. A sleeper wakes
// when the clock reaches its deadline. settle(n) waits until n electors sleep with deadlines
// in the future, i.e. each has finished what it had to do at the current time: stepping the
// clock and settling makes every attempt happen at a known time, in a known order.
class FakeTime final : public Clock {
 public:
  TimePoint now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }

  bool sleep(Duration d, const std::stop_token& stop) {
    std::unique_lock lock(mu_);
    const TimePoint until = now_ + d;
    auto it = sleepers_.insert(until);
    cv_.notify_all();
    const bool reached = cv_.wait(lock, stop, [&] { return now_ >= until; });
    sleepers_.erase(it);
    cv_.notify_all();
    return reached;
  }
  SleepFunc sleepFunc() {
    return [this](Duration d, const std::stop_token& stop) { return sleep(d, stop); };
  }

  void advance(Duration d) {
    std::lock_guard lock(mu_);
    now_ += d;
    cv_.notify_all();
  }

  // Waits (at most 10 s of real time) until exactly `n` sleepers wait for a future time.
  ::testing::AssertionResult settle(size_t n) {
    std::unique_lock lock(mu_);
    const bool ok = cv_.wait_for(lock, seconds(10), [&] {
      return sleepers_.size() == n && std::all_of(sleepers_.begin(), sleepers_.end(),
                                                  [&](TimePoint until) { return until > now_; });
    });
    if (ok) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << sleepers_.size() << " sleepers, wanted " << n;
  }

  // advance(d), then settle(n).
  ::testing::AssertionResult step(Duration d, size_t n) {
    advance(d);
    return settle(n);
  }

  Duration since(TimePoint t) const { return now() - t; }

 private:
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  TimePoint now_ = kT0;
  std::multiset<TimePoint> sleepers_;
};

// One elector's view of the shared store: can be made to fail (an API server it cannot
// reach), and counts successful writes.
class FlakyStore final : public LeaseStore {
 public:
  explicit FlakyStore(LeaseStore& inner) : inner_(inner) {}
  Result<Lease> get() override {
    if (failing_) return unavailable("injected: connection refused");
    return inner_.get();
  }
  Status create(const Lease& lease) override {
    if (failing_) return unavailable("injected: connection refused");
    return inner_.create(lease);
  }
  Status update(const Lease& lease) override {
    if (failing_) return unavailable("injected: connection refused");
    return inner_.update(lease);
  }
  void setFailing(bool failing) { failing_ = failing; }

 private:
  LeaseStore& inner_;
  std::atomic<bool> failing_{false};
};

struct Recorder {
  std::atomic<int> started{0};
  std::atomic<int> stopped{0};
  std::mutex mu;
  std::vector<std::string> leaders;

  void attach(LeaderElectionOptions& options) {
    options.on_started_leading = [this] { ++started; };
    options.on_stopped_leading = [this] { ++stopped; };
    options.on_new_leader = [this](const std::string& id) {
      std::lock_guard lock(mu);
      leaders.push_back(id);
    };
  }
  std::vector<std::string> newLeaders() {
    std::lock_guard lock(mu);
    return leaders;
  }
};

LeaderElectionOptions optionsFor(const std::string& identity) {
  LeaderElectionOptions options;
  options.identity = identity;  // Defaults: 15s lease, 10s renew deadline, 2s retry period.
  return options;
}

std::unique_ptr<LeaderElector> makeElector(LeaseStore& store, FakeTime& time,
                                           LeaderElectionOptions options) {
  auto elector = LeaderElector::create(store, time, std::move(options), time.sleepFunc());
  EXPECT_TRUE(elector.ok()) << elector.status().toString();
  return elector.ok() ? std::move(elector).value() : nullptr;
}

Lease makeLease(const std::string& holder, int32_t duration_seconds, int32_t transitions = 0,
                std::optional<TimePoint> at = std::nullopt) {
  Lease lease;
  lease.holder_identity = holder;
  lease.lease_duration_seconds = duration_seconds;
  lease.lease_transitions = transitions;
  lease.acquire_time = at;
  lease.renew_time = at;
  return lease;
}

Lease leaseIn(LeaseStore& store) {
  Result<Lease> lease = store.get();
  EXPECT_TRUE(lease.ok()) << lease.status().toString();
  return lease.ok() ? *lease : Lease{};
}

// --- The store --------------------------------------------------------------------------

TEST(InMemoryLeaseStoreTest, ChecksResourceVersions) {
  InMemoryLeaseStore store;
  EXPECT_EQ(store.get().status().code(), StatusCode::kNotFound);
  Lease lease = makeLease("a", 15);
  EXPECT_EQ(store.update(lease).code(), StatusCode::kNotFound);
  ASSERT_TRUE(store.create(lease).ok());
  EXPECT_EQ(store.create(lease).code(), StatusCode::kAlreadyExists);

  Lease read = leaseIn(store);
  EXPECT_EQ(read.holder_identity, "a");
  EXPECT_FALSE(read.resource_version.empty());

  Lease renewed = read;
  renewed.renew_time = kT0;
  ASSERT_TRUE(store.update(renewed).ok());
  EXPECT_NE(leaseIn(store).resource_version, read.resource_version);
  // `read` is now stale: a second writer with it loses.
  Lease stale = read;
  stale.holder_identity = "b";
  EXPECT_EQ(store.update(stale).code(), StatusCode::kConflict);
  EXPECT_EQ(leaseIn(store).holder_identity, "a");
}

// --- Options ----------------------------------------------------------------------------

struct OptionsCase {
  std::string name;
  std::function<void(LeaderElectionOptions&)> mutate;
  std::string field;  // "" when valid.
};

void PrintTo(const OptionsCase& c, std::ostream* os) { *os << c.name; }

class LeaderElectionOptionsTest : public ::testing::TestWithParam<OptionsCase> {};

TEST_P(LeaderElectionOptionsTest, Validates) {
  LeaderElectionOptions options = optionsFor("a");
  GetParam().mutate(options);
  Status status = validateLeaderElectionOptions(options);
  if (GetParam().field.empty()) {
    EXPECT_TRUE(status.ok()) << status.toString();
  } else {
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), ::testing::StartsWith(GetParam().field)) << status.message();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LeaderElectionOptionsTest,
    ::testing::Values(
        OptionsCase{"Defaults", [](LeaderElectionOptions&) {}, ""},
        OptionsCase{"EmptyIdentity", [](LeaderElectionOptions& o) { o.identity.clear(); },
                    "identity"},
        OptionsCase{"FractionalLease",
                    [](LeaderElectionOptions& o) { o.lease_duration = milliseconds(15'500); },
                    "lease_duration"},
        OptionsCase{"ZeroLease", [](LeaderElectionOptions& o) { o.lease_duration = Duration(0); },
                    "lease_duration"},
        OptionsCase{"RenewDeadlineNotBelowLease",
                    [](LeaderElectionOptions& o) { o.renew_deadline = seconds(15); },
                    "renew_deadline"},
        OptionsCase{"RetryNotBelowRenewDeadline",
                    [](LeaderElectionOptions& o) { o.retry_period = seconds(10); }, "retry_period"},
        OptionsCase{"ZeroRetry", [](LeaderElectionOptions& o) { o.retry_period = Duration(0); },
                    "retry_period"}),
    [](const auto& info) { return info.param.name; });

TEST(LeaderElectorTest, CreateRejectsInvalidOptions) {
  InMemoryLeaseStore store;
  FakeTime time;
  auto elector = LeaderElector::create(store, time, optionsFor(""), time.sleepFunc());
  EXPECT_EQ(elector.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(elector.status().message(), ::testing::HasSubstr("identity"));
}

// --- Election ---------------------------------------------------------------------------

TEST(LeaderElectorTest, FirstCandidateCreatesTheLeaseAndRenewsIt) {
  InMemoryLeaseStore store;
  FakeTime time;
  Recorder rec;
  LeaderElectionOptions options = optionsFor("a");
  rec.attach(options);
  auto a = makeElector(store, time, options);
  EXPECT_FALSE(a->isLeader());
  a->start();
  ASSERT_TRUE(time.settle(1));
  EXPECT_TRUE(a->isLeader());
  EXPECT_EQ(a->leader(), "a");
  EXPECT_EQ(rec.started.load(), 1);
  EXPECT_THAT(rec.newLeaders(), ::testing::ElementsAre("a"));

  Lease lease = leaseIn(store);
  EXPECT_EQ(lease.holder_identity, "a");
  EXPECT_EQ(lease.lease_duration_seconds, 15);
  EXPECT_EQ(lease.acquire_time, kT0);
  EXPECT_EQ(lease.renew_time, kT0);
  EXPECT_EQ(lease.lease_transitions, 0);

  for (int i = 0; i < 5; ++i) ASSERT_TRUE(time.step(seconds(2), 1));
  lease = leaseIn(store);
  EXPECT_EQ(lease.renew_time, kT0 + seconds(10)) << "renewed every retry period";
  EXPECT_EQ(lease.acquire_time, kT0) << "a renewal keeps the acquire time";
  EXPECT_EQ(lease.lease_transitions, 0) << "renewals are not transitions";
  EXPECT_EQ(rec.started.load(), 1);
  EXPECT_EQ(rec.stopped.load(), 0);
}

TEST(LeaderElectorTest, OfTwoCandidatesExactlyOneLeads) {
  InMemoryLeaseStore store;
  FakeTime time;
  auto a = makeElector(store, time, optionsFor("a"));
  auto b = makeElector(store, time, optionsFor("b"));
  a->start();
  b->start();  // Same instant: both see no lease, both create; the store admits one.
  ASSERT_TRUE(time.settle(2));
  for (int i = 0; i < 20; ++i) {
    EXPECT_NE(a->isLeader(), b->isLeader()) << "at step " << i;
    ASSERT_TRUE(time.step(seconds(1), 2));
  }
  const std::string winner = a->isLeader() ? "a" : "b";
  EXPECT_EQ(leaseIn(store).holder_identity, winner);
  EXPECT_EQ(a->leader(), winner);
  EXPECT_EQ(b->leader(), winner);
}

// The two electors attempt at alternate seconds (a at even, b at odd), so which of them saw
// what, and when, is fixed.
struct Pair {
  InMemoryLeaseStore store;
  FlakyStore a_store{store};
  FlakyStore b_store{store};
  FakeTime time;
  Recorder a_rec;
  Recorder b_rec;
  std::unique_ptr<LeaderElector> a;
  std::unique_ptr<LeaderElector> b;

  void start() {
    LeaderElectionOptions a_options = optionsFor("a");
    a_rec.attach(a_options);
    LeaderElectionOptions b_options = optionsFor("b");
    b_rec.attach(b_options);
    a = makeElector(a_store, time, a_options);
    b = makeElector(b_store, time, b_options);
    a->start();
    ASSERT_TRUE(time.settle(1));
    ASSERT_TRUE(a->isLeader());
    time.advance(seconds(1));
    b->start();
    ASSERT_TRUE(time.settle(2));
    ASSERT_FALSE(b->isLeader());
    ASSERT_EQ(b->leader(), "a");
  }
};

TEST(LeaderElectorTest, FollowerTakesOverOnlyAfterTheLeaseExpires) {
  Pair p;
  ASSERT_NO_FATAL_FAILURE(p.start());
  ASSERT_TRUE(p.time.step(seconds(1), 2));  // kT0+2s: a renews; b sees it at kT0+3s.
  const TimePoint last_renewal = p.time.now();
  p.a_store.setFailing(true);  // a can no longer reach the API server.

  // b observed a's last renewal at last_renewal+1s; the Lease is valid on b's clock until
  // 15s after that. b attempts at odd seconds: its first attempt past expiry is +17s.
  for (int s = 1; s <= 15; ++s) {
    ASSERT_TRUE(p.time.step(seconds(1), 2));
    EXPECT_FALSE(p.b->isLeader()) << "took over " << s << "s after the last renewal";
  }
  ASSERT_TRUE(p.time.step(seconds(1), 2));  // +16s: a's turn; b waits.
  EXPECT_FALSE(p.b->isLeader());
  ASSERT_TRUE(p.time.step(seconds(1), 2));  // +17s.
  EXPECT_TRUE(p.b->isLeader());
  EXPECT_EQ(p.time.since(last_renewal), seconds(17));

  Lease lease = leaseIn(p.store);
  EXPECT_EQ(lease.holder_identity, "b");
  EXPECT_EQ(lease.lease_transitions, 1);
  EXPECT_EQ(lease.acquire_time, p.time.now());
  EXPECT_EQ(p.b_rec.started.load(), 1);
  EXPECT_THAT(p.b_rec.newLeaders(), ::testing::ElementsAre("a", "b"));

  // a, back in touch, finds b's valid Lease and stays a follower.
  p.a_store.setFailing(false);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(p.time.step(seconds(1), 2));
  EXPECT_FALSE(p.a->isLeader());
  EXPECT_TRUE(p.b->isLeader());
  EXPECT_EQ(p.a->leader(), "b");
  EXPECT_THAT(p.a_rec.newLeaders(), ::testing::ElementsAre("a", "b"));
}

TEST(LeaderElectorTest, LeaderThatCannotRenewStopsLeadingAtTheRenewDeadline) {
  Pair p;
  ASSERT_NO_FATAL_FAILURE(p.start());
  ASSERT_TRUE(p.time.step(seconds(1), 2));  // kT0+2s: a renews.
  const TimePoint last_renewal = p.time.now();
  p.a_store.setFailing(true);

  // a attempts every 2s and fails; at 10s since its last renewal it gives up.
  for (int s = 1; s <= 9; ++s) {
    ASSERT_TRUE(p.time.step(seconds(1), 2));
    EXPECT_TRUE(p.a->isLeader()) << s << "s after the last renewal";
  }
  ASSERT_TRUE(p.time.step(seconds(1), 2));
  EXPECT_EQ(p.time.since(last_renewal), seconds(10));
  EXPECT_FALSE(p.a->isLeader());
  EXPECT_EQ(p.a_rec.stopped.load(), 1);
  EXPECT_EQ(p.a_rec.started.load(), 1);

  // The store comes back before anyone took over: the Lease still names a, so a renews it
  // at once (client-go does the same) and leads again.
  p.a_store.setFailing(false);
  ASSERT_TRUE(p.time.step(seconds(1), 2));
  ASSERT_TRUE(p.time.step(seconds(1), 2));
  EXPECT_TRUE(p.a->isLeader());
  EXPECT_FALSE(p.b->isLeader());
  EXPECT_EQ(p.a_rec.started.load(), 2);
  EXPECT_EQ(leaseIn(p.store).lease_transitions, 0) << "the holder never changed";
}

// A store call that hangs until released: the elector's thread is stuck inside it.
class BlockingStore final : public LeaseStore {
 public:
  explicit BlockingStore(LeaseStore& inner) : inner_(inner) {}
  Result<Lease> get() override {
    std::unique_lock lock(mu_);
    if (blocking_) {
      entered_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return !blocking_; });
      return unavailable("injected: timed out");
    }
    return inner_.get();
  }
  Status create(const Lease& lease) override { return inner_.create(lease); }
  Status update(const Lease& lease) override { return inner_.update(lease); }

  void block() {
    std::lock_guard lock(mu_);
    blocking_ = true;
  }
  bool waitEntered() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, seconds(10), [&] { return entered_; });
  }
  void release() {
    std::lock_guard lock(mu_);
    blocking_ = false;
    cv_.notify_all();
  }

 private:
  LeaseStore& inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool blocking_ = false;
  bool entered_ = false;
};

TEST(LeaderElectorTest, StuckLeaderIsNotLeaderOnceTheLeaseDurationHasPassed) {
  InMemoryLeaseStore shared;
  BlockingStore store(shared);
  FakeTime time;
  Recorder rec;
  LeaderElectionOptions options = optionsFor("a");
  rec.attach(options);
  auto a = makeElector(store, time, options);
  a->start();
  ASSERT_TRUE(time.settle(1));
  ASSERT_TRUE(a->isLeader());
  const TimePoint last_renewal = time.now();

  store.block();
  time.advance(seconds(2));  // a's next attempt hangs in get().
  ASSERT_TRUE(store.waitEntered());
  time.advance(seconds(12));
  EXPECT_TRUE(a->isLeader()) << "14s after the last renewal: still ours";
  time.advance(seconds(1));
  EXPECT_EQ(time.since(last_renewal), seconds(15));
  EXPECT_FALSE(a->isLeader()) << "past the lease duration another replica may lead";
  EXPECT_EQ(rec.stopped.load(), 0) << "the elector's thread is still stuck";

  store.release();  // The call fails; the thread sees the renew deadline long gone.
  ASSERT_TRUE(time.settle(1));
  EXPECT_FALSE(a->isLeader());
  EXPECT_EQ(rec.stopped.load(), 1);
}

TEST(LeaderElectorTest, StopReleasesTheLeaseAndTheFollowerTakesOverAtOnce) {
  Pair p;
  ASSERT_NO_FATAL_FAILURE(p.start());
  ASSERT_TRUE(p.time.step(seconds(1), 2));  // kT0+2s: a renews.

  p.a->stop();
  EXPECT_FALSE(p.a->isLeader());
  EXPECT_EQ(p.a_rec.stopped.load(), 1);
  Lease released = leaseIn(p.store);
  EXPECT_EQ(released.holder_identity, "");
  EXPECT_EQ(released.lease_duration_seconds, 1);

  ASSERT_TRUE(p.time.step(seconds(1), 1));  // b's next attempt, 1s later.
  EXPECT_TRUE(p.b->isLeader()) << "a released Lease is free at once, not after 15s";
  Lease lease = leaseIn(p.store);
  EXPECT_EQ(lease.holder_identity, "b");
  EXPECT_EQ(lease.lease_duration_seconds, 15);
  EXPECT_EQ(lease.lease_transitions, 1);
}

TEST(LeaderElectorTest, StopWithoutReleaseLeavesTheLeaseToExpire) {
  InMemoryLeaseStore store;
  FakeTime time;
  LeaderElectionOptions options = optionsFor("a");
  options.release_on_cancel = false;
  auto a = makeElector(store, time, options);
  a->start();
  ASSERT_TRUE(time.settle(1));
  ASSERT_TRUE(a->isLeader());
  a->stop();
  EXPECT_FALSE(a->isLeader());
  Lease lease = leaseIn(store);
  EXPECT_EQ(lease.holder_identity, "a");
  EXPECT_EQ(lease.lease_duration_seconds, 15);
}

// Both candidates read the same released Lease before either writes: both update with the
// same resourceVersion, and the store's check lets exactly one through.
class BarrierStore final : public LeaseStore {
 public:
  explicit BarrierStore(LeaseStore& inner) : inner_(inner) {}
  Result<Lease> get() override {
    Result<Lease> lease = inner_.get();
    std::unique_lock lock(mu_);
    if (++arrived_ <= 2) {
      cv_.notify_all();
      cv_.wait_for(lock, seconds(10), [&] { return arrived_ >= 2; });
    }
    return lease;
  }
  Status create(const Lease& lease) override { return inner_.create(lease); }
  Status update(const Lease& lease) override {
    Status s = inner_.update(lease);
    std::lock_guard lock(mu_);
    ++(s.ok() ? updates_ok_ : updates_conflict_);
    return s;
  }
  int updatesOk() {
    std::lock_guard lock(mu_);
    return updates_ok_;
  }
  int updatesConflict() {
    std::lock_guard lock(mu_);
    return updates_conflict_;
  }

 private:
  LeaseStore& inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;
  int updates_ok_ = 0;
  int updates_conflict_ = 0;
};

TEST(LeaderElectorTest, RacingTakeoverIsDecidedByTheResourceVersion) {
  InMemoryLeaseStore shared;
  ASSERT_TRUE(shared.create(makeLease("", 1, 5)).ok());
  BarrierStore store(shared);
  FakeTime time;
  auto a = makeElector(store, time, optionsFor("a"));
  auto b = makeElector(store, time, optionsFor("b"));
  a->start();
  b->start();
  ASSERT_TRUE(time.settle(2));
  EXPECT_EQ(store.updatesOk(), 1);
  EXPECT_EQ(store.updatesConflict(), 1);
  EXPECT_NE(a->isLeader(), b->isLeader());
  Lease lease = leaseIn(shared);
  EXPECT_EQ(lease.holder_identity, a->isLeader() ? "a" : "b");
  EXPECT_EQ(lease.lease_transitions, 6) << "one takeover, one transition";

  ASSERT_TRUE(time.step(seconds(2), 2));
  EXPECT_EQ(a->leader(), lease.holder_identity);
  EXPECT_EQ(b->leader(), lease.holder_identity);
  EXPECT_NE(a->isLeader(), b->isLeader());
}

// Expiry is judged by when WE saw the record change, on our clock, never by the renew_time
// another machine wrote: a skewed clock elsewhere cannot make us take a live Lease.
TEST(LeaderElectorTest, ExpiryCountsFromWhenTheRecordWasObservedNotItsTimestamps) {
  InMemoryLeaseStore store;
  const TimePoint ancient = fromUnixSeconds(946'684'800);  // 2000-01-01: a skewed clock.
  ASSERT_TRUE(store.create(makeLease("ghost", 15, 0, ancient)).ok());
  FakeTime time;
  Recorder rec;
  LeaderElectionOptions options = optionsFor("a");
  rec.attach(options);
  auto a = makeElector(store, time, options);
  a->start();
  ASSERT_TRUE(time.settle(1));
  EXPECT_FALSE(a->isLeader()) << "renew_time is 26 years old, yet we only just saw the Lease";
  EXPECT_EQ(a->leader(), "ghost");

  // At +10s ghost renews (its record changes; its timestamps are still skewed): the wait
  // starts over from there.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(time.step(seconds(2), 1));
  Lease renewed = leaseIn(store);
  renewed.renew_time = ancient + seconds(10);
  ASSERT_TRUE(store.update(renewed).ok());
  ASSERT_TRUE(time.step(seconds(2), 1));  // +12s: a observes the change.
  const TimePoint observed = time.now();
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(time.step(seconds(2), 1));
    EXPECT_FALSE(a->isLeader()) << time.since(observed).count() << "ms after observing";
  }
  ASSERT_TRUE(time.step(seconds(2), 1));  // 16s after observing: expired.
  EXPECT_TRUE(a->isLeader());
  EXPECT_EQ(leaseIn(store).lease_transitions, 1);
  EXPECT_THAT(rec.newLeaders(), ::testing::ElementsAre("ghost", "a"));
}

TEST(LeaderElectorTest, LeaseTransitionsCountHolderChanges) {
  InMemoryLeaseStore store;
  FakeTime time;
  auto a = makeElector(store, time, optionsFor("a"));
  auto b = makeElector(store, time, optionsFor("b"));

  a->start();  // Creates: 0.
  ASSERT_TRUE(time.settle(1));
  ASSERT_TRUE(time.step(seconds(2), 1));  // Renews: still 0.
  EXPECT_EQ(leaseIn(store).lease_transitions, 0);
  a->stop();  // Releases: the count is kept.
  EXPECT_EQ(leaseIn(store).lease_transitions, 0);

  b->start();  // Takes the released Lease: 1.
  ASSERT_TRUE(time.settle(1));
  EXPECT_TRUE(b->isLeader());
  EXPECT_EQ(leaseIn(store).lease_transitions, 1);
  b->stop();

  a->start();  // a again: 2.
  ASSERT_TRUE(time.settle(1));
  EXPECT_TRUE(a->isLeader());
  EXPECT_EQ(leaseIn(store).lease_transitions, 2);
  a->stop();
}

TEST(LeaderElectorTest, DestructorStopsAndReleases) {
  InMemoryLeaseStore store;
  FakeTime time;
  {
    auto a = makeElector(store, time, optionsFor("a"));
    a->start();
    ASSERT_TRUE(time.settle(1));
    ASSERT_TRUE(a->isLeader());
  }
  EXPECT_EQ(leaseIn(store).holder_identity, "");
}

// The real sleep and the system clock, for the plumbing only: leads eventually; stop()
// interrupts the sleep and releases. No timing is asserted.
TEST(LeaderElectorTest, RunsOnTheSystemClock) {
  InMemoryLeaseStore store;
  SystemClock clock;
  LeaderElectionOptions options = optionsFor("a");
  options.lease_duration = seconds(2);
  options.renew_deadline = milliseconds(1500);
  options.retry_period = milliseconds(100);
  auto a = LeaderElector::create(store, clock, options);
  ASSERT_TRUE(a.ok()) << a.status().toString();
  (*a)->start();
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (!(*a)->isLeader() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_TRUE((*a)->isLeader());
  (*a)->stop();
  EXPECT_FALSE((*a)->isLeader());
  EXPECT_EQ(leaseIn(store).holder_identity, "");
}

}  // namespace
}  // namespace governor::controller
