#!/usr/bin/env python3
"""The operator at scale: N ScalingPolicies (default 1,000) on one `governor operator`
against the test API server (tests/apiserver), each on its own Deployment.

Measures, over a window of steady state (after every policy was reconciled once):
  - whether every policy is evaluated within every sync period: each reconcile reads its
    target's /scale, so the server's audit log has one GET .../deployments/<name>/scale per
    evaluation; the report gives the largest gap between two evaluations of one policy
    (passes when it is at most the sync period plus 1 s) and how many policies were
    evaluated fewer times than the window has sync periods;
  - the operator's CPU (utime + stime from /proc over the window, in cores) and peak RSS
    (VmHWM), and its request rate to the API server.

Usage: bench/operator_scale.py [--policies 1000] [--sync-period 15] [--window 60]
                               [--workers 4] [--governor build/cli/governor]
Python 3 standard library only; starts and stops its own processes on 127.0.0.1.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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


def deployment(ns, name):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
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


def vm_hwm_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--policies", type=int, default=1000)
    ap.add_argument("--sync-period", type=int, default=15)
    ap.add_argument("--window", type=int, default=60, help="seconds of steady state measured")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--governor", default=os.path.join(ROOT, "build/cli/governor"))
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="governor-bench-")
    port = free_port()
    with open(os.path.join(tmp, "tokens.csv"), "w") as f:
        f.write("admin-token,admin\noperator-token,operator\n")
    server = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "tests/apiserver/apiserver.py"), "--port", str(port),
         "--token-file", os.path.join(tmp, "tokens.csv"), "--anonymous-user", "admin",
         "--pod-ready-delay", "1",
         "--max-watch-history", "200000"],
        stdout=open(os.path.join(tmp, "apiserver.log"), "w"), stderr=subprocess.STDOUT)
    operator = None
    try:
        url = f"http://127.0.0.1:{port}"
        admin = Api(url, "admin-token")
        for _ in range(200):
            try:
                admin.call("GET", "/version")
                break
            except OSError:
                time.sleep(0.1)
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
        ns = "bench"
        admin.call("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                  "metadata": {"name": ns}})
        names = [f"app-{i:04d}" for i in range(args.policies)]
        t0 = time.time()
        parallel(lambda n: admin.call("POST", f"/apis/apps/v1/namespaces/{ns}/deployments",
                                      deployment(ns, n)), names)
        for _ in range(100):
            try:
                admin.call("GET", "/apis/governor.io/v1alpha1/scalingpolicies")
                break
            except Exception:  # noqa: BLE001 - the CRD is being established
                time.sleep(0.1)
        parallel(lambda n: admin.call(
            "POST", f"/apis/governor.io/v1alpha1/namespaces/{ns}/scalingpolicies",
            policy(ns, n, 2 + hash(n) % 3)), names)
        print(f"created {args.policies} Deployments and ScalingPolicies in "
              f"{time.time() - t0:.1f} s", flush=True)

        op_kubeconfig = os.path.join(tmp, "op.kubeconfig")
        with open(op_kubeconfig, "w") as f:
            f.write(open(kubeconfig).read().replace("admin-token", "operator-token"))
        metrics_port = free_port()
        operator = subprocess.Popen(
            [args.governor, "operator", "--kubeconfig", op_kubeconfig, "--sync-period",
             f"{args.sync_period}s", "--workers", str(args.workers), "--metrics-addr",
             f"127.0.0.1:{metrics_port}", "--log-level", "warn"],
            stdout=open(os.path.join(tmp, "operator.log"), "w"), stderr=subprocess.STDOUT)

        # Warm-up: until every policy has a status (its first reconcile wrote one).
        t_start = time.time()
        while True:
            items = admin.call("GET", f"/apis/governor.io/v1alpha1/namespaces/{ns}/"
                                      "scalingpolicies")["items"]
            done = sum(1 for p in items if "status" in p)
            if done == args.policies:
                break
            if time.time() - t_start > 300:
                raise SystemExit(f"only {done} of {args.policies} policies reconciled")
            time.sleep(1)
        print(f"all {args.policies} policies reconciled {time.time() - t_start:.1f} s after "
              f"start", flush=True)
        # One more sync period, so the start-up burst is over.
        time.sleep(args.sync_period)
        admin.call("DELETE", "/_test/audit")
        cpu0, w0 = cpu_seconds(operator.pid), time.time()
        time.sleep(args.window)
        cpu1, w1 = cpu_seconds(operator.pid), time.time()
        hwm = vm_hwm_mib(operator.pid)
        audit = admin.call("GET", "/_test/audit?user=operator")

        evaluations = {n: [] for n in names}
        requests = 0
        for r in audit:
            if not (w0 <= r["timestamp"] <= w1):
                continue
            requests += 1
            if r.get("resource") == "deployments" and r.get("subresource") == "scale" and \
                    r.get("verb") == "get":
                evaluations[r["name"]].append(r["timestamp"])
        # The gaps between consecutive evaluations of one policy, and policies evaluated
        # fewer times than the window has sync periods (rounded down).
        worst_gap, short = 0.0, 0
        periods = int((w1 - w0) // args.sync_period)
        for n, times in evaluations.items():
            times.sort()
            if len(times) < periods:
                short += 1
            gaps = [b - a for a, b in zip(times, times[1:])]
            worst_gap = max([worst_gap] + gaps)
        total_evals = sum(len(t) for t in evaluations.values())
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics") as r:
            metrics = r.read().decode()
        durations = {}
        for line in metrics.splitlines():
            if line.startswith("governor_reconcile_duration_seconds_sum") or \
                    line.startswith("governor_reconcile_duration_seconds_count"):
                key = line.split("{")[0].rsplit("_", 1)[1]
                durations[key] = durations.get(key, 0.0) + float(line.split()[-1])
        mean_ms = 1000 * durations.get("sum", 0) / max(durations.get("count", 1), 1)

        print(json.dumps({
            "policies": args.policies, "sync_period_s": args.sync_period,
            "workers": args.workers, "window_s": round(w1 - w0, 1),
            "evaluations": total_evals,
            "evaluations_per_policy_per_period": round(
                total_evals / args.policies / ((w1 - w0) / args.sync_period), 3),
            "worst_gap_between_evaluations_s": round(worst_gap, 2),
            "policies_with_fewer_evaluations_than_periods": short,
            "operator_cpu_cores": round((cpu1 - cpu0) / (w1 - w0), 3),
            "operator_peak_rss_mib": round(hwm, 1),
            "api_requests_per_s": round(requests / (w1 - w0), 1),
            "mean_reconcile_ms": round(mean_ms, 2),
        }, indent=2))
        return 0 if short == 0 and worst_gap <= args.sync_period + 1 else 1
    finally:
        for p in (operator, server):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()


if __name__ == "__main__":
    sys.exit(main())
