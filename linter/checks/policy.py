"""The upgrade policy: REQ-ENABLE (the flag's type), REQ-MODE-*, REQ-ROLLING-POLICY, REQ-EXT-SEQUENCING,
REQ-FLEX-MAXSURGE."""

from __future__ import annotations

from linter.arm.functions import duration_seconds
from linter.arm.template import MISSING, loc_of
from linter.arm.values import Partial, Unknown
from linter.checks import check, condition, fail, settle, unverifiable, why_unknown
from linter.checks.api import lookup
from linter.checks.vmss import as_bool, as_number, facts, lower
from linter.jsonc import ci_get, ci_key


@condition("flexible", "the set uses Flexible orchestration")
def _flexible(ctx, res):
    return facts(ctx, res).flexible


@check("boolean-not-string", {"properties": {}})
def boolean_not_string(ctx, target, options):
    """A boolean written as a string ("true"): Azure reads it, but the schema and other tools do not."""
    v = target.value
    if isinstance(v, str) and as_bool(v) is not None:
        key = target.path.rsplit(".", 1)[-1] or "enableAutomaticOSUpgrade"  # the key written: maybe the legacy one
        yield fail(target.loc, value=v, boolean="true" if as_bool(v) else "false", boolean_value=as_bool(v),
                   property=key)


@check("upgrade-mode", {"properties": {"fail-when": {"type": "array", "items": {"enum": ["Automatic", "Manual", "Rolling"]}},
                                       "default": {"enum": ["Automatic", "Manual", "Rolling"]}},
                        "required": ["fail-when", "default"]}, variants=("default", "implicit"))
def upgrade_mode(ctx, target, options):
    """upgradePolicy.mode (absent: ``default``) must not be one of ``fail-when``."""
    f = facts(ctx, target.resource)
    mode, loc = lookup(target.resource, "properties.upgradePolicy.mode")
    if isinstance(mode, (Unknown, Partial)):
        yield unverifiable(loc, why_unknown(mode))
        return
    effective = options["default"] if mode is MISSING else mode
    if lower(effective) in [m.lower() for m in options["fail-when"]]:
        if mode is MISSING:
            yield fail(f.upgrade_policy_loc if f.upgrade_policy is not MISSING else f.props_loc, "implicit", key=True,
                       mode=effective)
        else:
            yield fail(loc, mode=mode)


ROLLING_KEYS = {
    # key: (kind, minimum, maximum, first api-version)
    "maxBatchInstancePercent": ("int", 5, 100, "2017-03-30"),
    "maxUnhealthyInstancePercent": ("int", 5, 100, "2017-03-30"),
    "maxUnhealthyUpgradedInstancePercent": ("int", 0, 100, "2017-03-30"),
    "pauseTimeBetweenBatches": ("duration", None, None, "2017-03-30"),
    "enableCrossZoneUpgrade": ("bool", None, None, "2020-12-01"),
    "prioritizeUnhealthyInstances": ("bool", None, None, "2020-12-01"),
    "rollbackFailedInstancesOnPolicyBreach": ("bool", None, None, "2022-11-01"),
    "maxSurge": ("bool", None, None, "2022-11-01"),
    "maxUnhealthyInstancePercentBeforeRollingUpgrade": ("int", 0, 100, "2099-01-01"),
}


@check("rolling-policy", {"properties": {}}, variants=("unknown-key", "range", "type", "duration", "api"))
def rolling_policy(ctx, target, options):
    """rollingUpgradePolicy: known keys only, numbers in range, ISO 8601 pause, booleans, api-version gates."""
    policy = target.value
    if policy is MISSING or policy is None:  # null: not set, the defaults apply
        return
    if isinstance(policy, Unknown):
        yield unverifiable(target.loc, policy.why)
        return
    if not isinstance(policy, dict):
        yield fail(target.loc, "type", name="rollingUpgradePolicy", value=_json(policy), expected="an object")
        return
    api = ci_get(target.resource.evaluated(), "apiVersion")
    known = {k.lower(): k for k in ROLLING_KEYS if not ROLLING_KEYS[k][3].startswith("2099")}
    for key, value in policy.items():
        loc = loc_of(policy, key)
        spec_key = known.get(key.lower())
        if spec_key is None:
            import difflib
            near = difflib.get_close_matches(key, list(known.values()), n=1, cutoff=0.6)
            yield fail(loc, "unknown-key", key=True, name=key,
                       hint=f"did you mean '{near[0]}'?" if near else f"known: {', '.join(known.values())}")
            continue
        kind, lo, hi, since = ROLLING_KEYS[spec_key]
        if isinstance(api, str) and api[:10] < since:
            yield fail(loc, "api", key=True, name=spec_key, since=since, api=api)
        if value is None:
            continue
        if isinstance(value, (Unknown, Partial)):
            yield unverifiable(loc, why_unknown(value))
            continue
        value = as_number(value) if kind == "int" else value
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                yield fail(loc, "type", name=spec_key, value=_json(value), expected="an integer")
            elif value < lo or value > hi:
                yield fail(loc, "range", name=spec_key, value=value, minimum=lo, maximum=hi)
        elif kind == "bool":
            if as_bool(value) is None:
                yield fail(loc, "type", name=spec_key, value=_json(value), expected="true or false")
        elif kind == "duration":
            if not isinstance(value, str) or duration_seconds(value) is None:
                yield fail(loc, "duration", name=spec_key, value=value)


def _json(value):
    import json
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return str(value)


@check("rollback-enabled", {"properties": {}})
def rollback_enabled(ctx, target, options):
    """disableAutomaticRollback: true gives up restoring sick instances' previous OS disk."""
    v, early = settle(target)
    if early is not None:
        yield from early
    elif as_bool(v) is True:
        yield fail(target.loc, value=v)


@check("extension-sequencing", {"properties": {}}, variants=("unknown-extension", "cycle"))
def extension_sequencing(ctx, target, options):
    """provisionAfterExtensions names extensions of the same profile, without a cycle."""
    f = facts(ctx, target.resource)
    names = {}
    for e in f.extensions:
        if isinstance(e.name, str):
            names[e.name.lower()] = e
        elif e.name is not None:
            return  # an unknown name: cannot tell what refers to what
    graph = {}
    for e in f.extensions:
        after = ci_get(e.props, "provisionAfterExtensions")
        if after is None:
            continue
        k = ci_key(e.props, "provisionAfterExtensions")
        loc = loc_of(e.props, k) or e.loc
        if isinstance(after, (Unknown, Partial)):
            yield unverifiable(loc, why_unknown(after))
            continue
        deps = []
        for i, n in enumerate(after if isinstance(after, list) else [after]):
            if isinstance(n, (Unknown, Partial)):
                yield unverifiable(loc, why_unknown(n))
                continue
            if not isinstance(n, str) or n.lower() not in names:
                yield fail(loc_of(after, i) if isinstance(after, list) else loc, "unknown-extension",
                           extension=e.name, name=n, known=", ".join(sorted(x.name for x in names.values())))
                continue
            deps.append(n.lower())
        if isinstance(e.name, str):
            graph[e.name.lower()] = (deps, loc)
    cycle = _find_cycle(graph)
    if cycle:
        yield fail(graph[cycle[0]][1], "cycle", cycle=" -> ".join(names[n].name for n in cycle + [cycle[0]]))


def _find_cycle(graph):
    state: dict = {}
    stack: list = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for d in graph.get(n, ([], None))[0]:
            if state.get(d) == 1:
                return stack[stack.index(d):]
            if d not in state:
                found = visit(d)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None
