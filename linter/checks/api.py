"""The API check functions are written against: one place.

A rule file says ``check: {function: NAME, given: PATH, options: {...}}``.  ``NAME`` is looked
up in :data:`CHECKS`, filled by the :func:`check` decorator.  Each function declares the JSON Schema of its
options; rule files are validated against it when they load.

A check function is called as ``fn(ctx, target, options)`` and yields :class:`Result`.  ``target``
is a :class:`Target`: the resource and, when the rule has ``given``, one value found at that path
(a ``[*]`` in the path gives one target per array item).  Preconditions (``applies-to.when``) are
:data:`CONDITIONS`: functions returning True, False or an :class:`~linter.arm.values.Unknown`.

Values are read with :func:`lookup` (value, where it was written, and whether it is present,
missing or unknown); an unknown value's reason is :func:`why_unknown`.  A scale set written
without ``properties.virtualMachineProfile`` updates an existing set (:func:`is_partial_update`):
Azure keeps the deployed values of what the template does not write, so :func:`lookup` and
:func:`resolve` give those as unknown, never as missing.
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


PRESENT, MISSING_STATE, UNKNOWN = "present", "missing", "unknown"

PARTIAL_UPDATE_WHY = ("the template updates an existing scale set (it has no properties.virtualMachineProfile): "
                      "Azure keeps the deployed value of what the template does not write")
_VMSS = "microsoft.compute/virtualmachinescalesets"


def is_partial_update(resource) -> bool:
    """A scale set resource without ``properties.virtualMachineProfile``: an update of an existing set."""
    if getattr(resource, "type_lower", None) != _VMSS:
        return False
    cached = getattr(resource, "_partial_update", None)
    if cached is None:
        ev = resource.evaluated()
        props = ev.get(ci_key(ev, "properties")) if isinstance(ev, dict) and ci_key(ev, "properties") else MISSING
        if props is MISSING:
            cached = True
        elif isinstance(props, dict) and ci_key(props, "virtualMachineProfile") is None:
            # a Flexible set may be created without a profile (virtual machines added one by one)
            mode = props.get(ci_key(props, "orchestrationMode")) if ci_key(props, "orchestrationMode") else None
            # platformFaultDomainCount is what creating a Flexible set requires (and only creating)
            cached = not ((isinstance(mode, str) and mode.lower() == "flexible")
                          or ci_key(props, "platformFaultDomainCount") is not None)
        else:
            cached = False
        resource._partial_update = cached
    return cached


def kept_by_azure():
    """The value of a property a partial update does not write: only Azure knows it."""
    return Unknown(PARTIAL_UPDATE_WHY)


class Lookup:
    """What :func:`lookup` found: ``value``, ``loc`` (where it was written, or its nearest parent)
    and ``state`` — ``present``, ``missing`` or ``unknown``."""

    __slots__ = ("value", "loc", "state")

    def __init__(self, value, loc, state):
        self.value, self.loc, self.state = value, loc, state

    def __iter__(self):  # value, loc = lookup(...)
        return iter((self.value, self.loc))

    @property
    def why(self):
        return why_unknown(self.value) if self.state == UNKNOWN else None


def lookup(resource, path: str, start=None) -> Lookup:
    """The value at a dotted path of a resource's evaluated model (case-insensitive), where it was
    written, and whether it is present, missing or unknown.  ``start`` reads under another evaluated
    value of the resource instead of its root.  In a partial update of a scale set a property the
    template does not write is unknown (Azure keeps the deployed value), not missing."""
    value = resource.evaluated() if start is None else start
    loc = own_loc(value)
    for part in path.split(".") if path else []:
        if isinstance(value, Unknown):
            value = value.member(part)
            break
        if not isinstance(value, dict):
            value = MISSING
            break
        k = ci_key(value, part)
        if k is None:
            value = MISSING
            break
        loc = loc_of(value, k) or loc
        value = value[k]
    if value is MISSING:
        if resource is not None and is_partial_update(resource):
            return Lookup(kept_by_azure(), loc, UNKNOWN)
        return Lookup(MISSING, loc, MISSING_STATE)
    if isinstance(value, (Unknown, Partial)):
        return Lookup(value, loc, UNKNOWN)
    return Lookup(value, loc, PRESENT)


def settle(target, missing_fails=False):
    """The known value of a target, or None with the results to report instead.

    Absent: nothing (or a ``missing`` failure when ``missing_fails``); unknown: unverifiable.
    Use as ``value, early = settle(target); if early is not None: yield from early; return``.
    """
    v = target.value
    if v is MISSING:
        return None, ([fail(target.loc, "missing", key=True)] if missing_fails else [])
    if isinstance(v, (Unknown, Partial)):
        return None, [unverifiable(target.loc, why_unknown(v))]
    return v, None


def why_unknown(value) -> str:
    """Why a value is unknown (the evaluator's own answer)."""
    from linter.arm.functions import why_unknown as why
    return why(value)


def resolve(resource, path: str):
    """Targets at a dotted path under the resource (``[*]`` expands arrays), case-insensitively.

    A missing property yields a Target whose value is ``MISSING`` and whose loc is its nearest parent
    (unknown instead in a partial update of a scale set: see :func:`is_partial_update`).
    """
    start = resource.evaluated()
    out: list = []
    _walk(resource, start, own_loc(start), path.split(".") if path else [], 0, [], out)
    if is_partial_update(resource):
        for t in out:
            if t.value is MISSING:
                t.value = kept_by_azure()
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

