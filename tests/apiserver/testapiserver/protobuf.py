"""Decoding of the Kubernetes protobuf encoding (application/vnd.kubernetes.protobuf) for the
objects kubectl's generators send: client-go's typed clientset sends protobuf by default, so
`kubectl create namespace|deployment|configmap|secret|service` and `kubectl run` POST protobuf
bodies. Only those kinds (Namespace, ConfigMap, Secret, Service, Pod, Deployment) and their
commonly used fields are known; unknown fields are skipped. Field numbers are those of
k8s.io/api's generated.proto files.

Wire format: the 4 bytes "k8s\\0", then a runtime.Unknown message
{typeMeta(1){apiVersion(1), kind(2)}, raw(2), contentEncoding(3), contentType(4)} whose raw
bytes are the object's message."""

import base64
import datetime

MAGIC = b"k8s\x00"


class ProtobufError(Exception):
    pass


# Field kinds: "str", "int" (varint, signed), "bool", "bytes" (base64 in JSON), "time"
# (meta.v1.Time), "quantity" (resource.Quantity), "intorstr" (util.intstr.IntOrString),
# ("msg", schema), ("rep", kind), ("map", value kind). A trailing "ptr" marks Go pointer fields,
# which keep zero values (the others are omitempty: zero values are dropped).

_TIME = {1: ("seconds", "int"), 2: ("nanos", "int")}
_INT_OR_STRING = {1: ("type", "int"), 2: ("intVal", "int"), 3: ("strVal", "str")}
_TYPE_META = {1: ("apiVersion", "str"), 2: ("kind", "str")}
_UNKNOWN = {1: ("typeMeta", ("msg", _TYPE_META)), 2: ("raw", "rawbytes"),
            3: ("contentEncoding", "str"), 4: ("contentType", "str")}
_OWNER_REF = {1: ("kind", "str"), 3: ("name", "str"), 4: ("uid", "str"),
              5: ("apiVersion", "str"), 6: ("controller", "bool", "ptr"),
              7: ("blockOwnerDeletion", "bool", "ptr")}
_OBJECT_META = {1: ("name", "str"), 2: ("generateName", "str"), 3: ("namespace", "str"),
                5: ("uid", "str"), 6: ("resourceVersion", "str"), 7: ("generation", "int"),
                8: ("creationTimestamp", "time"), 11: ("labels", ("map", "str")),
                12: ("annotations", ("map", "str")),
                13: ("ownerReferences", ("rep", ("msg", _OWNER_REF))),
                14: ("finalizers", ("rep", "str"))}
_SELECTOR_REQ = {1: ("key", "str"), 2: ("operator", "str"), 3: ("values", ("rep", "str"))}
_LABEL_SELECTOR = {1: ("matchLabels", ("map", "str")),
                   2: ("matchExpressions", ("rep", ("msg", _SELECTOR_REQ)))}
_CONTAINER_PORT = {1: ("name", "str"), 2: ("hostPort", "int"), 3: ("containerPort", "int"),
                   4: ("protocol", "str"), 5: ("hostIP", "str")}
_ENV_VAR = {1: ("name", "str"), 2: ("value", "str")}
_RESOURCES = {1: ("limits", ("map", "quantity")), 2: ("requests", ("map", "quantity"))}
_CONTAINER = {1: ("name", "str"), 2: ("image", "str"), 3: ("command", ("rep", "str")),
              4: ("args", ("rep", "str")), 5: ("workingDir", "str"),
              6: ("ports", ("rep", ("msg", _CONTAINER_PORT))),
              7: ("env", ("rep", ("msg", _ENV_VAR))), 8: ("resources", ("msg", _RESOURCES)),
              13: ("terminationMessagePath", "str"), 14: ("imagePullPolicy", "str"),
              16: ("stdin", "bool"), 17: ("stdinOnce", "bool"), 18: ("tty", "bool"),
              20: ("terminationMessagePolicy", "str")}
_POD_SPEC = {2: ("containers", ("rep", ("msg", _CONTAINER))), 3: ("restartPolicy", "str"),
             4: ("terminationGracePeriodSeconds", "int", "ptr"), 6: ("dnsPolicy", "str"),
             7: ("nodeSelector", ("map", "str")), 8: ("serviceAccountName", "str"),
             10: ("nodeName", "str"), 19: ("schedulerName", "str"),
             20: ("initContainers", ("rep", ("msg", _CONTAINER)))}
_POD_TEMPLATE = {1: ("metadata", ("msg", _OBJECT_META)), 2: ("spec", ("msg", _POD_SPEC))}
_ROLLING_UPDATE = {1: ("maxUnavailable", "intorstr"), 2: ("maxSurge", "intorstr")}
_STRATEGY = {1: ("type", "str"), 2: ("rollingUpdate", ("msg", _ROLLING_UPDATE))}
_DEPLOYMENT_SPEC = {1: ("replicas", "int", "ptr"), 2: ("selector", ("msg", _LABEL_SELECTOR)),
                    3: ("template", ("msg", _POD_TEMPLATE)),
                    4: ("strategy", ("msg", _STRATEGY)), 5: ("minReadySeconds", "int"),
                    6: ("revisionHistoryLimit", "int", "ptr"), 7: ("paused", "bool"),
                    9: ("progressDeadlineSeconds", "int", "ptr")}
_SERVICE_PORT = {1: ("name", "str"), 2: ("protocol", "str"), 3: ("port", "int"),
                 4: ("targetPort", "intorstr"), 5: ("nodePort", "int")}
_SERVICE_SPEC = {1: ("ports", ("rep", ("msg", _SERVICE_PORT))), 2: ("selector", ("map", "str")),
                 3: ("clusterIP", "str"), 4: ("type", "str"), 7: ("sessionAffinity", "str")}
_META = ("metadata", ("msg", _OBJECT_META))

KINDS = {
    "Namespace": {1: _META, 2: ("spec", ("msg", {1: ("finalizers", ("rep", "str"))}))},
    "ConfigMap": {1: _META, 2: ("data", ("map", "str")), 3: ("binaryData", ("map", "bytes")),
                  4: ("immutable", "bool", "ptr")},
    "Secret": {1: _META, 2: ("data", ("map", "bytes")), 3: ("type", "str"),
               4: ("stringData", ("map", "str")), 5: ("immutable", "bool", "ptr")},
    "Service": {1: _META, 2: ("spec", ("msg", _SERVICE_SPEC))},
    "Pod": {1: _META, 2: ("spec", ("msg", _POD_SPEC))},
    "Deployment": {1: _META, 2: ("spec", ("msg", _DEPLOYMENT_SPEC))},
}


def _varint(buf, i):
    shift, value = 0, 0
    while True:
        if i >= len(buf):
            raise ProtobufError("truncated varint")
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7
        if shift > 70:
            raise ProtobufError("varint too long")


def _fields(buf):
    """Yields (field number, wire type, value) of one message."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            length, i = _varint(buf, i)
            if i + length > len(buf):
                raise ProtobufError("truncated field %d" % number)
            value, i = buf[i:i + length], i + length
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ProtobufError("unsupported wire type %d" % wire)
        yield number, wire, value


def _signed(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def _scalar(kind, wire, value):
    if kind == "str":
        return bytes(value).decode("utf-8")
    if kind == "rawbytes":
        return bytes(value)
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode()
    if kind == "int":
        return _signed(value)
    if kind == "bool":
        return bool(value)
    if kind == "time":
        t = _message(value, _TIME)
        seconds = t.get("seconds", 0)
        if not seconds:
            return None
        return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
    if kind == "quantity":
        return _message(value, {1: ("string", "str")}).get("string", "")
    if kind == "intorstr":
        v = _message(value, _INT_OR_STRING)
        return v.get("strVal", "") if v.get("type") == 1 else v.get("intVal", 0)
    if isinstance(kind, tuple) and kind[0] == "msg":
        return _message(value, kind[1])
    raise ProtobufError("unknown field kind %r" % (kind,))


def _message(buf, schema):
    out = {}
    for number, wire, value in _fields(buf):
        spec = schema.get(number)
        if spec is None:
            continue  # a field this decoder does not know: skipped
        name, kind = spec[0], spec[1]
        pointer = len(spec) > 2 and spec[2] == "ptr"
        if isinstance(kind, tuple) and kind[0] == "rep":
            out.setdefault(name, []).append(_scalar(kind[1], wire, value))
        elif isinstance(kind, tuple) and kind[0] == "map":
            entry = {}
            for n, w, v in _fields(value):
                if n == 1:
                    entry["k"] = bytes(v).decode("utf-8")
                elif n == 2:
                    entry["v"] = _scalar(kind[1], w, v)
            out.setdefault(name, {})[entry.get("k", "")] = entry.get("v", "")
        else:
            v = _scalar(kind, wire, value)
            if v is None or (not pointer and v in ("", 0, False)
                             and not isinstance(v, dict)):
                continue
            out[name] = v
    return out


def decode(body):
    """The JSON form of a protobuf-encoded object. Raises ProtobufError."""
    if not body.startswith(MAGIC):
        raise ProtobufError("the body does not start with the Kubernetes protobuf prefix")
    unknown = _message(memoryview(body)[len(MAGIC):], _UNKNOWN)
    type_meta = unknown.get("typeMeta") or {}
    kind = type_meta.get("kind", "")
    schema = KINDS.get(kind)
    if schema is None:
        raise ProtobufError(
            "this test server decodes protobuf only for %s, not %r: send JSON instead"
            % (", ".join(sorted(KINDS)), kind))
    if unknown.get("contentEncoding"):
        raise ProtobufError("content encoding %r is not supported"
                            % unknown["contentEncoding"])
    obj = _message(unknown.get("raw", b""), schema)
    obj["apiVersion"] = type_meta.get("apiVersion", "")
    obj["kind"] = kind
    return obj
