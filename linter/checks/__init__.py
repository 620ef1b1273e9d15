"""The check-function library rules call by name.

A rule file says ``check: {function: NAME, given: PATH, options: {...}}``.  ``NAME`` is looked
up in :data:`CHECKS`, filled by the :func:`check` decorator in :mod:`linter.checks.core`
(generic functions: equals, one-of, range, …) and :mod:`linter.checks.vmss` (what only scale
sets need: supported images, health signals, …).  Each function declares the JSON Schema of its
options; rule files are validated against it when they load.

A check function is called as ``fn(ctx, target, options)`` and yields :class:`Result`.  ``target``
is a :class:`Target`: the resource and, when the rule has ``given``, one value found at that path
(a ``[*]`` in the path gives one target per array item).  Preconditions (``applies-to.when``) are
:data:`CONDITIONS`: functions returning True, False or an :class:`~linter.arm.values.Unknown`.
"""

from __future__ import annotations

from linter.arm.template import MISSING, loc_of, own_loc
from linter.arm.values import Partial, Unknown
from linter.jsonc import ci_key

CHECKS: dict = {}
CONDITIONS: dict = {}


def check(name: str, options: dict | None = None, variants: tuple = ("default",)):
    """Register a check function with the JSON Schema of its options and its message variants."""
    schema = {"type": "object", "additionalProperties": False, "properties": {}}
    if options:
        schema.update(options)

    def deco(func):
        CHECKS[name] = (func, schema, variants)
        return func
    return deco


def condition(name: str, doc: str):
    def deco(func):
        CONDITIONS[name] = (func, doc)
        return func
    return deco


class Target:
    __slots__ = ("resource", "value", "loc", "path")

    def __init__(self, resource, value, loc, path):
        self.resource, self.value, self.loc, self.path = resource, value, loc, path


class Result:
    """One outcome of a check: ``fail`` (the rule's severity) or ``unverifiable`` (info)."""

    __slots__ = ("status", "loc", "variant", "params", "why", "key", "fix")

    def __init__(self, status, loc, variant="default", params=None, why=None, key=False, fix=None):
        self.status = status
        self.loc = loc
        self.variant = variant
        self.params = params or {}
        self.why = why
        self.key = key  # point at the property name rather than its value
        self.fix = fix


def fail(loc, variant="default", key=False, fix=None, **params):
    return Result("fail", loc, variant, params, key=key, fix=fix)


def unverifiable(loc, why, **params):
    return Result("unverifiable", loc, params=params, why=why)


def settle(target, missing_fails=False):
    """The known value of a target, or None with the results to report instead.

    Absent: nothing (or a ``missing`` failure when ``missing_fails``); unknown: unverifiable.
    Use as ``value, early = settle(target); if early is not None: yield from early; return``.
    """
    from linter.arm.template import MISSING
    v = target.value
    if v is MISSING:
        return None, ([fail(target.loc, "missing", key=True)] if missing_fails else [])
    if isinstance(v, (Unknown, Partial)):
        return None, [unverifiable(target.loc, why_unknown(v))]
    return v, None


def why_unknown(value) -> str:
    if isinstance(value, Unknown):
        return value.why
    if isinstance(value, Partial):
        return value.unknowns()[0].why
    return "the value is unknown"


def resolve(resource, path: str):
    """Targets at a dotted path under the resource (``[*]`` expands arrays), case-insensitively.

    A missing property yields a Target whose value is ``MISSING`` and whose loc is its nearest parent.
    """
    start = resource.evaluated()
    out: list = []
    _walk(resource, start, own_loc(start), path.split(".") if path else [], 0, [], out)
    return out


def _walk(resource, value, loc, parts, i, trail, out):
    if i == len(parts):
        out.append(Target(resource, value, loc, ".".join(trail)))
        return
    part = parts[i]
    star = part.endswith("[*]")
    name = part[:-3] if star else part
    if isinstance(value, Unknown):
        out.append(Target(resource, value.member(name), loc, ".".join(trail + [part])))
        return
    if not isinstance(value, dict):
        out.append(Target(resource, MISSING, loc, ".".join(trail + [part])))
        return
    k = ci_key(value, name)
    if k is None:
        out.append(Target(resource, MISSING, loc, ".".join(trail + [name])))
        return
    child = value[k]
    child_loc = loc_of(value, k) or loc
    if not star:
        _walk(resource, child, child_loc, parts, i + 1, trail + [k], out)
        return
    if isinstance(child, Unknown):
        out.append(Target(resource, child, child_loc, ".".join(trail + [k])))
        return
    if not isinstance(child, list):
        return
    for j, item in enumerate(child):
        _walk(resource, item, loc_of(child, j) or child_loc, parts, i + 1, trail + [f"{k}[{j}]"], out)


# register the library
from linter.checks import core, credentials, images, network, osconfig, policy, servicefabric, vmss  # noqa: E402,F401,I001
