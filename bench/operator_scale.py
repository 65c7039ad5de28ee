#!/usr/bin/env python3
"""The operator at scale: N ScalingPolicies (default 1,000) on one `governor operator`
against the test API server (tests/apiserver), each on its own Deployment.

Two modes:
  default       each policy is schedule-only (a window that is always open), so a reconcile
                reads /scale and the Deployment and writes status, and nothing else;
  --prometheus  each policy has one metric with its OWN PromQL query against a real
                Prometheus (/usr/bin/prometheus, or $GOVERNOR_PROMETHEUS), which scrapes the
                test exporter (tests/prometheus/exporter.py, static mode) serving one series
                per Deployment:
                    app_load{namespace="bench",deployment="app-0042"}  = 100 * wanted replicas
                and the query is
                    sum(app_load{namespace="{{namespace}}",deployment="{{target}}"})
                with an AverageValue target of 100. Deployments are created with the wanted
                count, so every policy holds (no scale churn): the benchmark measures
                evaluation, not a fake workload. The query differs per policy (the target's
                name is in it), so the operator's dedupe cache never merges two policies.

Measures, over a window of steady state (after every policy was reconciled once, and with
--prometheus read its metric, plus one more sync period):
  - whether every policy is evaluated within every sync period: each reconcile reads its
    target's /scale, so the server's audit log has one GET .../deployments/<name>/scale per
    evaluation; the report gives the largest gap between two evaluations of one policy
    (passes when it is at most the sync period plus 1 s) and how many policies were
    evaluated fewer times than the window has sync periods;
  - the operator's CPU (utime + stime from /proc over the window, in cores) and peak RSS
    (VmHWM), and its request rate to the API server;
  - with --prometheus: the instant queries that reached Prometheus in the window (the delta of
    Prometheus's own prometheus_http_requests_total{handler="/api/v1/query"}, by HTTP code),
    Prometheus's mean HTTP and engine time per query, Prometheus's CPU and RSS (for context),
    scale writes in the window (want 0), and, after the window, every policy's status:
    ScalingActive=True with reason ValidMetricFound, and desiredReplicas as wanted.
  - the load average at the start and end of the window (the machine is shared).

Usage: bench/operator_scale.py [--policies 1000] [--sync-period 15] [--window 60]
                               [--workers 4] [--governor build/cli/governor]
                               [--prometheus [--scrape-interval 5]
                                [--prometheus-binary /usr/bin/prometheus]]
                               [--spread] [--keep-tmp]
--spread starts the operator before the policies exist and creates them evenly over one sync
period, so their evaluations do not start as one burst (by default the operator starts with
all N policies in its cache and queues them at once, and each is requeued a sync period after
its reconcile started, so they stay bunched).
Exit code 0 when every check passes, 1 otherwise (the JSON report says which failed).
Python 3 standard library only; starts and stops its own processes on 127.0.0.1 (also on
Ctrl-C or SIGTERM). The temporary directory (logs) is removed on success unless --keep-tmp;
on failure it is kept and its path printed.
"""

import argparse
import collections
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAMESPACE = "bench"
# The per-pod target of the --prometheus policies; each series is this times the count the
# policy should hold, so the ratio is exactly 1 (within any tolerance).
AVERAGE_VALUE = 100
QUERY_TEMPLATE = 'sum(app_load{namespace="{{namespace}}",deployment="{{target}}"})'


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    def __init__(self, url, token):
        self.url, self.token = url, token

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + self.token)
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read() or b"null")


def http_get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def poll(what, condition, timeout, interval=0.2, process=None):
    """Calls condition() until it returns a true value (returned) or raises SystemExit after
    `timeout` seconds; exceptions from condition() count as "not yet". Stops early when
    `process` (a Popen) exited."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"{what}: the process exited with code {process.returncode}")
        try:
            value = condition()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - reported on timeout
            last = e
        time.sleep(interval)
    raise SystemExit(f"{what}: not within {timeout} s" + (f" (last error: {last!r})" if last
                                                           else ""))


class Processes:
    """The processes this run started; stop() ends them in reverse order of start."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.started = []

    def start(self, name, argv):
        log = open(os.path.join(self.tmp, name + ".log"), "w")
        # Own session: a Ctrl-C in the terminal reaches only this script, which then stops
        # its children in order (the operator before the servers it talks to).
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        log.close()
        self.started.append(p)
        return p

    def stop(self, p):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop_all(self):
        for p in reversed(self.started):
            self.stop(p)
        self.started.clear()


def deployment(ns, name, replicas=1):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}


def policy(ns, name, floor):
    return {"apiVersion": "governor.io/v1alpha1", "kind": "ScalingPolicy",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                        "name": name},
                     "minReplicas": 1, "maxReplicas": 10,
                     "schedules": [{"name": "always", "start": "* * * * *", "duration": "2m",
                                    "minReplicas": floor}]}}


def metric_policy(ns, name):
    return {"apiVersion": "governor.io/v1alpha1", "kind": "ScalingPolicy",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                        "name": name},
                     "minReplicas": 1, "maxReplicas": 10,
                     "metrics": [{"name": "load",
                                  "prometheus": {"query": QUERY_TEMPLATE},
                                  "target": {"type": "AverageValue",
                                             "averageValue": AVERAGE_VALUE}}]}}


def wanted_replicas(index):
    return 2 + index % 3


def parallel(fn, items, threads=8):
    it = iter(items)
    lock = threading.Lock()
    errors = []

    def run():
        while True:
            with lock:
                try:
                    x = next(it)
                except StopIteration:
                    return
            try:
                fn(x)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))

    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise SystemExit(f"{len(errors)} requests failed, first: {errors[0]}")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status_mib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def load_average():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_exposition(text):
    """Text exposition format -> list of (name, {labels}, value)."""
    out = []
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if m:
            out.append((m.group(1), dict(LABEL.findall(m.group(3) or "")), float(m.group(4))))
    return out


def metric_sum(samples, name, **labels):
    return sum(v for n, ls, v in samples
               if n == name and all(ls.get(k) == want for k, want in labels.items()))


class Prometheus:
    """A real Prometheus on a free loopback port, scraping `targets`."""

    def __init__(self, processes, binary, tmp, targets, scrape_interval):
        # Prometheus logs every query it runs here (JSON lines): the proof that each policy's
        # own query reached it.
        self.query_log = os.path.join(tmp, "queries.jsonl")
        with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
            f.write(f"global:\n  scrape_interval: {scrape_interval}s\n"
                    f"  scrape_timeout: {scrape_interval}s\n"
                    f"  evaluation_interval: {scrape_interval}s\n"
                    f"  query_log_file: {self.query_log}\n"
                    f"scrape_configs:\n  - job_name: exporter\n    static_configs:\n"
                    f"      - targets: [{', '.join(repr(t) for t in targets)}]\n")
        # A port is free when chosen and may be taken before Prometheus binds it: retry.
        for attempt in range(3):
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            self.process = processes.start(f"prometheus-{attempt}", [
                binary, "--config.file=" + os.path.join(tmp, "prometheus.yml"),
                "--storage.tsdb.path=" + os.path.join(tmp, f"tsdb-{attempt}"),
                "--web.listen-address=127.0.0.1:" + str(self.port), "--log.level=warn"])
            try:
                poll("prometheus /-/ready", lambda: http_get(self.url + "/-/ready", 2), 60,
                     process=self.process)
                return
            except SystemExit:
                processes.stop(self.process)
                with open(os.path.join(tmp, f"prometheus-{attempt}.log")) as f:
                    log = f.read()
                if "address already in use" not in log:
                    raise SystemExit("prometheus did not become ready; log:\n" + log[-2000:])
        raise SystemExit("prometheus: no free port after 3 attempts")

    def query(self, promql):
        body = json.loads(http_get(self.url + "/api/v1/query?" +
                                   urllib.parse.urlencode({"query": promql})))
        if body.get("status") != "success":
            raise RuntimeError(f"query {promql!r}: {body}")
        return body["data"]["result"]

    def metrics(self):
        return parse_exposition(http_get(self.url + "/metrics"))


def start_exporter(processes, tmp, series):
    port_file = os.path.join(tmp, "exporter.port")
    p = processes.start("exporter", [sys.executable,
                                     os.path.join(ROOT, "tests/prometheus/exporter.py"),
                                     "--port", "0", "--port-file", port_file])

    def port():
        with open(port_file) as f:
            return int(f.read().strip())

    url = f"http://127.0.0.1:{poll('exporter port file', port, 30, process=p)}"
    poll("exporter /-/healthy", lambda: http_get(url + "/-/healthy", 2), 30, process=p)
    req = urllib.request.Request(url + "/series", data=json.dumps(series).encode(), method="PUT")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        if r.status != 204:
            raise SystemExit(f"exporter PUT /series: HTTP {r.status}")
    return url


def condition(p, kind):
    for c in (p.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return c
    return None


def metric_read(p):
    c = condition(p, "ScalingActive")
    return c is not None and c.get("status") == "True" and c.get("reason") == "ValidMetricFound"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--policies", type=int, default=1000)
    ap.add_argument("--sync-period", type=int, default=15)
    ap.add_argument("--window", type=int, default=60, help="seconds of steady state measured")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--governor", default=os.path.join(ROOT, "build/cli/governor"))
    ap.add_argument("--prometheus", action="store_true",
                    help="one metric per policy, its own query, against a real Prometheus")
    ap.add_argument("--prometheus-binary",
                    default=os.environ.get("GOVERNOR_PROMETHEUS", "/usr/bin/prometheus"))
    ap.add_argument("--scrape-interval", type=int, default=5, help="seconds")
    ap.add_argument("--spread", action="store_true",
                    help="start the operator first, then create the policies evenly over one "
                         "sync period (an experiment: no start-up burst)")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the logs even on success")
    args = ap.parse_args()

    # SIGTERM unwinds like Ctrl-C, through the finally below that stops the processes.
    def terminated(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, terminated)

    tmp = tempfile.mkdtemp(prefix="governor-bench-")
    processes = Processes(tmp)
    passed = False
    try:
        passed = run(args, tmp, processes)
        return 0 if passed else 1
    finally:
        # A second Ctrl-C or SIGTERM must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        processes.stop_all()
        if passed and not args.keep_tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            for d in os.listdir(tmp):
                if d.startswith("tsdb-"):
                    shutil.rmtree(os.path.join(tmp, d), ignore_errors=True)
            print(f"logs kept in {tmp}", file=sys.stderr)


def run(args, tmp, processes):
    port = free_port()
    with open(os.path.join(tmp, "tokens.csv"), "w") as f:
        f.write("admin-token,admin\noperator-token,operator\n")
    server = processes.start("apiserver", [
        sys.executable, os.path.join(ROOT, "tests/apiserver/apiserver.py"), "--port", str(port),
        "--token-file", os.path.join(tmp, "tokens.csv"), "--anonymous-user", "admin",
        "--pod-ready-delay", "1", "--max-watch-history", "200000"])
    url = f"http://127.0.0.1:{port}"
    admin = Api(url, "admin-token")
    poll("API server /version", lambda: admin.call("GET", "/version"), 30, 0.1, server)
    with open(os.path.join(ROOT, "manifests/crd/governor.io_scalingpolicies.yaml")) as f:
        crd_yaml = f.read()
    # The CRD is YAML; the server takes JSON: let kubectl convert and create it.
    kubeconfig = os.path.join(tmp, "kubeconfig")
    with open(kubeconfig, "w") as f:
        f.write(f"apiVersion: v1\nkind: Config\nclusters: [{{name: b, cluster: {{server: "
                f"'{url}'}}}}]\nusers: [{{name: u, user: {{token: admin-token}}}}]\n"
                f"contexts: [{{name: b, context: {{cluster: b, user: u}}}}]\n"
                f"current-context: b\n")
    subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "apply", "-f", "-"],
                   input=crd_yaml.encode(), check=True, capture_output=True)
    ns = NAMESPACE
    admin.call("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                              "metadata": {"name": ns}})
    names = [f"app-{i:04d}" for i in range(args.policies)]
    wanted = {n: wanted_replicas(i) for i, n in enumerate(names)}

    prom = None
    if args.prometheus:
        exporter_url = start_exporter(processes, tmp, [
            {"name": "app_load", "labels": {"namespace": ns, "deployment": n},
             "value": AVERAGE_VALUE * wanted[n]} for n in names])
        prom = Prometheus(processes, args.prometheus_binary, tmp,
                          [exporter_url.removeprefix("http://")], args.scrape_interval)

        def all_series():
            result = prom.query("count(app_load)")
            return result and int(float(result[0]["value"][1])) == args.policies

        t = time.time()
        poll("prometheus has every app_load series", all_series, 10 * args.scrape_interval + 30,
             0.5, prom.process)
        print(f"prometheus {prom.url} has {args.policies} app_load series "
              f"{time.time() - t:.1f} s after it was ready", flush=True)

    t0 = time.time()
    parallel(lambda n: admin.call("POST", f"/apis/apps/v1/namespaces/{ns}/deployments",
                                  deployment(ns, n, wanted[n] if args.prometheus else 1)), names)
    poll("the ScalingPolicy CRD is served",
         lambda: admin.call("GET", "/apis/governor.io/v1alpha1/scalingpolicies") is not None,
         10, 0.1)
    if args.prometheus:
        make_policy = lambda n: metric_policy(ns, n)  # noqa: E731
    else:
        make_policy = lambda n: policy(ns, n, 2 + hash(n) % 3)  # noqa: E731

    def create_policies(spread_over):
        """Creates every policy; with spread_over > 0, the i-th at i * spread_over / N s."""
        start = time.time()
        index = {n: i for i, n in enumerate(names)}

        def create(n):
            time.sleep(max(0.0, start + index[n] * spread_over / len(names) - time.time()))
            admin.call("POST", f"/apis/governor.io/v1alpha1/namespaces/{ns}/scalingpolicies",
                       make_policy(n))

        parallel(create, names)
        print(f"created {args.policies} ScalingPolicies in {time.time() - start:.1f} s "
              f"(Deployments {start - t0:.1f} s before)", flush=True)

    if not args.spread:
        create_policies(0)

    op_kubeconfig = os.path.join(tmp, "op.kubeconfig")
    with open(op_kubeconfig, "w") as f:
        with open(kubeconfig) as g:
            f.write(g.read().replace("admin-token", "operator-token"))
    metrics_port = free_port()
    argv = [args.governor, "operator", "--kubeconfig", op_kubeconfig, "--sync-period",
            f"{args.sync_period}s", "--workers", str(args.workers), "--metrics-addr",
            f"127.0.0.1:{metrics_port}", "--log-level", "warn"]
    if prom is not None:
        argv += ["--prometheus-url", prom.url]
    operator = processes.start("operator", argv)
    if args.spread:
        # The operator sees each policy arrive (a watch event) at its own time, so their
        # evaluations are spread over the period instead of starting as one burst.
        poll("operator /metrics", lambda: http_get(f"http://127.0.0.1:{metrics_port}/metrics", 2),
             30, 0.2, operator)
        create_policies(args.sync_period)

    def list_policies():
        return admin.call("GET", f"/apis/governor.io/v1alpha1/namespaces/{ns}/"
                                 "scalingpolicies")["items"]

    # Warm-up: until every policy has a status (its first reconcile wrote one) and, with
    # --prometheus, its status says the metric was read.
    ready = metric_read if prom is not None else (lambda p: "status" in p)
    t_start = time.time()
    while True:
        if operator.poll() is not None:
            raise SystemExit(f"the operator exited with code {operator.returncode}; log: "
                             f"{os.path.join(tmp, 'operator.log')}")
        items = list_policies()
        done = sum(1 for p in items if ready(p))
        if done == args.policies:
            break
        if time.time() - t_start > 300:
            reasons = collections.Counter(
                (condition(p, "ScalingActive") or {}).get("reason", "no status") for p in items)
            raise SystemExit(f"only {done} of {args.policies} policies ready after 300 s; "
                             f"ScalingActive reasons: {dict(reasons)}")
        time.sleep(1)
    print(f"all {args.policies} policies reconciled{' with their metric' if prom else ''} "
          f"{time.time() - t_start:.1f} s after "
          f"{'the last was created' if args.spread else 'the operator started'}", flush=True)
    # One more sync period, so the start-up burst is over.
    time.sleep(args.sync_period)

    admin.call("DELETE", "/_test/audit")
    load0 = load_average()
    prom0 = prom.metrics() if prom else None
    prom_cpu0 = cpu_seconds(prom.process.pid) if prom else None
    query_log0 = os.path.getsize(prom.query_log) if prom else None
    server_cpu0 = cpu_seconds(server.pid)
    # The operator publishes its work queue depth (keys ready and waiting for a worker) once
    # a second: sampled through the window, it shows whether the workers kept up.
    depths, stop_sampling = [], threading.Event()

    def sample_depth():
        while not stop_sampling.wait(0.5):
            try:
                depths.append(metric_sum(parse_exposition(http_get(
                    f"http://127.0.0.1:{metrics_port}/metrics", 2)), "governor_workqueue_depth"))
            except OSError:
                pass

    sampler = threading.Thread(target=sample_depth)
    sampler.start()
    op0 = parse_exposition(http_get(f"http://127.0.0.1:{metrics_port}/metrics"))
    cpu0, w0 = cpu_seconds(operator.pid), time.time()
    time.sleep(args.window)
    cpu1, w1 = cpu_seconds(operator.pid), time.time()
    op1 = parse_exposition(http_get(f"http://127.0.0.1:{metrics_port}/metrics"))
    stop_sampling.set()
    sampler.join()
    server_cpu1 = cpu_seconds(server.pid)
    prom_cpu1 = cpu_seconds(prom.process.pid) if prom else None
    prom1 = prom.metrics() if prom else None
    query_log1 = os.path.getsize(prom.query_log) if prom else None
    load1 = load_average()
    hwm = proc_status_mib(operator.pid, "VmHWM")
    rss = proc_status_mib(operator.pid, "VmRSS")
    audit = admin.call("GET", "/_test/audit?user=operator")
    window = w1 - w0
    with open(os.path.join(tmp, "audit.json"), "w") as f:
        json.dump(audit, f)

    evaluations = {n: [] for n in names}
    requests = 0
    scale_writes = 0
    verbs = collections.Counter()
    for r in audit:
        if not (w0 <= r["timestamp"] <= w1):
            continue
        requests += 1
        verbs[f"{r.get('verb')} {r.get('resource')}"
              f"{'/' + r['subresource'] if r.get('subresource') else ''}"] += 1
        if r.get("resource") == "deployments" and r.get("subresource") == "scale":
            if r.get("verb") == "get":
                evaluations[r["name"]].append(r["timestamp"])
            elif r.get("verb") in ("update", "patch"):
                scale_writes += 1
    # The gaps between consecutive evaluations of one policy, and policies evaluated
    # fewer times than the window has sync periods (rounded down).
    worst_gap, short = 0.0, 0
    periods = int(window // args.sync_period)
    all_gaps = []
    for n, times in evaluations.items():
        times.sort()
        if len(times) < periods:
            short += 1
        gaps = [b - a for a, b in zip(times, times[1:])]
        all_gaps += gaps
        worst_gap = max([worst_gap] + gaps)
    all_gaps.sort()
    # Evaluations per second of the window: are they spread over the period or bunched?
    per_second = collections.Counter(int(t - w0) for ts in evaluations.values() for t in ts)
    rates = sorted(per_second.get(i, 0) for i in range(int(window)))
    total_evals = sum(len(t) for t in evaluations.values())
    # The operator's own reconcile time, over the window only (the counters are cumulative).
    reconciles = (metric_sum(op1, "governor_reconcile_duration_seconds_count") -
                  metric_sum(op0, "governor_reconcile_duration_seconds_count"))
    mean_ms = 1000 * (metric_sum(op1, "governor_reconcile_duration_seconds_sum") -
                      metric_sum(op0, "governor_reconcile_duration_seconds_sum")) / max(
        reconciles, 1)

    report = {
        "mode": "prometheus" if prom else "schedule-only",
        "policies": args.policies, "sync_period_s": args.sync_period,
        "workers": args.workers, "window_s": round(window, 1),
        "load_average_start": load0, "load_average_end": load1,
        "evaluations": total_evals,
        "evaluations_per_policy_per_period": round(
            total_evals / args.policies / (window / args.sync_period), 3),
        "worst_gap_between_evaluations_s": round(worst_gap, 2),
        "gap_p50_p99_s": [round(all_gaps[int(q * (len(all_gaps) - 1))], 2) for q in (0.5, 0.99)]
        if all_gaps else None,
        "gaps_over_period_plus_1s": sum(1 for g in all_gaps if g > args.sync_period + 1),
        "evaluations_per_second_min_p50_max": [rates[0], rates[len(rates) // 2], rates[-1]]
        if rates else None,
        "workqueue_depth_mean_max": [round(sum(depths) / len(depths), 1), max(depths)]
        if depths else None,
        "workqueue_depth_nonzero_fraction": round(sum(1 for d in depths if d > 0) /
                                                  len(depths), 2) if depths else None,
        "policies_with_fewer_evaluations_than_periods": short,
        "operator_cpu_cores": round((cpu1 - cpu0) / window, 3),
        "operator_peak_rss_mib": round(hwm, 1),
        "operator_rss_mib": round(rss, 1),
        "api_requests_per_s": round(requests / window, 1),
        "apiserver_cpu_cores": round((server_cpu1 - server_cpu0) / window, 3),
        "api_requests_by_verb": dict(verbs.most_common()),
        "reconciles": int(reconciles),
        "mean_reconcile_ms": round(mean_ms, 2),
    }
    checks = {"every_policy_every_period": short == 0,
              "worst_gap_within_period_plus_1s": worst_gap <= args.sync_period + 1}

    if prom:
        handler = "/api/v1/query"
        codes = sorted({ls.get("code") for n, ls, _ in prom1
                        if n == "prometheus_http_requests_total" and ls.get("handler") == handler})
        by_code = {c: int(metric_sum(prom1, "prometheus_http_requests_total", handler=handler,
                                     code=c) -
                          metric_sum(prom0, "prometheus_http_requests_total", handler=handler,
                                     code=c)) for c in codes}
        queries = sum(by_code.values())

        def mean_delta_ms(name, **labels):
            s = metric_sum(prom1, name + "_sum", **labels) - metric_sum(prom0, name + "_sum",
                                                                          **labels)
            c = metric_sum(prom1, name + "_count", **labels) - metric_sum(prom0, name + "_count",
                                                                            **labels)
            return round(1000 * s / c, 3) if c else None

        # The queries Prometheus logged in the window: each must be its policy's template as
        # rendered (the target's name in it), and every policy's must be there.
        with open(prom.query_log, "rb") as f:
            f.seek(query_log0)
            logged = [json.loads(line) for line in f.read(query_log1 - query_log0).splitlines()
                      if line.strip()]
        per_policy = collections.Counter()
        unexpected = []
        exec_ms = []
        for q in logged:
            text = q["params"]["query"]
            m = re.search(r'deployment="([^"]*)"', text)
            if m and m.group(1) in wanted and text == QUERY_TEMPLATE.replace(
                    "{{namespace}}", ns).replace("{{target}}", m.group(1)):
                per_policy[m.group(1)] += 1
            else:
                unexpected.append(text)
            exec_ms.append(1000 * q.get("stats", {}).get("timings", {}).get("execTotalTime", 0))
        exec_ms.sort()

        items = list_policies()
        sample = items[0].get("status", {}) if items else {}
        reasons = collections.Counter(
            (condition(p, "ScalingActive") or {}).get("reason", "no status") for p in items)
        read = sum(1 for p in items if metric_read(p))
        wrong_desired = sum(1 for p in items
                            if (p.get("status") or {}).get("desiredReplicas") !=
                            wanted[p["metadata"]["name"]])
        report.update({
            "prometheus_queries": queries,
            "prometheus_queries_per_s": round(queries / window, 1),
            "prometheus_queries_by_code": by_code,
            "prometheus_queries_per_evaluation": round(queries / max(total_evals, 1), 3),
            "prometheus_mean_http_ms": mean_delta_ms(
                "prometheus_http_request_duration_seconds", handler=handler),
            "prometheus_mean_engine_inner_eval_ms": mean_delta_ms(
                "prometheus_engine_query_duration_seconds", slice="inner_eval"),
            "prometheus_query_log_entries": len(logged),
            "prometheus_distinct_queries": len(per_policy) + len(set(unexpected)),
            "policies_whose_own_query_reached_prometheus": len(per_policy),
            "queries_not_a_policy_template": len(unexpected),
            "prometheus_exec_ms_p50_p99_max": [
                round(exec_ms[int(q * (len(exec_ms) - 1))], 3) for q in (0.5, 0.99, 1.0)]
            if exec_ms else None,
            "prometheus_cpu_cores": round((prom_cpu1 - prom_cpu0) / window, 3),
            "prometheus_rss_mib": round(proc_status_mib(prom.process.pid, "VmRSS"), 1),
            "scale_writes_in_window": scale_writes,
            "policies_with_valid_metric": read,
            "scaling_active_reasons": dict(reasons),
            "policies_with_unexpected_desired_replicas": wrong_desired,
            "sample_status": {"policy": items[0]["metadata"]["name"] if items else None,
                              "desiredReplicas": sample.get("desiredReplicas"),
                              "conditions": {c.get("type"): f"{c.get('status')} {c.get('reason')}: "
                                             f"{c.get('message')}"
                                             for c in sample.get("conditions") or []}},
        })
        checks.update({
            "every_policy_read_its_metric": read == args.policies,
            "no_scale_churn": scale_writes == 0 and wrong_desired == 0,
            "every_query_answered_200": set(by_code) <= {"200"},
            "every_policy_queried_with_its_own_query":
                len(per_policy) == args.policies and not unexpected,
            # One query per evaluation: no dedupe between policies, no retries. The counter and
            # the audit log are read at slightly different instants, so reconciles in flight
            # at either edge of the window may count on one side only.
            "one_query_per_evaluation": abs(queries - total_evals) <= 2 * args.workers + 5,
        })

    with open(os.path.join(tmp, "operator.log")) as f:
        log_lines = [line.rstrip() for line in f if line.strip()]
    report["operator_log_lines_warn_or_worse"] = len(log_lines)
    report["operator_log_first_lines"] = log_lines[:5]
    report["checks"] = checks
    print(json.dumps(report, indent=2))
    return all(checks.values())


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt as e:
        print(f"interrupted ({e}); processes stopped", file=sys.stderr)
        sys.exit(130)
