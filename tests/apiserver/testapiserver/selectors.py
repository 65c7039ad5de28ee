"""Label and field selectors, in kube-apiserver's string syntax.

Label selectors: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x,y)`, `a`, `!a`, comma-separated
(AND). Field selectors: `f=v`, `f==v`, `f!=v` on dotted paths (metadata.name, metadata.namespace,
status.phase, spec.nodeName, involvedObject.name, ... any string field)."""

import re

from testapiserver.errors import bad_request

_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_VALUE = r"[-A-Za-z0-9_.]*"


def _split_top(text):
    """Splits on commas outside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def parse_label_selector(text):
    """Returns a list of requirements (key, op, values); raises ApiError 400 on bad syntax."""
    reqs = []
    if not text:
        return reqs
    for part in _split_top(text):
        m = re.fullmatch(r"(%s)\s+(in|notin)\s+\(([^)]*)\)" % _KEY, part)
        if m:
            values = {v.strip() for v in m.group(3).split(",") if v.strip()}
            reqs.append((m.group(1), m.group(2), values))
            continue
        m = re.fullmatch(r"(%s)\s*(==|=|!=)\s*(%s)" % (_KEY, _VALUE), part)
        if m:
            op = "!=" if m.group(2) == "!=" else "="
            reqs.append((m.group(1), op, {m.group(3)}))
            continue
        m = re.fullmatch(r"!\s*(%s)" % _KEY, part)
        if m:
            reqs.append((m.group(1), "!", set()))
            continue
        m = re.fullmatch(_KEY, part)
        if m:
            reqs.append((part, "exists", set()))
            continue
        raise bad_request("unable to parse requirement: invalid label selector: %r" % part)
    return reqs


def labels_match(reqs, labels):
    labels = labels or {}
    for key, op, values in reqs:
        has = key in labels
        v = labels.get(key)
        if op == "=" or op == "in":
            if not has or v not in values:
                return False
        elif op == "!=" or op == "notin":
            if has and v in values:
                return False
        elif op == "exists":
            if not has:
                return False
        elif op == "!":
            if has:
                return False
    return True


def parse_field_selector(text):
    """Returns a list of (path list, op, value); raises ApiError 400 on bad syntax."""
    reqs = []
    if not text:
        return reqs
    for part in _split_top(text):
        m = re.fullmatch(r"([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)", part)
        if not m:
            raise bad_request("invalid field selector: %r" % part)
        op = "!=" if m.group(2) == "!=" else "="
        reqs.append((m.group(1).split("."), op, m.group(3)))
    return reqs


def _field_value(obj, path):
    cur = obj
    for p in path:
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(p)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def fields_match(reqs, obj):
    for path, op, value in reqs:
        v = _field_value(obj, path)
        if (op == "=") != (v == value):
            return False
    return True


def selector_to_string(selector):
    """metav1.LabelSelector -> the string form (what Scale.status.selector carries)."""
    if not isinstance(selector, dict):
        return ""
    parts = []
    for k in sorted((selector.get("matchLabels") or {})):
        parts.append("%s=%s" % (k, selector["matchLabels"][k]))
    for expr in selector.get("matchExpressions") or []:
        if not isinstance(expr, dict):
            continue
        key, op = expr.get("key", ""), expr.get("operator", "")
        values = sorted(str(v) for v in (expr.get("values") or []))
        if op == "In":
            parts.append("%s in (%s)" % (key, ",".join(values)))
        elif op == "NotIn":
            parts.append("%s notin (%s)" % (key, ",".join(values)))
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append("!" + key)
    return ",".join(parts)


def selector_matches(selector, labels):
    """metav1.LabelSelector against labels; an empty selector matches everything."""
    return labels_match(parse_label_selector(selector_to_string(selector)), labels)
