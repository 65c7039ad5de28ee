#include "controller/operator/operator.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "base/duration.h"
#include "controller/clock.h"
#include "controller/health_server.h"
#include "controller/kube/client.h"
#include "controller/kube/config.h"
#include "controller/kube/events.h"
#include "controller/kube/informer.h"
#include "controller/kube/rest_mapper.h"
#include "controller/kube_cluster.h"
#include "controller/kube_lease_store.h"
#include "controller/kube_rollout_cluster.h"
#include "controller/leader_election.h"
#include "controller/operator_metrics.h"
#include "controller/predictive_source.h"
#include "controller/prometheus/endpoints_file.h"
#include "controller/prometheus/metrics_source.h"
#include "controller/reconciler.h"
#include "controller/rollout_controller.h"
#include "controller/work_queue.h"

namespace governor::controller {
namespace {

using nlohmann::json;

ObjectKey keyOf(const json& object) {
  const json& md = object.value("metadata", json::object());
  return ObjectKey{md.value("namespace", ""), md.value("name", "")};
}

int64_t generationOf(const json& object) {
  const json& md = object.value("metadata", json::object());
  auto it = md.find("generation");
  return it != md.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

bool deleting(const json& object) {
  const json& md = object.value("metadata", json::object());
  return md.contains("deletionTimestamp") && !md["deletionTimestamp"].is_null();
}

std::string defaultIdentity() {
  std::string base;
  if (const char* pod = std::getenv("POD_NAME"); pod != nullptr && *pod != '\0') {
    base = pod;
  } else {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0) base = host;
    if (base.empty()) base = "governor";
  }
  std::random_device rd;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "_%08x", rd());
  return base + suffix;
}

// Stands in for Prometheus when no --prometheus-url was given: every fetch fails, saying so,
// so policies with metrics hold and their ScalingActive condition tells why.
class NoMetricsSource final : public MetricsSource {
 public:
  Result<MetricSnapshot> fetch(const std::vector<MetricQuery>&, TimePoint) override {
    return Status(StatusCode::kFailedPrecondition,
                  "no Prometheus configured: start the operator with --prometheus-url");
  }
};

// The default endpoint, as the --prometheus-* flags describe it.
prom::PrometheusEndpoint defaultEndpoint(const OperatorOptions& o) {
  prom::PrometheusEndpoint endpoint;
  endpoint.url = o.prometheus_url;
  endpoint.timeout = o.prometheus_timeout;
  endpoint.bearer_token_file = o.prometheus_bearer_token_file;
  endpoint.basic_auth_username = o.prometheus_basic_auth_username;
  endpoint.basic_auth_password_file = o.prometheus_basic_auth_password_file;
  endpoint.ca_file = o.prometheus_ca_file;
  endpoint.insecure_skip_tls_verify = o.prometheus_insecure_skip_tls_verify;
  endpoint.headers = o.prometheus_headers;
  return endpoint;
}

// What an endpoint's log line says about it: how it authenticates and verifies TLS, and
// which headers it sends. Never a credential or a header's value (a custom header may carry
// an API key).
std::string describeEndpoint(const prom::PrometheusEndpoint& e) {
  std::string auth = "no credentials";
  if (!e.bearer_token_file.empty()) auth = "bearer token from " + e.bearer_token_file;
  if (!e.basic_auth_username.empty()) {
    auth =
        "basic auth as " + e.basic_auth_username + ", password from " + e.basic_auth_password_file;
  }
  std::string tls = e.insecure_skip_tls_verify ? "TLS NOT verified"
                    : e.ca_file.empty()        ? "system CAs"
                                               : "CAs from " + e.ca_file;
  std::string headers;
  for (const auto& [name, value] : e.headers) headers += (headers.empty() ? "" : ",") + name;
  return e.url + " (" + auth + "; " + tls + "; timeout " + formatDuration(e.timeout) +
         (headers.empty() ? "" : "; headers " + headers) + ")";
}

ScaleDirection directionOf(const policies::Decision& d) {
  if (d.replicas > d.current) return ScaleDirection::kUp;
  if (d.replicas < d.current) return ScaleDirection::kDown;
  return ScaleDirection::kNone;
}

// Everything one operator process owns, in construction order (destroyed in reverse).
class Operator {
 public:
  explicit Operator(const OperatorOptions& options) : options_(options) {}

  Status run(std::stop_token stop);

 private:
  Status setUp();
  void registerHandlers(kube::Informer& informer, bool hpas);
  void enqueue(const ObjectKey& key);
  void enqueueNamespace(const std::string& namespace_);
  Status lead(std::stop_token stop);
  void worker(Reconciler& reconciler);
  // How long from now until `key`'s next evaluation is due, for a reconcile that started at
  // `start` and asked to be requeued `after`; records that due time.
  Duration untilNextDue(const ObjectKey& key, std::chrono::steady_clock::time_point start,
                        Duration after);
  void publishGauges();
  bool cachesSynced() const;
  // The rollout side. pollRollouts (from the thread of run(), about every second) finds the
  // Rollout CRD (at start, then every rollout_discovery_period until found) and starts the
  // informers; rolloutsSynced says when workers may start.
  void pollRollouts();
  Status startRollouts();
  bool rolloutsSynced() const;
  void enqueueRollout(const ObjectKey& key);
  void rolloutWorker(WorkQueue& queue, RolloutReconciler& reconciler);

  const OperatorOptions& options_;
  SystemClock clock_;
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<kube::RestMapper> mapper_;
  std::unique_ptr<kube::EventRecorder> events_;
  std::vector<std::unique_ptr<kube::Informer>> policy_informers_;
  std::vector<std::unique_ptr<kube::Informer>> hpa_informers_;
  std::unique_ptr<OperatorMetrics> metrics_;
  std::unique_ptr<HealthServer> health_;
  std::unique_ptr<MetricsSource> metric_source_;
  std::unique_ptr<MetricsSource> analysis_source_;  // As metric_source_, without the cache.
  // Shared by every worker (thread-safe across keys); backfills from Prometheus.
  std::unique_ptr<PredictiveProposalSource> predictive_;
  std::unique_ptr<KubeCluster> cluster_;
  std::unique_ptr<KubeLeaseStore> lease_store_;
  std::unique_ptr<LeaderElector> elector_;
  std::string identity_;

  // The queue exists while this replica leads; handlers add to it under the lock.
  std::shared_mutex queue_mu_;
  WorkQueue* queue_ = nullptr;

  std::mutex due_mu_;
  std::map<ObjectKey, std::chrono::steady_clock::time_point> due_;  // Guarded by due_mu_.

  std::mutex state_mu_;
  std::condition_variable_any state_cv_;
  bool leading_ = false;  // Guarded by state_mu_.
  bool lost_ = false;     // Guarded by state_mu_.

  std::map<std::string, uint64_t> watch_restarts_seen_;

  // Rollouts: empty until the CRD is found (only the thread of run() changes them).
  std::vector<std::unique_ptr<kube::Informer>> rollout_informers_;
  std::vector<std::unique_ptr<kube::Informer>> replica_set_informers_;
  std::unique_ptr<KubeRolloutCluster> rollout_cluster_;
  std::unique_ptr<MetricsSourceQuerier> analysis_querier_;
  std::optional<std::chrono::steady_clock::time_point> next_rollout_discovery_;
  bool rollout_warning_logged_ = false;
  // The rollout queue exists while this replica leads and the rollout side runs.
  std::shared_mutex rollout_queue_mu_;
  WorkQueue* rollout_queue_ = nullptr;
};

Status Operator::setUp() {
  kube::LoadOptions load;
  load.kubeconfig = options_.kubeconfig;
  load.context = options_.context;
  auto config = kube::loadClientConfig(load);
  if (!config.ok()) return config.status();
  auto client = kube::Client::fromConfig(*config);
  if (!client.ok()) return client.status();
  client_ = std::move(client).value();
  spdlog::info("API server {}", client_->config().server);

  identity_ = options_.identity.empty() ? defaultIdentity() : options_.identity;
  mapper_ = std::make_unique<kube::RestMapper>(*client_);
  kube::EventRecorderOptions event_options;
  event_options.instance = identity_;
  events_ = std::make_unique<kube::EventRecorder>(*client_, event_options);

  auto metrics = OperatorMetrics::create(options_.metrics_addr);
  if (!metrics.ok()) return metrics.status();
  metrics_ = std::move(metrics).value();

  MetricHistory* history = nullptr;  // Without Prometheus the predictive policy cannot backfill.
  if (options_.prometheus_url.empty()) {
    metric_source_ = std::make_unique<NoMetricsSource>();
    spdlog::warn("no --prometheus-url: policies with metrics will hold (schedules still work)");
  } else {
    const prom::PrometheusEndpoint endpoint = defaultEndpoint(options_);
    prom::EndpointsConfig endpoints;
    if (!options_.prometheus_endpoints_file.empty()) {
      auto loaded = prom::loadEndpointsConfig(options_.prometheus_endpoints_file);
      if (!loaded.ok()) return loaded.status().withContext("--prometheus-endpoints");
      endpoints = std::move(loaded).value();
    }
    // The default URL always selects the default endpoint (metrics_source.h); an entry for
    // it would apply to the policies that name it but not to those that do not.
    if (endpoints.by_address.contains(endpoint.url)) {
      return invalidArgument("--prometheus-endpoints: " + options_.prometheus_endpoints_file +
                             ": \"" + endpoint.url +
                             "\" is --prometheus-url: configure the default endpoint with the "
                             "--prometheus-* flags only");
    }
    spdlog::info("default Prometheus: {}", describeEndpoint(endpoint));
    if (endpoint.insecure_skip_tls_verify) {
      spdlog::warn(
          "--prometheus-insecure-skip-tls-verify: the default Prometheus's certificate "
          "is not verified; use it for test clusters only");
    }
    for (const auto& [address, configured] : endpoints.by_address) {
      spdlog::info("Prometheus endpoint: {}", describeEndpoint(configured));
      if (configured.insecure_skip_tls_verify) {
        spdlog::warn(
            "Prometheus endpoint {}: insecureSkipVerify: the certificate is not "
            "verified; use it for test clusters only",
            address);
      }
    }
    if (!options_.prometheus_endpoints_file.empty()) {
      spdlog::info("Prometheus addresses not in {}: {}", options_.prometheus_endpoints_file,
                   endpoints.allow_unlisted_addresses
                       ? "allowed, queried without credentials"
                       : "refused (the metric fails with FailedGetMetrics)");
    }
    prom::MetricsSourceOptions source_options;
    source_options.allow_unlisted_addresses = endpoints.allow_unlisted_addresses;
    // Analyses get their own source without the dedupe cache: a measurement must be a fresh
    // query (a retry right after a failed measurement would otherwise reuse its value).
    prom::MetricsSourceOptions analysis_options = source_options;
    analysis_options.dedupe_window = Duration(0);
    auto analysis =
        prom::PrometheusMetricsSource::create(endpoint, endpoints.by_address, analysis_options);
    if (!analysis.ok()) return analysis.status();
    analysis_source_ = std::move(analysis).value();
    auto source = prom::PrometheusMetricsSource::create(endpoint, std::move(endpoints.by_address),
                                                        source_options);
    if (!source.ok()) return source.status();
    history = source->get();
    metric_source_ = std::move(source).value();
  }
  predictive_ = std::make_unique<PredictiveProposalSource>(history);

  std::vector<std::string> namespaces = options_.namespaces;
  if (namespaces.empty()) namespaces.push_back("");  // All namespaces.
  // HPAs are checked only where the API server serves autoscaling/v2.
  const bool hpas_served = mapper_->resolve("autoscaling/v2", "HorizontalPodAutoscaler").ok();
  if (!hpas_served) {
    spdlog::warn(
        "autoscaling/v2 HorizontalPodAutoscalers are not served: only other "
        "ScalingPolicies are checked for targets managed twice");
  }
  for (const std::string& ns : namespaces) {
    auto informer = std::make_unique<kube::Informer>(*client_, scalingPolicies(ns));
    registerHandlers(*informer, false);
    policy_informers_.push_back(std::move(informer));
    if (hpas_served) {
      auto hpa = std::make_unique<kube::Informer>(*client_, horizontalPodAutoscalers(ns));
      registerHandlers(*hpa, true);
      hpa_informers_.push_back(std::move(hpa));
    }
  }
  std::vector<kube::Informer*> policies, hpas;
  for (auto& i : policy_informers_) policies.push_back(i.get());
  for (auto& i : hpa_informers_) hpas.push_back(i.get());
  KubeClusterOptions cluster_options;
  if (options_.leader_elect) {
    cluster_options.may_write = [this] { return elector_ != nullptr && elector_->isLeader(); };
  }
  cluster_ =
      std::make_unique<KubeCluster>(*client_, *mapper_, *events_, policies, hpas, cluster_options);

  if (!options_.health_addr.empty()) {
    auto health = HealthServer::start(
        options_.health_addr, [] { return Status(); },
        [this]() -> Status {
          if (!cachesSynced()) return unavailable("informer caches have not synced yet");
          return Status();
        });
    if (!health.ok()) return health.status();
    health_ = std::move(health).value();
  }
  return Status();
}

void Operator::registerHandlers(kube::Informer& informer, bool hpas) {
  if (hpas) {
    auto requeue = [this](const json& hpa) {
      enqueueNamespace(hpa.value("metadata", json::object()).value("namespace", ""));
    };
    informer.onAdd(requeue);
    informer.onUpdate([requeue](const json&, const json& now) { requeue(now); });
    informer.onDelete(requeue);
    return;
  }
  informer.onAdd([this](const json& p) { enqueue(keyOf(p)); });
  informer.onUpdate([this](const json& before, const json& after) {
    // Status-only updates (our own writes, mostly) bump the resourceVersion but not the
    // generation: they need no reconcile.
    if (generationOf(before) != generationOf(after) || deleting(after)) enqueue(keyOf(after));
  });
  informer.onDelete([this](const json& p) {
    const ObjectKey key = keyOf(p);
    if (cluster_ != nullptr) cluster_->forget(key);
    enqueue(key);
    // Another policy may have been waiting for this target.
    enqueueNamespace(key.namespace_);
  });
}

void Operator::enqueue(const ObjectKey& key) {
  std::shared_lock lock(queue_mu_);
  if (queue_ != nullptr) queue_->add(key);
}

void Operator::enqueueNamespace(const std::string& namespace_) {
  std::shared_lock lock(queue_mu_);
  if (queue_ == nullptr) return;
  for (auto& informer : policy_informers_) {
    for (const kube::ObjectPtr& p : informer->list()) {
      ObjectKey key = keyOf(*p);
      if (key.namespace_ == namespace_) queue_->add(key);
    }
  }
}

bool Operator::cachesSynced() const {
  for (const auto& i : policy_informers_) {
    if (!i->hasSynced()) return false;
  }
  for (const auto& i : hpa_informers_) {
    if (!i->hasSynced()) return false;
  }
  return true;
}

void Operator::publishGauges() {
  size_t policies = 0;
  for (auto& i : policy_informers_) {
    policies += i->list().size();
    const uint64_t restarts = i->watchRestarts();
    uint64_t& seen = watch_restarts_seen_["scalingpolicies"];
    for (; seen < restarts; ++seen) metrics_->recordWatchRestart("scalingpolicies");
  }
  for (auto& i : hpa_informers_) {
    const uint64_t restarts = i->watchRestarts();
    uint64_t& seen = watch_restarts_seen_["horizontalpodautoscalers"];
    for (; seen < restarts; ++seen) metrics_->recordWatchRestart("horizontalpodautoscalers");
  }
  metrics_->setPolicies(policies);
  std::shared_lock lock(queue_mu_);
  metrics_->setWorkqueueDepth(queue_ != nullptr ? queue_->len() : 0);
}

Duration Operator::untilNextDue(const ObjectKey& key, std::chrono::steady_clock::time_point start,
                                Duration after) {
  // Fixed rate: the next evaluation is due `after` from when this one was due, not from when
  // it ran, so a policy that waited in the queue (the burst of every policy at start-up, a
  // slow API server) does not carry the delay into every later period. At least half of
  // `after` from this start, so a late policy is not evaluated twice in a row. An early
  // evaluation (a spec change) counts from its start.
  std::lock_guard lock(due_mu_);
  auto due = start;
  if (auto it = due_.find(key); it != due_.end() && it->second < start) due = it->second;
  const auto next_due = std::max(due + after, start + after / 2);
  due_[key] = next_due;
  return std::max(Duration(0), std::chrono::duration_cast<Duration>(
                                   next_due - std::chrono::steady_clock::now()));
}

void Operator::worker(Reconciler& reconciler) {
  WorkQueue* queue = queue_;
  while (auto key = queue->get()) {
    const auto start = std::chrono::steady_clock::now();
    Result<Duration> result = reconciler.reconcile(*key);
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    metrics_->observeReconcile(elapsed, result.ok() ? Status() : result.status());
    if (const auto& outcome = reconciler.lastOutcome()) {
      metrics_->recordScaleDecision(directionOf(outcome->decision), options_.dry_run);
    }
    if (!result.ok() && result.status().code() != StatusCode::kNotFound) {
      spdlog::warn("reconcile {}: {}", key->toString(), result.status().toString());
    }
    RequeueDecision next = requeueDecisionFor(result);
    if (next.kind == RequeueDecision::Kind::kRequeueAfter) {
      next.after = untilNextDue(*key, start, next.after);
    } else {
      std::lock_guard lock(due_mu_);
      due_.erase(*key);
    }
    applyRequeueDecision(*queue, *key, next);
    queue->done(*key);
  }
}

Status Operator::lead(std::stop_token stop) {
  spdlog::info("{}: leading; starting {} workers", identity_, options_.workers);
  WorkQueue queue(clock_);
  {
    std::unique_lock lock(queue_mu_);
    queue_ = &queue;
  }
  for (auto& informer : policy_informers_) {
    for (const kube::ObjectPtr& p : informer->list()) queue.add(keyOf(*p));
  }
  ReconcilerOptions reconciler_options;
  reconciler_options.sync_period = options_.sync_period;
  reconciler_options.dry_run = options_.dry_run;
  std::vector<std::unique_ptr<Reconciler>> reconcilers;
  std::vector<std::thread> workers;
  for (int i = 0; i < options_.workers; ++i) {
    reconcilers.push_back(std::make_unique<Reconciler>(*cluster_, *metric_source_, clock_,
                                                       reconciler_options, predictive_.get()));
    workers.emplace_back([this, r = reconcilers.back().get()] { worker(*r); });
  }
  // The rollout side: its own queue, so a burst of policies never delays a release (and the
  // reverse); its workers start once its caches have synced, which may be later (the CRD
  // installed after start-up).
  WorkQueue rollout_queue(clock_);
  std::vector<std::unique_ptr<RolloutReconciler>> rollout_reconcilers;
  std::vector<std::thread> rollout_workers;
  auto startRolloutWorkers = [&] {
    if (!rollout_workers.empty() || !rolloutsSynced()) return;
    {
      std::unique_lock lock(rollout_queue_mu_);
      rollout_queue_ = &rollout_queue;
    }
    for (auto& informer : rollout_informers_) {
      for (const kube::ObjectPtr& r : informer->list()) rollout_queue.add(keyOf(*r));
    }
    RolloutReconcilerOptions rollout_options;
    for (int i = 0; i < options_.workers; ++i) {
      rollout_reconcilers.push_back(std::make_unique<RolloutReconciler>(
          *rollout_cluster_, *analysis_querier_, rollout_options));
      rollout_workers.emplace_back([this, &rollout_queue, r = rollout_reconcilers.back().get()] {
        rolloutWorker(rollout_queue, *r);
      });
    }
    spdlog::info("{}: rollout controller: {} workers", identity_, options_.workers);
  };

  Status ended;
  {
    std::unique_lock lock(state_mu_);
    while (!stop.stop_requested() && !lost_) {
      lock.unlock();
      publishGauges();
      pollRollouts();
      startRolloutWorkers();
      lock.lock();
      state_cv_.wait_for(lock, stop, std::chrono::seconds(1), [&] { return lost_; });
    }
    if (lost_) ended = unavailable("leader election lost");
  }

  // Drain: no new keys; each worker finishes the reconcile it is in (every API and
  // Prometheus call in it has a timeout) and exits.
  queue.shutDown();
  rollout_queue.shutDown();
  for (auto& w : workers) w.join();
  for (auto& w : rollout_workers) w.join();
  {
    std::unique_lock lock(rollout_queue_mu_);
    rollout_queue_ = nullptr;
  }
  {
    std::unique_lock lock(queue_mu_);
    queue_ = nullptr;
  }
  spdlog::info("{}: workers stopped", identity_);
  return ended;
}

Status Operator::run(std::stop_token stop) {
  if (Status s = validateOperatorOptions(options_); !s.ok()) return s;
  if (Status s = setUp(); !s.ok()) return s;
  for (auto& i : policy_informers_) i->start();
  for (auto& i : hpa_informers_) i->start();
  const auto sync_deadline = std::chrono::steady_clock::now() + options_.cache_sync_timeout;
  while (!cachesSynced()) {
    if (stop.stop_requested()) return Status();
    if (std::chrono::steady_clock::now() > sync_deadline) {
      Status last;
      for (auto& i : policy_informers_) {
        if (!i->lastError().ok()) last = i->lastError();
      }
      return unavailable("informer caches did not sync within " +
                         std::to_string(options_.cache_sync_timeout.count() / 1000) +
                         "s: " + (last.ok() ? std::string("no answer") : last.toString()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  pollRollouts();  // Rollout caches sync on their own: they never hold policies up.
  spdlog::info("caches synced: {} ScalingPolicies", [&] {
    size_t n = 0;
    for (auto& i : policy_informers_) n += i->list().size();
    return n;
  }());

  Status result;
  if (!options_.leader_elect) {
    metrics_->setLeader(true);
    result = lead(stop);
  } else {
    const std::string ns = options_.leader_elect_namespace.empty()
                               ? defaultLeaderElectionNamespace()
                               : options_.leader_elect_namespace;
    lease_store_ = std::make_unique<KubeLeaseStore>(*client_, ns, options_.leader_elect_name);
    LeaderElectionOptions election;
    election.identity = identity_;
    election.lease_duration = options_.lease_duration;
    election.renew_deadline = options_.renew_deadline;
    election.retry_period = options_.retry_period;
    election.on_started_leading = [this] {
      metrics_->setLeader(true);
      std::lock_guard lock(state_mu_);
      leading_ = true;
      state_cv_.notify_all();
    };
    election.on_stopped_leading = [this] {
      metrics_->setLeader(false);
      std::lock_guard lock(state_mu_);
      if (leading_) lost_ = true;
      state_cv_.notify_all();
    };
    election.on_new_leader = [this](const std::string& who) {
      spdlog::info("{}: the leader is {}", identity_, who);
    };
    auto elector = LeaderElector::create(*lease_store_, clock_, election);
    if (!elector.ok()) return elector.status();
    elector_ = std::move(elector).value();
    spdlog::info("{}: waiting for the Lease {}/{}", identity_, ns, options_.leader_elect_name);
    elector_->start();
    bool leading = false;
    {
      std::unique_lock lock(state_mu_);
      while (!stop.stop_requested() && !leading_) {
        lock.unlock();
        publishGauges();
        pollRollouts();  // Followers keep warm caches too.
        lock.lock();
        state_cv_.wait_for(lock, stop, std::chrono::seconds(1), [&] { return leading_; });
      }
      leading = leading_;
    }
    if (leading) result = lead(stop);
    elector_->stop();  // Releases the Lease when we hold it.
  }
  for (auto& i : policy_informers_) i->stop();
  for (auto& i : hpa_informers_) i->stop();
  for (auto& i : rollout_informers_) i->stop();
  for (auto& i : replica_set_informers_) i->stop();
  if (health_) health_->stop();
  return result;
}

void Operator::pollRollouts() {
  if (options_.disable_rollouts || rollout_cluster_ != nullptr) return;
  const auto now = std::chrono::steady_clock::now();
  if (next_rollout_discovery_ && now < *next_rollout_discovery_) return;
  next_rollout_discovery_ = now + options_.rollout_discovery_period;
  Status started = startRollouts();
  if (started.ok()) return;
  if (!rollout_warning_logged_) {
    rollout_warning_logged_ = true;
    spdlog::warn(
        "Rollouts are not reconciled: {}; ScalingPolicies run as usual; looking again every {}",
        started.message(), formatDuration(options_.rollout_discovery_period));
  } else {
    spdlog::debug("Rollouts still not reconciled: {}", started.message());
  }
}

Status Operator::startRollouts() {
  // A list of one item: 404 when the CRD is not installed (or not yet established).
  const std::string probe_ns = options_.namespaces.empty() ? "" : options_.namespaces.front();
  kube::ListOptions probe;
  probe.limit = 1;
  auto listed = client_->list(rolloutResources(probe_ns), probe);
  if (!listed.ok()) {
    if (listed.status().code() == StatusCode::kNotFound) {
      return notFound("the Rollout CRD (rollouts.governor.io, v1alpha1) is not installed");
    }
    return listed.status().withContext("listing Rollouts");
  }
  std::vector<std::string> namespaces = options_.namespaces;
  if (namespaces.empty()) namespaces.push_back("");  // All namespaces.
  for (const std::string& ns : namespaces) {
    auto rollouts = std::make_unique<kube::Informer>(*client_, rolloutResources(ns));
    rollouts->onAdd([this](const json& r) { enqueueRollout(keyOf(r)); });
    rollouts->onUpdate([this](const json& before, const json& after) {
      // Our own status writes need no reconcile; a person's promote/abort (a status patch)
      // and spec changes do.
      const json none;
      const json& sb = before.contains("status") ? before["status"] : none;
      const json& sa = after.contains("status") ? after["status"] : none;
      auto field = [&](const json& s, const char* name) {
        return s.is_object() && s.contains(name) ? s[name] : none;
      };
      if (generationOf(before) != generationOf(after) || deleting(after) ||
          field(sb, "abort") != field(sa, "abort") ||
          field(sb, "promote") != field(sa, "promote")) {
        enqueueRollout(keyOf(after));
      }
    });
    rollouts->onDelete([this](const json& r) {
      const ObjectKey key = keyOf(r);
      if (rollout_cluster_ != nullptr) rollout_cluster_->forget(key);
      enqueueRollout(key);
    });
    kube::InformerOptions rs_options;
    rs_options.label_selector = kRolloutLabel;  // Only the ReplicaSets Rollouts own.
    auto replica_sets =
        std::make_unique<kube::Informer>(*client_, replicaSetResources(ns), rs_options);
    auto owner = [this](const json& rs) {
      if (auto key = rolloutKeyOf(rs)) enqueueRollout(*key);
    };
    replica_sets->onAdd(owner);
    replica_sets->onUpdate([owner](const json&, const json& after) { owner(after); });
    replica_sets->onDelete(owner);
    rollout_informers_.push_back(std::move(rollouts));
    replica_set_informers_.push_back(std::move(replica_sets));
  }
  std::vector<kube::Informer*> rollouts, replica_sets;
  for (auto& i : rollout_informers_) rollouts.push_back(i.get());
  for (auto& i : replica_set_informers_) replica_sets.push_back(i.get());
  KubeRolloutClusterOptions cluster_options;
  if (options_.leader_elect) {
    cluster_options.may_write = [this] { return elector_ != nullptr && elector_->isLeader(); };
  }
  auto cluster = std::make_unique<KubeRolloutCluster>(*client_, *events_, rollouts, replica_sets,
                                                      cluster_options);
  analysis_querier_ = std::make_unique<MetricsSourceQuerier>(
      analysis_source_ != nullptr ? *analysis_source_ : *metric_source_);
  rollout_cluster_ = std::move(cluster);  // Before the handlers' threads can read it.
  for (auto& i : rollout_informers_) i->start();
  for (auto& i : replica_set_informers_) i->start();
  spdlog::info("rollout controller: watching Rollouts and their ReplicaSets");
  return Status();
}

bool Operator::rolloutsSynced() const {
  if (rollout_cluster_ == nullptr) return false;
  for (const auto& i : rollout_informers_) {
    if (!i->hasSynced()) return false;
  }
  for (const auto& i : replica_set_informers_) {
    if (!i->hasSynced()) return false;
  }
  return true;
}

void Operator::enqueueRollout(const ObjectKey& key) {
  std::shared_lock lock(rollout_queue_mu_);
  if (rollout_queue_ != nullptr) rollout_queue_->add(key);
}

void Operator::rolloutWorker(WorkQueue& queue, RolloutReconciler& reconciler) {
  while (auto key = queue.get()) {
    const auto start = std::chrono::steady_clock::now();
    Result<Duration> result = reconciler.reconcile(*key, clock_.now());
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    metrics_->observeRolloutReconcile(elapsed, result.ok() ? Status() : result.status());
    if (const auto& phase = reconciler.lastPhase()) {
      metrics_->setRolloutPhase(key->namespace_, key->name, *phase);
    } else if (!result.ok() && result.status().code() == StatusCode::kNotFound) {
      metrics_->forgetRollout(key->namespace_, key->name);  // Deleted.
    }
    if (!result.ok() && result.status().code() != StatusCode::kNotFound) {
      spdlog::warn("reconcile Rollout {}: {}", key->toString(), result.status().toString());
    }
    applyRequeueDecision(queue, *key, requeueDecisionFor(result));
    queue.done(*key);
  }
}

}  // namespace

std::string defaultLeaderElectionNamespace(const std::string& service_account_dir) {
  std::ifstream in(service_account_dir + "/namespace");
  std::string ns;
  if (in && std::getline(in, ns) && !ns.empty()) return ns;
  return "governor-system";
}

namespace {

Status validatePrometheusOptions(const OperatorOptions& o) {
  if (o.prometheus_url.empty()) {
    // Without a default endpoint these settings would be ignored without a word.
    const std::pair<bool, const char*> needs_url[] = {
        {!o.prometheus_bearer_token_file.empty(), "--prometheus-bearer-token-file"},
        {!o.prometheus_basic_auth_username.empty(), "--prometheus-basic-auth-username"},
        {!o.prometheus_basic_auth_password_file.empty(), "--prometheus-basic-auth-password-file"},
        {!o.prometheus_ca_file.empty(), "--prometheus-ca-file"},
        {o.prometheus_insecure_skip_tls_verify, "--prometheus-insecure-skip-tls-verify"},
        {!o.prometheus_headers.empty(), "--prometheus-header"},
        {!o.prometheus_endpoints_file.empty(), "--prometheus-endpoints"},
    };
    for (const auto& [set, flag] : needs_url) {
      if (set) return invalidArgument(std::string(flag) + ": needs --prometheus-url");
    }
    return Status();
  }
  const bool user = !o.prometheus_basic_auth_username.empty();
  const bool password = !o.prometheus_basic_auth_password_file.empty();
  if (user && !password) {
    return invalidArgument(
        "--prometheus-basic-auth-username: needs --prometheus-basic-auth-password-file");
  }
  if (password && !user) {
    return invalidArgument(
        "--prometheus-basic-auth-password-file: needs --prometheus-basic-auth-username");
  }
  if (user && !o.prometheus_bearer_token_file.empty()) {
    return invalidArgument(
        "--prometheus-bearer-token-file: cannot be combined with --prometheus-basic-auth-*: "
        "choose one");
  }
  const Status valid = prom::validateEndpoint(defaultEndpoint(o));
  if (valid.ok()) return valid;
  // validateEndpoint names PrometheusEndpoint's fields; the user wrote flags.
  std::string message = valid.message();
  for (const auto& [field, flag] :
       {std::pair<std::string_view, std::string_view>{
            "basic_auth_username and basic_auth_password_file",
            "--prometheus-basic-auth-username and --prometheus-basic-auth-password-file"},
        {"bearer_token_file or basic auth",
         "--prometheus-bearer-token-file or --prometheus-basic-auth-*"}}) {
    if (size_t at = message.find(field); at != std::string::npos) {
      message.replace(at, field.size(), flag);
    }
  }
  for (const auto& [field, flag] :
       {std::pair<std::string_view, std::string_view>{"url: ", "--prometheus-url: "},
        {"timeout: ", "--prometheus-timeout: "},
        {"headers: ", "--prometheus-header: "},
        {"headers.", "--prometheus-header "}}) {
    if (message.starts_with(field)) {
      return invalidArgument(std::string(flag) + message.substr(field.size()));
    }
  }
  return invalidArgument("--prometheus-*: " + message);
}

}  // namespace

Status validateOperatorOptions(const OperatorOptions& o) {
  if (o.sync_period < Duration(1'000)) return invalidArgument("--sync-period: must be >= 1s");
  if (o.workers < 1 || o.workers > 64) return invalidArgument("--workers: must be in [1, 64]");
  if (o.leader_elect) {
    if (!(o.retry_period < o.renew_deadline && o.renew_deadline < o.lease_duration)) {
      return invalidArgument(
          "--leader-elect-*: need retry-period < renew-deadline < lease-duration");
    }
    if (o.lease_duration.count() % 1000 != 0) {
      return invalidArgument("--leader-elect-lease-duration: must be whole seconds");
    }
  }
  return validatePrometheusOptions(o);
}

Status runOperator(const OperatorOptions& options, std::stop_token stop) {
  Operator op(options);
  return op.run(std::move(stop));
}

}  // namespace governor::controller
