#include "controller/leader_election.h"

#include <chrono>
#include <condition_variable>
#include <limits>
#include <utility>

#include <spdlog/spdlog.h>

#include "base/duration.h"

namespace governor::controller {

// --- InMemoryLeaseStore -------------------------------------------------------------------

Result<Lease> InMemoryLeaseStore::get() {
  std::lock_guard lock(mu_);
  if (!lease_) return notFound("lease not found");
  return *lease_;
}

Status InMemoryLeaseStore::create(const Lease& lease) {
  std::lock_guard lock(mu_);
  if (lease_) return {StatusCode::kAlreadyExists, "lease already exists"};
  lease_ = lease;
  lease_->resource_version = std::to_string(++version_);
  return {};
}

Status InMemoryLeaseStore::update(const Lease& lease) {
  std::lock_guard lock(mu_);
  if (!lease_) return notFound("lease not found");
  if (lease.resource_version != lease_->resource_version) {
    return {StatusCode::kConflict, "lease resourceVersion " + lease.resource_version +
                                       " is stale (current " + lease_->resource_version + ")"};
  }
  lease_ = lease;
  lease_->resource_version = std::to_string(++version_);
  return {};
}

// --- Options --------------------------------------------------------------------------------

Status validateLeaderElectionOptions(const LeaderElectionOptions& options) {
  using std::chrono::seconds;
  if (options.identity.empty()) return invalidArgument("identity: must not be empty");
  if (options.lease_duration < seconds(1) || options.lease_duration % seconds(1) != Duration(0) ||
      options.lease_duration > seconds(std::numeric_limits<int32_t>::max())) {
    return invalidArgument("lease_duration: must be a whole number of seconds, at least 1s (got " +
                           formatDuration(options.lease_duration) + ")");
  }
  if (options.retry_period <= Duration(0)) {
    return invalidArgument("retry_period: must be positive (got " +
                           formatDuration(options.retry_period) + ")");
  }
  if (options.renew_deadline >= options.lease_duration) {
    return invalidArgument("renew_deadline: must be less than lease_duration (" +
                           formatDuration(options.renew_deadline) +
                           " >= " + formatDuration(options.lease_duration) + ")");
  }
  if (options.retry_period >= options.renew_deadline) {
    return invalidArgument("retry_period: must be less than renew_deadline (" +
                           formatDuration(options.retry_period) +
                           " >= " + formatDuration(options.renew_deadline) + ")");
  }
  return {};
}

bool sleepUnlessStopped(Duration d, std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  cv.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

// --- LeaderElector ----------------------------------------------------------------------

Result<std::unique_ptr<LeaderElector>> LeaderElector::create(LeaseStore& store, const Clock& clock,
                                                             LeaderElectionOptions options,
                                                             SleepFunc sleep) {
  if (Status s = validateLeaderElectionOptions(options); !s.ok()) {
    return s.withContext("leader election");
  }
  if (!sleep) sleep = sleepUnlessStopped;
  return std::unique_ptr<LeaderElector>(
      new LeaderElector(store, clock, std::move(options), std::move(sleep)));
}

LeaderElector::LeaderElector(LeaseStore& store, const Clock& clock, LeaderElectionOptions options,
                             SleepFunc sleep)
    : store_(store), clock_(clock), options_(std::move(options)), sleep_(std::move(sleep)) {}

LeaderElector::~LeaderElector() { stop(); }

void LeaderElector::start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](const std::stop_token& stop) { run(stop); });
}

void LeaderElector::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

bool LeaderElector::isLeader() const {
  std::lock_guard lock(mu_);
  // The second clause holds even when the elector thread is stuck: past lease_duration since
  // our last renewal, another replica may already lead.
  return leading_ && clock_.now() < last_renew_ + options_.lease_duration;
}

std::string LeaderElector::leader() const {
  std::lock_guard lock(mu_);
  return observed_holder_;
}

void LeaderElector::run(const std::stop_token& stop) {
  while (true) {
    const TimePoint attempt = clock_.now();
    const bool held = tryAcquireOrRenew();
    bool started = false;
    bool lost = false;
    {
      std::lock_guard lock(mu_);
      if (held) {
        last_renew_ = attempt;
        started = !leading_;
        leading_ = true;
      } else if (leading_) {
        // Another holder in the record: it is theirs now. Otherwise we could not reach the
        // store: keep trying until renew_deadline has passed since the last success.
        const bool taken = !observed_holder_.empty() && observed_holder_ != options_.identity;
        if (taken || clock_.now() - last_renew_ >= options_.renew_deadline) {
          leading_ = false;
          lost = true;
        }
      }
    }
    if (started) {
      spdlog::info("leader election: {} acquired the lease", options_.identity);
      if (options_.on_started_leading) options_.on_started_leading();
    }
    if (lost) {
      spdlog::warn("leader election: {} lost the lease", options_.identity);
      if (options_.on_stopped_leading) options_.on_stopped_leading();
    }
    if (!sleep_(options_.retry_period, stop)) break;
  }

  bool was_leading = false;
  {
    std::lock_guard lock(mu_);
    was_leading = leading_;
    leading_ = false;  // Stop writing before the Lease is handed back.
  }
  if (was_leading) {
    if (options_.release_on_cancel) release();
    if (options_.on_stopped_leading) options_.on_stopped_leading();
  }
}

bool LeaderElector::tryAcquireOrRenew() {
  const TimePoint now = clock_.now();
  Lease desired;
  desired.holder_identity = options_.identity;
  desired.lease_duration_seconds = static_cast<int32_t>(
      std::chrono::duration_cast<std::chrono::seconds>(options_.lease_duration).count());
  desired.acquire_time = now;
  desired.renew_time = now;

  Result<Lease> current = store_.get();
  if (!current.ok()) {
    if (current.status().code() != StatusCode::kNotFound) {
      spdlog::warn("leader election: reading the lease: {}", current.status().toString());
      return false;
    }
    if (Status s = store_.create(desired); !s.ok()) {
      // AlreadyExists: another replica created it first; the next round reads theirs.
      spdlog::debug("leader election: creating the lease: {}", s.toString());
      return false;
    }
    observe(desired, now);
    return true;
  }

  observe(*current, now);
  const bool ours = current->holder_identity == options_.identity;
  const bool valid = observed_time_ + std::chrono::seconds(current->lease_duration_seconds) > now;
  if (!current->holder_identity.empty() && !ours && valid) return false;

  if (ours) {
    desired.acquire_time = current->acquire_time;
    desired.lease_transitions = current->lease_transitions;
  } else {
    desired.lease_transitions = current->lease_transitions + 1;
  }
  desired.resource_version = current->resource_version;
  if (Status s = store_.update(desired); !s.ok()) {
    // Conflict: another replica wrote since our read (it renewed, or won the race).
    if (s.code() == StatusCode::kConflict) {
      spdlog::debug("leader election: updating the lease: {}", s.toString());
    } else {
      spdlog::warn("leader election: updating the lease: {}", s.toString());
    }
    return false;
  }
  observe(desired, now);
  return true;
}

void LeaderElector::observe(const Lease& lease, TimePoint now) {
  if (!observed_ || *observed_ != lease) {
    observed_ = lease;
    observed_time_ = now;
  }
  {
    std::lock_guard lock(mu_);
    observed_holder_ = lease.holder_identity;
  }
  if (!lease.holder_identity.empty() && lease.holder_identity != reported_leader_) {
    reported_leader_ = lease.holder_identity;
    if (options_.on_new_leader) options_.on_new_leader(reported_leader_);
  }
}

void LeaderElector::release() {
  Result<Lease> current = store_.get();
  if (!current.ok()) {
    spdlog::warn("leader election: releasing the lease: {}", current.status().toString());
    return;
  }
  if (current->holder_identity != options_.identity) return;  // Not ours any more.
  const TimePoint now = clock_.now();
  Lease released;
  released.lease_duration_seconds = 1;  // client-go's ReleaseOnCancel record.
  released.acquire_time = now;
  released.renew_time = now;
  released.lease_transitions = current->lease_transitions;
  released.resource_version = current->resource_version;
  if (Status s = store_.update(released); !s.ok()) {
    spdlog::warn("leader election: releasing the lease: {}", s.toString());
    return;
  }
  observe(released, now);
  spdlog::info("leader election: {} released the lease", options_.identity);
}

}  // namespace governor::controller
