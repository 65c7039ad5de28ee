"""The object store: one lock, a global resourceVersion, an event history for watches, and the
write semantics of kube-apiserver (create/update/patch/delete, status and scale subresources,
generation, CRD registration, schema validation, garbage collection of owned objects).

Objects in the store are never modified once stored: every write stores a fresh dict. Readers
take references under the lock and serialize them outside it, so a list of 1,000 objects does
not copy the store."""

import collections
import datetime
import json
import random
import re
import threading
import uuid

from testapiserver import errors, patch as patches, schema as schemas
from testapiserver.errors import ApiError
from testapiserver.resources import (ResourceType, Version, builtin_types, get_path,
                                     set_path, version_priority)
from testapiserver.selectors import (fields_match, labels_match, selector_matches,
                                     selector_to_string)

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand alphabet
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_MICROTIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
PROTECTED_NAMESPACES = ("default", "kube-system", "kube-public")


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def random_suffix(n=5):
    return "".join(random.choice(_NAME_CHARS) for _ in range(n))


def clone(obj):
    """A deep copy of a JSON document (faster than copy.deepcopy for these)."""
    return json.loads(json.dumps(obj))


def _without_rv(obj):
    meta = dict(obj.get("metadata") or {})
    meta.pop("resourceVersion", None)
    out = dict(obj)
    out["metadata"] = meta
    return out


def _spec_part(rtype, version, obj):
    """What metadata.generation tracks: everything but metadata (and status, when the type has
    a status subresource)."""
    v = rtype.versions.get(version) or next(iter(rtype.versions.values()))
    skip = {"metadata", "apiVersion", "kind"}
    if v.status:
        skip.add("status")
    return {k: val for k, val in obj.items() if k not in skip}


class Event:
    __slots__ = ("rv", "key", "etype", "obj", "old")

    def __init__(self, rv, key, etype, obj, old):
        self.rv, self.key, self.etype, self.obj, self.old = rv, key, etype, obj, old


class Watcher:
    """One open watch. Its queue is filled under the store lock; its handler thread drains it."""

    def __init__(self, store, rtype, version, namespace, label_reqs, field_reqs, user,
                 start_rv, as_table):
        self.rtype = rtype
        self.version = version
        self.namespace = namespace
        self.label_reqs = label_reqs
        self.field_reqs = field_reqs
        self.user = user
        self.start_rv = start_rv
        self.as_table = as_table
        self.queue = collections.deque()
        self.cond = threading.Condition(store.lock)
        self.dropped = False  # closed abruptly by the control API
        self.ended = False  # closed cleanly (its CRD went away)
        self.connection = None

    def matches(self, obj):
        meta = obj.get("metadata") or {}
        if self.namespace is not None and meta.get("namespace") != self.namespace:
            return False
        return labels_match(self.label_reqs, meta.get("labels")) and \
            fields_match(self.field_reqs, obj)

    def translate(self, event):
        """The watch event this watcher sees for a store event, or None."""
        if event.key != self.rtype.key or event.rv <= self.start_rv:
            return None
        now = self.matches(event.obj)
        if event.etype != "MODIFIED":
            return (event.etype, event.obj) if now else None
        before = event.old is not None and self.matches(event.old)
        if now and before:
            return ("MODIFIED", event.obj)
        if now:
            return ("ADDED", event.obj)
        if before:
            # The object left the selection: DELETED, with the old state at the new version.
            gone = dict(event.old)
            gone["metadata"] = dict(gone.get("metadata") or {})
            gone["metadata"]["resourceVersion"] = str(event.rv)
            return ("DELETED", gone)
        return None


class Store:
    def __init__(self, max_history=10000):
        self.lock = threading.RLock()
        self.rv = 0
        self.max_history = max_history
        self.history = collections.deque()
        self.compacted = 0  # watches and continues from an older resourceVersion get 410
        self.types = {}  # (group, plural) -> ResourceType
        self.objects = {}  # (group, plural) -> {(namespace, name): object}
        self.owned = collections.defaultdict(set)  # owner uid -> {(key, namespace, name)}
        self.watchers = set()
        self.listeners = []  # fn(rtype, etype, obj, old), called under the lock
        for rt in builtin_types():
            self._register(rt)
        for ns in PROTECTED_NAMESPACES:
            self.put_internal(self.types[("", "namespaces")],
                              {"apiVersion": "v1", "kind": "Namespace",
                               "metadata": {"name": ns, "labels": {
                                   "kubernetes.io/metadata.name": ns}},
                               "spec": {"finalizers": ["kubernetes"]},
                               "status": {"phase": "Active"}})

    # --- Types ------------------------------------------------------------------------------

    def _register(self, rtype):
        self.types[rtype.key] = rtype
        self.objects.setdefault(rtype.key, {})

    def groups(self):
        """{group: {version: [ResourceType]}} of everything served."""
        with self.lock:
            out = {}
            for rt in self.types.values():
                for v in rt.served_versions():
                    out.setdefault(rt.group, {}).setdefault(v.name, []).append(rt)
            return out

    def preferred_version(self, group, versions):
        return sorted(versions, key=version_priority)[0]

    def find_type(self, group, version, plural):
        """The type serving group/version/plural, or None."""
        with self.lock:
            rt = self.types.get((group, plural))
            if rt is None:
                return None
            v = rt.versions.get(version)
            return rt if v is not None and v.served else None

    # --- Commit -----------------------------------------------------------------------------

    def _commit(self, rtype, etype, obj, old):
        """Stores (or deletes) `obj`, a private dict, at a new resourceVersion."""
        self.rv += 1
        meta = obj.setdefault("metadata", {})
        meta["resourceVersion"] = str(self.rv)
        key = (meta.get("namespace", ""), meta.get("name"))
        bucket = self.objects[rtype.key]
        if old is not None:
            for ref in (old.get("metadata") or {}).get("ownerReferences") or []:
                self.owned[ref.get("uid")].discard((rtype.key,) + key)
        if etype == "DELETED":
            bucket.pop(key, None)
        else:
            bucket[key] = obj
            for ref in meta.get("ownerReferences") or []:
                if isinstance(ref, dict):
                    self.owned[ref.get("uid")].add((rtype.key,) + key)
        event = Event(self.rv, rtype.key, etype, obj, old)
        self.history.append(event)
        while len(self.history) > self.max_history:
            self.compacted = self.history.popleft().rv
        for w in self.watchers:
            seen = w.translate(event)
            if seen is not None:
                w.queue.append((event.rv,) + seen)
                w.cond.notify()
        for fn in self.listeners:
            fn(rtype, etype, obj, old)
        return obj

    def compact(self):
        with self.lock:
            self.history.clear()
            self.compacted = self.rv
            return self.rv

    # --- Reads ------------------------------------------------------------------------------

    def get(self, rtype, ns, name):
        with self.lock:
            obj = self.objects[rtype.key].get((ns or "", name))
        if obj is None:
            raise errors.not_found(rtype, name)
        return obj

    def try_get(self, rtype, ns, name):
        with self.lock:
            return self.objects.get(rtype.key, {}).get((ns or "", name))

    def list(self, rtype, ns, label_reqs=(), field_reqs=()):
        """(objects sorted by namespace/name, resourceVersion of the list)."""
        with self.lock:
            bucket = self.objects[rtype.key]
            items = [o for (ons, _), o in bucket.items()
                     if (ns is None or ons == ns)]
            rv = self.rv
        items = [o for o in items
                 if labels_match(label_reqs, (o.get("metadata") or {}).get("labels"))
                 and fields_match(field_reqs, o)]
        items.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        return items, rv

    def namespace_exists(self, ns):
        with self.lock:
            return ("", ns) in self.objects[("", "namespaces")]

    # --- Validation -------------------------------------------------------------------------

    def _check_metadata(self, rtype, obj):
        meta = obj.get("metadata")
        if meta is None:
            obj["metadata"] = meta = {}
        where = "%s in version \"v1\" cannot be handled as a %s" % (rtype.kind, rtype.kind)
        if not isinstance(meta, dict):
            raise errors.bad_request("%s: metadata: expected an object" % where)
        for field in ("labels", "annotations"):
            v = meta.get(field)
            if v is not None and (not isinstance(v, dict) or
                                  not all(isinstance(x, str) for x in v.values())):
                raise errors.bad_request("%s: metadata.%s: expected a map of strings"
                                         % (where, field))
        for field in ("name", "namespace", "generateName", "resourceVersion"):
            v = meta.get(field)
            if v is not None and not isinstance(v, str):
                raise errors.bad_request("%s: metadata.%s: expected a string" % (where, field))
        if meta.get("finalizers") is not None and not (
                isinstance(meta["finalizers"], list) and
                all(isinstance(x, str) for x in meta["finalizers"])):
            raise errors.bad_request("%s: metadata.finalizers: expected a list of strings"
                                     % where)
        refs = meta.get("ownerReferences")
        if refs is not None and not (isinstance(refs, list) and
                                     all(isinstance(r, dict) for r in refs)):
            raise errors.bad_request("%s: metadata.ownerReferences: expected a list of objects"
                                     % where)

    def _check_name(self, rtype, name):
        label_only = rtype.plural in ("namespaces", "services")
        pattern, limit = (_LABEL, 63) if label_only else (_SUBDOMAIN, 253)
        if pattern.match(name) and len(name) <= limit:
            return
        if label_only:
            why = ("a lowercase RFC 1123 label must consist of lower case alphanumeric "
                   "characters or '-', and must start and end with an alphanumeric character "
                   "(e.g. 'my-name',  or '123-abc', regex used for validation is "
                   "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
        else:
            why = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                   "characters, '-' or '.', and must start and end with an alphanumeric "
                   "character (e.g. 'example.com', regex used for validation is "
                   "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
        raise errors.invalid(rtype, name, [("FieldValueInvalid", "metadata.name",
                                            "Invalid value: %s: %s" % (json.dumps(name), why))])

    def _custom_resource(self, rtype, version, obj, field_validation, warnings):
        """Defaults, prunes and validates a custom resource against its version's schema."""
        v = rtype.versions[version]
        name = (obj.get("metadata") or {}).get("name", "")
        schema = v.schema if isinstance(v.schema, dict) else None
        if schema is None:
            return
        removed = []
        schemas.prune(obj, schema, "", removed, root=True)
        if removed:
            if field_validation == "Strict":
                raise errors.bad_request(
                    "%s in version \"%s\" cannot be handled as a %s: strict decoding error: %s"
                    % (rtype.kind, version, rtype.kind,
                       ", ".join('unknown field "%s"' % p for p in removed)))
            if field_validation != "Ignore":
                warnings.extend('unknown field "%s"' % p for p in removed)
        schemas.apply_defaults(obj, schema)
        causes = []
        schemas.validate(obj, schema, "", causes, root=True)
        if causes:
            raise errors.invalid(rtype, name, causes)

    def _builtin_checks(self, rtype, obj, old):
        name = obj["metadata"].get("name", "")
        where = "%s in version \"v1\" cannot be handled as a %s" % (rtype.kind, rtype.kind)
        spec = obj.get("spec")
        if spec is not None and not isinstance(spec, dict) and rtype.plural != "events":
            raise errors.bad_request("%s: spec: expected an object" % where)
        spec = spec if isinstance(spec, dict) else {}
        causes = []
        if rtype.plural in ("deployments", "statefulsets", "replicasets"):
            replicas = spec.get("replicas", 1)
            if not isinstance(replicas, int) or isinstance(replicas, bool):
                raise errors.bad_request(
                    "%s: json: cannot unmarshal %s into Go struct field %sSpec.spec.replicas "
                    "of type int32" % (where, schemas._json_type(replicas), rtype.kind))
            if replicas < 0:
                causes.append(("FieldValueInvalid", "spec.replicas",
                               "Invalid value: %d: must be greater than or equal to 0"
                               % replicas))
            selector = spec.get("selector")
            template = spec.get("template") if isinstance(spec.get("template"), dict) else {}
            labels = (template.get("metadata") or {}).get("labels") or {}
            if not isinstance(selector, dict) or not selector_to_string(selector):
                causes.append(("FieldValueRequired", "spec.selector", "Required value"))
            elif not selector_matches(selector, labels):
                causes.append(("FieldValueInvalid", "spec.template.metadata.labels",
                               "Invalid value: %s: `selector` does not match template `labels`"
                               % json.dumps(labels, sort_keys=True)))
            elif old is not None and selector != (old.get("spec") or {}).get("selector"):
                causes.append(("FieldValueInvalid", "spec.selector",
                               "Invalid value: %s: field is immutable"
                               % json.dumps(selector, sort_keys=True)))
            containers = (template.get("spec") or {}).get("containers")
            self._check_containers(containers, "spec.template.spec.containers", causes)
        elif rtype.plural == "pods":
            self._check_containers(spec.get("containers"), "spec.containers", causes)
        elif rtype.plural == "leases":
            for field in ("acquireTime", "renewTime"):
                t = spec.get(field)
                if t is not None and (not isinstance(t, str) or not _MICROTIME.match(t)):
                    raise errors.bad_request(
                        '%s: parsing time %s as "2006-01-02T15:04:05.000000Z07:00": cannot '
                        "parse spec.%s" % (where, json.dumps(t), field))
            for field in ("leaseDurationSeconds", "leaseTransitions"):
                n = spec.get(field)
                if n is not None and (not isinstance(n, int) or isinstance(n, bool)):
                    raise errors.bad_request(
                        "%s: json: cannot unmarshal %s into Go struct field LeaseSpec.spec.%s of "
                        "type int32" % (where, schemas._json_type(n), field))
            if spec.get("leaseDurationSeconds") is not None and spec["leaseDurationSeconds"] <= 0:
                causes.append(("FieldValueInvalid", "spec.leaseDurationSeconds",
                               "Invalid value: %d: must be greater than 0"
                               % spec["leaseDurationSeconds"]))
            h = spec.get("holderIdentity")
            if h is not None and not isinstance(h, str):
                raise errors.bad_request("%s: spec.holderIdentity: expected a string" % where)
        if causes:
            raise errors.invalid(rtype, name, causes)

    @staticmethod
    def _check_containers(containers, path, causes):
        if not isinstance(containers, list) or not containers:
            causes.append(("FieldValueRequired", path, "Required value"))
            return
        for i, c in enumerate(containers):
            if not isinstance(c, dict):
                causes.append(("FieldValueInvalid", "%s[%d]" % (path, i),
                               "Invalid value: expected an object"))
                continue
            for field in ("name", "image"):
                if not isinstance(c.get(field), str) or not c.get(field):
                    causes.append(("FieldValueRequired", "%s[%d].%s" % (path, i, field),
                                   "Required value"))

    # --- Built-in defaults and create-time status (what the real strategies do) ----------------

    def _builtin_defaults(self, rtype, obj, creating):
        spec = obj.get("spec")
        if rtype.plural in ("deployments", "statefulsets", "replicasets"):
            if not isinstance(spec, dict):
                obj["spec"] = spec = {}
            spec.setdefault("replicas", 1)
            if rtype.plural == "deployments":
                if not spec.get("strategy"):
                    spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {
                        "maxUnavailable": "25%", "maxSurge": "25%"}}
                spec.setdefault("revisionHistoryLimit", 10)
                spec.setdefault("progressDeadlineSeconds", 600)
            if rtype.plural == "statefulsets":
                spec.setdefault("podManagementPolicy", "OrderedReady")
                spec.setdefault("updateStrategy", {"type": "RollingUpdate",
                                                   "rollingUpdate": {"partition": 0}})
                spec.setdefault("revisionHistoryLimit", 10)
            if creating:
                obj["status"] = {}
        elif rtype.plural == "pods":
            if isinstance(spec, dict):
                spec.setdefault("restartPolicy", "Always")
                spec.setdefault("terminationGracePeriodSeconds", 30)
                spec.setdefault("dnsPolicy", "ClusterFirst")
                spec.setdefault("schedulerName", "default-scheduler")
            if creating:
                obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
        elif rtype.plural == "namespaces":
            obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = \
                obj["metadata"]["name"]
            if creating:
                obj["spec"] = {"finalizers": ["kubernetes"]}
                obj["status"] = {"phase": "Active"}
        elif rtype.plural == "services":
            if not isinstance(spec, dict):
                obj["spec"] = spec = {}
            spec.setdefault("type", "ClusterIP")
            spec.setdefault("sessionAffinity", "None")
            if creating:
                spec.setdefault("clusterIP", "10.96.%d.%d" % (random.randint(0, 255),
                                                              random.randint(1, 254)))
                spec.setdefault("clusterIPs", [spec["clusterIP"]])
                obj["status"] = {"loadBalancer": {}}
            for p in spec.get("ports") or []:
                if isinstance(p, dict):
                    p.setdefault("protocol", "TCP")
                    p.setdefault("targetPort", p.get("port"))
        elif rtype.plural == "secrets":
            obj.setdefault("type", "Opaque")

    # --- CRDs -------------------------------------------------------------------------------

    def _crd_prepare(self, rtype, obj):
        """Validates a CRD and fills in its names' defaults and status."""
        name = obj["metadata"].get("name", "")
        spec = obj.get("spec")
        causes = []
        if not isinstance(spec, dict):
            raise errors.invalid(rtype, name, [("FieldValueRequired", "spec", "Required value")])
        group = spec.get("group")
        names = spec.get("names") if isinstance(spec.get("names"), dict) else {}
        plural, kind = names.get("plural"), names.get("kind")
        if not isinstance(group, str) or not group:
            causes.append(("FieldValueRequired", "spec.group", "Required value"))
        if not isinstance(plural, str) or not plural:
            causes.append(("FieldValueRequired", "spec.names.plural", "Required value"))
        if not isinstance(kind, str) or not kind:
            causes.append(("FieldValueRequired", "spec.names.kind", "Required value"))
        if spec.get("scope") not in ("Namespaced", "Cluster"):
            causes.append(("FieldValueNotSupported", "spec.scope",
                           'Unsupported value: %s: supported values: "Cluster", "Namespaced"'
                           % schemas.fmt_value(spec.get("scope"))))
        versions = spec.get("versions")
        if not isinstance(versions, list) or not versions or \
                not all(isinstance(v, dict) and isinstance(v.get("name"), str) for v in versions):
            causes.append(("FieldValueRequired", "spec.versions", "Required value"))
        elif sum(1 for v in versions if v.get("storage") is True) != 1:
            causes.append(("FieldValueInvalid", "spec.versions",
                           "Invalid value: %s: must have exactly one version marked as storage "
                           "version" % json.dumps([v.get("name") for v in versions])))
        if not causes and name != "%s.%s" % (plural, group):
            causes.append(("FieldValueInvalid", "metadata.name",
                           'Invalid value: %s: must be spec.names.plural+"."+spec.group'
                           % json.dumps(name)))
        if causes:
            raise errors.invalid(rtype, name, causes)
        for i, v in enumerate(versions):
            schema = (v.get("schema") or {}).get("openAPIV3Schema")
            if schema is not None and not isinstance(schema, dict):
                raise errors.invalid(rtype, name, [(
                    "FieldValueInvalid", "spec.versions[%d].schema.openAPIV3Schema" % i,
                    "Invalid value: expected an object")])
            scale = (v.get("subresources") or {}).get("scale")
            if scale is not None and (not isinstance(scale, dict) or
                                      not isinstance(scale.get("specReplicasPath"), str) or
                                      not isinstance(scale.get("statusReplicasPath"), str)):
                raise errors.invalid(rtype, name, [(
                    "FieldValueRequired", "spec.versions[%d].subresources.scale" % i,
                    "Required value: specReplicasPath and statusReplicasPath")])
        existing = self.types.get((group, plural))
        if existing is not None and existing.crd != name:
            raise errors.invalid(rtype, name, [(
                "FieldValueInvalid", "spec.names.plural",
                "Invalid value: %s: %s.%s is already served by this server"
                % (json.dumps(plural), plural, group))])
        names.setdefault("singular", kind.lower())
        names.setdefault("listKind", kind + "List")
        spec["names"] = names
        now = now_rfc3339()
        stored = [v["name"] for v in versions if v.get("storage")]
        obj["status"] = {
            "acceptedNames": dict(names),
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                 "message": "no conflicts found", "lastTransitionTime": now},
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                 "message": "the initial names have been accepted", "lastTransitionTime": now},
            ],
            "storedVersions": stored,
        }

    def _crd_type(self, crd):
        spec = crd["spec"]
        names = spec["names"]
        versions = []
        for v in spec["versions"]:
            sub = v.get("subresources") or {}
            scale = sub.get("scale")
            versions.append(Version(
                v["name"], schema=(v.get("schema") or {}).get("openAPIV3Schema"),
                columns=v.get("additionalPrinterColumns"), status="status" in sub,
                scale=None if not isinstance(scale, dict) else {
                    "spec": scale["specReplicasPath"], "status": scale["statusReplicasPath"],
                    "selector": scale.get("labelSelectorPath")},
                served=v.get("served", True) is not False, storage=v.get("storage") is True))
        return ResourceType(spec["group"], names["plural"], names["singular"], names["kind"],
                            spec["scope"] == "Namespaced", versions,
                            short_names=names.get("shortNames") or (),
                            categories=names.get("categories") or (), generation=True,
                            crd=crd["metadata"]["name"], list_kind=names.get("listKind"))

    def _crd_changed(self, crd, etype):
        spec = crd.get("spec") or {}
        key = (spec.get("group"), (spec.get("names") or {}).get("plural"))
        if etype == "DELETED":
            rt = self.types.pop(key, None)
            if rt is None:
                return
            for obj in list(self.objects.get(key, {}).values()):
                self._commit(rt, "DELETED", dict(obj, metadata=dict(obj["metadata"])), obj)
            self.objects.pop(key, None)
            for w in list(self.watchers):
                if w.rtype.key == key:
                    w.ended = True
                    w.cond.notify()
        else:
            self._register(self._crd_type(crd))

    # --- Writes -----------------------------------------------------------------------------

    def _version_of(self, rtype, obj, version):
        """The version an object's body is in (for schema checks); the URL's version wins."""
        return version or rtype.storage_version()

    def _prepare(self, rtype, version, ns, obj, old, field_validation, warnings):
        """Checks and completes a candidate object before it is stored."""
        self._check_metadata(rtype, obj)
        meta = obj["metadata"]
        name = meta.get("name", "")
        if rtype.namespaced:
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        obj["apiVersion"] = rtype.api_version(version)
        obj["kind"] = rtype.kind
        self._check_name(rtype, name)
        if rtype.crd is not None:
            self._custom_resource(rtype, version, obj, field_validation, warnings)
        else:
            self._builtin_defaults(rtype, obj, old is None)
            self._builtin_checks(rtype, obj, old)
            if rtype.plural == "customresourcedefinitions":
                self._crd_prepare(rtype, obj)
        if old is None:
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            if rtype.generation:
                meta["generation"] = 1
            else:
                meta.pop("generation", None)
        else:
            om = old["metadata"]
            for field in ("uid", "creationTimestamp", "deletionTimestamp", "generation"):
                if field in om:
                    meta[field] = om[field]
                else:
                    meta.pop(field, None)
            if rtype.generation and _spec_part(rtype, version, obj) != \
                    _spec_part(rtype, version, old):
                meta["generation"] = int(om.get("generation", 1)) + 1
        meta.pop("managedFields", None)
        meta.pop("selfLink", None)

    def create(self, rtype, version, ns, body, dry_run=False, field_validation="Warn"):
        """Returns (object, warnings)."""
        if not isinstance(body, dict):
            raise errors.bad_request("the request body must be a JSON object")
        obj = clone(body)
        self._check_body_type(rtype, version, obj)
        self._check_metadata(rtype, obj)
        meta = obj["metadata"]
        body_ns = meta.get("namespace")
        if rtype.namespaced and body_ns and body_ns != ns:
            raise errors.bad_request("the namespace of the provided object does not match the "
                                     "namespace sent on the request")
        meta.pop("resourceVersion", None)
        v = rtype.versions[version]
        if v.status and rtype.crd is not None:
            obj.pop("status", None)
        warnings = []
        with self.lock:
            if rtype.namespaced and not self.namespace_exists(ns):
                raise errors.not_found(self.types[("", "namespaces")], ns)
            if not meta.get("name"):
                if not meta.get("generateName"):
                    raise errors.invalid(rtype, "", [(
                        "FieldValueRequired", "metadata.name",
                        "Required value: name or generateName is required")])
                for _ in range(10):
                    meta["name"] = meta["generateName"] + random_suffix()
                    if (ns if rtype.namespaced else "", meta["name"]) not in \
                            self.objects[rtype.key]:
                        break
            self._prepare(rtype, version, ns if rtype.namespaced else "", obj, None,
                          field_validation, warnings)
            key = (ns if rtype.namespaced else "", meta["name"])
            if key in self.objects[rtype.key]:
                raise errors.already_exists(rtype, meta["name"])
            if dry_run:
                return obj, warnings
            stored = self._commit(rtype, "ADDED", obj, None)
            if rtype.plural == "customresourcedefinitions":
                self._crd_changed(stored, "ADDED")
            return stored, warnings

    def _check_body_type(self, rtype, version, obj):
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if kind not in (None, "", rtype.kind):
            raise errors.bad_request(
                "%s in version \"%s\" cannot be handled as a %s: the kind in the body (%s) does not "
                "match the resource (%s)" % (kind, version, rtype.kind, kind, rtype.kind))
        if api_version not in (None, "") and api_version != rtype.api_version(version):
            raise errors.bad_request(
                "the API version in the data (%s) does not match the expected API version (%s)"
                % (api_version, rtype.api_version(version)))

    def update(self, rtype, version, ns, name, body, subresource=None, dry_run=False,
               field_validation="Warn", precondition_rv=None):
        """PUT. Returns (object, warnings). `body` is the whole object (also for /status)."""
        if not isinstance(body, dict):
            raise errors.bad_request("the request body must be a JSON object")
        candidate = clone(body)
        self._check_body_type(rtype, version, candidate)
        self._check_metadata(rtype, candidate)
        body_name = candidate["metadata"].get("name")
        if body_name and body_name != name:
            raise errors.bad_request("the name of the object (%s) does not match the name on "
                                     "the URL (%s)" % (body_name, name))
        candidate["metadata"]["name"] = name
        body_ns = candidate["metadata"].get("namespace")
        if rtype.namespaced and body_ns and body_ns != ns:
            raise errors.bad_request("the namespace of the provided object does not match the "
                                     "namespace sent on the request")
        with self.lock:
            old = self.objects[rtype.key].get((ns if rtype.namespaced else "", name))
            if old is None:
                raise errors.not_found(rtype, name)
            want_rv = candidate["metadata"].get("resourceVersion") or precondition_rv
            if want_rv and want_rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rtype, name, errors.MODIFIED)
            return self._replace(rtype, version, ns, old, candidate, subresource, dry_run,
                                 field_validation)

    def _replace(self, rtype, version, ns, old, candidate, subresource, dry_run,
                 field_validation):
        """Under the lock: turns a candidate into the new object and stores it (or not, when
        nothing changed)."""
        v = rtype.versions[version]
        if subresource == "status":
            status = candidate.get("status")
            candidate = clone(old)
            if status is None:
                candidate.pop("status", None)
            else:
                candidate["status"] = status
        elif v.status:
            if "status" in old:
                candidate["status"] = clone(old["status"])
            else:
                candidate.pop("status", None)
        warnings = []
        self._prepare(rtype, version, ns if rtype.namespaced else "", candidate, old,
                      field_validation, warnings)
        if _without_rv(candidate) == _without_rv(self._at_version(rtype, version, old)):
            return old, warnings  # No change: no new resourceVersion, no watch event.
        if dry_run:
            return candidate, warnings
        stored = self._commit(rtype, "MODIFIED", candidate, old)
        if rtype.plural == "customresourcedefinitions":
            self._crd_changed(stored, "MODIFIED")
        return stored, warnings

    def _at_version(self, rtype, version, obj):
        api_version = rtype.api_version(version)
        if obj.get("apiVersion") == api_version:
            return obj
        out = dict(obj)
        out["apiVersion"] = api_version
        return out

    def patch(self, rtype, version, ns, name, patch_type, patch_body, subresource=None,
              dry_run=False, field_validation="Warn"):
        """Returns (object, warnings, created)."""
        with self.lock:
            old = self.objects[rtype.key].get((ns if rtype.namespaced else "", name))
            if old is None:
                if patch_type == "apply":
                    body = dict(patch_body) if isinstance(patch_body, dict) else patch_body
                    if isinstance(body, dict):
                        body.setdefault("metadata", {})
                        if isinstance(body["metadata"], dict):
                            body["metadata"] = dict(body["metadata"], name=name)
                    obj, warnings = self.create(rtype, version, ns, body, dry_run,
                                                field_validation)
                    return obj, warnings, True
                raise errors.not_found(rtype, name)
            current = self._at_version(rtype, version, old)
            patched = self._apply_patch(rtype, current, patch_type, patch_body)
            if not isinstance(patched, dict):
                raise errors.bad_request("the patched object is not a JSON object")
            self._check_metadata(rtype, patched)
            if patched["metadata"].get("name", name) != name:
                raise errors.bad_request("the name of the object (%s) does not match the name "
                                         "on the URL (%s)" % (patched["metadata"]["name"], name))
            want_rv = patched["metadata"].get("resourceVersion")
            if want_rv and want_rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rtype, name, errors.MODIFIED)
            obj, warnings = self._replace(rtype, version, ns, old, patched, subresource,
                                          dry_run, field_validation)
            return obj, warnings, False

    def _apply_patch(self, rtype, current, patch_type, patch_body):
        try:
            if patch_type == "json":
                return patches.json_patch(current, patch_body)
            if patch_type == "merge":
                if not isinstance(patch_body, dict):
                    raise patches.PatchError("a merge patch must be a JSON object")
                return patches.merge_patch(current, patch_body)
            if patch_type == "strategic":
                return patches.strategic_merge_patch(current, patch_body)
            if patch_type == "apply":
                # Server-side apply, approximated: the applied configuration is merged into
                # the live object (strategically for built-ins); there is no field ownership.
                if not isinstance(patch_body, dict):
                    raise patches.PatchError("an apply patch must be a JSON object")
                if rtype.crd is None:
                    return patches.strategic_merge_patch(current, patch_body)
                return patches.merge_patch(current, patch_body)
        except patches.PatchError as e:
            raise ApiError(422, str(e)) from None
        raise ApiError(415, "unsupported patch type")

    def delete(self, rtype, version, ns, name, precondition_rv=None, precondition_uid=None,
               dry_run=False, orphan=False):
        with self.lock:
            key = (ns if rtype.namespaced else "", name)
            old = self.objects[rtype.key].get(key)
            if old is None:
                raise errors.not_found(rtype, name)
            if rtype.plural == "namespaces" and name in PROTECTED_NAMESPACES:
                raise ApiError(403, 'namespaces "%s" is forbidden: this namespace may not be '
                               "deleted" % name, details={"name": name, "kind": "namespaces"})
            if precondition_uid and precondition_uid != old["metadata"].get("uid"):
                raise errors.conflict(rtype, name, "Precondition failed: UID in precondition: "
                                      "%s, UID in object meta: %s"
                                      % (precondition_uid, old["metadata"].get("uid")))
            if precondition_rv and precondition_rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rtype, name, "the ResourceVersion in the precondition (%s) "
                                      "does not match the ResourceVersion in record (%s). The "
                                      "object might have been modified"
                                      % (precondition_rv, old["metadata"]["resourceVersion"]))
            if dry_run:
                return old
            return self._delete_locked(rtype, old, orphan)

    def _delete_locked(self, rtype, old, orphan=False):
        gone = dict(old)
        gone["metadata"] = dict(old["metadata"])
        stored = self._commit(rtype, "DELETED", gone, old)
        if rtype.plural == "customresourcedefinitions":
            self._crd_changed(old, "DELETED")
        if rtype.plural == "namespaces":
            ns = old["metadata"]["name"]
            for rt in list(self.types.values()):
                if rt.namespaced:
                    for (ons, _), obj in list(self.objects.get(rt.key, {}).items()):
                        if ons == ns:
                            self._delete_locked(rt, obj, orphan=True)
        if not orphan:
            uid = old["metadata"].get("uid")
            for (tkey, ons, oname) in list(self.owned.pop(uid, ())):
                dep = self.objects.get(tkey, {}).get((ons, oname))
                if dep is not None:
                    self._delete_locked(self.types[tkey], dep)
        return stored

    # --- Scale ------------------------------------------------------------------------------

    def scale_of(self, rtype, version, obj):
        v = rtype.versions[version]
        paths = v.scale
        spec_replicas = get_path(obj, paths["spec"])
        status_replicas = get_path(obj, paths["status"])
        if paths.get("selector"):
            selector = get_path(obj, paths["selector"])
            selector = selector if isinstance(selector, str) else ""
        else:
            selector = selector_to_string((obj.get("spec") or {}).get("selector"))
        meta = obj["metadata"]
        out_meta = {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                         "creationTimestamp") if k in meta}
        status = {"replicas": status_replicas if isinstance(status_replicas, int) else 0}
        if selector:
            status["selector"] = selector
        return {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": out_meta,
                "spec": {"replicas": spec_replicas if isinstance(spec_replicas, int) else 0},
                "status": status}

    def update_scale(self, rtype, version, ns, name, scale_body=None, patch_type=None,
                     patch_body=None, dry_run=False):
        with self.lock:
            old = self.objects[rtype.key].get((ns if rtype.namespaced else "", name))
            if old is None:
                raise errors.not_found(rtype, name)
            current = self.scale_of(rtype, version, old)
            if patch_type is not None:
                try:
                    if patch_type == "json":
                        scale = patches.json_patch(current, patch_body)
                    elif patch_type == "merge":
                        scale = patches.merge_patch(current, patch_body)
                    else:
                        scale = patches.strategic_merge_patch(current, patch_body)
                except patches.PatchError as e:
                    raise ApiError(422, str(e)) from None
            else:
                scale = scale_body
            if not isinstance(scale, dict):
                raise errors.bad_request("the request body must be a JSON object")
            smeta = scale.get("metadata") if isinstance(scale.get("metadata"), dict) else {}
            want_rv = smeta.get("resourceVersion")
            if want_rv and want_rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rtype, name, errors.MODIFIED)
            replicas = (scale.get("spec") or {}).get("replicas") \
                if isinstance(scale.get("spec"), dict) else None
            scale_type = ResourceType("autoscaling", "scale", "scale", "Scale", True,
                                      [Version("v1")])
            if not isinstance(replicas, int) or isinstance(replicas, bool):
                raise errors.invalid(scale_type, name, [(
                    "FieldValueRequired" if replicas is None else "FieldValueInvalid",
                    "spec.replicas",
                    "Required value" if replicas is None else
                    "Invalid value: %s: must be an integer" % schemas.fmt_value(replicas))])
            if replicas < 0:
                raise errors.invalid(scale_type, name, [(
                    "FieldValueInvalid", "spec.replicas",
                    "Invalid value: %d: must be greater than or equal to 0" % replicas)])
            candidate = clone(self._at_version(rtype, version, old))
            set_path(candidate, rtype.versions[version].scale["spec"], replicas)
            obj, _ = self._replace(rtype, version, ns, old, candidate, None, dry_run,
                                   "Ignore")
            return self.scale_of(rtype, version, obj)

    # --- Internal writes (the simulated controllers) ------------------------------------------

    def put_internal(self, rtype, obj):
        """Creates or replaces an object without checks (system components)."""
        with self.lock:
            meta = obj.setdefault("metadata", {})
            key = (meta.get("namespace", ""), meta["name"])
            old = self.objects[rtype.key].get(key)
            if old is None:
                meta.setdefault("uid", str(uuid.uuid4()))
                meta.setdefault("creationTimestamp", now_rfc3339())
                if rtype.generation:
                    meta.setdefault("generation", 1)
                return self._commit(rtype, "ADDED", obj, None)
            if _without_rv(obj) == _without_rv(old):
                return old
            return self._commit(rtype, "MODIFIED", obj, old)

    def set_status_internal(self, rtype, old, status):
        """Writes `status` on the stored object `old` if it is still current and changed."""
        with self.lock:
            meta = old["metadata"]
            cur = self.objects[rtype.key].get((meta.get("namespace", ""), meta["name"]))
            if cur is None or cur["metadata"].get("uid") != meta.get("uid"):
                return None
            if cur.get("status") == status:
                return cur
            new = dict(cur)
            new["metadata"] = dict(cur["metadata"])
            new["status"] = status
            return self._commit(rtype, "MODIFIED", new, cur)

    def delete_internal(self, rtype, obj):
        with self.lock:
            meta = obj["metadata"]
            cur = self.objects[rtype.key].get((meta.get("namespace", ""), meta["name"]))
            if cur is not None and cur["metadata"].get("uid") == meta.get("uid"):
                self._delete_locked(rtype, cur)

    # --- Watches ----------------------------------------------------------------------------

    def start_watch(self, rtype, version, ns, label_reqs, field_reqs, rv_param, user,
                    as_table):
        """Registers a watcher. Returns (watcher, initial events) or raises ApiError 410 when
        the resourceVersion is older than the retained history."""
        with self.lock:
            if rv_param in (None, "", "0"):
                w = Watcher(self, rtype, version, ns, label_reqs, field_reqs, user, self.rv,
                            as_table)
                items, _ = self.list(rtype, ns, label_reqs, field_reqs)
                initial = [(int(o["metadata"]["resourceVersion"]), "ADDED", o) for o in items]
            else:
                try:
                    start = int(rv_param)
                except ValueError:
                    raise errors.bad_request("invalid resource version: %r" % rv_param) from None
                if start < self.compacted:
                    raise errors.expired("too old resource version: %d (%d)"
                                         % (start, self.compacted + 1))
                w = Watcher(self, rtype, version, ns, label_reqs, field_reqs, user, start,
                            as_table)
                initial = []
                for event in self.history:
                    seen = w.translate(event)
                    if seen is not None:
                        initial.append((event.rv,) + seen)
            self.watchers.add(w)
            return w, initial

    def stop_watch(self, w):
        with self.lock:
            self.watchers.discard(w)

    def drop_watches(self, resource=None):
        with self.lock:
            n = 0
            for w in list(self.watchers):
                if resource is None or w.rtype.plural == resource:
                    w.dropped = True
                    w.cond.notify()
                    n += 1
            return n
