"""PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and Kubernetes strategic
merge patch (for built-in types, with the patch merge keys of the fields Governor and kubectl
touch). Every function returns a new document and never modifies its arguments."""

import copy


class PatchError(Exception):
    """The patch cannot be applied; the message says why (HTTP 422 or 400 upstream)."""


# --- RFC 7386 -------------------------------------------------------------------------------


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --- RFC 6902 -------------------------------------------------------------------------------


def _pointer(path):
    if path == "":
        return []
    if not isinstance(path, str) or not path.startswith("/"):
        raise PatchError("invalid JSON pointer %r: must start with '/'" % (path,))
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def _index(container, token, for_add=False):
    if token == "-" and for_add:
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token[0] == "0"):
        raise PatchError("invalid array index %r" % token)
    i = int(token)
    if i > len(container) or (i == len(container) and not for_add):
        raise PatchError("array index %d out of bounds" % i)
    return i


def _parent(doc, tokens, path):
    cur = doc
    for t in tokens[:-1]:
        if isinstance(cur, dict):
            if t not in cur:
                raise PatchError("doc is missing path: %s" % path)
            cur = cur[t]
        elif isinstance(cur, list):
            cur = cur[_index(cur, t)]
        else:
            raise PatchError("doc is missing path: %s" % path)
    return cur


def _get(doc, path):
    tokens = _pointer(path)
    if not tokens:
        return doc
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError("doc is missing path: %s" % path)
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last)]
    raise PatchError("doc is missing path: %s" % path)


def _remove(doc, path):
    tokens = _pointer(path)
    if not tokens:
        raise PatchError("cannot remove the whole document")
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError("unable to remove nonexistent key: %s: missing value" % last)
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last))
    raise PatchError("doc is missing path: %s" % path)


def _add(doc, path, value, replace=False):
    tokens = _pointer(path)
    if not tokens:
        return value
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise PatchError("doc is missing key: %s: missing value" % path)
        parent[last] = value
    elif isinstance(parent, list):
        if replace:
            parent[_index(parent, last)] = value
        else:
            parent.insert(_index(parent, last, for_add=True), value)
    else:
        raise PatchError("doc is missing path: %s" % path)
    return doc


def json_patch(doc, ops):
    if not isinstance(ops, list):
        raise PatchError("a JSON patch must be a list of operations")
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError("each JSON patch operation needs 'op' and 'path': %r" % (op,))
        kind, path = op["op"], op["path"]
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError("operation %s %s has no 'value'" % (kind, path))
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            doc = _add(doc, path, copy.deepcopy(op["value"]), replace=True)
        elif kind == "move":
            value = _remove(doc, op.get("from", ""))
            doc = _add(doc, path, value)
        elif kind == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, op.get("from", ""))))
        elif kind == "test":
            if _get(doc, path) != op["value"]:
                raise PatchError("testing value %s failed" % path)
        else:
            raise PatchError("unexpected kind: %s" % kind)
    return doc


# --- Strategic merge patch ------------------------------------------------------------------

_NAME_KEYED = {"containers", "initContainers", "ephemeralContainers", "volumes", "env",
               "imagePullSecrets", "resourceClaims"}
_CONTAINER_LISTS = {"containers", "initContainers", "ephemeralContainers"}
_OTHER_KEYS = {"volumeMounts": "mountPath", "volumeDevices": "devicePath", "conditions": "type",
               "hostAliases": "ip", "ownerReferences": "uid",
               "topologySpreadConstraints": "topologyKey"}
_PRIMITIVE_MERGE = {"finalizers"}


def _merge_key(ctx, field):
    """The patchMergeKey of `field` under the path `ctx` (field names only), or None (replace)."""
    if field in _NAME_KEYED:
        return "name"
    if field == "ports":
        return "containerPort" if ctx and ctx[-1] in _CONTAINER_LISTS else "port"
    return _OTHER_KEYS.get(field)


def _strip(value):
    """A patch value without directives, as stored when nothing is there to merge with."""
    if isinstance(value, dict):
        if value.get("$patch") == "delete":
            return None
        return {k: _strip(v) for k, v in value.items()
                if not k.startswith("$") and v is not None}
    if isinstance(value, list):
        out = []
        for v in value:
            if isinstance(v, dict) and v.get("$patch") in ("delete", "replace") and len(v) == 1:
                continue
            s = _strip(v)
            if s is not None:
                out.append(s)
        return out
    return value


_DELETE = object()


def _merge_list(orig, patch, key, ctx):
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [_strip(i) for i in patch
                if not (isinstance(i, dict) and i.get("$patch") == "replace")]
    result = list(orig)
    for item in patch:
        if not isinstance(item, dict):
            if item not in result:
                result.append(item)
            continue
        kv = item.get(key)
        idx = next((i for i, o in enumerate(result)
                    if isinstance(o, dict) and o.get(key) == kv), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                result.pop(idx)
            continue
        if idx is None:
            result.append(_strip(item))
        else:
            merged = _merge_map(result[idx], item, ctx)
            if merged is _DELETE:
                result.pop(idx)
            else:
                result[idx] = merged
    return result


def _order(items, order, key):
    def position(item):
        probe = item.get(key) if (key and isinstance(item, dict)) else item
        for i, o in enumerate(order):
            ov = o.get(key) if (key and isinstance(o, dict)) else o
            if ov == probe:
                return i
        return len(order)

    return sorted(items, key=position)  # stable: unlisted items keep their relative order


def _merge_map(orig, patch, ctx):
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip({k: v for k, v in patch.items() if k != "$patch"})
    if directive == "delete":
        return _DELETE
    result = dict(orig)
    orders = {}
    for key, pv in patch.items():
        if key.startswith("$setElementOrder/"):
            orders[key[len("$setElementOrder/"):]] = pv
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key[len("$deleteFromPrimitiveList/"):]
            if isinstance(result.get(field), list) and isinstance(pv, list):
                result[field] = [v for v in result[field] if v not in pv]
            continue
        if key.startswith("$"):
            continue
        if pv is None:
            result.pop(key, None)
        elif isinstance(pv, dict):
            if isinstance(result.get(key), dict):
                merged = _merge_map(result[key], pv, ctx + [key])
            else:
                merged = _strip(pv)
            if merged is _DELETE or merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(pv, list):
            mk = _merge_key(ctx, key)
            if mk and isinstance(result.get(key), list):
                result[key] = _merge_list(result[key], pv, mk, ctx + [key])
            elif key in _PRIMITIVE_MERGE and isinstance(result.get(key), list):
                result[key] = result[key] + [v for v in pv if v not in result[key]]
            else:
                result[key] = _strip(pv)
        else:
            result[key] = pv
    for field, order in orders.items():
        if isinstance(result.get(field), list) and isinstance(order, list):
            result[field] = _order(result[field], order, _merge_key(ctx, field))
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def strategic_merge_patch(target, patch):
    if not isinstance(patch, dict):
        raise PatchError("a strategic merge patch must be a JSON object")
    merged = _merge_map(copy.deepcopy(target) if isinstance(target, dict) else {}, patch, [])
    if merged is _DELETE:
        raise PatchError("a strategic merge patch cannot delete the whole object")
    return merged
