"""Resource types: the built-in ones Governor touches and those CRDs declare; their discovery
documents, their OpenAPI v3 documents (enough for kubectl's field-validation probe) and their
Table rendering (what `kubectl get` prints)."""

import datetime
import hashlib
import json
import re

from testapiserver.selectors import selector_to_string


class Version:
    """One served version of a resource type."""

    def __init__(self, name, schema=None, columns=None, status=False, scale=None, served=True,
                 storage=True):
        self.name = name
        self.schema = schema  # openAPIV3Schema for CRs; None for built-ins (not validated)
        self.columns = columns  # CRD additionalPrinterColumns, or None
        self.status = status  # has the /status subresource
        self.scale = scale  # {"spec": path, "status": path, "selector": path or None}
        self.served = served
        self.storage = storage


class ResourceType:
    """A resource (group + plural) with its versions; objects of all versions share storage."""

    def __init__(self, group, plural, singular, kind, namespaced, versions, short_names=(),
                 categories=(), generation=False, crd=None, builtin_table=None,
                 list_kind=None):
        self.group = group
        self.plural = plural
        self.singular = singular
        self.kind = kind
        self.list_kind = list_kind or kind + "List"
        self.namespaced = namespaced
        self.versions = {v.name: v for v in versions}
        self.short_names = list(short_names)
        self.categories = list(categories)
        self.generation = generation  # metadata.generation tracks spec changes
        self.crd = crd  # name of the CRD that declares it, None for built-ins
        self.builtin_table = builtin_table  # (columns, row function) for built-ins

    @property
    def key(self):
        return (self.group, self.plural)

    def served_versions(self):
        return [v for v in self.versions.values() if v.served]

    def storage_version(self):
        for v in self.versions.values():
            if v.storage:
                return v.name
        return next(iter(self.versions))

    def api_version(self, version):
        return "%s/%s" % (self.group, version) if self.group else version


# --- Kubernetes version priority (for the preferred version of a group) ----------------------

_VERSION_RE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(name):
    """Sort key: GA > beta > alpha, higher numbers first; other names last, alphabetical."""
    m = _VERSION_RE.match(name)
    if not m:
        return (3, 0, 0, name)
    major = int(m.group(1))
    level = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    minor = int(m.group(3) or 0)
    return (level, -major, -minor, name)


# --- Ages, as kubectl prints them (k8s.io/apimachinery/pkg/util/duration.HumanDuration) ------


def parse_time(text):
    try:
        return datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(
            tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return None


def human_duration(seconds):
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    s = int(seconds)
    if s < 120:
        return "%ds" % s
    minutes = s // 60
    if minutes < 10:
        return "%dm%ds" % (minutes, s % 60) if s % 60 else "%dm" % minutes
    if minutes < 180:
        return "%dm" % minutes
    hours = minutes // 60
    if hours < 8:
        return "%dh%dm" % (hours, minutes % 60) if minutes % 60 else "%dh" % hours
    if hours < 48:
        return "%dh" % hours
    if hours < 24 * 8:
        return "%dd%dh" % (hours // 24, hours % 24) if hours % 24 else "%dd" % (hours // 24)
    if hours < 24 * 365 * 2:
        return "%dd" % (hours // 24)
    if hours < 24 * 365 * 8:
        return "%dy%dd" % (hours // 24 // 365, (hours // 24) % 365)
    return "%dy" % (hours // 24 // 365)


def age(timestamp):
    t = parse_time(timestamp or "")
    if t is None:
        return "<unknown>"
    now = datetime.datetime.now(datetime.timezone.utc)
    return human_duration((now - t).total_seconds())


# --- Built-in tables ------------------------------------------------------------------------


def _col(name, type_="string", priority=0, fmt=""):
    return {"name": name, "type": type_, "format": fmt, "description": name, "priority": priority}


def _meta(o):
    return o.get("metadata") or {}


def _spec(o):
    s = o.get("spec")
    return s if isinstance(s, dict) else {}


def _status(o):
    s = o.get("status")
    return s if isinstance(s, dict) else {}


def _containers(o):
    tmpl = _spec(o).get("template") or {}
    cs = (tmpl.get("spec") or {}).get("containers") or []
    return [c for c in cs if isinstance(c, dict)]


def _pod_row(o):
    st = _status(o)
    statuses = [c for c in st.get("containerStatuses") or [] if isinstance(c, dict)]
    total = len(_spec(o).get("containers") or [])
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(int(c.get("restartCount") or 0) for c in statuses)
    reason = st.get("phase") or "Pending"
    for c in statuses:
        waiting = (c.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            reason = waiting["reason"]
    if _meta(o).get("deletionTimestamp"):
        reason = "Terminating"
    return ["%d/%d" % (ready, total), reason, restarts, age(_meta(o).get("creationTimestamp")),
            st.get("podIP") or "<none>", _spec(o).get("nodeName") or "<none>", "<none>",
            "<none>"]


def _deployment_row(o):
    st, sp = _status(o), _spec(o)
    return ["%d/%d" % (st.get("readyReplicas") or 0, sp.get("replicas", 1) or 0),
            st.get("updatedReplicas") or 0, st.get("availableReplicas") or 0,
            age(_meta(o).get("creationTimestamp")),
            ",".join(c.get("name", "") for c in _containers(o)),
            ",".join(c.get("image", "") for c in _containers(o)),
            selector_to_string(sp.get("selector")) or "<none>"]


def _replicaset_row(o):
    st, sp = _status(o), _spec(o)
    return [sp.get("replicas", 1) or 0, st.get("replicas") or 0, st.get("readyReplicas") or 0,
            age(_meta(o).get("creationTimestamp")),
            ",".join(c.get("name", "") for c in _containers(o)),
            ",".join(c.get("image", "") for c in _containers(o)),
            selector_to_string(sp.get("selector")) or "<none>"]


def _statefulset_row(o):
    st, sp = _status(o), _spec(o)
    return ["%d/%d" % (st.get("readyReplicas") or 0, sp.get("replicas", 1) or 0),
            age(_meta(o).get("creationTimestamp")),
            ",".join(c.get("name", "") for c in _containers(o)),
            ",".join(c.get("image", "") for c in _containers(o))]


def _service_row(o):
    sp = _spec(o)
    ports = []
    for p in sp.get("ports") or []:
        if isinstance(p, dict):
            ports.append("%s/%s" % (p.get("port"), p.get("protocol", "TCP")))
    sel = sp.get("selector") or {}
    return [sp.get("type", "ClusterIP"), sp.get("clusterIP") or "<none>", "<none>",
            ",".join(ports) or "<none>", age(_meta(o).get("creationTimestamp")),
            ",".join("%s=%s" % (k, sel[k]) for k in sorted(sel)) or "<none>"]


def _event_row(o):
    inv = o.get("involvedObject") or o.get("regarding") or {}
    last = o.get("lastTimestamp") or o.get("eventTime") or _meta(o).get("creationTimestamp")
    return [age(last), o.get("type", ""), o.get("reason", ""),
            "%s/%s" % ((inv.get("kind") or "").lower(), inv.get("name", "")),
            o.get("message") or o.get("note") or ""]


BUILTIN_TABLES = {
    "namespaces": ([_col("Name", fmt="name"), _col("Status"), _col("Age")],
                   lambda o: [_status(o).get("phase", "Active"),
                              age(_meta(o).get("creationTimestamp"))]),
    "pods": ([_col("Name", fmt="name"), _col("Ready"), _col("Status"),
              _col("Restarts", "string"), _col("Age"), _col("IP", priority=1),
              _col("Node", priority=1), _col("Nominated Node", priority=1),
              _col("Readiness Gates", priority=1)], _pod_row),
    "deployments": ([_col("Name", fmt="name"), _col("Ready"), _col("Up-to-date", "integer"),
                     _col("Available", "integer"), _col("Age"),
                     _col("Containers", priority=1), _col("Images", priority=1),
                     _col("Selector", priority=1)], _deployment_row),
    "replicasets": ([_col("Name", fmt="name"), _col("Desired", "integer"),
                     _col("Current", "integer"), _col("Ready", "integer"), _col("Age"),
                     _col("Containers", priority=1), _col("Images", priority=1),
                     _col("Selector", priority=1)], _replicaset_row),
    "statefulsets": ([_col("Name", fmt="name"), _col("Ready"), _col("Age"),
                      _col("Containers", priority=1), _col("Images", priority=1)],
                     _statefulset_row),
    "services": ([_col("Name", fmt="name"), _col("Type"), _col("Cluster-IP"),
                  _col("External-IP"), _col("Port(s)"), _col("Age"),
                  _col("Selector", priority=1)], _service_row),
    "configmaps": ([_col("Name", fmt="name"), _col("Data", "integer"), _col("Age")],
                   lambda o: [len(o.get("data") or {}) + len(o.get("binaryData") or {}),
                              age(_meta(o).get("creationTimestamp"))]),
    "secrets": ([_col("Name", fmt="name"), _col("Type"), _col("Data", "integer"), _col("Age")],
                lambda o: [o.get("type", "Opaque"), len(o.get("data") or {}),
                           age(_meta(o).get("creationTimestamp"))]),
    "events": ([_col("Last Seen"), _col("Type"), _col("Reason"), _col("Object"),
                _col("Message")], _event_row),
    "leases": ([_col("Name", fmt="name"), _col("Holder"), _col("Age")],
               lambda o: [_spec(o).get("holderIdentity") or "",
                          age(_meta(o).get("creationTimestamp"))]),
    "customresourcedefinitions": ([_col("Name", fmt="name"), _col("Created At", "date")],
                                  lambda o: [_meta(o).get("creationTimestamp", "")]),
}

# Tables whose first column is not the name (events): no Name column is prepended.
NAMELESS_TABLES = {"events"}


def builtin_types():
    status_scale = {"spec": ".spec.replicas", "status": ".status.replicas",
                    "selector": None}  # selector: from spec.selector (see scale_selector)

    def t(group, version, plural, singular, kind, namespaced, short=(), status=False,
          scale=None, generation=False, categories=()):
        return ResourceType(group, plural, singular, kind, namespaced,
                            [Version(version, status=status, scale=scale)], short_names=short,
                            categories=categories, generation=generation,
                            builtin_table=BUILTIN_TABLES.get(plural))

    return [
        t("", "v1", "namespaces", "namespace", "Namespace", False, ("ns",), status=True),
        t("", "v1", "pods", "pod", "Pod", True, ("po",), status=True, categories=("all",)),
        t("", "v1", "services", "service", "Service", True, ("svc",), status=True,
          categories=("all",)),
        t("", "v1", "events", "event", "Event", True, ("ev",)),
        t("", "v1", "configmaps", "configmap", "ConfigMap", True, ("cm",)),
        t("", "v1", "secrets", "secret", "Secret", True),
        t("apps", "v1", "deployments", "deployment", "Deployment", True, ("deploy",),
          status=True, scale=status_scale, generation=True, categories=("all",)),
        t("apps", "v1", "statefulsets", "statefulset", "StatefulSet", True, ("sts",),
          status=True, scale=status_scale, generation=True, categories=("all",)),
        t("apps", "v1", "replicasets", "replicaset", "ReplicaSet", True, ("rs",), status=True,
          scale=status_scale, generation=True, categories=("all",)),
        t("coordination.k8s.io", "v1", "leases", "lease", "Lease", True),
        # Stored and served so that `kubectl apply -k manifests/` works; nothing enforces
        # RBAC or disruption budgets here.
        t("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", True, ("sa",)),
        t("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole",
          False),
        t("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding",
          "ClusterRoleBinding", False),
        t("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", True),
        t("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding",
          True),
        t("policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget",
          True, ("pdb",), status=True, generation=True),
        # No controller behind it: Governor only reads HPAs to refuse targets they manage.
        t("autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler",
          "HorizontalPodAutoscaler", True, ("hpa",), status=True, generation=True,
          categories=("all",)),
        t("events.k8s.io", "v1", "events", "event", "Event", True, ("ev",)),
        t("apiextensions.k8s.io", "v1", "customresourcedefinitions",
          "customresourcedefinition", "CustomResourceDefinition", False, ("crd", "crds"),
          status=True, generation=True),
    ]


# --- JSONPath (the subset CRD printer columns use) ------------------------------------------


def _jsonpath_tokens(path):
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    if path.startswith("$"):
        path = path[1:]
    tokens, i = [], 0
    while i < len(path):
        c = path[i]
        if c == ".":
            j = i + 1
            while j < len(path) and path[j] not in ".[":
                j += 1
            if j > i + 1:
                tokens.append(("field", path[i + 1:j]))
            i = j
        elif c == "[":
            j = path.index("]", i)
            inner = path[i + 1:j]
            if inner.startswith("?(") and inner.endswith(")"):
                m = re.fullmatch(r"\?\(@\.([\w.-]+)\s*==\s*['\"]?([^'\"]*)['\"]?\)", inner)
                if m:
                    tokens.append(("filter", m.group(1).split("."), m.group(2)))
            elif inner == "*":
                tokens.append(("all",))
            elif inner.lstrip("-").isdigit():
                tokens.append(("index", int(inner)))
            else:
                tokens.append(("field", inner.strip("'\"")))
            i = j + 1
        else:
            j = i
            while j < len(path) and path[j] not in ".[":
                j += 1
            tokens.append(("field", path[i:j]))
            i = j
    return tokens


def jsonpath(obj, path):
    """All values `path` selects in `obj` (a list, empty when nothing matches)."""
    try:
        tokens = _jsonpath_tokens(path)
    except ValueError:
        return []
    cur = [obj]
    for tok in tokens:
        nxt = []
        for v in cur:
            if tok[0] == "field" and isinstance(v, dict) and tok[1] in v:
                nxt.append(v[tok[1]])
            elif tok[0] == "index" and isinstance(v, list) and -len(v) <= tok[1] < len(v):
                nxt.append(v[tok[1]])
            elif tok[0] == "all":
                if isinstance(v, list):
                    nxt.extend(v)
                elif isinstance(v, dict):
                    nxt.extend(v.values())
            elif tok[0] == "filter" and isinstance(v, list):
                for item in v:
                    probe = item
                    for p in tok[1]:
                        probe = probe.get(p) if isinstance(probe, dict) else None
                    text = ("true" if probe else "false") if isinstance(probe, bool) \
                        else str(probe)
                    if probe is not None and text == tok[2]:
                        nxt.append(item)
        cur = nxt
    return cur


def get_path(obj, dotted):
    """The value at a simple dotted path like '.spec.replicas', or None."""
    cur = obj
    for part in [p for p in dotted.split(".") if p]:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def set_path(obj, dotted, value):
    """Sets a simple dotted path, creating objects on the way."""
    parts = [p for p in dotted.split(".") if p]
    cur = obj
    for part in parts[:-1]:
        if not isinstance(cur.get(part), dict):
            cur[part] = {}
        cur = cur[part]
    cur[parts[-1]] = value


# --- Tables ---------------------------------------------------------------------------------


def table_columns(rtype, version):
    """Column definitions for `kubectl get`."""
    if rtype.builtin_table is not None:
        cols = rtype.builtin_table[0]
        return cols
    v = rtype.versions.get(version)
    columns = (v.columns if v else None)
    defs = [_col("Name", fmt="name")]
    if not columns:
        return defs + [_col("Age", "date")]
    for c in columns:
        defs.append({"name": c.get("name", ""), "type": c.get("type", "string"),
                     "format": c.get("format", ""), "description": c.get("description", ""),
                     "priority": c.get("priority", 0)})
    return defs


def table_cells(rtype, version, obj):
    name = _meta(obj).get("name", "")
    if rtype.builtin_table is not None:
        cells = rtype.builtin_table[1](obj)
        return cells if rtype.plural in NAMELESS_TABLES else [name] + cells
    v = rtype.versions.get(version)
    columns = (v.columns if v else None)
    if not columns:
        return [name, age(_meta(obj).get("creationTimestamp"))]
    cells = [name]
    for c in columns:
        found = jsonpath(obj, c.get("jsonPath", ""))
        value = found[0] if found else None
        t = c.get("type", "string")
        if value is None:
            cells.append(None)
        elif t == "date":
            cells.append(age(value) if isinstance(value, str) else value)
        elif t == "integer" and isinstance(value, (int, float)) and not isinstance(value, bool):
            cells.append(int(value))
        elif t in ("string",) and not isinstance(value, str):
            cells.append(json.dumps(value) if isinstance(value, (dict, list)) else
                         (str(value).lower() if isinstance(value, bool) else str(value)))
        else:
            cells.append(value)
    return cells


# --- Discovery ------------------------------------------------------------------------------

_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


def api_resources(rtype, version):
    """APIResource entries for `rtype` in `version`: the resource and its subresources."""
    v = rtype.versions[version]
    verbs = [x for x in _VERBS if not (rtype.plural == "namespaces" and x == "deletecollection")]
    main = {"name": rtype.plural, "singularName": rtype.singular,
            "namespaced": rtype.namespaced, "kind": rtype.kind, "verbs": verbs,
            "storageVersionHash": hashlib.sha256(
                ("%s/%s/%s" % (rtype.group, version, rtype.plural)).encode()).hexdigest()[:12]}
    if rtype.short_names:
        main["shortNames"] = rtype.short_names
    if rtype.categories:
        main["categories"] = rtype.categories
    out = [main]
    if v.status:
        out.append({"name": rtype.plural + "/status", "singularName": "",
                    "namespaced": rtype.namespaced, "kind": rtype.kind,
                    "verbs": ["get", "patch", "update"]})
    if v.scale:
        out.append({"name": rtype.plural + "/scale", "singularName": "",
                    "namespaced": rtype.namespaced, "group": "autoscaling", "version": "v1",
                    "kind": "Scale", "verbs": ["get", "patch", "update"]})
    return out


# --- OpenAPI v3 (what kubectl's field-validation and apply probes read) ---------------------

_PATCH_TYPES = ["application/json-patch+json", "application/merge-patch+json",
                "application/apply-patch+yaml"]


def _op(gvk, action, with_body=False, patch=False):
    params = [{"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
              for n in ("dryRun", "fieldManager", "fieldValidation", "pretty")]
    op = {
        "description": "%s %s" % (action, gvk["kind"]),
        "operationId": action + gvk["kind"],
        "parameters": params,
        "responses": {"200": {"description": "OK", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/" + gvk["ref"]}}}}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": gvk["group"], "version": gvk["version"],
                                            "kind": gvk["kind"]},
    }
    if with_body:
        types = _PATCH_TYPES if patch else ["application/json"]
        op["requestBody"] = {"content": {
            t: {"schema": {"$ref": "#/components/schemas/" + gvk["ref"]}} for t in types}}
    return op


def openapi_v3(prefix, group, version, rtypes):
    """The OpenAPI v3 document of one group-version. Strategic merge patch is deliberately not
    listed for built-ins: kubectl apply then computes its patch from its compiled-in types
    instead of requiring the full built-in schemas here."""
    paths, schemas = {}, {}
    for rt in rtypes:
        v = rt.versions.get(version)
        if v is None or not v.served:
            continue
        ref = "%s.%s.%s" % (group or "core", version, rt.kind)
        gvk = {"group": group, "version": version, "kind": rt.kind, "ref": ref}
        schema = dict(v.schema) if isinstance(v.schema, dict) else {"type": "object"}
        schema["x-kubernetes-group-version-kind"] = [{"group": group, "version": version,
                                                     "kind": rt.kind}]
        schemas[ref] = schema
        base = "/%s/namespaces/{namespace}/%s" % (prefix, rt.plural) if rt.namespaced \
            else "/%s/%s" % (prefix, rt.plural)
        paths[base] = {"get": _op(gvk, "list"), "post": _op(gvk, "post", with_body=True)}
        item = base + "/{name}"
        paths[item] = {"get": _op(gvk, "get"), "put": _op(gvk, "put", with_body=True),
                       "patch": _op(gvk, "patch", with_body=True, patch=True),
                       "delete": _op(gvk, "delete")}
        if v.status:
            paths[item + "/status"] = {"get": _op(gvk, "get"),
                                       "put": _op(gvk, "put", with_body=True),
                                       "patch": _op(gvk, "patch", with_body=True, patch=True)}
        if v.scale:
            sgvk = {"group": "autoscaling", "version": "v1", "kind": "Scale",
                    "ref": "io.k8s.api.autoscaling.v1.Scale"}
            schemas[sgvk["ref"]] = {"type": "object"}
            paths[item + "/scale"] = {"get": _op(sgvk, "get"),
                                      "put": _op(sgvk, "put", with_body=True),
                                      "patch": _op(sgvk, "patch", with_body=True, patch=True)}
    return {"openapi": "3.0.0",
            "info": {"title": "Kubernetes (governor test API server)", "version": "v1.32.0"},
            "paths": paths, "components": {"schemas": schemas}}
