"""Simulated kube-controller-manager and kubelet, in one background thread.

Deployments own a ReplicaSet per pod template (`<deployment>-<hash>`, label pod-template-hash);
a template change moves all replicas to the new ReplicaSet at once (no surge: a simplification
of RollingUpdate). ReplicaSets own pods `<replicaset>-<5 chars>`; scale-down deletes not-ready
pods first, newest first. StatefulSets own pods `<name>-<ordinal>`, created in order (with
OrderedReady, the next only when the previous is Ready) and removed from the highest ordinal.
Every pod, owned or not, becomes Running and Ready `pod_ready_delay` seconds after it was
created. Workload status (replicas, readyReplicas, availableReplicas, updatedReplicas,
observedGeneration, conditions) follows the pods."""

import hashlib
import logging
import threading
import time
import traceback

from testapiserver.store import now_rfc3339, random_suffix

_HASH_CHARS = "bcdfghjklmnpqrstvwxz2456789"
_NODE = "governor-test-node"

log = logging.getLogger("workloads")


def template_hash(template):
    import json
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    n = int.from_bytes(digest[:8], "big")
    out = []
    for _ in range(10):
        out.append(_HASH_CHARS[n % len(_HASH_CHARS)])
        n //= len(_HASH_CHARS)
    return "".join(out)


def _controller_ref(obj):
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller"):
            return ref
    return None


def _pod_ready(pod):
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def _int(v, default=0):
    return v if isinstance(v, int) and not isinstance(v, bool) else default


def _owner_ref(kind, obj):
    return {"apiVersion": "apps/v1", "kind": kind, "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def _condition(old_conditions, ctype, status, reason, message, now):
    for c in old_conditions or []:
        if isinstance(c, dict) and c.get("type") == ctype:
            if c.get("status") == status and c.get("reason") == reason and \
                    c.get("message") == message:
                return c
            return {"type": ctype, "status": status,
                    "lastUpdateTime": now,
                    "lastTransitionTime": c.get("lastTransitionTime", now)
                    if c.get("status") == status else now,
                    "reason": reason, "message": message}
    return {"type": ctype, "status": status, "lastUpdateTime": now, "lastTransitionTime": now,
            "reason": reason, "message": message}


class WorkloadController(threading.Thread):
    def __init__(self, store, pod_ready_delay):
        super().__init__(name="workloads", daemon=True)
        self.store = store
        self.pod_ready_delay = float(pod_ready_delay)
        self.cond = threading.Condition()
        self.dirty = set()
        self.pending = {}  # pod uid -> (namespace, name, monotonic creation time)
        self.deploy_t = store.types[("apps", "deployments")]
        self.rs_t = store.types[("apps", "replicasets")]
        self.sts_t = store.types[("apps", "statefulsets")]
        self.pod_t = store.types[("", "pods")]
        store.listeners.append(self._on_event)

    def set_pod_ready_delay(self, seconds):
        with self.cond:
            self.pod_ready_delay = float(seconds)
            self.cond.notify()

    # Called under the store lock: only bookkeeping here.
    def _on_event(self, rtype, etype, obj, old):
        meta = obj.get("metadata") or {}
        ns, name = meta.get("namespace", ""), meta.get("name")
        keys = []
        if rtype.group == "apps" and rtype.plural in ("deployments", "replicasets",
                                                        "statefulsets"):
            keys.append((rtype.plural, ns, name))
        owner = _controller_ref(obj)
        if owner is not None and rtype.plural in ("replicasets", "pods") and \
                rtype.group in ("apps", ""):
            kind = {"Deployment": "deployments", "ReplicaSet": "replicasets",
                    "StatefulSet": "statefulsets"}.get(owner.get("kind"))
            if kind:
                keys.append((kind, ns, owner.get("name")))
        with self.cond:
            if rtype.key == ("", "pods"):
                uid = meta.get("uid")
                if etype == "DELETED":
                    self.pending.pop(uid, None)
                elif etype == "ADDED" and not _pod_ready(obj):
                    self.pending[uid] = (ns, name, time.monotonic())
            self.dirty.update(keys)
            self.cond.notify()

    def run(self):
        while True:
            with self.cond:
                timeout = 1.0
                if self.pending:
                    first = min(t for (_, _, t) in self.pending.values())
                    timeout = max(0.0, min(timeout, first + self.pod_ready_delay -
                                           time.monotonic()))
                if not self.dirty:
                    self.cond.wait(timeout)
                work = self.dirty
                self.dirty = set()
                now = time.monotonic()
                due = [(uid, ns, name) for uid, (ns, name, t) in self.pending.items()
                       if now >= t + self.pod_ready_delay]
                for uid, _, _ in due:
                    self.pending.pop(uid, None)
            for uid, ns, name in due:
                self._guard(self._make_ready, ns, name, uid)
            # Pods first, then ReplicaSets, then their owners: one pass converges.
            order = {"replicasets": 0, "statefulsets": 1, "deployments": 2}
            for kind, ns, name in sorted(work, key=lambda k: order.get(k[0], 3)):
                fn = {"deployments": self._deployment, "replicasets": self._replicaset,
                      "statefulsets": self._statefulset}.get(kind)
                if fn is not None:
                    self._guard(fn, ns, name)

    def _guard(self, fn, *args):
        # A malformed object must not stop the controller: log and move on.
        try:
            fn(*args)
        except Exception:  # noqa: BLE001
            log.error("workload controller: %s%r failed:\n%s", fn.__name__, args,
                      traceback.format_exc())

    # --- Pods -------------------------------------------------------------------------------

    def _make_ready(self, ns, name, uid):
        pod = self.store.try_get(self.pod_t, ns, name)
        if pod is None or pod["metadata"].get("uid") != uid:
            return
        now = now_rfc3339()
        spec = pod.get("spec") or {}
        containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
        status = dict(pod.get("status") or {})
        status.update({
            "phase": "Running",
            "conditions": [
                {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
                for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                          "PodScheduled")],
            "hostIP": "10.0.0.1",
            "hostIPs": [{"ip": "10.0.0.1"}],
            "podIP": "10.244.%d.%d" % (hash(uid) % 250, hash(name) % 250 + 1),
            "startTime": status.get("startTime", now),
            "containerStatuses": [
                {"name": c.get("name", ""), "image": c.get("image", ""),
                 "imageID": "", "containerID": "containerd://" + uid.replace("-", "")[:16],
                 "ready": True, "started": True, "restartCount": 0,
                 "state": {"running": {"startedAt": now}}} for c in containers],
        })
        status["podIPs"] = [{"ip": status["podIP"]}]
        self.store.set_status_internal(self.pod_t, pod, status)

    def _new_pod(self, owner_kind, owner, name, extra_labels):
        template = (owner.get("spec") or {}).get("template") or {}
        tmeta = template.get("metadata") or {}
        spec = dict(template.get("spec") or {})
        spec["nodeName"] = _NODE
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        spec.setdefault("dnsPolicy", "ClusterFirst")
        spec.setdefault("schedulerName", "default-scheduler")
        labels = dict(tmeta.get("labels") or {})
        labels.update(extra_labels)
        meta = {"name": name, "namespace": owner["metadata"]["namespace"], "labels": labels,
                "ownerReferences": [_owner_ref(owner_kind, owner)]}
        if tmeta.get("annotations"):
            meta["annotations"] = dict(tmeta["annotations"])
        if owner_kind == "ReplicaSet":
            meta["generateName"] = owner["metadata"]["name"] + "-"
        now = now_rfc3339()
        containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
        status = {
            "phase": "Pending", "qosClass": "BestEffort", "startTime": now,
            "hostIP": "10.0.0.1",
            "conditions": [
                {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                 "lastTransitionTime": now},
                {"type": "Initialized", "status": "True", "lastProbeTime": None,
                 "lastTransitionTime": now},
                {"type": "Ready", "status": "False", "lastProbeTime": None,
                 "lastTransitionTime": now, "reason": "ContainersNotReady",
                 "message": "containers with unready status"},
                {"type": "ContainersReady", "status": "False", "lastProbeTime": None,
                 "lastTransitionTime": now, "reason": "ContainersNotReady",
                 "message": "containers with unready status"}],
            "containerStatuses": [
                {"name": c.get("name", ""), "image": c.get("image", ""), "imageID": "",
                 "ready": False, "started": False, "restartCount": 0,
                 "state": {"waiting": {"reason": "ContainerCreating"}}} for c in containers],
        }
        return self.store.put_internal(self.pod_t, {"apiVersion": "v1", "kind": "Pod",
                                                    "metadata": meta, "spec": spec,
                                                    "status": status})

    def _owned(self, owner, rtype):
        uid = owner["metadata"]["uid"]
        with self.store.lock:
            keys = list(self.store.owned.get(uid, ()))
            out = []
            for (tkey, ns, name) in keys:
                if tkey != rtype.key:
                    continue
                obj = self.store.objects[tkey].get((ns, name))
                if obj is not None and (_controller_ref(obj) or {}).get("uid") == uid:
                    out.append(obj)
            return out

    # --- ReplicaSets ------------------------------------------------------------------------

    def _replicaset(self, ns, name):
        rs = self.store.try_get(self.rs_t, ns, name)
        if rs is None:
            return
        spec = rs.get("spec") or {}
        desired = _int(spec.get("replicas"), 1)
        pods = self._owned(rs, self.pod_t)
        if len(pods) < desired:
            hash_label = ((spec.get("template") or {}).get("metadata") or {}).get(
                "labels", {}).get("pod-template-hash")
            extra = {"pod-template-hash": hash_label} if hash_label else {}
            for _ in range(desired - len(pods)):
                for _attempt in range(5):
                    pod_name = "%s-%s" % (name, random_suffix())
                    if self.store.try_get(self.pod_t, ns, pod_name) is None:
                        break
                pods.append(self._new_pod("ReplicaSet", rs, pod_name, extra))
        elif len(pods) > desired:
            # Not-ready pods go first, then the newest (kube-controller-manager's ranking,
            # simplified).
            victims = sorted(pods, key=lambda p: (_pod_ready(p),
                                                  -int(p["metadata"]["resourceVersion"])))
            for p in victims[:len(pods) - desired]:
                self.store.delete_internal(self.pod_t, p)
            keep = {id(p) for p in victims[len(pods) - desired:]}
            pods = [p for p in pods if id(p) in keep]
        ready = sum(1 for p in pods if _pod_ready(p))
        status = {"replicas": len(pods), "fullyLabeledReplicas": len(pods),
                  "readyReplicas": ready, "availableReplicas": ready,
                  "observedGeneration": rs["metadata"].get("generation", 1)}
        self.store.set_status_internal(self.rs_t, rs, status)

    # --- Deployments ------------------------------------------------------------------------

    def _deployment(self, ns, name):
        d = self.store.try_get(self.deploy_t, ns, name)
        if d is None:
            return
        spec = d.get("spec") or {}
        desired = _int(spec.get("replicas"), 1)
        template = spec.get("template") or {}
        h = template_hash(template)
        owned = self._owned(d, self.rs_t)
        new_rs = next((rs for rs in owned
                       if ((rs.get("metadata") or {}).get("labels") or {}).get(
                           "pod-template-hash") == h), None)
        if new_rs is None:
            revision = 1 + max([int(((rs["metadata"].get("annotations") or {}).get(
                "deployment.kubernetes.io/revision") or 0)) for rs in owned] or [0])
            tmpl = dict(template)
            tmeta = dict(tmpl.get("metadata") or {})
            tmeta["labels"] = dict(tmeta.get("labels") or {}, **{"pod-template-hash": h})
            tmpl["metadata"] = tmeta
            selector = dict(spec.get("selector") or {})
            selector["matchLabels"] = dict(selector.get("matchLabels") or {},
                                           **{"pod-template-hash": h})
            rs_name = "%s-%s" % (name, h)
            if self.store.try_get(self.rs_t, ns, rs_name) is not None:
                return  # A foreign ReplicaSet has our name; the real controller would rename.
            new_rs = self.store.put_internal(self.rs_t, {
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": rs_name, "namespace": ns, "labels": dict(tmeta["labels"]),
                             "annotations": {
                                 "deployment.kubernetes.io/revision": str(revision),
                                 "deployment.kubernetes.io/desired-replicas": str(desired)},
                             "ownerReferences": [_owner_ref("Deployment", d)]},
                "spec": {"replicas": desired, "selector": selector, "template": tmpl},
                "status": {"replicas": 0}})
            owned.append(new_rs)
        for rs in owned:
            want = desired if rs is new_rs else 0
            if _int((rs.get("spec") or {}).get("replicas"), 1) != want:
                updated = dict(rs)
                updated["metadata"] = dict(rs["metadata"])
                updated["metadata"]["generation"] = int(rs["metadata"].get("generation", 1)) + 1
                updated["spec"] = dict(rs.get("spec") or {}, replicas=want)
                if rs is new_rs:
                    updated["metadata"]["annotations"] = dict(
                        rs["metadata"].get("annotations") or {},
                        **{"deployment.kubernetes.io/desired-replicas": str(desired)})
                self.store.put_internal(self.rs_t, updated)
        # Status from the ReplicaSets' current state.
        owned = self._owned(d, self.rs_t)
        total = sum(_int((rs.get("status") or {}).get("replicas")) for rs in owned)
        ready = sum(_int((rs.get("status") or {}).get("readyReplicas")) for rs in owned)
        available = sum(_int((rs.get("status") or {}).get("availableReplicas")) for rs in owned)
        new_state = next((rs for rs in owned if rs["metadata"]["name"] == new_rs["metadata"][
            "name"]), new_rs)
        updated = _int((new_state.get("status") or {}).get("replicas"))
        now = now_rfc3339()
        old_status = d.get("status") or {}
        old_conditions = old_status.get("conditions")
        max_unavailable = desired // 4  # the default maxUnavailable of 25%, rounded down
        if available >= desired - max_unavailable:
            avail = _condition(old_conditions, "Available", "True", "MinimumReplicasAvailable",
                               "Deployment has minimum availability.", now)
        else:
            avail = _condition(old_conditions, "Available", "False",
                               "MinimumReplicasUnavailable",
                               "Deployment does not have minimum availability.", now)
        rs_name = new_rs["metadata"]["name"]
        if updated == desired and available >= desired and total == desired:
            prog = _condition(old_conditions, "Progressing", "True", "NewReplicaSetAvailable",
                              'ReplicaSet "%s" has successfully progressed.' % rs_name, now)
        else:
            prog = _condition(old_conditions, "Progressing", "True", "ReplicaSetUpdated",
                              'ReplicaSet "%s" is progressing.' % rs_name, now)
        status = {"observedGeneration": d["metadata"].get("generation", 1),
                  "replicas": total, "updatedReplicas": updated, "readyReplicas": ready,
                  "availableReplicas": available,
                  "conditions": [avail, prog]}
        if desired - available > 0:
            status["unavailableReplicas"] = desired - available
        for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas"):
            if status[k] == 0:
                del status[k]  # omitempty, like the real API
        self.store.set_status_internal(self.deploy_t, d, status)

    # --- StatefulSets -----------------------------------------------------------------------

    def _statefulset(self, ns, name):
        sts = self.store.try_get(self.sts_t, ns, name)
        if sts is None:
            return
        spec = sts.get("spec") or {}
        desired = _int(spec.get("replicas"), 1)
        revision = "%s-%s" % (name, template_hash(spec.get("template") or {}))
        parallel = spec.get("podManagementPolicy") == "Parallel"
        pods = {p["metadata"]["name"]: p for p in self._owned(sts, self.pod_t)}
        for i in range(desired):
            pod_name = "%s-%d" % (name, i)
            if pod_name in pods:
                continue
            if not parallel and not all(_pod_ready(pods.get("%s-%d" % (name, j), {}))
                                        for j in range(i)):
                break
            if self.store.try_get(self.pod_t, ns, pod_name) is not None:
                continue  # A foreign pod has the name.
            pods[pod_name] = self._new_pod("StatefulSet", sts, pod_name, {
                "statefulset.kubernetes.io/pod-name": pod_name,
                "apps.kubernetes.io/pod-index": str(i),
                "controller-revision-hash": revision})
        for pod_name, p in list(pods.items()):
            ordinal = pod_name.rsplit("-", 1)[-1]
            if not ordinal.isdigit() or int(ordinal) >= desired:
                self.store.delete_internal(self.pod_t, p)
                del pods[pod_name]
        ready = sum(1 for p in pods.values() if _pod_ready(p))
        status = {"observedGeneration": sts["metadata"].get("generation", 1),
                  "replicas": len(pods), "readyReplicas": ready, "currentReplicas": len(pods),
                  "updatedReplicas": len(pods), "availableReplicas": ready,
                  "currentRevision": revision, "updateRevision": revision,
                  "collisionCount": 0}
        self.store.set_status_internal(self.sts_t, sts, status)
