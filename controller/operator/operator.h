#pragma once

// `governor operator`: the in-cluster process. It wires the pieces of controller/ together:
//
//   kubeconfig / in-cluster config -> kube::Client
//   ScalingPolicy informers (all namespaces, or one per --namespace) and HPA informers
//       -> WorkQueue (add on create, on a spec change (generation), on delete; HPA changes
//          re-queue the policies of their namespace)
//   N workers, each with its own Reconciler over KubeCluster + PrometheusMetricsSource +
//       one shared predictive ProposalSource -> requeueAfter / backoff per the reconcile's result
//   optional leader election on a Lease: caches sync on every replica, but only the leader
//       runs workers, and every write asks the elector first (a replica that lost the Lease
//       stops writing at once); losing the Lease ends the process (the Deployment restarts
//       it as a candidate), as kube-controller-manager does
//   /metrics (prometheus-cpp) and /healthz, /readyz
//   the rollout controller (controller/rollout_controller.h), unless --disable-rollouts:
//       Rollout informers and informers on the ReplicaSets it creates (label
//       governor.io/rollout; a ReplicaSet's change enqueues its owner Rollout), its own work
//       queue and --workers workers (RolloutReconciler over KubeRolloutCluster and the same
//       Prometheus endpoints), gated by the same leader election. When the Rollout CRD is not
//       served (the list answers 404) the operator runs ScalingPolicies alone, logs one
//       warning, and looks again every rollout_discovery_period; once the CRD appears the
//       rollout side starts without a restart.
//
// Shutdown (stop requested, e.g. on SIGTERM): stop taking keys, let in-flight reconciles
// finish (each call in them has a timeout), release the Lease, stop the informers;
// runOperator returns OK.
//
// Thread-safety: runOperator blocks its caller; call it once per process.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <stop_token>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "controller/logging.h"

namespace governor::controller {

struct OperatorOptions {
  // Client configuration: --kubeconfig (else KUBECONFIG, in-cluster, ~/.kube/config) and an
  // optional context. Default: "" (that search order).
  std::string kubeconfig;
  std::string context;
  // Namespaces to watch. Default: empty (all namespaces).
  std::vector<std::string> namespaces;
  // The longest time between two evaluations of a policy. Default: 15s.
  Duration sync_period{15'000};
  // Reconciles in parallel. Default: 2.
  int workers = 2;
  // Evaluate and record in status and Events, never write /scale. Default: false.
  bool dry_run = false;

  bool leader_elect = false;
  // Default: "" (the pod's namespace from the service-account files, else governor-system).
  std::string leader_elect_namespace;
  std::string leader_elect_name = "governor-leader";
  // This replica's identity in the Lease. Default: "" (POD_NAME, else the host name, with a
  // random suffix so two processes on one host differ).
  std::string identity;
  Duration lease_duration{15'000};
  Duration renew_deadline{10'000};
  Duration retry_period{2'000};

  // "host:port" to serve /metrics and the probes on; "" serves nothing. Defaults: "".
  std::string metrics_addr;
  std::string health_addr;

  // The default Prometheus of every policy: its URL (e.g. http://prometheus:9090) and
  // credentials from files. Default: "" (policies with metrics then fail to fetch them and
  // hold, saying why). The other prometheus_* fields need prometheus_url.
  std::string prometheus_url;
  std::string prometheus_bearer_token_file;
  // HTTP basic auth: both or neither; exclusive with the bearer token. Default: "" (none).
  std::string prometheus_basic_auth_username;
  std::string prometheus_basic_auth_password_file;
  std::string prometheus_ca_file;
  // Accept any certificate from the default Prometheus (logged as a warning). Default: false.
  bool prometheus_insecure_skip_tls_verify = false;
  std::map<std::string, std::string> prometheus_headers;
  Duration prometheus_timeout{10'000};
  // A YAML file (controller/prometheus/endpoints_file.h) configuring the endpoints a policy's
  // `prometheus.address` may name, with their own credentials, and whether other addresses
  // are allowed. Read once at start-up: a change needs a restart (the credential files it
  // names are re-read on change). Default: "" (none: every address is unlisted and allowed).
  std::string prometheus_endpoints_file;

  // How long start-up waits for the first list of every informer. Default: 60s.
  Duration cache_sync_timeout{60'000};

  // Do not run the rollout controller (no Rollout or ReplicaSet informers, no RBAC needed for
  // them). Default: false.
  bool disable_rollouts = false;
  // While the Rollout CRD is not served, how often to look for it again. Default: 1 min.
  Duration rollout_discovery_period{60'000};
};

// "<namespace>", from the service-account files, or "governor-system".
std::string defaultLeaderElectionNamespace(
    const std::string& service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// OK when the options are usable; InvalidArgument naming the flag otherwise (e.g. a basic
// auth user without a password file, a --prometheus-* setting without --prometheus-url, a
// default endpoint that prom::validateEndpoint refuses). Reads no file.
Status validateOperatorOptions(const OperatorOptions& options);

// Runs the operator until `stop` is requested (returns OK) or it cannot go on: the Lease was
// lost (Unavailable "leader election lost"), the caches did not sync in time, a listen
// address is taken, the configuration is unusable (the error says which; an unreadable or
// invalid --prometheus-endpoints file is InvalidArgument "--prometheus-endpoints: <path>:<line>:
// <field>: <why>", one line per problem).
Status runOperator(const OperatorOptions& options, std::stop_token stop);

}  // namespace governor::controller
