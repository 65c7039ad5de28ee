"""metav1.Status errors, shaped like kube-apiserver's (k8s.io/apimachinery/pkg/api/errors)."""

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


class ApiError(Exception):
    """An error answered as a metav1.Status with `code`."""

    def __init__(self, code, message, reason=None, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason if reason is not None else REASONS.get(code, "")
        self.details = details
        self.headers = headers or {}

    def status(self):
        s = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            s["details"] = self.details
        return s


def qualified_resource(rtype):
    """'deployments.apps' or 'pods', as error messages name a resource."""
    return rtype.plural + ("." + rtype.group if rtype.group else "")


def qualified_kind(rtype):
    """'Deployment.apps' or 'Pod', as Invalid errors name a kind."""
    return rtype.kind + ("." + rtype.group if rtype.group else "")


def not_found(rtype, name):
    return ApiError(404, '%s "%s" not found' % (qualified_resource(rtype), name),
                    details={"name": name, "group": rtype.group, "kind": rtype.plural})


def already_exists(rtype, name):
    return ApiError(409, '%s "%s" already exists' % (qualified_resource(rtype), name),
                    reason="AlreadyExists",
                    details={"name": name, "group": rtype.group, "kind": rtype.plural})


def conflict(rtype, name, why):
    return ApiError(409, 'Operation cannot be fulfilled on %s "%s": %s'
                    % (qualified_resource(rtype), name, why),
                    details={"name": name, "group": rtype.group, "kind": rtype.plural})


MODIFIED = ("the object has been modified; please apply your changes to the latest version "
            "and try again")


def invalid(rtype, name, causes):
    """422 Invalid. `causes` are (reason, field, message) triples; message is the part after
    'field: ' in the real server's text, e.g. 'Invalid value: 0: spec.x in body should be ...'."""
    parts = ["%s: %s" % (field, message) if field else message for (_, field, message) in causes]
    text = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    return ApiError(
        422, '%s "%s" is invalid: %s' % (qualified_kind(rtype), name, text),
        details={
            "name": name,
            "group": rtype.group,
            "kind": rtype.kind,
            "causes": [{"reason": r, "message": m, "field": f} for (r, f, m) in causes],
        })


def bad_request(message):
    return ApiError(400, message)


def expired(message):
    return ApiError(410, message, reason="Expired")
