"""Structural OpenAPI v3 schemas of CustomResourceDefinitions: defaulting, pruning and
validation, with kube-apiserver's error texts (apiextensions-apiserver's validation.go turns
kube-openapi errors into field.Errors; these strings copy their shapes).

Supported: type (object, array, string, integer, number, boolean), properties, required,
additionalProperties (bool or schema), items, enum, minimum/maximum (+ exclusive*),
minLength/maxLength, pattern, format date-time, minItems/maxItems, minProperties/maxProperties,
nullable, default, x-kubernetes-preserve-unknown-fields, x-kubernetes-int-or-string,
x-kubernetes-embedded-resource (kept, not checked), oneOf/anyOf/allOf/not (with the same subset).
Not supported: x-kubernetes-validations (CEL rules) are ignored, list-type/map-type uniqueness
is not checked."""

import copy
import json
import re

_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _fmt_number(n):
    if isinstance(n, float) and n.is_integer():
        return str(int(n))
    return str(n)


def fmt_value(v):
    """A value as Go's field.Error prints it after 'Invalid value: '."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return _fmt_number(v)
    if isinstance(v, str):
        return json.dumps(v)
    return json.dumps(v, separators=(",", ":"), sort_keys=True)


def _json_type(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def _type_ok(v, t):
    if t == "integer":
        return (isinstance(v, int) and not isinstance(v, bool)) or (
            isinstance(v, float) and v.is_integer())
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "string":
        return isinstance(v, str)
    if t == "boolean":
        return isinstance(v, bool)
    if t == "array":
        return isinstance(v, list)
    if t == "object":
        return isinstance(v, dict)
    return True


def _child(path, key):
    return key if not path else path + "." + key


# --- Defaulting -----------------------------------------------------------------------------


def apply_defaults(value, schema):
    """Sets `default`s of absent properties, recursively. Mutates `value` (a private copy)."""
    if not isinstance(schema, dict):
        return
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for key, sub in props.items():
            if not isinstance(sub, dict):
                continue
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
            if key in value:
                apply_defaults(value[key], sub)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key, v in value.items():
                if key not in props:
                    apply_defaults(v, extra)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            apply_defaults(item, schema["items"])


# --- Pruning --------------------------------------------------------------------------------


def prune(value, schema, path, removed, root=False):
    """Drops fields the schema does not declare (unless preserve-unknown-fields), appending
    their paths to `removed`. Mutates `value`. At the root apiVersion, kind and metadata stay."""
    if not isinstance(schema, dict):
        return
    preserve = schema.get("x-kubernetes-preserve-unknown-fields") is True
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key in list(value.keys()):
            if root and key in ("apiVersion", "kind", "metadata"):
                continue
            if key in props:
                prune(value[key], props[key], _child(path, key), removed)
            elif isinstance(extra, dict):
                prune(value[key], extra, _child(path, key), removed)
            elif extra is True or preserve:
                continue
            else:
                removed.append(_child(path, key))
                del value[key]
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            prune(item, schema["items"], "%s[%d]" % (path, i), removed)


# --- Validation -----------------------------------------------------------------------------


def validate(value, schema, path, causes, root=False):
    """Appends (reason, field, message) causes for every violation found under `path`."""
    if not isinstance(schema, dict):
        return
    where = path if path else "<root>"
    if value is None:
        if schema.get("nullable") is True or not schema.get("type"):
            return
        t = schema["type"]
        causes.append(("FieldValueTypeInvalid", path,
                       'Invalid value: "null": %s in body must be of type %s: "null"'
                       % (where, t)))
        return

    if schema.get("x-kubernetes-int-or-string") is True:
        if not (isinstance(value, str) or _type_ok(value, "integer")):
            causes.append(("FieldValueTypeInvalid", path,
                           'Invalid value: "%s": %s in body must be of type integer,string: "%s"'
                           % (_json_type(value), where, _json_type(value))))
            return
    elif schema.get("type") and not _type_ok(value, schema["type"]):
        actual = _json_type(value)
        causes.append(("FieldValueTypeInvalid", path,
                       'Invalid value: "%s": %s in body must be of type %s: "%s"'
                       % (actual, where, schema["type"], actual)))
        return

    if "enum" in schema and isinstance(schema["enum"], list) and value not in schema["enum"]:
        supported = ", ".join(fmt_value(e) for e in schema["enum"])
        causes.append(("FieldValueNotSupported", path,
                       "Unsupported value: %s: supported values: %s" % (fmt_value(value),
                                                                       supported)))

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        _validate_number(value, schema, path, where, causes)
    if isinstance(value, str):
        _validate_string(value, schema, path, where, causes)
    if isinstance(value, list):
        _validate_array(value, schema, path, where, causes)
    if isinstance(value, dict):
        _validate_object(value, schema, path, where, causes, root)
    _validate_combinators(value, schema, path, where, causes)


def _validate_number(value, schema, path, where, causes):
    lo, hi = schema.get("minimum"), schema.get("maximum")
    if isinstance(lo, (int, float)):
        if schema.get("exclusiveMinimum") is True and not value > lo:
            causes.append(("FieldValueInvalid", path,
                           "Invalid value: %s: %s in body should be greater than %s"
                           % (fmt_value(value), where, _fmt_number(lo))))
        elif value < lo:
            causes.append(("FieldValueInvalid", path,
                           "Invalid value: %s: %s in body should be greater than or equal to %s"
                           % (fmt_value(value), where, _fmt_number(lo))))
    if isinstance(hi, (int, float)):
        if schema.get("exclusiveMaximum") is True and not value < hi:
            causes.append(("FieldValueInvalid", path,
                           "Invalid value: %s: %s in body should be less than %s"
                           % (fmt_value(value), where, _fmt_number(hi))))
        elif value > hi:
            causes.append(("FieldValueInvalid", path,
                           "Invalid value: %s: %s in body should be less than or equal to %s"
                           % (fmt_value(value), where, _fmt_number(hi))))
    mult = schema.get("multipleOf")
    if isinstance(mult, (int, float)) and mult > 0 and (value / mult) != int(value / mult):
        causes.append(("FieldValueInvalid", path,
                       "Invalid value: %s: %s in body should be a multiple of %s"
                       % (fmt_value(value), where, _fmt_number(mult))))


def _validate_string(value, schema, path, where, causes):
    lo, hi = schema.get("minLength"), schema.get("maxLength")
    if isinstance(lo, int) and len(value) < lo:
        causes.append(("FieldValueInvalid", path,
                       "Invalid value: %s: %s in body should be at least %d chars long"
                       % (fmt_value(value), where, lo)))
    if isinstance(hi, int) and len(value) > hi:
        causes.append(("FieldValueTooLong", path,
                       "Too long: may not be more than %d bytes" % hi))
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        try:
            ok = re.search(pattern, value) is not None
        except re.error:
            ok = True  # A pattern Python cannot compile is not the object's fault.
        if not ok:
            causes.append(("FieldValueInvalid", path,
                           "Invalid value: %s: %s in body should match '%s'"
                           % (fmt_value(value), where, pattern)))
    if schema.get("format") == "date-time" and not _DATE_TIME.match(value):
        causes.append(("FieldValueInvalid", path,
                       'Invalid value: %s: %s in body must be of type date-time: %s'
                       % (fmt_value(value), where, fmt_value(value))))


def _validate_array(value, schema, path, where, causes):
    lo, hi = schema.get("minItems"), schema.get("maxItems")
    if isinstance(lo, int) and len(value) < lo:
        causes.append(("FieldValueInvalid", path,
                       "Invalid value: %d: %s in body should have at least %d items"
                       % (len(value), where, lo)))
    if isinstance(hi, int) and len(value) > hi:
        causes.append(("FieldValueTooMany", path,
                       "Too many: %d: must have at most %d items" % (len(value), hi)))
    items = schema.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(value):
            validate(item, items, "%s[%d]" % (path, i), causes)


def _validate_object(value, schema, path, where, causes, root):
    for key in schema.get("required") or []:
        if key not in value:
            causes.append(("FieldValueRequired", _child(path, key), "Required value"))
    lo, hi = schema.get("minProperties"), schema.get("maxProperties")
    if isinstance(lo, int) and len(value) < lo:
        causes.append(("FieldValueInvalid", path,
                       "Invalid value: %d: %s in body should have at least %d properties"
                       % (len(value), where, lo)))
    if isinstance(hi, int) and len(value) > hi:
        causes.append(("FieldValueTooMany", path,
                       "Too many: %d: must have at most %d items" % (len(value), hi)))
    props = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    for key, v in value.items():
        if root and key in ("apiVersion", "kind", "metadata"):
            continue
        if key in props:
            validate(v, props[key], _child(path, key), causes)
        elif isinstance(extra, dict):
            validate(v, extra, _child(path, key), causes)


def _validate_combinators(value, schema, path, where, causes):
    # Combinators in structural schemas only add constraints (no types); a branch matches when
    # it yields no causes.
    def matches(sub):
        c = []
        validate(value, sub, path, c)
        return not c

    one = schema.get("oneOf")
    if isinstance(one, list) and one:
        n = sum(1 for s in one if matches(s))
        if n != 1:
            causes.append(("FieldValueInvalid", path,
                           'Invalid value: "%s": %s in body must validate one and only one '
                           "schema (oneOf). %s"
                           % (_json_type(value), where,
                              "Found none valid" if n == 0 else "Found %d valid alternatives" % n)))
    anyof = schema.get("anyOf")
    if isinstance(anyof, list) and anyof and not schema.get("x-kubernetes-int-or-string"):
        if not any(matches(s) for s in anyof):
            causes.append(("FieldValueInvalid", path,
                           'Invalid value: "%s": %s in body must validate at least one schema '
                           "(anyOf)" % (_json_type(value), where)))
    allof = schema.get("allOf")
    if isinstance(allof, list):
        for s in allof:
            validate(value, s, path, causes)
    nots = schema.get("not")
    if isinstance(nots, dict) and matches(nots):
        causes.append(("FieldValueInvalid", path,
                       'Invalid value: "%s": %s in body should not validate the schema (not)'
                       % (_json_type(value), where)))
