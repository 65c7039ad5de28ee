#include "controller/work_queue.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

namespace governor::controller {

namespace {

// now + d, without overflowing for an absurd d (a requeue of Duration::max()).
TimePoint saturatingAdd(TimePoint now, Duration d) {
  return d > TimePoint::max() - now ? TimePoint::max() : now + d;
}

// The longest single wait of the delay thread: it re-reads the clock at least this often, and
// the steady-clock conversion of a far-off due time cannot overflow.
constexpr Duration kMaxDelayWait = std::chrono::hours(1);

}  // namespace

WorkQueue::WorkQueue(const Clock& clock, RateLimiterOptions options)
    : clock_(clock),
      options_(options),
      bucket_tokens_(static_cast<double>(std::max(options.bucket_burst, 0))),
      delay_thread_([this] { delayLoop(); }) {}

WorkQueue::~WorkQueue() {
  shutDown();
  delay_thread_.join();
}

void WorkQueue::add(const ObjectKey& key) {
  std::lock_guard lock(mu_);
  addLocked(key);
}

void WorkQueue::addLocked(const ObjectKey& key) {
  if (shutting_down_ || dirty_.contains(key)) return;
  dirty_.insert(key);
  // A held key is queued again by done(): never two workers on one key.
  if (processing_.contains(key)) return;
  queue_.push_back(key);
  items_cv_.notify_one();
}

void WorkQueue::addAfter(const ObjectKey& key, Duration delay) {
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  if (delay <= Duration::zero()) {
    addLocked(key);
    return;
  }
  addAfterLocked(key, saturatingAdd(clock_.now(), delay));
}

void WorkQueue::addAfterLocked(const ObjectKey& key, TimePoint ready_at) {
  auto it = waiting_.find(key);
  if (it != waiting_.end()) {
    if (ready_at >= it->second) return;  // The earlier time wins, as in client-go.
    due_.erase({it->second, key});
    it->second = ready_at;
  } else {
    waiting_.emplace(key, ready_at);
  }
  due_.emplace(ready_at, key);
  if (due_.begin()->second == key) {  // A new earliest: the delay loop must wait less.
    ++wake_generation_;
    delay_cv_.notify_one();
  }
}

void WorkQueue::addRateLimited(const ObjectKey& key) {
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  TimePoint now = clock_.now();
  Duration delay = rateLimitDelayLocked(key, now);
  if (delay <= Duration::zero()) {
    addLocked(key);
  } else {
    addAfterLocked(key, saturatingAdd(now, delay));
  }
}

Duration WorkQueue::rateLimitDelayLocked(const ObjectKey& key, TimePoint now) {
  // Per key: base * 2^failures, capped. Computed in double so a long failure streak
  // saturates at the cap instead of overflowing.
  int32_t& failures = failures_[key];
  const double base_ms = static_cast<double>(std::max(options_.base, Duration::zero()).count());
  const Duration cap = std::max(options_.max, Duration::zero());
  const double backoff_ms = base_ms * std::pow(2.0, static_cast<double>(failures));
  if (failures < std::numeric_limits<int32_t>::max()) ++failures;
  const Duration per_key = backoff_ms >= static_cast<double>(cap.count())
                               ? cap
                               : Duration(static_cast<int64_t>(backoff_ms));

  // Overall: a token bucket (golang.org/x/time/rate's reservation). Taking a token when none
  // is left drives the balance negative; the delay is the time to refill to zero.
  Duration bucket{0};
  if (options_.bucket_qps > 0.0) {
    const double burst = static_cast<double>(std::max(options_.bucket_burst, 0));
    if (bucket_last_ && now > *bucket_last_) {
      bucket_tokens_ =
          std::min(burst, bucket_tokens_ + toSeconds(now - *bucket_last_) * options_.bucket_qps);
    }
    if (!bucket_last_ || now > *bucket_last_) bucket_last_ = now;  // A clock going back: no refill.
    bucket_tokens_ -= 1.0;
    if (bucket_tokens_ < 0.0) {
      bucket =
          Duration(static_cast<int64_t>(std::ceil(-bucket_tokens_ / options_.bucket_qps * 1000.0)));
    }
  }
  return std::max(per_key, bucket);
}

void WorkQueue::forget(const ObjectKey& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int32_t WorkQueue::numRequeues(const ObjectKey& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

std::optional<ObjectKey> WorkQueue::get() {
  std::unique_lock lock(mu_);
  items_cv_.wait(lock, [this] { return shutting_down_ || !queue_.empty(); });
  if (shutting_down_) return std::nullopt;
  ObjectKey key = std::move(queue_.front());
  queue_.pop_front();
  dirty_.erase(key);
  processing_.insert(key);
  return key;
}

void WorkQueue::done(const ObjectKey& key) {
  std::lock_guard lock(mu_);
  processing_.erase(key);
  if (shutting_down_) {
    if (processing_.empty()) drained_cv_.notify_all();
    return;
  }
  if (dirty_.contains(key)) {  // Added while held: its turn now.
    queue_.push_back(key);
    items_cv_.notify_one();
  }
}

size_t WorkQueue::len() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

size_t WorkQueue::numDelayed() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

void WorkQueue::shutDown() {
  std::lock_guard lock(mu_);
  shutting_down_ = true;
  stop_delay_thread_ = true;
  // Keys not yet handed out are dropped: the next start re-lists every object.
  queue_.clear();
  dirty_.clear();
  waiting_.clear();
  due_.clear();
  items_cv_.notify_all();
  delay_cv_.notify_all();
  if (processing_.empty()) drained_cv_.notify_all();
}

void WorkQueue::shutDownWithDrain() {
  shutDown();
  std::unique_lock lock(mu_);
  drained_cv_.wait(lock, [this] { return processing_.empty(); });
}

bool WorkQueue::shuttingDown() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

void WorkQueue::wakeDelayed() {
  std::lock_guard lock(mu_);
  ++wake_generation_;
  delay_cv_.notify_all();
}

void WorkQueue::delayLoop() {
  std::unique_lock lock(mu_);
  while (!stop_delay_thread_) {
    const TimePoint now = clock_.now();
    while (!due_.empty() && due_.begin()->first <= now) {
      ObjectKey key = due_.begin()->second;
      due_.erase(due_.begin());
      waiting_.erase(key);
      addLocked(key);
    }
    const uint64_t generation = wake_generation_;
    auto woken = [&] { return stop_delay_thread_ || wake_generation_ != generation; };
    if (due_.empty()) {
      delay_cv_.wait(lock, woken);
    } else {
      // The time left by the injected clock, waited on the steady clock: immune to the wall
      // clock being set back while we wait. A jumping clock calls wakeDelayed().
      delay_cv_.wait_for(lock, std::min(due_.begin()->first - now, kMaxDelayWait), woken);
    }
  }
}

RequeueDecision requeueDecisionFor(const Result<Duration>& outcome) {
  if (outcome.ok()) {
    return {RequeueDecision::Kind::kRequeueAfter, std::max(*outcome, Duration::zero())};
  }
  switch (outcome.status().code()) {
    case StatusCode::kNotFound:
    case StatusCode::kInvalidArgument:
      return {RequeueDecision::Kind::kForget, Duration::zero()};
    default:
      return {RequeueDecision::Kind::kRateLimited, Duration::zero()};
  }
}

void applyRequeueDecision(WorkQueue& queue, const ObjectKey& key, const RequeueDecision& decision) {
  switch (decision.kind) {
    case RequeueDecision::Kind::kRequeueAfter:
      queue.forget(key);
      queue.addAfter(key, decision.after);
      return;
    case RequeueDecision::Kind::kRateLimited:
      queue.addRateLimited(key);
      return;
    case RequeueDecision::Kind::kForget:
      queue.forget(key);
      return;
  }
}

namespace {

Result<Duration> reconcileGuarded(const ReconcileFunc& reconcile, const ObjectKey& key) {
  // The edge where a stray exception becomes a Status: a worker thread must not die.
  try {
    return reconcile(key);
  } catch (const std::exception& e) {
    spdlog::error("reconcile {} threw: {}", key.toString(), e.what());
    return internalError("reconcile " + key.toString() + " threw: " + e.what());
  } catch (...) {
    spdlog::error("reconcile {} threw a non-standard exception", key.toString());
    return internalError("reconcile " + key.toString() + " threw a non-standard exception");
  }
}

void workerLoop(WorkQueue& queue, const ReconcileFunc& reconcile) {
  while (std::optional<ObjectKey> key = queue.get()) {
    Result<Duration> outcome = reconcileGuarded(reconcile, *key);
    applyRequeueDecision(queue, *key, requeueDecisionFor(outcome));
    queue.done(*key);
  }
}

}  // namespace

void runWorkers(WorkQueue& queue, int workers, const ReconcileFunc& reconcile) {
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(std::max(workers, 1)));
  for (int i = 0; i < std::max(workers, 1); ++i) {
    threads.emplace_back([&queue, &reconcile] { workerLoop(queue, reconcile); });
  }
  for (std::thread& t : threads) t.join();
}

}  // namespace governor::controller
