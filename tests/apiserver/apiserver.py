#!/usr/bin/env python3
"""Governor's test API server: a small process that answers like kube-apiserver (v1.32) for
what Governor and kubectl touch. Python 3 standard library only.

Run by hand:
    python3 tests/apiserver/apiserver.py --port 18080 --token-file tokens.csv
    (tokens.csv: `admin-token,admin`), then use kubectl with a kubeconfig whose user has
    `token: admin-token` and whose cluster has `server: http://127.0.0.1:18080`.

WHAT IT IMPLEMENTS
- HTTP/1.1 with keep-alive, optional TLS (--tls-cert/--tls-key), bearer tokens from
  --token-file (csv `token,user[,uid,"groups"]`, like kube-apiserver's --token-auth-file;
  re-read when it changes). Requests without a valid token get a 401 Status. Exception:
  with --anonymous-user U, requests with no Authorization header at all run as U (an invalid
  token is still 401). That exists for kubectl over plain HTTP: client-go only sends
  credentials over TLS. There is no authorization: every authenticated user may do
  everything (faults can simulate 403).
- Discovery: /version, /api, /apis, /api/v1, /apis/<group>, /apis/<group>/<version> (legacy,
  not aggregated discovery; kubectl falls back to it), with verbs, kinds, shortNames,
  categories and the status/scale subresources. /openapi/v3 and its per-group-version
  documents list every path and operation with x-kubernetes-group-version-kind and the
  fieldValidation parameter (what kubectl's validation probe reads); schemas are those of
  CRDs, built-ins are untyped. /openapi/v2 is 404 (kubectl then falls back to its compiled-in
  types for client-side apply). /healthz, /readyz, /livez answer without authentication.
- Resources: core/v1 namespaces (default, kube-system, kube-public exist and cannot be
  deleted), pods, services, events, configmaps, secrets; apps/v1 deployments, statefulsets,
  replicasets (with /status and /scale); coordination.k8s.io/v1 leases; autoscaling/v2
  horizontalpodautoscalers, core/v1 serviceaccounts, rbac.authorization.k8s.io/v1 roles,
  rolebindings, clusterroles, clusterrolebindings, policy/v1 poddisruptionbudgets (stored and
  served so the install manifests apply; nothing acts on them or enforces them); events.k8s.io/v1
  events (stored apart from core events: no conversion); apiextensions.k8s.io/v1
  customresourcedefinitions; and every custom resource an applied CRD declares (namespaced or
  cluster-scoped, all served versions sharing storage with apiVersion rewritten, no conversion
  webhooks), with the status and scale subresources the CRD asks for.
- Objects: a global, monotonically increasing resourceVersion; uid, creationTimestamp;
  generation = 1 on create, bumped when anything but metadata (and status, for types with a
  status subresource) changes, for apps/v1 workloads, CRDs and custom resources; generateName;
  the namespace must exist; 409 AlreadyExists; PUT with a stale metadata.resourceVersion ->
  409 Conflict ("the object has been modified; ..."), PUT without one is unconditional; writes
  that change nothing keep the resourceVersion and send no watch event; main-resource writes
  ignore .status and /status writes ignore everything but .status when the type has a status
  subresource; on create, status is reset as the real strategies do. A few built-in checks
  (workload selector required, matching the template and immutable, containers with name and
  image, replicas >= 0 and an integer, Lease time formats and integers) answer 400/422 like
  the real ones. DELETE returns the object, honours preconditions and propagationPolicy
  Orphan; otherwise dependents (ownerReferences) are deleted at once (finalizers are ignored),
  and a namespace takes its objects with it. dryRun=All is honoured.
- Lists: labelSelector (=, ==, !=, in, notin, exists, !key), fieldSelector (=, ==, != on any
  dotted field, e.g. metadata.name, metadata.namespace, status.phase), limit/continue
  (continue reads the current state after the last key: no snapshot), resourceVersion (the
  current state is served; resourceVersionMatch=Exact or a continue older than the retained
  history -> 410 Expired). Tables (Accept: application/json;as=Table;v=v1;g=meta.k8s.io) for
  every type, with CRD additionalPrinterColumns (simple JSONPath) and the usual built-in
  columns.
- Patches: application/merge-patch+json (RFC 7386), application/json-patch+json (RFC 6902,
  including test), application/strategic-merge-patch+json for built-ins (lists merged by their
  patchMergeKey: containers/volumes/env/imagePullSecrets by name, container ports by
  containerPort, service ports by port, volumeMounts by mountPath, conditions by type,
  ownerReferences by uid; finalizers merged as a set; $patch replace/delete, $retainKeys,
  $setElementOrder, $deleteFromPrimitiveList) and 415 on custom resources like the real server;
  application/apply-patch+yaml (JSON body) is approximated: create if absent, else merged
  (strategic for built-ins) without field ownership or conflicts.
- CRD schemas (structural subset; see testapiserver/schema.py): defaults applied, unknown
  fields pruned (fieldValidation=Strict -> 400 "strict decoding error: unknown field ...",
  Warn (the default) -> Warning headers, Ignore), violations -> 422 Invalid with
  details.causes and the real message shape (`Widget.example.com "w" is invalid:
  spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to
  1`). CEL rules (x-kubernetes-validations) are ignored.
- Errors are metav1.Status JSON: reason NotFound, AlreadyExists, Conflict, Invalid, BadRequest,
  Expired (410), TooManyRequests, Unauthorized, Forbidden, MethodNotAllowed,
  UnsupportedMediaType, InternalError, ...; details name, group, kind, causes.
- Watch: ?watch=1|true on collections (and on a named object, as fieldSelector
  metadata.name), resourceVersion (absent or "0": current objects first as ADDED; N: every
  event after N from the history, or an ERROR event with a 410 Expired Status when N is older
  than the retained history), labelSelector/fieldSelector (objects entering or leaving the
  selection become ADDED/DELETED), allowWatchBookmarks (a BOOKMARK every
  --bookmark-interval seconds with only kind, apiVersion and metadata.resourceVersion),
  timeoutSeconds (default 1800), Table watches for kubectl get -w. Chunked JSON lines
  {"type": ..., "object": ...}. History: the last --max-watch-history events (like etcd
  compaction, older resourceVersions get 410).
- Simulated controllers (testapiserver/workloads.py): Deployment -> ReplicaSet
  `<name>-<hash>` -> pods `<rs>-<5 chars>`; StatefulSet -> pods `<name>-<i>`; pods become
  Running/Ready --pod-ready-delay seconds after creation; scale-down removes not-ready pods
  first, newest first; workload status and conditions (Available, Progressing) follow.
- Audit: every authenticated request (and every 401) as a JSON line in --audit-log and in
  memory: timestamp, user, verb (get/list/watch/create/update/patch/delete/deletecollection),
  apiGroup, apiVersion, resource, subresource, namespace, name, uri, code (and fault id).
  A watch is recorded when its stream starts (stage ResponseStarted), not when it ends.

DELIBERATELY NOT IMPLEMENTED: RBAC/authorization, admission webhooks, aggregated discovery,
protobuf, YAML request bodies, managedFields and real server-side apply, graceful deletion
and finalizers, consistent snapshots for continue/exact resourceVersions, CRD conversion,
CEL, schemas (and strict unknown-field checks) for built-in types, events.k8s.io <-> core
event conversion, pod logs/exec/eviction, nodes.

CONTROL API (test-only, admin user only; JSON bodies):
  POST   /_test/faults      {"verb","resource","subresource","namespace","name","user","group"
                             (all optional, matched exactly), "code": 500, "count": 2,
                             "retryAfterSeconds": 1, "delayMs": 3000, "message": "..."}
                            (or a list of them). A fault needs code and/or delayMs; without
                            count it stays until deleted. Faults apply to resource requests
                            only (never to discovery). 429 sets Retry-After. Returns the
                            faults with their ids.
  GET    /_test/faults      remaining faults, with hits and counts left.
  DELETE /_test/faults      removes them all.
  POST   /_test/watches/drop   {"resource": "deployments"} optional: closes open watch
                            streams abruptly (no terminating chunk). Returns {"dropped": n}.
  GET    /_test/watches     open watches: resource, group, namespace, user.
  POST   /_test/compact     forgets the event history: watches from any older
                            resourceVersion get 410. Returns the compacted resourceVersion.
  PUT    /_test/pod-ready-delay  {"seconds": 0.5}
  GET    /_test/audit[?verb=update&resource=deployments&user=...]  audit records (array).
  DELETE /_test/audit       clears the in-memory audit records.
  POST   /_test/tokens      {"token": "t", "user": "u"}: another accepted bearer token.
  GET    /_test/state       {"resourceVersion", "compactedResourceVersion", "watches"}.
"""

import argparse
import logging
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from testapiserver.server import Server  # noqa: E402
from testapiserver.store import Store  # noqa: E402
from testapiserver.workloads import WorkloadController  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description="Governor's test API server")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--token-file", required=True, help="csv: token,user[,uid,groups]")
    ap.add_argument("--anonymous-user",
                    help="requests with no Authorization header run as this user (default: "
                         "401); client-go, hence kubectl, sends no token over plain HTTP")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--pod-ready-delay", type=float, default=1.0, help="seconds")
    ap.add_argument("--audit-log", help="JSON lines file")
    ap.add_argument("--bookmark-interval", type=float, default=1.0,
                    help="seconds between BOOKMARK events (kube-apiserver: about 60)")
    ap.add_argument("--max-watch-history", type=int, default=10000,
                    help="events kept for watches from an older resourceVersion")
    ap.add_argument("--verbose", action="store_true", help="log every request")
    args = ap.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    if args.bookmark_interval <= 0 or args.max_watch_history < 1 or args.pod_ready_delay < 0:
        ap.error("--bookmark-interval must be > 0, --max-watch-history >= 1, "
                 "--pod-ready-delay >= 0")

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    store = Store(max_history=args.max_watch_history)
    controller = WorkloadController(store, args.pod_ready_delay)
    controller.start()
    server = Server((args.bind, args.port), store, controller, args)

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("governor test apiserver listening on %s://%s:%d" % (
        "https" if args.tls_cert else "http", args.bind, args.port), flush=True)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
