"""The ARM template function library, and the evaluator that calls it.

Each function is registered with :func:`fn` under its lower-case name with its arity.  Arguments
arrive evaluated, except for the lazy ones (``if``, ``and``, ``or``, ``coalesce``) which receive
the argument nodes.  Unless a function is registered with ``unknown_ok``, an :class:`Unknown` or
:class:`Partial` argument makes the result unknown — with a key made of the call, so that equal
computations stay equal.  Semantics follow Microsoft's template function reference.
"""

from __future__ import annotations

import json
import math
import re

from linter.arm.expr import EvalError, Unsupported, key_of, member, type_name
from linter.arm.limits import MAX_STRING, LimitExceeded, check_int, check_items, check_string_size
from linter.arm.values import Partial, Unknown, canon, contains_unknown, first_unknown, is_secret
from linter.lazyre import LazyRegex

FUNCTIONS: dict = {}


def fn(name, lo=0, hi=None, unknown_ok=False, lazy=False, shape=False):
    """Register a template function.

    By default an argument that is or holds an unknown makes the result unknown.  ``shape``
    functions look only at the structure of their arguments (``length()``, ``first()``, ...) and
    receive arrays and objects that hold unknowns; ``unknown_ok`` functions receive unknowns in
    every position and handle them themselves; ``lazy`` ones receive the argument nodes.
    """
    def deco(impl):
        FUNCTIONS[name.lower()] = (impl, lo, hi, unknown_ok, lazy, name, shape)
        return impl
    return deco


# --- the evaluator: one visitor over the named nodes of linter.arm.expr -------------------------

def walk(node, scope, here=None):
    """Evaluate ``node`` in ``scope``: ``(value, origin)``.

    ``origin`` is where the value was written when the expression only passes a value on
    (``parameters('x')``, ``variables('v').a[0]``, a decided ``if()``), else ``here``.
    """
    scope.deployment.budget.tick()
    return _VISIT[node.kind](node, scope, here)


def evaluate(node, scope):
    return walk(node, scope)[0]


def _visit_lit(node, scope, here):
    return node.value, here


def _visit_call(node, scope, here):
    lname, args = node.lname, node.args
    if lname in ("parameters", "variables") and len(args) == 1 and args[0].kind == "lit" \
            and isinstance(args[0].value, str):
        getter = scope.parameter_with_loc if lname == "parameters" else scope.variable_with_loc
        value, origin = getter(args[0].value)
        return value, origin or here
    if lname == "if" and len(args) == 3:
        cond = evaluate(args[0], scope)
        if isinstance(cond, bool):
            return walk(args[1] if cond else args[2], scope, here)
    value = call(node, scope)
    if isinstance(value, Unknown) and value.text is None:
        value = value.with_text(node.text)
    return value, here


def _visit_get(node, scope, here):
    base, _ = walk(node.base, scope, here)
    value, origin = _member_with_origin(base, node.name, here)
    if isinstance(value, Unknown) and value.text is None:
        value = value.with_text(node.text)
    return value, origin


def _visit_index(node, scope, here):
    base, _ = walk(node.base, scope, here)
    index = evaluate(node.index, scope)
    if isinstance(index, (Unknown, Partial)):
        return Unknown(_why(index), key_of("index", [base, index]) if not isinstance(base, Unknown) else None,
                       text=node.text), here
    if isinstance(index, float) and index.is_integer():
        index = int(index)
    value, origin = _member_with_origin(base, index, here)
    if isinstance(value, Unknown) and value.text is None:
        value = value.with_text(node.text)
    return value, origin


def _member_with_origin(base, key, here):
    value = member(base, key)
    if isinstance(base, dict) and isinstance(key, str):
        from linter.arm.template import loc_of
        from linter.jsonc import ci_key
        return value, loc_of(base, ci_key(base, key)) or here
    if isinstance(base, list):
        from linter.arm.template import loc_of
        return value, loc_of(base, key) or here
    return value, here


class InternalFunctionError(Exception):
    """vmsslint's implementation of a function failed: reported as an internal error at the expression."""

    def __init__(self, fname, exc):
        super().__init__(f"vmsslint's {fname}() failed ({type(exc).__name__}: {exc})")
        self.fname = fname


LAMBDA_FUNCTIONS = {"filter", "map", "mapvalues", "reduce", "sort", "toobject", "groupby"}

_VISIT = {"lit": _visit_lit, "call": _visit_call, "get": _visit_get, "index": _visit_index}


def call(node, scope):
    lname, args, name = node.lname, node.args, node.name
    entry = FUNCTIONS.get(lname)
    if entry is None:
        if "." in lname:
            return scope.user_function(name, [evaluate(a, scope) for a in args])
        if lname.startswith("list"):
            return Unknown(f"{name}() returns secrets or runtime data only known at deployment", None, secret=True)
        raise Unsupported(f"function '{name}' is not known to vmsslint")
    impl, lo, hi, unknown_ok, lazy, canonical, shape = entry
    n = len(args)
    if n < lo or (hi is not None and n > hi):
        if lo == hi:
            want = f"{lo} argument{'s' if lo != 1 else ''}"
        elif hi is None:
            want = f"at least {lo} argument{'s' if lo != 1 else ''}"
        else:
            want = f"{lo} to {hi} arguments"
        raise EvalError(f"{canonical}() takes {want}, not {n}")
    if lazy:
        result = impl(scope, args)
        if isinstance(result, Lambda) and lname != "lambda":
            raise EvalError(f"{canonical}() cannot return a lambda()")
        return result
    vals = [evaluate(a, scope) for a in args]
    if lname not in LAMBDA_FUNCTIONS:
        for v in vals:
            if isinstance(v, Lambda):
                raise EvalError(f"{canonical}() cannot take a lambda(); lambdas are arguments of "
                                f"filter(), map(), reduce(), sort(), toObject(), groupBy() and mapValues()")
    if not unknown_ok:
        for v in vals:
            if isinstance(v, (Unknown, Partial)) or (not shape and contains_unknown(v)):
                return Unknown(_why(v), key_of(canonical, vals), _secret(vals), node.text)
    try:
        result = impl(scope, *vals)
    except (EvalError, Unsupported, LimitExceeded, InternalFunctionError):
        raise
    except RecursionError:
        raise LimitExceeded(f"{canonical}() nests too deeply to evaluate") from None
    except Exception as exc:  # a bug of ours: said as such, never blamed on the template
        raise InternalFunctionError(canonical, exc) from exc
    if isinstance(result, (str, list, dict)):
        n = len(result)
        if n > 64:
            scope.deployment.budget.tick(n >> 6)
        if isinstance(result, str):
            check_string_size(n, canonical)
        else:
            check_items(n, canonical)
    elif isinstance(result, int):
        check_int(result, f"the result of {canonical}()")
    return result


def why_unknown(v) -> str:
    """Why ``v`` (or the first unknown inside it) is not known."""
    if isinstance(v, Unknown):
        return v.why
    if isinstance(v, Partial):
        return v.unknowns()[0].why
    u = first_unknown(v)
    return u.why if u else "unknown"


_why = why_unknown


def _secret(vals):
    return any(is_secret(v) for v in vals)


# --- helpers -------------------------------------------------------------------------------

def _str(v, fname, what="argument"):
    if not isinstance(v, str):
        raise EvalError(f"{fname}() expects a string {what}, got {type_name(v)}")
    return v


def _int(v, fname, what="argument"):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise EvalError(f"{fname}() expects an integer {what}, got {type_name(v)}")
    return int(v)


def _arr(v, fname):
    if not isinstance(v, list):
        raise EvalError(f"{fname}() expects an array, got {type_name(v)}")
    return v


def _check_text_size(vals, fname):
    """Refuse, before building it, a string (or partly known string) beyond the limits."""
    chars = parts = 0
    for v in vals:
        if isinstance(v, str):
            chars += len(v)
        elif isinstance(v, Partial):
            parts += len(v.parts)
            chars += sum(len(p) for p in v.parts if isinstance(p, str))
    check_string_size(chars, fname)
    check_items(parts, fname)


def _check_len(s):
    if isinstance(s, (str, list)) and len(s) > MAX_STRING:
        raise EvalError(f"result of {len(s)} items exceeds vmsslint's limit of {MAX_STRING}")
    return s


def to_text(v) -> str:
    """``string()`` as ARM does it (JSON.NET: booleans are True/False, objects compact JSON)."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "True" if v else "False"
    if v is None:
        return ""
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, (Unknown, Partial)):
        return v
    if contains_unknown(v):
        u = first_unknown(v)
        return Unknown(u.why, None, is_secret(v))
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def deep_equal(a, b) -> bool | None:
    """Equality as ``equals()``; None when an unknown makes it undecidable."""
    ca, cb = canon(a), canon(b)
    if ca is None or cb is None:
        return None
    if isinstance(a, (Unknown, Partial)) or isinstance(b, (Unknown, Partial)):
        # equal computations are equal; different ones may still produce equal values
        return True if ca == cb else None
    if type(a) is bool or type(b) is bool:
        return type(a) is type(b) and a == b
    return a == b


# --- deployment-scope functions --------------------------------------------------------------

@fn("parameters", 1, 1)
def _parameters(scope, name):
    return scope.parameter(_str(name, "parameters", "parameter name"))


@fn("variables", 1, 1)
def _variables(scope, name):
    return scope.variable(_str(name, "variables", "variable name"))


@fn("copyIndex", 0, 2)
def _copy_index(scope, *args):
    loop = None
    offset = 0
    for a in args:
        if isinstance(a, str):
            loop = a
        else:
            offset = _int(a, "copyIndex", "offset")
    idx = scope.copy_index(loop)
    if isinstance(idx, Unknown):
        return idx
    return idx + offset


@fn("lambdaVariables", 1, 1)
def _lambda_variables(scope, name):
    name = _str(name, "lambdaVariables")
    for frame in reversed(scope.lambda_frames):
        if name in frame:
            return frame[name]
    raise EvalError(f"lambdaVariables('{name}') is used outside a lambda that declares it")


@fn("lambda", 1, None, lazy=True)
def _lambda(scope, args):
    names = []
    for a in args[:-1]:
        if a.kind != "lit" or not isinstance(a.value, str):
            raise EvalError("lambda() parameter names must be string literals")
        names.append(a.value)
    return Lambda(names, args[-1])


class Lambda:
    __slots__ = ("names", "body")

    def __init__(self, names, body):
        self.names, self.body = names, body

    def __call__(self, scope, *values, index=None):
        if index is not None and len(self.names) == len(values) + 1:
            values = values + (index,)  # the optional index parameter: lambda('item', 'i', ...)
        if len(values) != len(self.names):
            raise EvalError(f"lambda expects {len(self.names)} arguments, got {len(values)}")
        scope.lambda_frames.append(dict(zip(self.names, values)))
        try:
            return evaluate(self.body, scope)
        finally:
            scope.lambda_frames.pop()


def _lam(v, fname):
    if not isinstance(v, Lambda):
        raise EvalError(f"{fname}() expects a lambda() argument")
    return v


@fn("resourceGroup", 0, 0)
def _resource_group(scope):
    return scope.resource_group()


@fn("subscription", 0, 0)
def _subscription(scope):
    return scope.subscription()


@fn("tenant", 0, 0)
def _tenant(scope):
    return scope.tenant()


@fn("managementGroup", 0, 1)
def _management_group(scope, *a):
    return Unknown("the management group is known only at deployment", "managementGroup()")


@fn("deployment", 0, 0)
def _deployment(scope):
    return scope.deployment_info()


@fn("environment", 0, 0)
def _environment(scope):
    return Unknown("environment() depends on the Azure cloud the template is deployed to", "environment()")


@fn("reference", 1, 3, unknown_ok=True)
def _reference(scope, target, *rest):
    return scope.reference(target, rest)


@fn("references", 1, 2)
def _references(scope, *a):
    return Unknown("references() reads the runtime state of a resource collection at deployment",
                   key_of("references", a))


@fn("deployer", 0, 0)
def _deployer(scope):
    why = "deployer() is the identity that runs the deployment, known only at deployment"
    return {"objectId": Unknown(why, "deployer().objectId"), "tenantId": Unknown(why, "deployer().tenantId"),
            "userPrincipalName": Unknown(why, "deployer().userPrincipalName")}


@fn("providers", 1, 2)
def _providers(scope, *a):
    return Unknown("providers() reads the subscription's resource providers at deployment", key_of("providers", a))


@fn("pickZones", 3, 5)
def _pick_zones(scope, *a):
    return Unknown("pickZones() depends on the zones of the region at deployment", key_of("pickZones", a))


@fn("newGuid", 0, 0)
def _new_guid(scope):
    return Unknown("newGuid() is a new value at every deployment")


@fn("utcNow", 0, 1)
def _utc_now(scope, *a):
    return Unknown("utcNow() is the time of the deployment")


@fn("uniqueString", 1, None, unknown_ok=True)
def _unique_string(scope, *vals):
    for v in vals:
        if not isinstance(v, (str, Partial, Unknown)):
            raise EvalError(f"uniqueString() expects strings, got {type_name(v)}")
    if all(isinstance(v, str) for v in vals):
        from linter.arm.hashing import unique_string
        return unique_string(*vals)
    return Unknown("uniqueString() hashes a value known only at deployment (give --subscription-id and "
                   "--resource-group when it hashes resourceGroup().id)", key_of("uniqueString", vals))


@fn("guid", 1, None, unknown_ok=True)
def _guid(scope, *vals):
    for v in vals:
        if not isinstance(v, (str, Partial, Unknown)):
            raise EvalError(f"guid() expects strings, got {type_name(v)}")
    # Microsoft documents the algorithm (a version 5 UUID) but no value to confirm an implementation
    # against: kept symbolic — equal arguments give equal results.
    return Unknown("guid() is a hash vmsslint does not compute", key_of("guid", vals))


# --- resource ids ---------------------------------------------------------------------------

def _split_type_args(vals, fname, scope_args_max):
    """Find the resource type among ``vals``: (scope args, type, names)."""
    for i, v in enumerate(vals):
        if isinstance(v, str) and "/" in v and i <= scope_args_max:
            rtype = v
            names = vals[i + 1:]
            segments = rtype.strip("/").split("/")
            if len(segments) < 2:
                raise EvalError(f"{fname}(): '{rtype}' is not a resource type")
            return vals[:i], segments, names
    raise EvalError(f"{fname}() needs a resource type such as 'Microsoft.Network/loadBalancers'")


def _provider_path(segments, names, fname):
    types = segments[1:]
    flat = []
    for n in names:
        if isinstance(n, str) and "/" in n:
            flat.extend(n.split("/"))
        else:
            flat.append(n)
    if len(flat) != len(types):
        raise EvalError(f"{fname}(): type '{'/'.join(segments)}' needs {len(types)} name(s), got {len(flat)}")
    pieces = ["/providers/", segments[0]]
    for t, n in zip(types, flat):
        if not isinstance(n, (str, Partial, Unknown)):
            n = to_text(n)
        pieces += ["/", t, "/", n]
    return pieces


@fn("resourceId", 2, None, unknown_ok=True)
def _resource_id(scope, *vals):
    head, segments, names = _split_type_args(vals, "resourceId", 2)
    sub = head[0] if len(head) == 2 else scope.subscription_id()
    rg = head[-1] if head else scope.resource_group_name()
    return Partial.join(["/subscriptions/", sub, "/resourceGroups/", rg] + _provider_path(segments, names, "resourceId"))


@fn("subscriptionResourceId", 2, None, unknown_ok=True)
def _subscription_resource_id(scope, *vals):
    head, segments, names = _split_type_args(vals, "subscriptionResourceId", 1)
    sub = head[0] if head else scope.subscription_id()
    return Partial.join(["/subscriptions/", sub] + _provider_path(segments, names, "subscriptionResourceId"))


@fn("tenantResourceId", 2, None, unknown_ok=True)
def _tenant_resource_id(scope, *vals):
    head, segments, names = _split_type_args(vals, "tenantResourceId", 0)
    return Partial.join(_provider_path(segments, names, "tenantResourceId"))


@fn("managementGroupResourceId", 2, None, unknown_ok=True)
def _mg_resource_id(scope, *vals):
    head, segments, names = _split_type_args(vals, "managementGroupResourceId", 1)
    mg = head[0] if head else Unknown("the management group is known only at deployment", "managementGroup().name")
    return Partial.join(["/providers/Microsoft.Management/managementGroups/", mg]
                        + _provider_path(segments, names, "managementGroupResourceId"))


@fn("extensionResourceId", 3, None, unknown_ok=True)
def _extension_resource_id(scope, base, rtype, *names):
    if not isinstance(rtype, str):
        return Unknown(_why(rtype), key_of("extensionResourceId", [base, rtype, *names]))
    segments = rtype.strip("/").split("/")
    return Partial.join([base] + _provider_path(segments, list(names), "extensionResourceId"))


# --- logical and comparison -------------------------------------------------------------------

def _truth(v, fname):
    if isinstance(v, bool):
        return v
    raise EvalError(f"{fname}() expects a boolean, got {type_name(v)}")


@fn("if", 3, 3, lazy=True)
def _if(scope, args):
    cond = evaluate(args[0], scope)
    if isinstance(cond, (Unknown, Partial)):
        a, b = evaluate(args[1], scope), evaluate(args[2], scope)
        if deep_equal(a, b) is True:
            return a
        return Unknown(_why(cond), key_of("if", [cond, a, b]), _secret([a, b]))
    return evaluate(args[1] if _truth(cond, "if") else args[2], scope)


def _short_circuit(scope, args, fname, decisive: bool):
    """and()/or(): the first decisive value wins even after an unknown; else unknown if one was met."""
    unknown = None
    for a in args:
        v = evaluate(a, scope)
        if isinstance(v, (Unknown, Partial)):
            unknown = unknown or v
            continue
        if _truth(v, fname) is decisive:
            return decisive
    return (not decisive) if unknown is None else Unknown(_why(unknown))


@fn("and", 1, None, lazy=True)
def _and(scope, args):
    return _short_circuit(scope, args, "and", False)


@fn("or", 1, None, lazy=True)
def _or(scope, args):
    return _short_circuit(scope, args, "or", True)


@fn("not", 1, 1)
def _not(scope, v):
    return not _truth(v, "not")


@fn("coalesce", 1, None, lazy=True)
def _coalesce(scope, args):
    for a in args:
        v = evaluate(a, scope)
        if isinstance(v, Unknown):
            return Unknown(v.why, None, v.secret)
        if v is not None:
            return v
    return None


@fn("bool", 1, 1)
def _bool(scope, v):
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    if isinstance(v, int):
        return v != 0
    raise EvalError(f"bool() cannot convert {v!r}")


@fn("true", 0, 0)
def _true(scope):
    return True


@fn("false", 0, 0)
def _false(scope):
    return False


@fn("null", 0, 0)
def _null(scope):
    return None


@fn("equals", 2, 2, unknown_ok=True)
def _equals(scope, a, b):
    r = deep_equal(a, b)
    if r is None:
        return Unknown(_why(a if isinstance(a, (Unknown, Partial)) else b), key_of("equals", [a, b]))
    return r


def _compare(a, b, fname):
    if isinstance(a, bool) or isinstance(b, bool):
        raise EvalError(f"{fname}() compares integers or strings")
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return (a > b) - (a < b)
    if isinstance(a, str) and isinstance(b, str):
        ka, kb = _culture_key(a), _culture_key(b)
        return (ka > kb) - (ka < kb)
    raise EvalError(f"{fname}() compares two integers or two strings, got {type_name(a)} and {type_name(b)}")


def _culture_key(text: str):
    """Order of strings as Azure compares them (culture-aware, as the documentation's examples show:
    letters alphabetically whatever their case, then lower case before upper case —
    ``greater('A', 'a')`` is true), not by code point."""
    return (text.casefold(), tuple(c.isupper() for c in text))


@fn("less", 2, 2)
def _less(scope, a, b):
    return _compare(a, b, "less") < 0


@fn("lessOrEquals", 2, 2)
def _less_eq(scope, a, b):
    return _compare(a, b, "lessOrEquals") <= 0


@fn("greater", 2, 2)
def _greater(scope, a, b):
    return _compare(a, b, "greater") > 0


@fn("greaterOrEquals", 2, 2)
def _greater_eq(scope, a, b):
    return _compare(a, b, "greaterOrEquals") >= 0


# --- numbers ----------------------------------------------------------------------------------

@fn("add", 2, 2)
def _add(scope, a, b):
    return _int(a, "add") + _int(b, "add")


@fn("sub", 2, 2)
def _sub(scope, a, b):
    return _int(a, "sub") - _int(b, "sub")


@fn("mul", 2, 2)
def _mul(scope, a, b):
    return _int(a, "mul") * _int(b, "mul")


@fn("div", 2, 2)
def _div(scope, a, b):
    a, b = _int(a, "div"), _int(b, "div")
    if b == 0:
        raise EvalError("div() by zero")
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q  # .NET truncates toward zero


@fn("mod", 2, 2)
def _mod(scope, a, b):
    a, b = _int(a, "mod"), _int(b, "mod")
    if b == 0:
        raise EvalError("mod() by zero")
    return int(math.fmod(a, b))  # the sign of the dividend, as .NET's %


def _min_max(vals, fname, pick):
    items = vals[0] if len(vals) == 1 and isinstance(vals[0], list) else list(vals)
    if not items:
        raise EvalError(f"{fname}() of an empty array")
    return pick(_int(v, fname) for v in items)


@fn("min", 1, None)
def _min(scope, *vals):
    return _min_max(vals, "min", min)


@fn("max", 1, None)
def _max(scope, *vals):
    return _min_max(vals, "max", max)


@fn("int", 1, 1)
def _to_int(scope, v):
    if isinstance(v, bool):
        raise EvalError("int() cannot convert a boolean")
    if isinstance(v, float) and (math.isinf(v) or math.isnan(v)):
        raise EvalError(f"int() cannot convert {v!r}")
    if isinstance(v, (int, float)):
        return check_int(int(v), "int()'s result")
    if isinstance(v, str):
        text = v.strip()
        if len(text.lstrip("+-")) > 19:
            raise EvalError(f"int(): '{text[:24]}...' does not fit in a 64-bit integer")
        try:
            return check_int(int(text), "int()'s result")
        except ValueError:
            raise EvalError(f"int() cannot convert '{v}'") from None
    raise EvalError(f"int() cannot convert a {type_name(v)}")


@fn("float", 1, 1)
def _to_float(scope, v):
    try:
        return float(v)
    except (TypeError, ValueError):
        raise EvalError(f"float() cannot convert {v!r}") from None


@fn("range", 2, 2)
def _range(scope, start, count):
    start, count = _int(start, "range"), _int(count, "range")
    if count < 0 or count > 10000:
        raise EvalError(f"range() count must be between 0 and 10000, got {count}")
    return list(range(start, start + count))


# --- strings ----------------------------------------------------------------------------------

@fn("concat", 0, None, unknown_ok=True)
def _concat(scope, *vals):
    if vals and isinstance(vals[0], list):
        check_items(sum(len(v) for v in vals if isinstance(v, list)), "concat")
        out = []
        for v in vals:
            if isinstance(v, Unknown):
                return Unknown(v.why, key_of("concat", vals), v.secret)
            if v is None:
                continue
            out.extend(_arr(v, "concat"))
        return _check_len(out)
    _check_text_size(vals, "concat")
    pieces = []
    for v in vals:
        if isinstance(v, list):
            raise EvalError("concat() mixes arrays and strings")
        if isinstance(v, Unknown) and v.secret:
            return Unknown(v.why, key_of("concat", vals), True)
        pieces.append(v if isinstance(v, (str, Partial, Unknown)) else to_text(v))
    return _check_len(Partial.join(pieces))


@fn("format", 1, None, unknown_ok=True)
def _format(scope, fmt, *vals):
    if not isinstance(fmt, str):
        return Unknown(_why(fmt), key_of("format", [fmt, *vals]))
    pieces = []
    pos = 0
    for m in re.finditer(r"\{\{|\}\}|\{(\d+)(?:,(-?\d+))?(?::([^}]*))?\}", fmt):
        pieces.append(fmt[pos:m.start()])
        pos = m.end()
        tok = m.group(0)
        if tok == "{{":
            pieces.append("{")
        elif tok == "}}":
            pieces.append("}")
        else:
            i = int(m.group(1))
            if i >= len(vals):
                raise EvalError(f"format(): placeholder {{{i}}} has no argument")
            v = vals[i]
            if isinstance(v, (Unknown, Partial)):
                pieces.append(v)
                continue
            text = _dotnet_format(v, m.group(3))
            if m.group(2):
                if len(m.group(2)) > 9:
                    raise LimitExceeded("format(): the field width is beyond vmsslint's limits")
                w = int(m.group(2))
                check_string_size(abs(w), "format")
                text = text.rjust(w) if w > 0 else text.ljust(-w)
            pieces.append(text)
    pieces.append(fmt[pos:])
    return Partial.join(pieces)


def _dotnet_format(v, spec):
    if not spec:
        return to_text(v)
    kind, digits = spec[0].upper(), spec[1:]
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if kind == "D":
            return str(int(v)).zfill(int(digits or 0))
        if kind == "N":
            return f"{v:,.{int(digits) if digits else 2}f}"
        if kind == "F":
            return f"{v:.{int(digits) if digits else 2}f}"
        if kind == "X":
            return format(int(v), f"0{int(digits or 0)}{'X' if spec[0] == 'X' else 'x'}")
        if kind == "P":
            return f"{v * 100:,.{int(digits) if digits else 2}f} %"
        if set(spec) <= {"0", "#", ","}:
            return str(int(v)).zfill(spec.count("0"))
    raise Unsupported(f"format(): the format specifier '{spec}' is not supported by vmsslint")


@fn("string", 1, 1, shape=True)
def _string(scope, v):
    return to_text(v)


def _case(v, fname, convert):
    if isinstance(v, Partial):
        return v.map_text(convert, fname)
    if isinstance(v, Unknown):
        return Unknown(v.why, key_of(fname, [v]), v.secret)
    return convert(_str(v, fname))


def _invariant(convert):
    """.NET's ToLowerInvariant/ToUpperInvariant: one character for one ('ß' stays 'ß')."""
    def each(text):
        out = convert(text)
        if len(out) == len(text):
            return out
        return "".join(c if len(convert(c)) != 1 else convert(c) for c in text)
    return each


_LOWER, _UPPER = _invariant(str.lower), _invariant(str.upper)


@fn("toLower", 1, 1, unknown_ok=True)
def _to_lower(scope, v):
    return _case(v, "toLower", _LOWER)


@fn("toUpper", 1, 1, unknown_ok=True)
def _to_upper(scope, v):
    return _case(v, "toUpper", _UPPER)


@fn("trim", 1, 1)
def _trim(scope, v):
    return _str(v, "trim").strip()


@fn("padLeft", 2, 3)
def _pad_left(scope, v, width, ch=" "):
    text = to_text(v) if isinstance(v, (int, str)) else _str(v, "padLeft")
    ch = _str(ch, "padLeft", "padding character")
    if len(ch) != 1:
        raise EvalError("padLeft() padding must be one character")
    width = _int(width, "padLeft")
    if width > 16384:
        raise EvalError("padLeft() total length is at most 16384")
    return text.rjust(width, ch)


@fn("replace", 3, 3)
def _replace(scope, s, old, new):
    s, old, new = _str(s, "replace"), _str(old, "replace"), _str(new, "replace")
    if not old:
        raise EvalError("replace(): the old string cannot be empty")
    check_string_size(len(s) + s.count(old) * max(0, len(new) - len(old)), "replace")
    return s.replace(old, new)


@fn("split", 2, 2)
def _split(scope, s, delim):
    s = _str(s, "split")
    delims = delim if isinstance(delim, list) else [delim]
    delims = [_str(d, "split", "delimiter") for d in delims]
    if len(delims) == 1:
        return s.split(delims[0])
    return re.split("|".join(re.escape(d) for d in delims), s)


@fn("substring", 1, 3, unknown_ok=True)
def _substring(scope, s, start=0, length=None):
    for v in (start, length):
        if isinstance(v, (Unknown, Partial)) or contains_unknown(v):
            return Unknown(_why(v), key_of("substring", [s, start, length]))
    if isinstance(s, Unknown):
        return Unknown(s.why, key_of("substring", [s, start, length]), s.secret)
    if isinstance(s, Partial):  # known when the known start of the string covers the range
        prefix = s.known_prefix()
        st = _int(start, "substring", "start index")
        if length is not None and 0 <= st and st + _int(length, "substring", "length") <= len(prefix):
            return prefix[st:st + _int(length, "substring", "length")]
        if st <= len(prefix) and st >= 0:
            return Partial.join([prefix[st:]] + list(s.parts[1:] if prefix else s.parts)) if length is None \
                else Unknown(s.unknowns()[0].why, key_of("substring", [s, start, length]), is_secret(s))
        return Unknown(s.unknowns()[0].why, key_of("substring", [s, start, length]), is_secret(s))
    s = _str(s, "substring")
    start = _int(start, "substring", "start index")
    if start < 0 or start > len(s):
        raise EvalError(f"substring(): start index {start} is outside the string of length {len(s)}")
    if length is None:
        return s[start:]
    length = _int(length, "substring", "length")
    if length < 0 or start + length > len(s):
        raise EvalError(f"substring(): length {length} from {start} runs past the string of length {len(s)}")
    return s[start:start + length]


def _affix(s, affix, fname, at_start: bool):
    """startsWith()/endsWith(), case-insensitive; a Partial answers when its known end is long enough."""
    if isinstance(s, Partial) and isinstance(affix, str):
        known = s.known_prefix() if at_start else s.known_suffix()
        if len(known) >= len(affix):
            s = known
    if isinstance(s, (Unknown, Partial)) or isinstance(affix, (Unknown, Partial)):
        return Unknown(_why(s if isinstance(s, (Unknown, Partial)) else affix), key_of(fname, [s, affix]))
    text, part = _str(s, fname).lower(), _str(affix, fname).lower()
    return text.startswith(part) if at_start else text.endswith(part)


@fn("startsWith", 2, 2, unknown_ok=True)
def _starts_with(scope, s, prefix):
    return _affix(s, prefix, "startsWith", True)


@fn("endsWith", 2, 2, unknown_ok=True)
def _ends_with(scope, s, suffix):
    return _affix(s, suffix, "endsWith", False)


@fn("indexOf", 2, 2, shape=True)
def _index_of(scope, s, item):
    if isinstance(s, list):
        for i, v in enumerate(s):
            same = deep_equal(v, item)
            if same is None:
                return Unknown(_why(v if contains_unknown(v) else item), key_of("indexOf", [s, item]))
            if same:
                return i
        return -1
    return _str(s, "indexOf").lower().find(_str(item, "indexOf").lower())


@fn("lastIndexOf", 2, 2, shape=True)
def _last_index_of(scope, s, item):
    if isinstance(s, list):
        for i in range(len(s) - 1, -1, -1):
            same = deep_equal(s[i], item)
            if same is None:
                return Unknown(_why(s[i] if contains_unknown(s[i]) else item), key_of("lastIndexOf", [s, item]))
            if same:
                return i
        return -1
    return _str(s, "lastIndexOf").lower().rfind(_str(item, "lastIndexOf").lower())


@fn("base64", 1, 1)
def _base64(scope, s):
    import base64
    return base64.b64encode(_str(s, "base64").encode("utf-8")).decode("ascii")


@fn("base64ToString", 1, 1)
def _base64_to_string(scope, s):
    try:
        import base64
        return base64.b64decode(_str(s, "base64ToString"), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise EvalError("base64ToString(): the value is not base64-encoded UTF-8") from None


@fn("base64ToJson", 1, 1)
def _base64_to_json(scope, s):
    return _json(scope, _base64_to_string(scope, s))


@fn("dataUri", 1, 1)
def _data_uri(scope, s):
    return "data:text/plain;charset=utf8;base64," + _base64(scope, to_text(s))


@fn("dataUriToString", 1, 1)
def _data_uri_to_string(scope, s):
    s = _str(s, "dataUriToString")
    head, _, body = s.partition(",")
    if not head.startswith("data:"):
        raise EvalError("dataUriToString(): not a data URI")
    if head.endswith(";base64"):
        return _base64_to_string(scope, body)
    from urllib.parse import unquote
    return unquote(body)


@fn("uri", 2, 2)
def _uri(scope, base, rel):
    from urllib.parse import urljoin
    return urljoin(_str(base, "uri"), _str(rel, "uri"))


@fn("uriComponent", 1, 1)
def _uri_component(scope, s):
    from urllib.parse import quote
    return quote(_str(s, "uriComponent"), safe="-_.~")


@fn("uriComponentToString", 1, 1)
def _uri_component_to_string(scope, s):
    from urllib.parse import unquote
    return unquote(_str(s, "uriComponentToString"))


@fn("json", 1, 1)
def _json(scope, s):
    s = _str(s, "json")
    from linter.jsonc import JSONSyntaxError
    from linter.jsonc import parse as parse_jsonc
    from linter.source import SourceFile
    try:
        value, _ = parse_jsonc(SourceFile("<json()>", s))
    except JSONSyntaxError as exc:
        relaxed = _single_quotes_to_double(s)
        if relaxed is None:
            raise EvalError(f"json(): the string is not valid JSON: {exc.message}") from None
        try:  # Azure's JSON reader (JSON.NET) also takes single-quoted strings
            value, _ = parse_jsonc(SourceFile("<json()>", relaxed))
        except JSONSyntaxError:
            raise EvalError(f"json(): the string is not valid JSON: {exc.message}") from None
    return value


def _single_quotes_to_double(text: str):
    """``{'one': 'a'}`` as ``{"one": "a"}``; None when there is no single-quoted string to convert."""
    if "'" not in text:
        return None
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif c == "'":
            j = i + 1
            buf = []
            while j < n and text[j] != "'":
                if text[j] == "\\" and j + 1 < n:
                    buf.append(text[j:j + 2] if text[j + 1] != "'" else "'")
                    j += 2
                    continue
                buf.append('\\"' if text[j] == '"' else text[j])
                j += 1
            out.append('"' + "".join(buf) + '"')
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


# --- arrays and objects -----------------------------------------------------------------------

@fn("createArray", 0, None, unknown_ok=True)
def _create_array(scope, *vals):
    return list(vals)


@fn("array", 1, 1, unknown_ok=True)
def _array(scope, v):
    return v if isinstance(v, list) else [v]


@fn("createObject", 0, None, unknown_ok=True)
def _create_object(scope, *vals):
    if len(vals) % 2:
        raise EvalError("createObject() takes key/value pairs: an even number of arguments")
    out = {}
    for k, v in zip(vals[::2], vals[1::2]):
        if isinstance(k, (Unknown, Partial)):
            return Unknown(_why(k), key_of("createObject", vals))
        out[_str(k, "createObject", "key")] = v
    return out


@fn("length", 1, 1, shape=True)
def _length(scope, v):
    if isinstance(v, str):  # .NET strings count UTF-16 code units: '😀' is 2
        return len(v) + sum(1 for c in v if ord(c) > 0xFFFF)
    if isinstance(v, (list, dict)):
        return len(v)
    raise EvalError(f"length() of a {type_name(v)}")


@fn("empty", 1, 1, shape=True)
def _empty(scope, v):
    return v is None or (isinstance(v, (str, list, dict)) and len(v) == 0)


def _any_equal(items, item, fname):
    undecided = None
    for v in items:
        same = deep_equal(v, item)
        if same:
            return True
        if same is None:
            undecided = v if contains_unknown(v) else item
    if undecided is not None:
        return Unknown(_why(undecided), key_of(fname, [items, item]))
    return False


@fn("contains", 2, 2, shape=True)
def _contains(scope, container, item):
    if isinstance(container, list):
        return _any_equal(container, item, "contains")
    text = to_text(item)
    if not isinstance(text, str):
        return Unknown(_why(text), key_of("contains", [container, item]))
    if isinstance(container, str):
        return text in container
    if isinstance(container, dict):
        low = text.lower()
        return any(k.lower() == low for k in container)
    raise EvalError(f"contains() looks into a string, array or object, not a {type_name(container)}")


@fn("first", 1, 1, shape=True)
def _first(scope, v):
    if isinstance(v, (str, list)):
        return v[0] if v else ("" if isinstance(v, str) else None)
    raise EvalError(f"first() of a {type_name(v)}")


@fn("last", 1, 1, shape=True)
def _last(scope, v):
    if isinstance(v, (str, list)):
        return v[-1] if v else ("" if isinstance(v, str) else None)
    raise EvalError(f"last() of a {type_name(v)}")


@fn("take", 2, 2, unknown_ok=True)
def _take(scope, v, n):
    if isinstance(n, (Unknown, Partial)) or isinstance(v, Unknown):
        u = n if isinstance(n, (Unknown, Partial)) else v
        return Unknown(_why(u), key_of("take", [v, n]), is_secret(v))
    n = max(0, _int(n, "take"))
    if isinstance(v, Partial):
        prefix = v.known_prefix()
        if n <= len(prefix):
            return prefix[:n]
        return Unknown(v.unknowns()[0].why, key_of("take", [v, n]), is_secret(v))
    if isinstance(v, (str, list)):
        return v[:n]
    raise EvalError(f"take() of a {type_name(v)}")


@fn("skip", 2, 2, shape=True)
def _skip(scope, v, n):
    n = max(0, _int(n, "skip"))
    if isinstance(v, (str, list)):
        return v[n:]
    raise EvalError(f"skip() of a {type_name(v)}")


def _from_end(arr, index, fname):
    arr = _arr(arr, fname)
    index = _int(index, fname, "index")
    if index < 1 or index > len(arr):
        return None
    return arr[len(arr) - index]


@fn("indexFromEnd", 2, 2, shape=True)
def _index_from_end(scope, arr, index):
    value = _from_end(arr, index, "indexFromEnd")
    if value is None and not (1 <= _int(index, "indexFromEnd") <= len(arr)):
        raise EvalError(f"indexFromEnd(): index {index} is outside the array of {len(arr)} items (1 is the last)")
    return value


@fn("tryIndexFromEnd", 2, 2, shape=True)
def _try_index_from_end(scope, arr, index):
    return _from_end(arr, index, "tryIndexFromEnd")


@fn("join", 2, 2, shape=True)
def _join(scope, arr, delim):
    delim = _str(delim, "join", "delimiter")
    pieces = []
    for i, v in enumerate(_arr(arr, "join")):
        if i:
            pieces.append(delim)
        pieces.append(to_text(v))
    return Partial.join(pieces)


def _merge_deep(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        existing = next((ek for ek in out if ek.lower() == k.lower()), None)
        if existing is not None and isinstance(out[existing], dict) and isinstance(v, dict):
            out[existing] = _merge_deep(out[existing], v)
        else:
            if existing is not None:
                del out[existing]
            out[k] = v
    return out


def _dedup_key(item):
    """A key for set operations; None when an unknown makes equality undecidable."""
    if contains_unknown(item):
        c = canon(item)
        return None if c is None else ("u", c)
    try:
        return ("k", json.dumps(item, sort_keys=True, separators=(",", ":"), default=str)
                if not isinstance(item, bool) else f"b{item}")
    except (TypeError, ValueError, RecursionError):
        return None


def _same_kind(vals, fname):
    if all(isinstance(v, dict) for v in vals):
        return dict
    if all(isinstance(v, list) for v in vals):
        return list
    raise EvalError(f"{fname}() takes all arrays or all objects, got "
                    f"{', '.join(type_name(v) for v in vals)}")


@fn("union", 1, None, shape=True)
def _union(scope, *vals):
    if _same_kind(vals, "union") is dict:
        out: dict = {}
        for v in vals:
            out = _merge_deep(out, v)
        return out
    out_list: list = []
    keys = set()
    for v in vals:
        for item in v:
            k = _dedup_key(item)
            if k is None:
                return Unknown(_why(item), key_of("union", vals))
            if k not in keys:
                keys.add(k)
                out_list.append(item)
        check_items(len(out_list), "union")
    return out_list


@fn("intersection", 2, None, shape=True)
def _intersection(scope, *vals):
    if _same_kind(vals, "intersection") is dict:
        out = dict(vals[0])
        for v in vals[1:]:
            kept = {}
            for k, x in out.items():
                if k in v:
                    same = deep_equal(v[k], x)
                    if same is None:
                        return Unknown(_why(x if contains_unknown(x) else v[k]), key_of("intersection", vals))
                    if same:
                        kept[k] = x
            out = kept
        return out
    others = []
    for v in vals[1:]:
        ks = set()
        for item in v:
            k = _dedup_key(item)
            if k is None:
                return Unknown(_why(item), key_of("intersection", vals))
            ks.add(k)
        others.append(ks)
    out = []
    seen = set()
    for item in vals[0]:
        k = _dedup_key(item)
        if k is None:
            return Unknown(_why(item), key_of("intersection", vals))
        if k not in seen and all(k in o for o in others):
            seen.add(k)
            out.append(item)
    return out


@fn("shallowMerge", 1, 1, shape=True)
def _shallow_merge(scope, arr):
    out: dict = {}
    for v in _arr(arr, "shallowMerge"):
        if isinstance(v, Unknown):
            return Unknown(v.why)
        if not isinstance(v, dict):
            raise EvalError("shallowMerge() takes an array of objects")
        out.update(v)
    return out


@fn("flatten", 1, 1, shape=True)
def _flatten(scope, arr):
    out = []
    for v in _arr(arr, "flatten"):
        out.extend(_arr(v, "flatten"))
    return out


@fn("objectKeys", 1, 1, shape=True)
def _object_keys(scope, obj):
    if not isinstance(obj, dict):
        raise EvalError("objectKeys() of a non-object")
    return list(obj.keys())


@fn("items", 1, 1, shape=True)
def _items(scope, obj):
    if not isinstance(obj, dict):
        raise EvalError("items() of a non-object")
    return [{"key": k, "value": obj[k]} for k in sorted(obj, key=str.lower)]


@fn("tryGet", 2, None, shape=True)
def _try_get(scope, v, *keys):
    for k in keys:
        if isinstance(v, dict) and isinstance(k, str):
            low = k.lower()
            found = next((ek for ek in v if ek.lower() == low), None)
            if found is None:
                return None
            v = v[found]
        elif isinstance(v, list) and isinstance(k, int) and not isinstance(k, bool):
            if not 0 <= k < len(v):
                return None
            v = v[k]
        elif isinstance(v, Unknown):
            return v.member(k)
        else:
            return None
    return v


@fn("filter", 2, 2, shape=True)
def _filter(scope, arr, lam):
    lam = _lam(lam, "filter")
    out = []
    for i, v in enumerate(_arr(arr, "filter")):
        keep = lam(scope, v, index=i)
        if isinstance(keep, (Unknown, Partial)):
            return Unknown(_why(keep))
        if keep is True:
            out.append(v)
    return out


@fn("map", 2, 2, shape=True)
def _map(scope, arr, lam):
    lam = _lam(lam, "map")
    return [lam(scope, v, index=i) for i, v in enumerate(_arr(arr, "map"))]


@fn("mapValues", 2, 2, shape=True)
def _map_values(scope, obj, lam):
    lam = _lam(lam, "mapValues")
    if not isinstance(obj, dict):
        raise EvalError("mapValues() of a non-object")
    return {k: lam(scope, v) for k, v in obj.items()}


@fn("reduce", 3, 3, shape=True)
def _reduce(scope, arr, initial, lam):
    lam = _lam(lam, "reduce")
    acc = initial
    for i, v in enumerate(_arr(arr, "reduce")):
        acc = lam(scope, acc, v, index=i)
    return acc


@fn("sort", 2, 2, shape=True)
def _sort(scope, arr, lam):
    import functools
    lam = _lam(lam, "sort")

    def cmp(a, b):
        r = lam(scope, a, b)
        if isinstance(r, (Unknown, Partial)):
            raise _Abort(r)
        return -1 if r is True else 1

    try:
        return sorted(_arr(arr, "sort"), key=functools.cmp_to_key(cmp))
    except _Abort as exc:
        return Unknown(_why(exc.args[0]))


class _Abort(Exception):
    pass


@fn("toObject", 2, 3, shape=True)
def _to_object(scope, arr, key_lam, value_lam=None):
    key_lam = _lam(key_lam, "toObject")
    value_lam = None if value_lam is None else _lam(value_lam, "toObject")
    out = {}
    for v in _arr(arr, "toObject"):
        k = key_lam(scope, v)
        if isinstance(k, (Unknown, Partial)):
            return Unknown(_why(k))
        out[_str(k, "toObject", "key")] = value_lam(scope, v) if value_lam is not None else v
    return out


@fn("groupBy", 2, 3, shape=True)
def _group_by(scope, arr, lam, value_lam=None):
    lam = _lam(lam, "groupBy")
    value_lam = None if value_lam is None else _lam(value_lam, "groupBy")
    out: dict = {}
    for v in _arr(arr, "groupBy"):
        k = lam(scope, v)
        if isinstance(k, (Unknown, Partial)):
            return Unknown(_why(k))
        out.setdefault(_str(k, "groupBy", "key"), []).append(v if value_lam is None else value_lam(scope, v))
    return out


# --- dates ------------------------------------------------------------------------------------

_DURATION = LazyRegex(r"^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def duration_seconds(text):
    """Seconds of an ISO 8601 duration (years = 365 days, months = 30); None if it is not one or
    if it is longer than 10,000 years."""
    m = _DURATION.match(text.strip()) if isinstance(text, str) and len(text) < 100 else None
    if not m or text.strip() in ("P", "PT") or text.strip().endswith("T"):
        return None
    sign, y, mo, w, d, h, mi, s = m.groups()
    if any(g is not None and len(g.split(".")[0]) > 12 for g in (y, mo, w, d, h, mi, s)):
        return None
    days = int(y or 0) * 365 + int(mo or 0) * 30 + int(w or 0) * 7 + int(d or 0)
    total = days * 86400 + int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)
    return -total if sign else total


def parse_duration(text: str):
    """An ISO 8601 duration as a :class:`datetime.timedelta`; None if invalid."""
    seconds = duration_seconds(text)
    if seconds is None or abs(seconds) > 10_000 * 366 * 86400:
        return None
    import datetime as dt
    return dt.timedelta(seconds=seconds)


def parse_datetime(text: str):
    import datetime as dt
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    try:
        value = dt.datetime.fromisoformat(t)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value


def _iso(value) -> str:
    import datetime as dt
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_STANDARD_FORMATS = {"u": "yyyy-MM-dd HH:mm:ssZ", "s": "yyyy-MM-ddTHH:mm:ss", "o": "yyyy-MM-ddTHH:mm:ss.fffffffK",
                     "O": "yyyy-MM-ddTHH:mm:ss.fffffffK", "d": "M/d/yyyy", "t": "h:mm tt", "T": "h:mm:ss tt",
                     "g": "M/d/yyyy h:mm tt", "G": "M/d/yyyy h:mm:ss tt", "R": "ddd, dd MMM yyyy HH:mm:ss 'GMT'",
                     "r": "ddd, dd MMM yyyy HH:mm:ss 'GMT'"}
_FORMAT_TOKEN = LazyRegex(r"yyyy|yy|MMMM|MMM|MM|M|dddd|ddd|dd|d|HH|H|hh|h|mm|m|ss|s|f{1,7}|tt|K|'[^']*'|\\.|.",
                          re.S)


def format_datetime(value, fmt: str, fname: str) -> str:
    """A date-time in a .NET format string (standard 'u', 's', 'o', 'd', ... or custom 'yyyy-MM-dd')."""
    pattern = _STANDARD_FORMATS.get(fmt, fmt) if len(fmt) == 1 else fmt
    if len(fmt) == 1 and fmt not in _STANDARD_FORMATS:
        raise Unsupported(f"{fname}(): the format '{fmt}' is not supported by vmsslint")
    out = []
    for tok in _FORMAT_TOKEN.findall(pattern):
        if tok == "yyyy":
            out.append(f"{value.year:04d}")
        elif tok == "yy":
            out.append(f"{value.year % 100:02d}")
        elif tok == "MMMM":
            out.append(value.strftime("%B"))
        elif tok == "MMM":
            out.append(value.strftime("%b"))
        elif tok in ("MM", "M"):
            out.append(f"{value.month:0{len(tok)}d}")
        elif tok == "dddd":
            out.append(value.strftime("%A"))
        elif tok == "ddd":
            out.append(value.strftime("%a"))
        elif tok in ("dd", "d"):
            out.append(f"{value.day:0{len(tok)}d}")
        elif tok in ("HH", "H"):
            out.append(f"{value.hour:0{len(tok)}d}")
        elif tok in ("hh", "h"):
            out.append(f"{(value.hour % 12) or 12:0{len(tok)}d}")
        elif tok in ("mm", "m"):
            out.append(f"{value.minute:0{len(tok)}d}")
        elif tok in ("ss", "s"):
            out.append(f"{value.second:0{len(tok)}d}")
        elif tok[0] == "f":
            out.append(f"{value.microsecond:06d}0"[:len(tok)])
        elif tok == "tt":
            out.append("AM" if value.hour < 12 else "PM")
        elif tok == "K":
            out.append("Z")
        elif tok[0] == "'":
            out.append(tok[1:-1])
        elif tok[0] == "\\":
            out.append(tok[1:])
        else:
            out.append(tok)
    return "".join(out)


def _base_format(text: str) -> str:
    """The format of a base date-time, used for the result when no format is given."""
    t = text.strip()
    if len(t) == 20 and t[10] == " " and t.endswith("Z"):
        return "u"
    return "yyyy-MM-ddTHH:mm:ssZ"


def add_duration(start, text: str, fname: str):
    """``start`` plus an ISO 8601 duration, years and months by the calendar; EvalError when out of range."""
    import datetime as dt
    m = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not m or text.strip() in ("P", "PT", "-P", "-PT") or text.strip().endswith("T"):
        raise EvalError(f"{fname}(): '{text}' is not an ISO 8601 duration")
    sign, y, mo, w, d, h, mi, sec = m.groups()
    k = -1 if sign else 1
    try:
        months = k * (int(y or 0) * 12 + int(mo or 0))
        total = start.month - 1 + months
        year, month = start.year + total // 12, total % 12 + 1
        if not 1 <= year <= 9999:
            raise OverflowError
        import calendar
        day = min(start.day, calendar.monthrange(year, month)[1])
        moved = start.replace(year=year, month=month, day=day)
        return moved + k * dt.timedelta(weeks=int(w or 0), days=int(d or 0), hours=int(h or 0),
                                        minutes=int(mi or 0), seconds=float(sec or 0))
    except (OverflowError, ValueError):
        raise EvalError(f"{fname}(): adding '{text}' leaves the years 1 to 9999") from None


@fn("dateTimeAdd", 2, 3)
def _date_time_add(scope, base, duration, fmt=None):
    start = parse_datetime(_str(base, "dateTimeAdd"))
    if start is None:
        raise EvalError(f"dateTimeAdd(): '{base}' is not an ISO 8601 date-time")
    result = add_duration(start, _str(duration, "dateTimeAdd"), "dateTimeAdd")
    import datetime as dt
    result = result.astimezone(dt.timezone.utc)
    return format_datetime(result, _str(fmt, "dateTimeAdd", "format") if fmt is not None else _base_format(base),
                           "dateTimeAdd")


@fn("dateTimeFromEpoch", 1, 1)
def _date_time_from_epoch(scope, n):
    import datetime as dt
    seconds = _int(n, "dateTimeFromEpoch")
    try:
        value = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=seconds)
    except OverflowError:
        raise EvalError(f"dateTimeFromEpoch(): {seconds} seconds is outside the years 1 to 9999") from None
    return _iso(value)


@fn("dateTimeToEpoch", 1, 1)
def _date_time_to_epoch(scope, s):
    value = parse_datetime(_str(s, "dateTimeToEpoch"))
    if value is None:
        raise EvalError(f"dateTimeToEpoch(): '{s}' is not an ISO 8601 date-time")
    return int(value.timestamp())


# --- networks ---------------------------------------------------------------------------------

def _net(cidr, fname):
    import ipaddress
    try:
        return ipaddress.ip_network(_str(cidr, fname), strict=False)
    except ValueError:
        raise EvalError(f"{fname}(): '{cidr}' is not a CIDR range") from None


@fn("parseCidr", 1, 1)
def _parse_cidr(scope, cidr):
    net = _net(cidr, "parseCidr")
    if net.version == 6:  # no broadcast and no reserved addresses in IPv6, as documented
        first, last = net.network_address, net.broadcast_address
    else:
        hosts = list(net.hosts()) if net.num_addresses <= 4 else None
        first = hosts[0] if hosts else net.network_address + (1 if net.num_addresses > 2 else 0)
        last = hosts[-1] if hosts else net.broadcast_address - (1 if net.num_addresses > 2 else 0)
    out = {"network": str(net.network_address), "netmask": str(net.netmask), "cidr": net.prefixlen,
           "firstUsable": str(first), "lastUsable": str(last)}
    if net.version == 4:
        out["broadcast"] = str(net.broadcast_address)
    return out


@fn("cidrSubnet", 3, 3)
def _cidr_subnet(scope, cidr, new_prefix, index):
    net = _net(cidr, "cidrSubnet")
    new_prefix, index = _int(new_prefix, "cidrSubnet"), _int(index, "cidrSubnet")
    if new_prefix < net.prefixlen or new_prefix > net.max_prefixlen:
        raise EvalError(f"cidrSubnet(): /{new_prefix} does not fit in {net}")
    size = 1 << (net.max_prefixlen - new_prefix)
    if index < 0 or index >= (1 << (new_prefix - net.prefixlen)):
        raise EvalError(f"cidrSubnet(): index {index} is out of range")
    import ipaddress
    return str(ipaddress.ip_network((int(net.network_address) + index * size, new_prefix)))


@fn("cidrHost", 2, 2)
def _cidr_host(scope, cidr, index):
    net = _net(cidr, "cidrHost")
    index = _int(index, "cidrHost")
    offset = index + 1 if net.prefixlen < net.max_prefixlen - 1 else index
    if index < 0 or offset >= net.num_addresses:
        raise EvalError(f"cidrHost(): host {index} is out of range for {net}")
    return str(net.network_address + offset)


# --- functions that need a deployment to answer ----------------------------------------------

@fn("listAccountSas", 2, 3)
def _list_account_sas(scope, *a):
    return Unknown("listAccountSas() creates a SAS token at deployment", None, secret=True)


@fn("listKeys", 2, 3, unknown_ok=True)
def _list_keys(scope, *a):
    return Unknown("listKeys() returns keys only known at deployment", None, secret=True)


@fn("listSecrets", 2, 3, unknown_ok=True)
def _list_secrets(scope, *a):
    return Unknown("listSecrets() returns secrets only known at deployment", None, secret=True)

