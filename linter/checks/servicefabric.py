"""Service Fabric node types: REQ-SF-DURABILITY, REQ-SF-EXT-VERSION, REQ-SF-MATCH, REQ-SF-NOPROBE."""

from __future__ import annotations

from linter.arm import resourceid
from linter.arm.template import MISSING, loc_of
from linter.arm.values import Partial, Unknown
from linter.checks import check, condition, fail, unverifiable, why_unknown
from linter.checks.api import lookup
from linter.checks.vmss import as_bool, facts, get, lower
from linter.jsonc import ci_get, ci_key

CLUSTER = "microsoft.servicefabric/clusters"


def _setting(ext, name):
    settings = ci_get(ext.props, "settings")
    if not isinstance(settings, dict):
        return (settings if isinstance(settings, Unknown) else MISSING), ext.loc
    k = ci_key(settings, name)
    if k is None:
        return MISSING, loc_of(ext.props, ci_key(ext.props, "settings")) or ext.loc
    return settings[k], loc_of(settings, k)


def node_type(ctx, ext):
    """The cluster node type an SF extension belongs to: (node type object, loc) | 'unknown' | None."""
    ref, _ = _setting(ext, "nodeTypeRef")
    if ref is MISSING:
        return None
    key = resourceid.name_key(ref) if isinstance(ref, (str, Partial)) else None
    if key is None:
        return "unknown"
    found = []
    for cluster in ctx.resources(CLUSTER):
        types, _ = get(cluster.evaluated(), "properties.nodeTypes")
        for i, nt in enumerate(types if isinstance(types, list) else []):
            if isinstance(nt, dict):
                nk = resourceid.name_key(ci_get(nt, "name"))
                if nk == key:
                    found.append((nt, loc_of(types, i)))
                elif nk is None:
                    return "unknown"
    if len(found) == 1:
        return found[0]
    return None


@condition("service-fabric-stateful",
           "the set is a Service Fabric node type that is not stateless-only (2026 allows more for stateless ones)")
def _service_fabric_stateful(ctx, res):
    f = facts(ctx, res)
    if not f.sf_extensions:
        return False
    if ctx.edition < "2026":
        return True
    for ext in f.sf_extensions:
        nt = node_type(ctx, ext)
        if nt == "unknown":
            return Unknown("the node type's name is known only at deployment")
        if isinstance(nt, tuple) and as_bool(ci_get(nt[0], "isStateless")) is True:
            return False
    return True


def _durability(ext):
    value, loc = _setting(ext, "durabilityLevel")
    return value, loc


@check("sf-durability", {"properties": {"stateless-bronze-from": {"type": "string"}},
                         "required": ["stateless-bronze-from"]},
       variants=("default", "missing", "no-stateless-exception"))
def sf_durability(ctx, target, options):
    """The Service Fabric extension's durability must be Silver or Gold (2026: Bronze for stateless node types)."""
    f = facts(ctx, target.resource)
    for ext in f.sf_extensions:
        value, loc = _durability(ext)
        if isinstance(value, (Unknown, Partial)):
            yield unverifiable(loc, why_unknown(value))
            continue
        if value is not MISSING and lower(value) in ("silver", "gold"):
            continue
        if ctx.edition >= options["stateless-bronze-from"]:
            nt = node_type(ctx, ext)
            if isinstance(nt, tuple) and as_bool(ci_get(nt[0], "isStateless")) is True:
                continue  # REQ-SF-DURABILITY (2026): Bronze allowed for a stateless-only node type
        if value is MISSING:
            yield fail(loc, "missing", key=True, extension=ext.name)
        elif ctx.edition >= options["stateless-bronze-from"]:
            yield fail(loc, value=value, extension=ext.name)
        else:  # the edition in force knows no stateless exception: do not speak of it
            yield fail(loc, "no-stateless-exception", value=value, extension=ext.name)


@check("sf-extension-version", {"properties": {"minimum": {"type": "string", "pattern": r"^\d+\.\d+$"}},
                                "required": ["minimum"]})
def sf_extension_version(ctx, target, options):
    """typeHandlerVersion of the Service Fabric extension must be at least ``minimum``."""
    f = facts(ctx, target.resource)
    want = tuple(int(x) for x in options["minimum"].split("."))
    for ext in f.sf_extensions:
        v = ext.version
        loc = loc_of(ext.props, ci_key(ext.props, "typeHandlerVersion")) or ext.loc
        if isinstance(v, (Unknown, Partial)):
            yield unverifiable(loc, why_unknown(v))
            continue
        try:
            have = tuple(int(x) for x in str(v).split(".")[:2])
        except ValueError:
            have = (0,)
        if v is None or have < want:
            yield fail(loc, key=v is None, value=v if v is not None else "absent", minimum=options["minimum"])


@check("sf-durability-match", {"properties": {}})
def sf_durability_match(ctx, target, options):
    """The extension's durabilityLevel must equal its cluster node type's durabilityLevel."""
    f = facts(ctx, target.resource)
    for ext in f.sf_extensions:
        value, loc = _durability(ext)
        nt = node_type(ctx, ext)
        if nt is None:
            continue
        if nt == "unknown":
            yield unverifiable(loc, "the node type reference or a node type name is known only at deployment")
            continue
        node, nloc = nt
        want = ci_get(node, "durabilityLevel")
        for v in (value, want):
            if isinstance(v, (Unknown, Partial)):
                yield unverifiable(loc, why_unknown(v))
                break
        else:
            have = "Bronze" if value is MISSING else value
            if want is not None and lower(have) != lower(want):
                yield fail(loc, key=value is MISSING, value=have, expected=want, nodetype=ci_get(node, "name"))


@check("sf-no-health-probe", {"properties": {}})
def sf_no_health_probe(ctx, target, options):
    """(2020) A Service Fabric set needs no health probe; application health probes are not supported there."""
    f = facts(ctx, target.resource)
    if f.probe is not MISSING and f.probe is not None:
        yield fail(f.probe_loc, source="networkProfile.healthProbe")
    for ext in f.health_extensions:
        yield fail(ext.loc, source=f"the {ext.type} extension")


@check("sf-stateless-health", {"properties": {}})
def sf_stateless_health(ctx, target, options):
    """(2026) A Bronze, stateless-only node type needs a health probe or the health extension."""
    f = facts(ctx, target.resource)
    if (f.probe is not MISSING and f.probe is not None) or f.health_extensions:
        return
    for ext in f.sf_extensions:
        value, loc = _durability(ext)
        if not (value is MISSING or lower(value) == "bronze"):
            continue
        nt = node_type(ctx, ext)
        if isinstance(nt, tuple) and as_bool(ci_get(nt[0], "isStateless")) is True:
            yield fail(loc, key=value is MISSING, nodetype=ci_get(nt[0], "name"))


@check("sf-capacity", {"properties": {"minimum": {"type": "integer"}}, "required": ["minimum"]})
def sf_capacity(ctx, target, options):
    """Silver and Gold durability need at least ``minimum`` instances."""
    f = facts(ctx, target.resource)
    cap, cap_loc = lookup(target.resource, "sku.capacity")
    for ext in f.sf_extensions:
        value, _ = _durability(ext)
        if not isinstance(value, str) or value.lower() not in ("silver", "gold"):
            continue
        if isinstance(cap, (Unknown, Partial)):
            yield unverifiable(cap_loc, why_unknown(cap))
        elif isinstance(cap, int) and not isinstance(cap, bool) and cap < options["minimum"]:
            yield fail(cap_loc, value=cap, durability=value, minimum=options["minimum"])
