#pragma once

// Leader election over a coordination.k8s.io/v1 Lease, with client-go's leaderelection
// semantics: of the replicas running the operator, one holds the Lease and writes; the others
// wait, ready to take over when the holder stops renewing.
//
// The protocol (client-go tryAcquireOrRenew), every retry_period:
//   * read the Lease; none: create it naming us.
//   * held by someone else and not expired: wait. "Expired" is judged on OUR clock: the Lease
//     is valid until lease_duration_seconds after the moment we last saw the record change
//     (any change: a renewal bumps resourceVersion), never from its renew_time, which was
//     written by another machine's clock.
//   * held by us, expired, or released (holder ""): write it naming us, with the
//     resourceVersion we read. Of two replicas racing, the store's resourceVersion check lets
//     exactly one win (the other gets Conflict and stays a follower). lease_transitions counts
//     holder changes.
//
// Safety: a leader that cannot renew for renew_deadline (measured from its last successful
// renewal) stops leading: isLeader() turns false at once and on_stopped_leading fires. And
// isLeader() is false once lease_duration has passed since the last successful renewal even if
// the elector's thread is stuck (a paused process, a hung store call), because by then another
// replica may lead. The renewal time counted is the moment the request was sent, not when it
// returned, so it is never later than what the other replicas saw. The operator checks
// isLeader() before every write.
//
// Differences from client-go, on purpose: no jitter on retry_period (two replicas do not need
// it, and deterministic tests do); after losing the lease the elector keeps running as a
// candidate instead of ending (so on_started_leading / on_stopped_leading may alternate); the
// renew deadline counts from the last success rather than from the start of a renewal round
// (a little stricter); a leader that reads a record naming another valid holder stops leading
// at that moment instead of retrying until the deadline.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>

#include "base/status.h"
#include "base/time.h"
#include "controller/clock.h"

namespace governor::controller {

// The fields of a coordination.k8s.io/v1 Lease that election uses (spec.*, and
// metadata.resourceVersion).
struct Lease {
  std::string holder_identity;  // "" when released.
  int32_t lease_duration_seconds = 0;
  std::optional<TimePoint> acquire_time;
  std::optional<TimePoint> renew_time;
  int32_t lease_transitions = 0;
  std::string resource_version;  // Set by the store; sent back on update.
  friend bool operator==(const Lease&, const Lease&) = default;
};

// Where the Lease lives. The operator's adapter maps it to
// /apis/coordination.k8s.io/v1/namespaces/NS/leases/NAME; tests use InMemoryLeaseStore.
class LeaseStore {
 public:
  virtual ~LeaseStore() = default;
  // The Lease with its current resource_version. NotFound when it does not exist; other
  // errors (Unavailable, ...) when it could not be read.
  virtual Result<Lease> get() = 0;
  // Creates the Lease (resource_version ignored). AlreadyExists when it exists.
  virtual Status create(const Lease& lease) = 0;
  // Replaces the Lease if its resource_version still equals `lease.resource_version`:
  // Conflict otherwise; NotFound when it does not exist.
  virtual Status update(const Lease& lease) = 0;
};

// A LeaseStore in memory, with the API server's optimistic concurrency: every write assigns
// a new resource_version, and an update carrying a stale one fails with Conflict. For tests,
// and for running electors in one process. Thread-safe.
class InMemoryLeaseStore final : public LeaseStore {
 public:
  Result<Lease> get() override;
  Status create(const Lease& lease) override;
  Status update(const Lease& lease) override;

 private:
  std::mutex mu_;
  std::optional<Lease> lease_;
  int64_t version_ = 0;
};

struct LeaderElectionOptions {
  // This replica's name in the Lease (the pod name). Required, non-empty.
  std::string identity;
  // How long a Lease stays valid after its last renewal, as followers judge it; a whole
  // number of seconds (the Lease stores seconds). Default: 15s (client-go).
  Duration lease_duration{15'000};
  // How long a leader keeps trying to renew before it gives up leading. Must be less than
  // lease_duration. Default: 10s.
  Duration renew_deadline{10'000};
  // The time between two attempts to acquire or renew. Must be less than renew_deadline.
  // Default: 2s.
  Duration retry_period{2'000};
  // On stop(), a leader hands the Lease back (holder "", duration 1s) so another replica
  // takes over at once instead of after lease_duration. Default: true.
  bool release_on_cancel = true;

  // Callbacks, all on the elector's thread; each must return promptly (start or stop work on
  // other threads) and must not call stop(). Each may be empty.
  // We became the leader: start writing.
  std::function<void()> on_started_leading;
  // We stopped leading (lease lost, or stop()): isLeader() is already false.
  std::function<void()> on_stopped_leading;
  // The Lease names a different holder than last seen (ourselves included; a released,
  // holderless Lease is not reported).
  std::function<void(const std::string& identity)> on_new_leader;
};

// OK when the options are usable; InvalidArgument naming the field otherwise.
Status validateLeaderElectionOptions(const LeaderElectionOptions& options);

// Waits `d`, or until `stop` is requested. Returns false when stopped.
using SleepFunc = std::function<bool(Duration d, std::stop_token stop)>;

// Waits `d` of steady time, waking early on a stop request.
bool sleepUnlessStopped(Duration d, std::stop_token stop);

// Thread-safety: start(), stop() and the destructor from one owning thread; isLeader(),
// leader() from any thread.
class LeaderElector {
 public:
  // InvalidArgument when the options are not valid. `store` and `clock` must outlive the
  // elector; `clock` must be thread-safe. `sleep` waits between attempts (tests inject one
  // that follows a manual clock); default: sleepUnlessStopped.
  static Result<std::unique_ptr<LeaderElector>> create(LeaseStore& store, const Clock& clock,
                                                       LeaderElectionOptions options,
                                                       SleepFunc sleep = {});
  // Stops (and releases, per the options) if running.
  ~LeaderElector();

  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Starts the election loop on its own thread. No-op when already running.
  void start();
  // Stops the loop and waits for it; a leader releases the Lease first (release_on_cancel)
  // and on_stopped_leading fires. No-op when not running.
  void stop();

  // True while we hold a Lease renewed less than lease_duration ago (and not given up).
  bool isLeader() const;
  // The holder of the Lease as last observed ("" when none or unknown).
  std::string leader() const;

 private:
  LeaderElector(LeaseStore& store, const Clock& clock, LeaderElectionOptions options,
                SleepFunc sleep);

  void run(const std::stop_token& stop);
  // One attempt to create, acquire or renew the Lease; true when it names us afterwards.
  bool tryAcquireOrRenew();
  // Records what the store holds; reports a new holder.
  void observe(const Lease& lease, TimePoint now);
  // Hands the Lease back if it still names us.
  void release();

  LeaseStore& store_;
  const Clock& clock_;
  const LeaderElectionOptions options_;
  const SleepFunc sleep_;

  mutable std::mutex mu_;  // Guards what other threads read: the fields below.
  bool leading_ = false;
  TimePoint last_renew_{};  // When the last successful acquire/renew request was sent.
  std::string observed_holder_;

  // Only the elector thread touches these.
  std::optional<Lease> observed_;  // The record as last read or written.
  TimePoint observed_time_{};      // Our clock when `observed_` last changed.
  std::string reported_leader_;

  std::jthread thread_;
};

}  // namespace governor::controller
