#include "cli/operator_command.h"

#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include "base/duration.h"
#include "cli/app.h"
#include "controller/logging.h"
#include "controller/operator/operator.h"

namespace governor::cli {
namespace {

struct OperatorFlags {
  controller::OperatorOptions options;
  std::string sync_period = "15s";
  std::string lease_duration = "15s";
  std::string renew_deadline = "10s";
  std::string retry_period = "2s";
  std::string prometheus_timeout = "10s";
  std::vector<std::string> prometheus_headers;
  std::string log_format = "text";
  std::string log_level = "info";
};

// Parses a duration flag as Kubernetes controllers write them ("15s", "1m30s").
bool durationFlag(const std::string& flag, const std::string& text, Duration& out,
                  std::ostream& err) {
  auto parsed = parseDuration(text);
  if (!parsed.ok()) {
    err << "error: " << flag << ": " << parsed.status().message() << "\n";
    return false;
  }
  out = *parsed;
  return true;
}

// Blocks SIGTERM and SIGINT in this thread (and every thread it starts later), and waits for
// them on a thread of its own, which asks `source` to stop. A second signal exits at once.
class SignalStopper {
 public:
  explicit SignalStopper(std::stop_source& source) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGUSR1);  // Our own wake-up at the end; blocked like the others.
    pthread_sigmask(SIG_BLOCK, &set_, &previous_);
    thread_ = std::thread([this, &source] {
      int sig = 0;
      while (sigwait(&set_, &sig) == 0) {
        if (sig == SIGUSR1) return;  // Our own wake-up at the end.
        if (source.stop_requested()) {
          spdlog::warn("second signal {}: exiting now", sig);
          std::_Exit(1);
        }
        spdlog::info("signal {}: draining and stopping", sig);
        source.request_stop();
      }
    });
  }
  ~SignalStopper() {
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  SignalStopper(const SignalStopper&) = delete;
  SignalStopper& operator=(const SignalStopper&) = delete;

 private:
  sigset_t set_;
  sigset_t previous_;
  std::thread thread_;
};

}  // namespace

void addOperatorCommand(CLI::App& app, std::ostream& /*out*/, std::ostream& err, int& exit_code) {
  auto flags = std::make_shared<OperatorFlags>();
  auto& o = flags->options;
  CLI::App* cmd = app.add_subcommand("operator", "Run the in-cluster operator");
  cmd->add_option("--kubeconfig", o.kubeconfig,
                  "Kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)");
  cmd->add_option("--context", o.context, "Kubeconfig context (default: current-context)");
  cmd->add_option("--namespace", o.namespaces,
                  "Namespace to watch (repeatable; default: all namespaces)");
  cmd->add_option("--sync-period", flags->sync_period,
                  "Longest time between two evaluations of a policy")
      ->capture_default_str();
  cmd->add_option("--workers", o.workers, "Policies reconciled in parallel")->capture_default_str();
  cmd->add_flag("--dry-run", o.dry_run,
                "Evaluate and record in status and Events, never write /scale");
  cmd->add_flag("--leader-elect", o.leader_elect,
                "Elect one active replica with a coordination.k8s.io Lease");
  cmd->add_option("--leader-elect-namespace", o.leader_elect_namespace,
                  "Namespace of the Lease (default: the pod's, else governor-system)");
  cmd->add_option("--leader-elect-name", o.leader_elect_name, "Name of the Lease")
      ->capture_default_str();
  cmd->add_option("--leader-elect-identity", o.identity,
                  "This replica's identity (default: $POD_NAME or the host name, plus a suffix)");
  cmd->add_option("--leader-elect-lease-duration", flags->lease_duration)->capture_default_str();
  cmd->add_option("--leader-elect-renew-deadline", flags->renew_deadline)->capture_default_str();
  cmd->add_option("--leader-elect-retry-period", flags->retry_period)->capture_default_str();
  cmd->add_option("--metrics-addr", o.metrics_addr,
                  "host:port for Prometheus /metrics (default: off), e.g. :8080");
  cmd->add_option("--health-addr", o.health_addr,
                  "host:port for /healthz and /readyz (default: off), e.g. :8081");
  cmd->add_option("--prometheus-url", o.prometheus_url,
                  "Default Prometheus (or Thanos, Mimir, VictoriaMetrics) of every policy");
  cmd->add_option("--prometheus-bearer-token-file", o.prometheus_bearer_token_file,
                  "File with a bearer token for Prometheus (re-read when it changes)");
  cmd->add_option("--prometheus-basic-auth-username", o.prometheus_basic_auth_username,
                  "User name for HTTP basic auth to Prometheus (with a password file)");
  cmd->add_option("--prometheus-basic-auth-password-file", o.prometheus_basic_auth_password_file,
                  "File with the basic auth password for Prometheus (re-read when it changes)");
  cmd->add_option("--prometheus-ca-file", o.prometheus_ca_file, "CA bundle for Prometheus TLS");
  cmd->add_flag("--prometheus-insecure-skip-tls-verify", o.prometheus_insecure_skip_tls_verify,
                "Do not verify Prometheus's TLS certificate (test clusters only)");
  cmd->add_option("--prometheus-header", flags->prometheus_headers,
                  "Extra header for Prometheus, NAME=VALUE (repeatable; e.g. X-Scope-OrgID=t1)");
  cmd->add_option("--prometheus-timeout", flags->prometheus_timeout)->capture_default_str();
  cmd->add_option("--prometheus-endpoints", o.prometheus_endpoints_file,
                  "YAML file of the Prometheus endpoints a policy's prometheus.address may name, "
                  "with their credentials (read at start-up; docs/prometheus.md)");
  cmd->add_flag("--disable-rollouts", o.disable_rollouts,
                "Do not run the rollout controller (no Rollout or ReplicaSet watches)");
  cmd->add_option("--log-format", flags->log_format, "text or json")->capture_default_str();
  cmd->add_option("--log-level", flags->log_level, "trace, debug, info, warn or error")
      ->capture_default_str();

  cmd->callback([flags, &err, &exit_code] {
    auto& o = flags->options;
    if (!durationFlag("--sync-period", flags->sync_period, o.sync_period, err) ||
        !durationFlag("--leader-elect-lease-duration", flags->lease_duration, o.lease_duration,
                      err) ||
        !durationFlag("--leader-elect-renew-deadline", flags->renew_deadline, o.renew_deadline,
                      err) ||
        !durationFlag("--leader-elect-retry-period", flags->retry_period, o.retry_period, err) ||
        !durationFlag("--prometheus-timeout", flags->prometheus_timeout, o.prometheus_timeout,
                      err)) {
      exit_code = kExitBadInput;
      return;
    }
    for (const std::string& header : flags->prometheus_headers) {
      const size_t eq = header.find('=');
      if (eq == std::string::npos || eq == 0) {
        err << "error: --prometheus-header: want NAME=VALUE, got \"" << header << "\"\n";
        exit_code = kExitBadInput;
        return;
      }
      o.prometheus_headers[header.substr(0, eq)] = header.substr(eq + 1);
    }
    auto format = controller::parseLogFormat(flags->log_format);
    if (!format.ok()) {
      err << "error: --log-format: " << format.status().message() << "\n";
      exit_code = kExitBadInput;
      return;
    }
    if (Status s = controller::setupLogging(*format, flags->log_level); !s.ok()) {
      err << "error: --log-level: " << s.message() << "\n";
      exit_code = kExitBadInput;
      return;
    }
    if (Status s = controller::validateOperatorOptions(o); !s.ok()) {
      err << "error: " << s.message() << "\n";
      exit_code = kExitBadInput;
      return;
    }
    std::stop_source stop;
    Status result;
    {
      SignalStopper signals(stop);
      result = controller::runOperator(o, stop.get_token());
    }
    if (!result.ok()) {
      spdlog::error("operator stopped: {}", result.toString());
      exit_code = kExitFailure;
      return;
    }
    spdlog::info("operator stopped");
    exit_code = kExitOk;
  });
}

}  // namespace governor::cli
