"""Generic check functions: compare the value found at ``given`` with what the rule expects.

Only the ones a rule uses are kept (equals, not-equals, present); write a new one when a rule needs it."""

from __future__ import annotations

from linter.arm.template import MISSING
from linter.checks import check, fail, settle

_MISSING_OPT = {"enum": ["fail", "pass"], "description": "what an absent property means (default: pass)"}


def _same(a, b, ci, boolean=False):
    if boolean:
        from linter.checks.readers import as_bool
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


@check("present", {"properties": {}})
def present(ctx, target, options):
    """The property must be there."""
    if target.value is MISSING:
        yield fail(target.loc, key=True)
