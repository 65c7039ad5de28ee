"""HTTP: routing, authentication, discovery, resource verbs, watches, faults, audit and the
test-only control API. See ../apiserver.py for what is served."""

import base64
import csv
import hashlib
import http.server
import json
import logging
import os
import socket
import ssl
import threading
import time
import urllib.parse

from testapiserver import errors, protobuf, resources
from testapiserver.errors import ApiError
from testapiserver.selectors import parse_field_selector, parse_label_selector

log = logging.getLogger("apiserver")

VERSION_INFO = {"major": "1", "minor": "32", "gitVersion": "v1.32.0-governor-test",
                "gitCommit": "0000000000000000000000000000000000000000",
                "gitTreeState": "clean", "buildDate": "2025-01-01T00:00:00Z",
                "goVersion": "go1.23.0", "compiler": "gc", "platform": "linux/amd64"}

_PATCH_TYPES = {"application/json-patch+json": "json",
                "application/merge-patch+json": "merge",
                "application/strategic-merge-patch+json": "strategic",
                "application/apply-patch+yaml": "apply",
                "application/apply-patch+json": "apply"}
_MAX_BODY = 3 * 1024 * 1024  # kube-apiserver's request size limit


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


class Tokens:
    """--token-file (csv: token,user[,uid[,"group1,group2"]]), re-read when it changes, plus
    tokens added through the control API."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.mtime = None
        self.from_file = {}
        self.added = {}

    def user(self, token):
        with self.lock:
            if self.path:
                try:
                    mtime = os.stat(self.path).st_mtime
                except OSError:
                    mtime = None
                if mtime != self.mtime:
                    self.mtime = mtime
                    self.from_file = {}
                    if mtime is not None:
                        with open(self.path, newline="") as f:
                            for row in csv.reader(f):
                                if len(row) >= 2 and row[0].strip():
                                    self.from_file[row[0].strip()] = row[1].strip()
            return self.added.get(token) or self.from_file.get(token)

    def add(self, token, user):
        with self.lock:
            self.added[token] = user


class Faults:
    """Injected failures, matched on verb/resource/subresource/namespace/name/user/group."""

    FIELDS = ("verb", "resource", "subresource", "namespace", "name", "user", "group")

    def __init__(self):
        self.lock = threading.Lock()
        self.faults = []
        self.next_id = 1

    def add(self, spec):
        if not isinstance(spec, dict):
            raise errors.bad_request("a fault must be a JSON object")
        for f in self.FIELDS:
            if f in spec and not isinstance(spec[f], str):
                raise errors.bad_request("fault field %r must be a string" % f)
        code = spec.get("code")
        if code is not None and (not isinstance(code, int) or not 100 <= code <= 599):
            raise errors.bad_request("fault field 'code' must be an HTTP status code")
        for f, least in (("count", 1), ("delayMs", 0), ("retryAfterSeconds", 0)):
            if f in spec and (not isinstance(spec[f], int) or isinstance(spec[f], bool) or
                              spec[f] < least):
                raise errors.bad_request("fault field %r must be an integer >= %d" % (f, least))
        if code is None and not spec.get("delayMs"):
            raise errors.bad_request("a fault needs 'code' and/or 'delayMs'")
        with self.lock:
            fault = dict(spec, id=self.next_id, hits=0)
            self.next_id += 1
            self.faults.append(fault)
            return fault

    def match(self, info):
        with self.lock:
            for fault in self.faults:
                if all(fault.get(f) in (None, info.get(f)) for f in self.FIELDS):
                    fault["hits"] += 1
                    if "count" in fault:
                        fault["count"] -= 1
                        if fault["count"] <= 0:
                            self.faults.remove(fault)
                    return dict(fault)
        return None

    def list(self):
        with self.lock:
            return [dict(f) for f in self.faults]

    def clear(self):
        with self.lock:
            n = len(self.faults)
            self.faults = []
            return n


class Audit:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.records = []
        self.file = open(path, "a", buffering=1) if path else None

    def add(self, record):
        with self.lock:
            if len(self.records) < 200000:
                self.records.append(record)
            if self.file:
                self.file.write(dumps(record) + "\n")

    def query(self, filters):
        with self.lock:
            return [r for r in self.records
                    if all(str(r.get(k)) == v for k, v in filters.items())]

    def clear(self):
        with self.lock:
            self.records = []


class RequestInfo(dict):
    """verb, group, version, resource, subresource, namespace, name (as Kubernetes authz sees
    them) plus the resolved type."""


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = False  # a lost port race must fail loudly

    def __init__(self, address, store, controller, args):
        self.store = store
        self.controller = controller
        self.args = args
        self.tokens = Tokens(args.token_file)
        self.faults = Faults()
        self.audit = Audit(args.audit_log)
        self.ssl_context = None
        if args.tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(args.tls_cert, args.tls_key)
            ctx.set_alpn_protocols(["http/1.1"])
            self.ssl_context = ctx
        super().__init__(address, Handler)

    def finish_request(self, request, client_address):
        # The TLS handshake runs in the connection's own thread, not in the accept loop.
        if self.ssl_context is not None:
            try:
                request = self.ssl_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as e:
                log.info("TLS handshake with %s failed: %s", client_address, e)
                return
        super().finish_request(request, client_address)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "governor-test-apiserver"

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, fmt, *args):
        log.debug("%s " + fmt, self.address_string(), *args)

    # --- Plumbing ---------------------------------------------------------------------------

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            raise ApiError(413, "Request entity too large: limit is 3145728")
        return self.rfile.read(length) if length else b""

    def _send(self, code, body, content_type="application/json", headers=None):
        data = body if isinstance(body, bytes) else body.encode()
        lines = ["HTTP/1.1 %d %s" % (code, self.responses.get(code, ("",))[0]),
                 "Content-Type: " + content_type,
                 "Content-Length: %d" % len(data),
                 "Cache-Control: no-cache, private",
                 "Date: " + self.date_time_string()]
        for k, v in (headers or []):
            lines.append("%s: %s" % (k, v))
        if self.close_connection:
            lines.append("Connection: close")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        self.wfile.flush()
        self._code = code

    def _send_json(self, code, obj, headers=None):
        self._send(code, dumps(obj), headers=headers)

    def _send_error(self, e):
        headers = list(e.headers.items())
        self._send_json(e.code, e.status(), headers)

    def _handle(self, method):
        self._code = 0
        self._audit = None
        started = time.monotonic()
        try:
            self._dispatch(method)
        except ApiError as e:
            self._send_error(e)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True
        except Exception as e:  # noqa: BLE001 - a bug must answer 500, not kill the thread
            log.exception("internal error on %s %s", method, self.path)
            try:
                self._send_error(ApiError(500, "Internal error occurred: %s" % e))
            except OSError:
                self.close_connection = True
        finally:
            if self._audit is not None:
                self._audit["code"] = self._code
                self.server.audit.add(self._audit)
            log.info("%s %s -> %d (%.1f ms) %s", method, self.path, self._code,
                     (time.monotonic() - started) * 1000,
                     self._audit.get("user", "") if self._audit else "")

    # --- Dispatch ---------------------------------------------------------------------------

    def _dispatch(self, method):
        url = urllib.parse.urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        self.query = {k: v[-1] for k, v in urllib.parse.parse_qs(
            url.query, keep_blank_values=True).items()}
        body = self._read_body() if method in ("POST", "PUT", "PATCH", "DELETE") else b""
        if path in ("/healthz", "/readyz", "/livez"):
            self._send(200, b"ok", "text/plain; charset=utf-8")
            return
        auth = self.headers.get("Authorization", "")
        user = None
        if auth.startswith("Bearer "):
            user = self.server.tokens.user(auth[len("Bearer "):].strip())
        elif not auth and self.server.args.anonymous_user:
            # client-go sends no credentials over plain HTTP; see --anonymous-user.
            user = self.server.args.anonymous_user
        if user is None:
            self._audit = {"user": "", "verb": method.lower(), "uri": self.path,
                           "timestamp": time.time()}
            raise ApiError(401, "Unauthorized")
        self.user = user
        if path.startswith("/_test/"):
            self._audit = None
            if user != "admin":
                raise ApiError(403, "the control API is for the admin user only")
            self._control(method, path, body)
            return
        info = self._request_info(method, path)
        self._audit = {"timestamp": time.time(), "user": user, "verb": info["verb"],
                       "apiGroup": info.get("group", ""), "apiVersion": info.get("version", ""),
                       "resource": info.get("resource", ""),
                       "subresource": info.get("subresource", ""),
                       "namespace": info.get("namespace", ""), "name": info.get("name", ""),
                       "uri": self.path}
        if info.get("resource"):
            fault = self.server.faults.match(dict(info, user=user))
            if fault is not None:
                if fault.get("delayMs"):
                    time.sleep(fault["delayMs"] / 1000.0)
                if fault.get("code"):
                    self._audit["fault"] = fault["id"]
                    raise self._fault_error(fault, info)
            self._resource(method, info, body)
        else:
            if method != "GET":
                raise ApiError(405, "the server does not allow this method on the requested "
                               "resource")
            self._non_resource(path)

    def _fault_error(self, fault, info):
        code = fault["code"]
        message = fault.get("message") or "injected fault %d: %s" % (fault["id"], {
            429: "Too many requests, please try again later.",
            500: "Internal error occurred: injected",
            503: "the server is currently unable to handle the request",
        }.get(code, "injected error"))
        details = {"name": info.get("name", ""), "group": info.get("group", ""),
                   "kind": info.get("resource", "")}
        headers = {}
        if code == 429 or fault.get("retryAfterSeconds") is not None:
            retry = fault.get("retryAfterSeconds", 1)
            details["retryAfterSeconds"] = retry
            headers["Retry-After"] = str(retry)
        return ApiError(code, message, details=details, headers=headers)

    def _request_info(self, method, path):
        parts = [p for p in path.split("/") if p]
        info = RequestInfo(verb=method.lower())
        if parts[:1] == ["api"] and len(parts) >= 2:
            info.update(group="", version=parts[1])
            rest = parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            info.update(group=parts[1], version=parts[2])
            rest = parts[3:]
        else:
            return info
        if not rest:
            return info
        if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
            info["namespace"] = rest[1]
            rest = rest[2:]
        info["resource"] = rest[0]
        if len(rest) > 1:
            info["name"] = rest[1]
        if len(rest) > 2:
            info["subresource"] = rest[2]
        if len(rest) > 3:
            raise ApiError(404, "the server could not find the requested resource")
        has_name = bool(info.get("name"))
        watch = self.query.get("watch") in ("1", "true", "True")
        info["verb"] = {
            "GET": "watch" if watch else ("get" if has_name else "list"),
            "POST": "create", "PUT": "update", "PATCH": "patch",
            "DELETE": "delete" if has_name else "deletecollection",
        }[method]
        return info

    # --- Non-resource endpoints -------------------------------------------------------------

    def _non_resource(self, path):
        store = self.server.store
        parts = [p for p in path.split("/") if p]
        if path == "/version":
            return self._send_json(200, VERSION_INFO)
        if path == "/api":
            return self._send_json(200, {
                "kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                "serverAddress": self._host()}]})
        groups = store.groups()
        if path == "/apis":
            out = []
            for group in sorted(g for g in groups if g):
                out.append(self._api_group(group, groups[group]))
            return self._send_json(200, {"kind": "APIGroupList", "apiVersion": "v1",
                                         "groups": out})
        if parts[:1] == ["apis"] and len(parts) == 2:
            if parts[1] not in groups or not parts[1]:
                raise ApiError(404, "the server could not find the requested resource")
            g = self._api_group(parts[1], groups[parts[1]])
            g.update(kind="APIGroup", apiVersion="v1")
            return self._send_json(200, g)
        if (parts[:1] == ["api"] and len(parts) == 2) or (parts[:1] == ["apis"] and
                                                           len(parts) == 3):
            group = "" if parts[0] == "api" else parts[1]
            version = parts[-1]
            rts = groups.get(group, {}).get(version)
            if not rts:
                raise ApiError(404, "the server could not find the requested resource")
            listed = []
            for rt in sorted(rts, key=lambda r: r.plural):
                listed.extend(resources.api_resources(rt, version))
            return self._send_json(200, {"kind": "APIResourceList", "apiVersion": "v1",
                                         "groupVersion": "%s/%s" % (group, version)
                                         if group else version, "resources": listed})
        if path == "/openapi/v3":
            paths = {}
            for group, versions in groups.items():
                for version, rts in versions.items():
                    key = "apis/%s/%s" % (group, version) if group else "api/" + version
                    doc = dumps(resources.openapi_v3(key, group, version, rts)).encode()
                    digest = hashlib.sha512(doc).hexdigest()[:64].upper()
                    paths[key] = {"serverRelativeURL": "/openapi/v3/%s?hash=%s" % (key, digest)}
            return self._send_json(200, {"paths": paths})
        if parts[:2] == ["openapi", "v3"] and len(parts) >= 4:
            key = "/".join(parts[2:])
            if parts[2] == "api" and len(parts) == 4:
                group, version = "", parts[3]
            elif parts[2] == "apis" and len(parts) == 5:
                group, version = parts[3], parts[4]
            else:
                raise ApiError(404, "the server could not find the requested resource")
            rts = groups.get(group, {}).get(version)
            if not rts:
                raise ApiError(404, "the server could not find the requested resource")
            return self._send_json(200, resources.openapi_v3(key, group, version, rts))
        raise ApiError(404, "the server could not find the requested resource")

    def _host(self):
        return "127.0.0.1:%d" % self.server.server_address[1]

    def _api_group(self, group, versions):
        ordered = sorted(versions, key=resources.version_priority)
        gvs = [{"groupVersion": "%s/%s" % (group, v), "version": v} for v in ordered]
        return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}

    # --- Resources --------------------------------------------------------------------------

    def _accepts_table(self):
        return "as=Table" in self.headers.get("Accept", "")

    def _field_validation(self):
        fv = self.query.get("fieldValidation", "Warn") or "Warn"
        if fv not in ("Strict", "Warn", "Ignore"):
            raise errors.bad_request("fieldValidation parameter unsupported: %r" % fv)
        return fv

    def _dry_run(self):
        dr = self.query.get("dryRun", "")
        if dr not in ("", "All"):
            raise errors.bad_request("Invalid dry run value: %r (supported: All)" % dr)
        return dr == "All"

    def _parse_json(self, body, what="the request body"):
        try:
            return json.loads(body.decode("utf-8") if body else "null")
        except (UnicodeDecodeError, ValueError) as e:
            raise errors.bad_request("%s is not valid JSON: %s" % (what, e)) from None

    def _warnings(self, warnings):
        return [("Warning", '299 - %s' % json.dumps(w)) for w in warnings]

    def _resource(self, method, info, body):
        store = self.server.store
        rt = store.find_type(info["group"], info["version"], info["resource"])
        if rt is None:
            raise ApiError(404, "the server could not find the requested resource")
        version = info["version"]
        ns = info.get("namespace") or None
        if not rt.namespaced and ns:
            raise ApiError(404, "the server could not find the requested resource")
        if rt.namespaced and method in ("POST",) and not ns:
            raise ApiError(405, "the server does not allow this method on the requested "
                           "resource")
        name = info.get("name")
        sub = info.get("subresource")
        v = rt.versions[version]
        if sub and not ((sub == "status" and v.status) or (sub == "scale" and v.scale)):
            raise ApiError(404, "the server could not find the requested resource")
        if sub and method in ("POST", "DELETE"):
            raise ApiError(405, "the server does not allow this method on the requested "
                           "resource")
        verb = info["verb"]
        if verb == "watch":
            return self._watch(rt, version, ns, name)
        if verb == "list":
            return self._list(rt, version, ns)
        if verb == "get":
            obj = store.get(rt, ns, name)
            if sub == "scale":
                return self._send_json(200, store.scale_of(rt, version, obj))
            if self._accepts_table():
                return self._send_json(200, self._table(rt, version, [obj],
                                                        obj["metadata"]["resourceVersion"]))
            return self._send_json(200, self._at_version(rt, version, obj))
        if verb == "create":
            if name:
                raise ApiError(405, "the server does not allow this method on the requested "
                               "resource")
            obj, warnings = store.create(rt, version, ns or "", self._parse_object(body),
                                         self._dry_run(), self._field_validation())
            return self._send_json(201, obj, self._warnings(warnings))
        if verb == "update":
            parsed = self._parse_object(body)
            if sub == "scale":
                return self._send_json(200, store.update_scale(
                    rt, version, ns or "", name, scale_body=parsed, dry_run=self._dry_run()))
            obj, warnings = store.update(rt, version, ns or "", name, parsed, sub,
                                         self._dry_run(), self._field_validation())
            return self._send_json(200, obj, self._warnings(warnings))
        if verb == "patch":
            ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
            ptype = _PATCH_TYPES.get(ctype)
            if ptype is None or (ptype == "strategic" and rt.crd is not None and sub != "scale"):
                raise ApiError(415, "the body of the request was in an unknown format - "
                               "accepted media types include: application/json-patch+json, "
                               "application/merge-patch+json, application/apply-patch+yaml"
                               + ("" if rt.crd else
                                  ", application/strategic-merge-patch+json"))
            parsed = self._parse_json(body, "the patch")
            if sub == "scale":
                if ptype == "apply":
                    raise ApiError(415, "apply patches are not supported on /scale here")
                return self._send_json(200, store.update_scale(
                    rt, version, ns or "", name, patch_type=ptype, patch_body=parsed,
                    dry_run=self._dry_run()))
            obj, warnings, created = store.patch(rt, version, ns or "", name, ptype, parsed,
                                                 sub, self._dry_run(), self._field_validation())
            return self._send_json(201 if created else 200, obj, self._warnings(warnings))
        if verb == "delete":
            opts = self._parse_json(body, "the delete options") if body.strip() else {}
            if not isinstance(opts, dict):
                raise errors.bad_request("the delete options must be a JSON object")
            pre = opts.get("preconditions") if isinstance(opts.get("preconditions"), dict) \
                else {}
            orphan = opts.get("propagationPolicy") == "Orphan" or \
                self.query.get("propagationPolicy") == "Orphan" or opts.get("orphanDependents")
            dry = self._dry_run() or opts.get("dryRun") == ["All"]
            obj = store.delete(rt, version, ns or "", name, pre.get("resourceVersion"),
                               pre.get("uid"), dry, bool(orphan))
            return self._send_json(200, self._at_version(rt, version, obj))
        if verb == "deletecollection":
            items, rv = store.list(rt, ns, self._label_reqs(), self._field_reqs())
            dry = self._dry_run()
            deleted = []
            for obj in items:
                try:
                    deleted.append(store.delete(rt, version, obj["metadata"].get("namespace", ""),
                                                obj["metadata"]["name"], dry_run=dry))
                except ApiError:
                    pass  # gone meanwhile
            return self._send_json(200, self._list_body(rt, version, deleted, str(store.rv)))
        raise ApiError(405, "the server does not allow this method on the requested resource")

    def _parse_object(self, body):
        """A POST/PUT body: JSON, or protobuf for the kinds kubectl's generators send."""
        ctype = self.headers.get("Content-Type", "application/json").split(";")[0].strip()
        if ctype == "application/vnd.kubernetes.protobuf":
            try:
                return protobuf.decode(body)
            except (protobuf.ProtobufError, UnicodeDecodeError) as e:
                raise ApiError(415, "cannot decode the protobuf body: %s" % e) from None
        if ctype not in ("application/json", "", "*/*"):
            raise ApiError(415, "the body of the request was in an unknown format - accepted "
                           "media types include: application/json, "
                           "application/vnd.kubernetes.protobuf (this test server: JSON, and "
                           "protobuf for the kinds kubectl's generators create)")
        return self._parse_json(body)

    def _label_reqs(self):
        return parse_label_selector(self.query.get("labelSelector", ""))

    def _field_reqs(self):
        return parse_field_selector(self.query.get("fieldSelector", ""))

    def _at_version(self, rt, version, obj):
        api_version = rt.api_version(version)
        if obj.get("apiVersion") == api_version:
            return obj
        out = dict(obj)
        out["apiVersion"] = api_version
        return out

    def _list_body(self, rt, version, items, rv, cont=None, remaining=None):
        if rt.crd is None:
            # Items of built-in lists carry no apiVersion/kind, like the real server's.
            items = [{k: v for k, v in o.items() if k not in ("apiVersion", "kind")}
                     for o in items]
        else:
            items = [self._at_version(rt, version, o) for o in items]
        meta = {"resourceVersion": rv}
        if cont:
            meta["continue"] = cont
            if remaining is not None:
                meta["remainingItemCount"] = remaining
        return {"kind": rt.list_kind, "apiVersion": rt.api_version(version), "metadata": meta,
                "items": items}

    def _list(self, rt, version, ns):
        store = self.server.store
        q = self.query
        start_after = None
        rv_param = q.get("resourceVersion", "")
        if q.get("continue"):
            try:
                token = json.loads(base64.urlsafe_b64decode(q["continue"].encode()))
                token_rv, start_after = int(token["rv"]), tuple(token["start"])
            except (ValueError, KeyError, TypeError):
                raise errors.bad_request("continue key is not valid: incorrect encoded start "
                                         "resourceVersion (version meta.k8s.io/v1)") from None
            if token_rv < store.compacted:
                raise errors.expired(
                    "The provided continue parameter is too old to display a consistent list "
                    "result. You can start a new list without the continue parameter, or use "
                    "the continue value from the response to start a list from the latest "
                    "resourceVersion.")
        elif rv_param not in ("", "0") and q.get("resourceVersionMatch") == "Exact":
            try:
                wanted = int(rv_param)
            except ValueError:
                raise errors.bad_request("invalid resource version: %r" % rv_param) from None
            if wanted < store.compacted:
                raise errors.expired("too old resource version: %d (%d)"
                                     % (wanted, store.compacted + 1))
        items, rv = store.list(rt, ns, self._label_reqs(), self._field_reqs())
        if start_after is not None:
            items = [o for o in items
                     if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > start_after]
        cont, remaining = None, None
        limit = q.get("limit", "")
        if limit.isdigit() and int(limit) > 0 and len(items) > int(limit):
            n = int(limit)
            last = items[n - 1]["metadata"]
            cont = base64.urlsafe_b64encode(dumps({
                "rv": rv, "start": [last.get("namespace", ""), last["name"]]}).encode()).decode()
            remaining = len(items) - n
            items = items[:n]
        if self._accepts_table():
            table = self._table(rt, version, items, str(rv))
            if cont:
                table["metadata"]["continue"] = cont
                table["metadata"]["remainingItemCount"] = remaining
            return self._send_json(200, table)
        self._send_json(200, self._list_body(rt, version, items, str(rv), cont, remaining))

    def _table(self, rt, version, items, rv, headers=True):
        include = self.query.get("includeObject", "Metadata")
        rows = []
        for o in items:
            row = {"cells": resources.table_cells(rt, version, o)}
            if include == "Object":
                row["object"] = self._at_version(rt, version, o)
            elif include != "None":
                row["object"] = {"kind": "PartialObjectMetadata",
                                 "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}
            rows.append(row)
        table = {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
                 "metadata": {"resourceVersion": rv}, "rows": rows}
        table["columnDefinitions"] = resources.table_columns(rt, version) if headers else []
        return table

    # --- Watch ------------------------------------------------------------------------------

    def _watch(self, rt, version, ns, name):
        store = self.server.store
        q = self.query
        field_reqs = self._field_reqs()
        if name:
            field_reqs = field_reqs + [(["metadata", "name"], "=", name)]
        label_reqs = self._label_reqs()
        bookmarks = q.get("allowWatchBookmarks") in ("1", "true", "True")
        as_table = self._accepts_table()
        try:
            timeout = float(q.get("timeoutSeconds") or 1800)
        except ValueError:
            raise errors.bad_request("invalid timeoutSeconds: %r" % q["timeoutSeconds"]) \
                from None
        try:
            w, initial = store.start_watch(rt, version, ns, label_reqs, field_reqs,
                                           q.get("resourceVersion"), self.user, as_table)
        except ApiError as e:
            if e.code != 410:
                raise
            # Like the real server: the watch starts, then says 410 in an ERROR event.
            self._start_stream()
            self._chunk(dumps({"type": "ERROR", "object": e.status()}) + "\n")
            self._end_stream()
            return
        w.connection = self.connection
        try:
            self._start_stream()
            first = [True]

            def encode(etype, obj):
                if as_table and etype != "BOOKMARK":
                    out = self._table(rt, version, [obj], obj["metadata"]["resourceVersion"],
                                      headers=first[0])
                    first[0] = False
                else:
                    out = self._at_version(rt, version, obj)
                return dumps({"type": etype, "object": out}) + "\n"

            for (_, etype, obj) in initial:
                self._chunk(encode(etype, obj))
            interval = self.server.args.bookmark_interval
            deadline = time.monotonic() + timeout
            next_bookmark = time.monotonic() + interval
            while True:
                bookmark_rv = None
                with w.cond:
                    while not w.queue and not w.dropped and not w.ended:
                        now = time.monotonic()
                        if now >= deadline or (bookmarks and now >= next_bookmark):
                            break
                        wake = deadline if not bookmarks else min(deadline, next_bookmark)
                        w.cond.wait(wake - now)
                    events = list(w.queue)
                    w.queue.clear()
                    dropped, ended = w.dropped, w.ended
                    now = time.monotonic()
                    if not events and bookmarks and now >= next_bookmark:
                        bookmark_rv = store.rv  # queue drained: everything up to rv is sent
                        next_bookmark = now + interval
                if dropped:
                    # Abruptly: no terminating chunk, the connection just goes away.
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                for (_, etype, obj) in events:
                    self._chunk(encode(etype, obj))
                if bookmark_rv is not None:
                    self._chunk(dumps({"type": "BOOKMARK", "object": {
                        "kind": rt.kind, "apiVersion": rt.api_version(version),
                        "metadata": {"resourceVersion": str(bookmark_rv),
                                     "creationTimestamp": None}}}) + "\n")
                if ended or time.monotonic() >= deadline:
                    self._end_stream()
                    return
        finally:
            store.stop_watch(w)

    def _start_stream(self):
        head = ["HTTP/1.1 200 OK", "Content-Type: application/json",
                "Transfer-Encoding: chunked", "Cache-Control: no-cache, private",
                "Date: " + self.date_time_string()]
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode())
        self.wfile.flush()
        self._code = 200
        # Audited when the stream starts, as kube-apiserver's ResponseStarted stage: a watch
        # may run for minutes, and tests read the audit while it does.
        if self._audit is not None:
            self.server.audit.add(dict(self._audit, code=200, stage="ResponseStarted"))
            self._audit = None

    def _chunk(self, text):
        data = text.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _end_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # --- Control API ------------------------------------------------------------------------

    def _control(self, method, path, body):
        srv = self.server
        payload = self._parse_json(body, "the control request") if body.strip() else None
        route = (method, path)
        if route == ("POST", "/_test/faults"):
            specs = payload if isinstance(payload, list) else [payload]
            return self._send_json(201, [srv.faults.add(s) for s in specs])
        if route == ("GET", "/_test/faults"):
            return self._send_json(200, srv.faults.list())
        if route == ("DELETE", "/_test/faults"):
            return self._send_json(200, {"deleted": srv.faults.clear()})
        if route == ("POST", "/_test/watches/drop"):
            resource = payload.get("resource") if isinstance(payload, dict) else None
            return self._send_json(200, {"dropped": srv.store.drop_watches(resource)})
        if route == ("GET", "/_test/watches"):
            with srv.store.lock:
                ws = [{"resource": w.rtype.plural, "group": w.rtype.group,
                       "namespace": w.namespace or "", "user": w.user}
                      for w in srv.store.watchers]
            return self._send_json(200, ws)
        if route == ("POST", "/_test/compact"):
            return self._send_json(200, {"compactedResourceVersion": str(srv.store.compact())})
        if route == ("PUT", "/_test/pod-ready-delay"):
            seconds = payload.get("seconds") if isinstance(payload, dict) else None
            if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or \
                    seconds < 0:
                raise errors.bad_request('pod-ready-delay needs {"seconds": <number >= 0>}')
            srv.controller.set_pod_ready_delay(seconds)
            return self._send_json(200, {"seconds": seconds})
        if route == ("GET", "/_test/audit"):
            return self._send_json(200, srv.audit.query(self.query))
        if route == ("DELETE", "/_test/audit"):
            srv.audit.clear()
            return self._send_json(200, {})
        if route == ("POST", "/_test/tokens"):
            if not isinstance(payload, dict) or not isinstance(payload.get("token"), str) or \
                    not isinstance(payload.get("user"), str):
                raise errors.bad_request('tokens need {"token": "...", "user": "..."}')
            srv.tokens.add(payload["token"], payload["user"])
            return self._send_json(201, {"user": payload["user"]})
        if route == ("GET", "/_test/state"):
            return self._send_json(200, {"resourceVersion": str(srv.store.rv),
                                         "compactedResourceVersion": str(srv.store.compacted),
                                         "watches": len(srv.store.watchers)})
        raise ApiError(404, "no control endpoint %s %s" % (method, path))
