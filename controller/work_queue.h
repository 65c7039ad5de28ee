#pragma once

// The operator's work queue, with client-go workqueue semantics (a rate-limiting, delaying,
// de-duplicating FIFO of ObjectKeys), and the worker loop that drains it into a reconciler.
//
// Guarantees, as client-go's:
//   * A key is queued at most once: adding a key that is already waiting to be processed is a
//     no-op (events coalesce; the reconciler is level-triggered, so one run sees them all).
//   * A key is never processed by two workers at once: a key added while a worker holds it is
//     marked dirty and queued again only when that worker calls done(key).
//   * addAfter(key, d) makes the key ready at now + d; if the key is already waiting for a
//     later time, the earlier time wins.
//   * addRateLimited(key) backs off per key: base * 2^failures, capped (client-go's
//     ItemExponentialFailureRateLimiter), and, optionally, an overall token bucket shared by
//     all keys (client-go's BucketRateLimiter); the delay is the larger of the two, as in
//     client-go's DefaultControllerRateLimiter. forget(key) resets the key's failures.
//
// Shutdown differs from client-go on purpose: after shutDown() or shutDownWithDrain(), get()
// returns nullopt at once and keys queued but not yet handed out are dropped. The operator
// is level-triggered, so the next leader (or the next start) re-lists every object; what
// matters on SIGTERM or lost leadership is that nothing new starts and that work in flight
// finishes (shutDownWithDrain waits for it).
//
// Time: "now" comes from the injected Clock; a background thread moves delayed keys to the
// queue when they are due. It waits on the steady clock for the time left by the injected
// clock (re-reading it at least hourly), so with SystemClock no help is needed; a clock that
// jumps (a manual clock in tests and simulations) calls wakeDelayed() after moving, and the
// thread re-checks at once.
//
// Thread-safety: every method is thread-safe. The Clock must be thread-safe too (SystemClock
// is; simulator::ManualClock is not: tests use a synchronized one).

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include "base/status.h"
#include "base/time.h"
#include "controller/clock.h"
#include "controller/ports.h"

namespace governor::controller {

struct RateLimiterOptions {
  // Delay of a key's first rate-limited retry; doubles with each further failure until
  // forget(key). Default: 5ms (client-go).
  Duration base{5};
  // Cap of the per-key delay. Default: 1000s (client-go).
  Duration max{1'000'000};
  // Overall token bucket shared by all keys: refill rate in keys per second; 0 disables the
  // bucket. It bounds the retry rate when many keys fail at once (an API server outage),
  // where per-key backoff alone would retry everything in lock-step. Default: 10 (client-go).
  double bucket_qps = 10.0;
  // Tokens the bucket holds when full: that many retries may go at once. Default: 100.
  int32_t bucket_burst = 100;
};

class WorkQueue {
 public:
  // `clock` must outlive the queue. Starts the thread that releases delayed keys.
  explicit WorkQueue(const Clock& clock, RateLimiterOptions options = {});
  // Shuts down (without draining) and joins the delay thread.
  ~WorkQueue();

  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `key` unless it is already queued; if a worker holds it, queues it again when the
  // worker calls done(key). Ignored after shutdown.
  void add(const ObjectKey& key);

  // Queues `key` once `delay` has passed on the clock (at once when delay <= 0). If the key
  // already waits for an earlier time, that time stands; if for a later one, it moves
  // earlier. Ignored after shutdown.
  void addAfter(const ObjectKey& key, Duration delay);

  // addAfter(key, the rate limiter's delay for key), and counts a failure of `key`.
  void addRateLimited(const ObjectKey& key);

  // Resets the failures of `key` (its next rate-limited delay is `base` again). Does not
  // touch the queue or the token bucket.
  void forget(const ObjectKey& key);

  // Rate-limited adds of `key` since its last forget().
  int32_t numRequeues(const ObjectKey& key) const;

  // Blocks until a key is ready or the queue shuts down. Returns the key, which the caller
  // now holds until done(key); nullopt once the queue is shut down (even if keys are queued).
  std::optional<ObjectKey> get();

  // Releases a key obtained from get(). If it was added meanwhile, it is queued again.
  // REQUIRES: the caller holds `key` (from get()).
  void done(const ObjectKey& key);

  // Keys ready and waiting for a worker: the queue depth metric.
  size_t len() const;
  // Keys waiting for their delay (addAfter / addRateLimited) to pass.
  size_t numDelayed() const;

  // Stops accepting keys; get() returns nullopt from now on, in every blocked worker too.
  // Returns at once, without waiting for work in flight.
  void shutDown();
  // As shutDown(), then blocks until every key handed out by get() is done().
  // REQUIRES: not called by a worker that holds a key (it would wait for itself).
  void shutDownWithDrain();
  bool shuttingDown() const;

  // Makes the delay thread re-read the clock now. Needed only after a clock jumps ahead (a
  // manual clock); harmless otherwise.
  void wakeDelayed();

 private:
  void addLocked(const ObjectKey& key);
  void addAfterLocked(const ObjectKey& key, TimePoint ready_at);
  Duration rateLimitDelayLocked(const ObjectKey& key, TimePoint now);
  void delayLoop();

  const Clock& clock_;
  const RateLimiterOptions options_;

  mutable std::mutex mu_;
  std::condition_variable items_cv_;    // get(): a key became ready, or shutdown.
  std::condition_variable delay_cv_;    // delayLoop(): a new earliest delay, a wake, shutdown.
  std::condition_variable drained_cv_;  // shutDownWithDrain(): processing_ became empty.

  std::deque<ObjectKey> queue_;                    // Ready keys in FIFO order; each also in dirty_.
  std::set<ObjectKey> dirty_;                      // Keys that need processing.
  std::set<ObjectKey> processing_;                 // Keys held by workers.
  std::map<ObjectKey, TimePoint> waiting_;         // Delayed key -> when it is due.
  std::set<std::pair<TimePoint, ObjectKey>> due_;  // The same, ordered by due time.
  std::map<ObjectKey, int32_t> failures_;          // Per-key rate-limiter state.
  double bucket_tokens_;                           // Token bucket state.
  std::optional<TimePoint> bucket_last_;
  bool shutting_down_ = false;
  bool stop_delay_thread_ = false;
  uint64_t wake_generation_ = 0;  // Bumped by wakeDelayed() so the delay loop cannot miss it.

  std::thread delay_thread_;  // Last: started once every member above is initialized.
};

// What the queue does with a key after a reconcile, from the reconcile's outcome.
struct RequeueDecision {
  enum class Kind {
    kRequeueAfter,  // Success: forget the key's failures and look again after `after`.
    kRateLimited,   // A retryable error: addRateLimited (per-key backoff).
    kForget,        // Forget the key until something adds it again (the watch, on a change).
  };
  Kind kind = Kind::kForget;
  Duration after{0};  // Only for kRequeueAfter.
  friend bool operator==(const RequeueDecision&, const RequeueDecision&) = default;
};

// The one mapping from a reconcile's outcome to the queue (base/status.h codes):
//   OK(d)             kRequeueAfter d (the reconciler's requeueAfter; failures forgotten)
//   NotFound          kForget: the object is gone; a new one is a new watch event
//   InvalidArgument   kForget: terminal until the spec changes, and a change is a watch event
//   Conflict          kRateLimited: retried almost at once (first delay `base`, 5ms) yet
//                     backing off if it keeps conflicting, so two writers cannot livelock
//   anything else     kRateLimited: Unavailable, DeadlineExceeded, ResourceExhausted,
//                     PermissionDenied, Internal... back off, capped at `max`
RequeueDecision requeueDecisionFor(const Result<Duration>& outcome);

// Applies `decision` to `key` in `queue`. Does not call done(key).
void applyRequeueDecision(WorkQueue& queue, const ObjectKey& key, const RequeueDecision& decision);

// Reconciles one key. Must not throw; if it does, the worker logs it and treats it as an
// Internal error (rate-limited retry).
using ReconcileFunc = std::function<Result<Duration>(const ObjectKey&)>;

// Runs `workers` threads, each looping get() -> reconcile(key) -> applyRequeueDecision ->
// done(key), until the queue shuts down. Blocks until every worker has exited; call
// queue.shutDownWithDrain() (from another thread) to stop after the keys in flight.
// REQUIRES: workers >= 1; `reconcile` is safe to call from `workers` threads at once for
// different keys.
void runWorkers(WorkQueue& queue, int workers, const ReconcileFunc& reconcile);

}  // namespace governor::controller
