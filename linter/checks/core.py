"""Generic check functions: compare the value found at ``given`` with what the rule expects."""

from __future__ import annotations

import re

from linter.arm.template import MISSING
from linter.checks import check, fail, settle

_MISSING_OPT = {"enum": ["fail", "pass"], "description": "what an absent property means (default: pass)"}


def _same(a, b, ci, boolean=False):
    if boolean:
        from linter.checks.vmss import as_bool
        a = as_bool(a) if as_bool(a) is not None else a
    if ci and isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if type(a) is bool or type(b) is bool:
        return type(a) is type(b) and a == b
    return a == b


@check("equals", {"properties": {"value": {}, "case-insensitive": {"type": "boolean"}, "missing": _MISSING_OPT},
                  "required": ["value"]}, variants=("default", "missing"))
def equals(ctx, target, options):
    """The value must equal ``value``."""
    v, early = settle(target, options.get("missing") == "fail")
    if early is not None:
        yield from early
        return
    if not _same(v, options["value"], options.get("case-insensitive", False)):
        yield fail(target.loc, value=v, expected=options["value"])


@check("not-equals", {"properties": {"value": {}, "case-insensitive": {"type": "boolean"},
                                    "as-boolean": {"type": "boolean", "description": "read \"true\"/\"false\" strings as Azure does"}},
                     "required": ["value"]})
def not_equals(ctx, target, options):
    """The value must not equal ``value`` (absence passes)."""
    v, early = settle(target)
    if early is not None:
        yield from early
        return
    if _same(v, options["value"], options.get("case-insensitive", False), options.get("as-boolean", False)):
        yield fail(target.loc, value=v)


@check("one-of", {"properties": {"values": {"type": "array", "minItems": 1}, "case-insensitive": {"type": "boolean"},
                                 "missing": _MISSING_OPT}, "required": ["values"]}, variants=("default", "missing"))
def one_of(ctx, target, options):
    """The value must be one of ``values``."""
    v, early = settle(target, options.get("missing") == "fail")
    if early is not None:
        yield from early
        return
    ci = options.get("case-insensitive", False)
    if not any(_same(v, x, ci) for x in options["values"]):
        yield fail(target.loc, value=v, allowed=", ".join(str(x) for x in options["values"]))


@check("range", {"properties": {"minimum": {"type": "number"}, "maximum": {"type": "number"}, "missing": _MISSING_OPT}},
       variants=("default", "missing", "type"))
def in_range(ctx, target, options):
    """The value must be an integer between ``minimum`` and ``maximum`` (inclusive)."""
    v, early = settle(target, options.get("missing") == "fail")
    if early is not None:
        yield from early
        return
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        yield fail(target.loc, "type", value=v)
        return
    lo, hi = options.get("minimum"), options.get("maximum")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        yield fail(target.loc, value=v, minimum=lo, maximum=hi)


@check("absent", {"properties": {}})
def absent(ctx, target, options):
    """The property must not be there."""
    if target.value is not MISSING:
        yield fail(target.loc, key=True, value=target.value)


@check("present", {"properties": {}})
def present(ctx, target, options):
    """The property must be there."""
    if target.value is MISSING:
        yield fail(target.loc, key=True)


@check("pattern", {"properties": {"match": {"type": "string", "format": "regex"},
                                  "not-match": {"type": "string", "format": "regex"}}})
def pattern(ctx, target, options):
    """A string value must match ``match`` and must not match ``not-match``."""
    v, early = settle(target)
    if early is not None:
        yield from early
        return
    if not isinstance(v, str):
        return
    if "match" in options and not re.search(options["match"], v):
        yield fail(target.loc, value=v)
    elif "not-match" in options and re.search(options["not-match"], v):
        yield fail(target.loc, value=v)
