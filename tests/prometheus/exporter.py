#!/usr/bin/env python3
"""A Prometheus exporter for tests: series whose values the test sets, or a closed-loop load.

Python 3 standard library only. Serves the text exposition format (version 0.0.4) on
GET /metrics, and GET /-/healthy answers "ok" once the server is up.

Static mode (the default): the series and their values are set at run time.

    exporter.py --port 0 --port-file /tmp/x/port
    curl -X PUT --data '[{"name": "x", "labels": {"pod": "a"}, "value": 1.5},
                         {"name": "x", "labels": {"pod": "b"}, "value": "NaN"}]' \
         http://127.0.0.1:PORT/series

  PUT /series    replaces every series with the JSON list; each item has "name" (a metric
                 name), "labels" (an object of label name to string; optional) and "value":
                 a number or one of "NaN", "+Inf", "-Inf" (also "Inf", "-inf", ...).
                 Answers 204; 400 with a message naming the item and field on bad input.
  POST /series   adds or updates the listed series (same body), keeping the others.
  DELETE /series removes every series.
  GET /series    the current series, as JSON.

Closed-loop mode: every scrape reads the Deployment's ready pods from a (test) Kubernetes API
server and serves the load a demand curve puts on each of them.

    exporter.py --apiserver http://127.0.0.1:6443 --token T --namespace NS \\
        --deployment web --demand '[[0, 100], [60, 400], [120, 400], [180, 50]]' \\
        --capacity-per-pod 100 [--time-scale 60] [--ca-file ca.pem | --insecure]

  --demand is inline JSON or a file holding it: a list of [t_seconds, requests_per_second]
  points (or {"interpolation": "linear"|"step", "points": [...]}). demand(t) is interpolated
  between the points (linear by default; "step" holds each value until the next point),
  constant before the first and after the last. t is the time since the exporter started,
  multiplied by --time-scale (default 1; 60 plays an hour of the curve in a minute).
  Ready pods: GET /apis/apps/v1/namespaces/NS/deployments/NAME for spec.selector.matchLabels,
  then GET /api/v1/namespaces/NS/pods?labelSelector=... ; a pod counts when it is not being
  deleted and its Ready condition is True. Served per scrape:
    demand_requests_per_second{namespace,deployment}         demand(t)
    ready_pods{namespace,deployment}                          ready pods
    http_requests_per_second{namespace,pod}                   demand(t) / ready pods, per pod
    pod_utilization_percent{namespace,pod}                    100 * that / capacity per pod
    unserved_requests_per_second{namespace,deployment}        max(0, demand - ready * capacity)
    exporter_apiserver_up                                     1 if the API server answered
  When the API server fails, the per-pod series are left out (and exporter_apiserver_up is 0)
  rather than guessed; the series set by PUT /series are served too, in both modes.

  PUT /demand    replaces the demand curve with the body (the same JSON as --demand) and
                 restarts its clock: t = 0 is now. A test steps the load exactly when it
                 wants: PUT [[0, 600]]. Answers 204; 400 on bad input; 409 when not in
                 closed-loop mode.

The port: --port (default 0: any free port). The chosen port is printed on stdout as
"listening on 127.0.0.1:PORT" and, with --port-file, written to that file (atomically), so a
test can start the exporter without racing for a port.
"""

import argparse
import json
import math
import os
import re
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
SPECIAL_VALUES = {"nan": math.nan, "+inf": math.inf, "inf": math.inf, "-inf": -math.inf}


class BadInput(Exception):
    pass


def parse_value(raw, where):
    if isinstance(raw, bool):
        raise BadInput(f"{where}.value: must be a number or NaN/+Inf/-Inf, got a boolean")
    if isinstance(raw, (int, float)):
        return float(raw)
    if isinstance(raw, str) and raw.lower() in SPECIAL_VALUES:
        return SPECIAL_VALUES[raw.lower()]
    raise BadInput(f"{where}.value: must be a number or NaN/+Inf/-Inf, got {raw!r}")


def parse_series_list(body):
    try:
        items = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadInput(f"body: not JSON: {e}")
    if not isinstance(items, list):
        raise BadInput("body: must be a JSON list of series")
    out = {}
    for i, item in enumerate(items):
        where = f"[{i}]"
        if not isinstance(item, dict):
            raise BadInput(f"{where}: must be an object")
        name = item.get("name")
        if not isinstance(name, str) or not METRIC_NAME.match(name):
            raise BadInput(f"{where}.name: must be a metric name, got {name!r}")
        labels = item.get("labels", {})
        if not isinstance(labels, dict):
            raise BadInput(f"{where}.labels: must be an object")
        for k, v in labels.items():
            if not LABEL_NAME.match(k) or k.startswith("__"):
                raise BadInput(f"{where}.labels: {k!r} is not a label name")
            if not isinstance(v, str):
                raise BadInput(f"{where}.labels.{k}: must be a string")
        if "value" not in item:
            raise BadInput(f"{where}.value: missing")
        value = parse_value(item["value"], where)
        out[(name, tuple(sorted(labels.items())))] = value
    return out


def format_value(v):
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(float(v))


def escape_label_value(v):
    return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")


def exposition(series):
    """series: {(name, ((label, value), ...)): float} -> text format."""
    lines = []
    by_name = {}
    for (name, labels), value in series.items():
        by_name.setdefault(name, []).append((labels, value))
    for name in sorted(by_name):
        lines.append(f"# TYPE {name} gauge")
        for labels, value in sorted(by_name[name], key=lambda x: x[0]):
            text = ",".join(f'{k}="{escape_label_value(v)}"' for k, v in labels)
            lines.append(f"{name}{{{text}}} {format_value(value)}" if text else
                         f"{name} {format_value(value)}")
    return ("\n".join(lines) + "\n") if lines else ""


class Demand:
    def __init__(self, spec, inline_only=False):
        text = spec
        if not inline_only and not spec.lstrip().startswith(("[", "{")):
            with open(spec, encoding="utf-8") as f:
                text = f.read()
        data = json.loads(text)
        self.step = False
        if isinstance(data, dict):
            interpolation = data.get("interpolation", "linear")
            if interpolation not in ("linear", "step"):
                raise ValueError("demand.interpolation: must be linear or step")
            self.step = interpolation == "step"
            data = data.get("points")
        if not isinstance(data, list) or not data:
            raise ValueError("demand: must be a non-empty list of [t_seconds, rps] points")
        points = []
        for i, p in enumerate(data):
            if (not isinstance(p, list) or len(p) != 2 or
                    not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in p)):
                raise ValueError(f"demand.points[{i}]: must be [t_seconds, rps]")
            points.append((float(p[0]), float(p[1])))
        if any(b[0] <= a[0] for a, b in zip(points, points[1:])):
            raise ValueError("demand.points: times must increase")
        self.points = points

    def at(self, t):
        pts = self.points
        if t <= pts[0][0]:
            return pts[0][1]
        for (t0, v0), (t1, v1) in zip(pts, pts[1:]):
            if t < t1:
                return v0 if self.step else v0 + (v1 - v0) * (t - t0) / (t1 - t0)
        return pts[-1][1]


class ClosedLoop:
    def __init__(self, args):
        self.apiserver = args.apiserver.rstrip("/")
        self.token = args.token
        self.namespace = args.namespace
        self.deployment = args.deployment
        self.capacity = args.capacity_per_pod
        self.time_scale = args.time_scale
        self.lock = threading.Lock()  # Guards demand and start (PUT /demand vs scrapes).
        self.demand = Demand(args.demand)
        self.start = time.monotonic()
        self.context = None
        if self.apiserver.startswith("https://"):
            if args.insecure:
                self.context = ssl._create_unverified_context()  # noqa: S323 (tests only)
            else:
                self.context = ssl.create_default_context(cafile=args.ca_file)

    def get(self, path):
        req = urllib.request.Request(self.apiserver + path)
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        req.add_header("Accept", "application/json")
        with urllib.request.urlopen(req, timeout=2, context=self.context) as resp:
            return json.loads(resp.read().decode("utf-8"))

    def ready_pods(self):
        ns = urllib.parse.quote(self.namespace, safe="")
        name = urllib.parse.quote(self.deployment, safe="")
        deployment = self.get(f"/apis/apps/v1/namespaces/{ns}/deployments/{name}")
        match = (deployment.get("spec", {}).get("selector", {}) or {}).get("matchLabels") or {}
        selector = ",".join(f"{k}={v}" for k, v in sorted(match.items()))
        pods = self.get(f"/api/v1/namespaces/{ns}/pods?labelSelector="
                        + urllib.parse.quote(selector, safe=""))
        ready = []
        for pod in pods.get("items", []) or []:
            meta = pod.get("metadata", {}) or {}
            if meta.get("deletionTimestamp"):
                continue
            conditions = (pod.get("status", {}) or {}).get("conditions", []) or []
            if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
                ready.append(meta.get("name", ""))
        return sorted(ready)

    def set_demand(self, demand):
        with self.lock:
            self.demand = demand
            self.start = time.monotonic()

    def series(self):
        with self.lock:
            t = (time.monotonic() - self.start) * self.time_scale
            demand = self.demand.at(t)
        ns, dep = self.namespace, self.deployment
        base = (("deployment", dep), ("namespace", ns))
        out = {("demand_requests_per_second", base): demand}
        try:
            pods = self.ready_pods()
            up = 1.0
        except (urllib.error.URLError, OSError, ValueError) as e:
            print(f"exporter: apiserver: {e}", file=sys.stderr, flush=True)
            pods, up = None, 0.0
        out[("exporter_apiserver_up", ())] = up
        if pods is None:
            return out
        out[("ready_pods", base)] = float(len(pods))
        out[("unserved_requests_per_second", base)] = max(0.0, demand - len(pods) * self.capacity)
        if pods:
            per_pod = demand / len(pods)
            for pod in pods:
                labels = (("namespace", ns), ("pod", pod))
                out[("http_requests_per_second", labels)] = per_pod
                out[("pod_utilization_percent", labels)] = 100.0 * per_pod / self.capacity
        return out


class State:
    def __init__(self, closed_loop):
        self.lock = threading.Lock()
        self.series = {}
        self.closed_loop = closed_loop


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # Quiet: a scrape a second would flood the log.
            pass

        def reply(self, code, body=b"", content_type="text/plain; charset=utf-8"):
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length > 0 else b""

        def do_GET(self):
            path = urllib.parse.urlparse(self.path).path
            if path == "/metrics":
                with state.lock:
                    series = dict(state.series)
                if state.closed_loop is not None:
                    series.update(state.closed_loop.series())
                self.reply(200, exposition(series).encode("utf-8"),
                           "text/plain; version=0.0.4; charset=utf-8")
            elif path == "/-/healthy":
                self.reply(200, b"ok\n")
            elif path == "/series":
                with state.lock:
                    items = [{"name": n, "labels": dict(l), "value": format_value(v)}
                             for (n, l), v in sorted(state.series.items())]
                self.reply(200, json.dumps(items).encode("utf-8"), "application/json")
            else:
                self.reply(404, b"not found\n")

        def change(self, replace):
            if urllib.parse.urlparse(self.path).path != "/series":
                self.reply(404, b"not found\n")
                return
            try:
                parsed = parse_series_list(self.body())
            except BadInput as e:
                self.reply(400, (str(e) + "\n").encode("utf-8"))
                return
            with state.lock:
                if replace:
                    state.series = parsed
                else:
                    state.series.update(parsed)
            self.reply(204)

        def do_PUT(self):
            if urllib.parse.urlparse(self.path).path == "/demand":
                if state.closed_loop is None:
                    self.reply(409, b"PUT /demand: not in closed-loop mode (no --apiserver)\n")
                    return
                try:
                    demand = Demand(self.body().decode("utf-8"), inline_only=True)
                except (ValueError, UnicodeDecodeError) as e:
                    self.reply(400, (f"PUT /demand: {e}\n").encode("utf-8"))
                    return
                state.closed_loop.set_demand(demand)
                self.reply(204)
                return
            self.change(replace=True)

        def do_POST(self):
            self.change(replace=False)

        def do_DELETE(self):
            if urllib.parse.urlparse(self.path).path != "/series":
                self.reply(404, b"not found\n")
                return
            with state.lock:
                state.series = {}
            self.reply(204)

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--apiserver")
    ap.add_argument("--token", default="")
    ap.add_argument("--ca-file")
    ap.add_argument("--insecure", action="store_true")
    ap.add_argument("--namespace", default="default")
    ap.add_argument("--deployment")
    ap.add_argument("--demand")
    ap.add_argument("--capacity-per-pod", type=float, default=100.0)
    ap.add_argument("--time-scale", type=float, default=1.0)
    args = ap.parse_args()

    closed_loop = None
    if args.apiserver:
        if not args.deployment or not args.demand:
            ap.error("--apiserver needs --deployment and --demand")
        if args.capacity_per_pod <= 0 or args.time_scale <= 0:
            ap.error("--capacity-per-pod and --time-scale must be positive")
        try:
            closed_loop = ClosedLoop(args)
        except (OSError, ValueError) as e:
            ap.error(f"--demand: {e}")

    server = ThreadingHTTPServer((args.bind, args.port), make_handler(State(closed_loop)))
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(f"listening on {args.bind}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
