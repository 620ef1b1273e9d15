"""Health probe checks that follow the set's ``healthProbe.id`` to the template's load balancer.

REQ-HEALTH-ONE, REQ-PROBE-REF, REQ-PROBE-RATE, REQ-PROBE-DEDICATED, REQ-PROBE-STANDARD.
"""

from __future__ import annotations

from linter.arm import resourceid
from linter.arm.template import MISSING, loc_of, own_loc
from linter.arm.values import Partial, Unknown
from linter.checks import check, fail, unverifiable, why_unknown
from linter.checks.api import lookup
from linter.checks.vmss import as_bool, facts, get, lower
from linter.jsonc import ci_get, ci_key

LB = "microsoft.network/loadbalancers"
PROBE = "microsoft.network/loadbalancers/probes"
POOL = "microsoft.network/loadbalancers/backendaddresspools"


class ProbeTarget:
    """What the set's healthProbe.id names, resolved against the template."""

    def __init__(self, status, lb=None, probe=None, probe_loc=None, lb_name=None, probe_name=None, why=None):
        self.status = status  # ok | none | unknown | not-probe | outside | missing
        self.lb, self.probe, self.probe_loc = lb, probe, probe_loc
        self.lb_name, self.probe_name, self.why = lb_name, probe_name, why


def _named(items, name_key):
    for i, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict) and resourceid.name_key(ci_get(item, "name")) == name_key:
            return i, item
    return None, None


def probes_of(ctx, lb):
    """(probe object, loc) pairs: the load balancer's ``probes`` and child probe resources."""
    out = []
    probes, _ = get(lb.evaluated(), "properties.probes")
    if isinstance(probes, list):
        for i, p in enumerate(probes):
            if isinstance(p, dict):
                out.append((p, loc_of(probes, i)))
    for child in ctx.children_of(lb, PROBE):
        ev = child.evaluated()
        short = dict(ev)
        short["name"] = child.name.split("/")[-1] if isinstance(child.name, str) else child.name
        out.append((short, own_loc(ev)))
    return out


def pool_names(ctx, lb):
    names = set()
    pools, _ = get(lb.evaluated(), "properties.backendAddressPools")
    for p in pools if isinstance(pools, list) else []:
        k = resourceid.name_key(ci_get(p, "name")) if isinstance(p, dict) else None
        if k:
            names.add(k)
    for child in ctx.children_of(lb, POOL):
        k = resourceid.name_key(child.name)
        if k:
            names.add(k.split("/")[-1])
    return names


def probe_target(ctx, res) -> ProbeTarget:
    cached = getattr(res, "_probe_target", None)
    if cached is not None:
        return cached
    f = facts(ctx, res)
    pid = f.probe
    if pid is MISSING or pid is None:
        t = ProbeTarget("none")
    elif isinstance(pid, Unknown):
        t = ProbeTarget("unknown", why=pid.why)
    else:
        parsed = resourceid.parse(pid)
        if parsed is None or parsed[0] != PROBE:
            t = ProbeTarget("unknown", why=why_unknown(pid)) if isinstance(pid, Partial) and parsed is None \
                else ProbeTarget("not-probe")
        else:
            lb_name, probe_name = parsed[1]
            lbs = resourceid.find(ctx, LB, [lb_name])
            if lbs == "unknown":
                t = ProbeTarget("unknown", why="the load balancer's name is known only at deployment")
            elif not lbs:
                t = ProbeTarget("outside", lb_name=lb_name, probe_name=probe_name)
            else:
                lb = lbs[0]
                key = resourceid.name_key(probe_name)
                match = [(p, loc) for p, loc in probes_of(ctx, lb) if resourceid.name_key(ci_get(p, "name")) == key]
                if match:
                    t = ProbeTarget("ok", lb, match[0][0], match[0][1], lb_name, probe_name)
                elif any(isinstance(ci_get(p, "name"), (Unknown, Partial)) for p, _ in probes_of(ctx, lb)):
                    t = ProbeTarget("unknown", lb=lb, why="a probe name of the load balancer is unknown")
                else:
                    t = ProbeTarget("missing", lb, lb_name=lb_name, probe_name=probe_name)
    res._probe_target = t
    return t


def _display_name(name):
    from linter.arm.values import display
    return display(name, 80) if not isinstance(name, str) else name


@check("health-one-source", {"properties": {}})
def health_one_source(ctx, target, options):
    """A probe and the Application Health extension together: Azure accepts only one (2026)."""
    f = facts(ctx, target.resource)
    if f.probe is MISSING or f.probe is None or not f.health_extensions:
        return
    ext = f.health_extensions[0]
    yield fail(ext.loc, extension=ext.name)


@check("probe-reference", {"properties": {}}, variants=("default", "not-probe"))
def probe_reference(ctx, target, options):
    """healthProbe.id must name a probe of a load balancer; when that load balancer is in the
    template, the probe must be one of its probes."""
    f = facts(ctx, target.resource)
    t = probe_target(ctx, target.resource)
    if t.status == "unknown":
        yield unverifiable(f.probe_loc, t.why)
    elif t.status == "not-probe":
        yield fail(f.probe_loc, "not-probe", value=f.probe)
    elif t.status == "missing":
        names = sorted(str(_display_name(ci_get(p, "name"))) for p, _ in probes_of(ctx, t.lb))
        yield fail(f.probe_loc, probe=_display_name(t.probe_name), lb=_display_name(t.lb_name),
                   probes=", ".join(names) or "none")


@check("probe-watches-set", {"properties": {}})
def probe_watches_set(ctx, target, options):
    """The set's NIC IP configurations must use a backend pool of the probe's load balancer."""
    f = facts(ctx, target.resource)
    t = probe_target(ctx, target.resource)
    if t.status != "ok":
        return
    pools = pool_names(ctx, t.lb)
    nics, nics_loc = lookup(target.resource,
                            "properties.virtualMachineProfile.networkProfile.networkInterfaceConfigurations")
    used = []
    unknown = None
    for nic in nics if isinstance(nics, list) else []:
        ipcs, _ = get(nic, "properties.ipConfigurations")
        for ipc in ipcs if isinstance(ipcs, list) else []:
            refs, _ = get(ipc, "properties.loadBalancerBackendAddressPools")
            for ref in refs if isinstance(refs, list) else []:
                rid = ci_get(ref, "id") if isinstance(ref, dict) else None
                if isinstance(rid, Unknown):
                    unknown = rid
                    continue
                parsed = resourceid.parse(rid) if rid is not None else None
                if parsed is None:
                    if isinstance(rid, Partial):
                        unknown = rid
                    continue
                rtype, names = parsed
                if rtype == POOL:
                    lb_key = resourceid.name_key(names[0])
                    if lb_key is None:
                        unknown = rid
                    used.append((lb_key, resourceid.name_key(names[1])))
    if isinstance(nics, Unknown):
        unknown = nics
    lb_key = resourceid.name_key(t.lb_name)
    if any(lk == lb_key and pk in pools for lk, pk in used):
        return
    if unknown is not None:
        yield unverifiable(f.probe_loc, why_unknown(unknown))
        return
    yield fail(nics_loc if nics is not MISSING else f.probe_loc, key=True, lb=_display_name(t.lb_name),
               probe=_display_name(t.probe_name))


@check("probe-rate", {"properties": {"max-seconds": {"type": "integer", "minimum": 1},
                                     "default-interval": {"type": "integer"},
                                     "default-probes": {"type": "integer"}},
                      "required": ["max-seconds", "default-interval", "default-probes"]})
def probe_rate(ctx, target, options):
    """The probe must notice a sick instance quickly: intervalInSeconds x numberOfProbes under max-seconds."""
    t = probe_target(ctx, target.resource)
    if t.status != "ok":
        return
    props = ci_get(t.probe, "properties", {})
    interval = ci_get(props, "intervalInSeconds", options["default-interval"])
    count = ci_get(props, "probeThreshold", None)
    if count is None:
        count = ci_get(props, "numberOfProbes", options["default-probes"])
    for v in (interval, count):
        if isinstance(v, (Unknown, Partial)):
            yield unverifiable(t.probe_loc, why_unknown(v))
            return
    if not isinstance(interval, int) or not isinstance(count, int) or isinstance(interval, bool):
        return
    if interval * count >= options["max-seconds"]:
        k = ci_key(props, "intervalInSeconds")
        loc = loc_of(props, k) if k else t.probe_loc
        yield fail(loc, interval=interval, probes=count, seconds=interval * count, limit=options["max-seconds"],
                   probe=_display_name(t.probe_name))


@check("probe-dedicated", {"properties": {}})
def probe_dedicated(ctx, target, options):
    """Advice: the health probe should not also be the probe of a load-balancing rule."""
    t = probe_target(ctx, target.resource)
    if t.status != "ok":
        return
    rules, _ = get(t.lb.evaluated(), "properties.loadBalancingRules")
    key = resourceid.name_key(t.probe_name)
    for rule in rules if isinstance(rules, list) else []:
        pid, ploc = get(rule, "properties.probe.id")
        parsed = resourceid.parse(pid) if pid is not MISSING else None
        if parsed and parsed[0] == PROBE and resourceid.name_key(parsed[1][1]) == key:
            yield fail(facts(ctx, target.resource).probe_loc, probe=_display_name(t.probe_name),
                       rule=_display_name(ci_get(rule, "name")))
            return


@check("probe-lb-standard", {"properties": {}}, variants=("default",))
def probe_lb_standard(ctx, target, options):
    """With singlePlacementGroup false, the probe's load balancer must be Standard SKU."""
    spg, spg_loc = lookup(target.resource, "properties.singlePlacementGroup")
    if spg is MISSING:
        return
    if isinstance(spg, (Unknown, Partial)):
        yield unverifiable(spg_loc, why_unknown(spg))
        return
    if as_bool(spg) is not False:
        return
    t = probe_target(ctx, target.resource)
    if t.status == "unknown" and t.lb is None:
        yield unverifiable(facts(ctx, target.resource).probe_loc, t.why)
        return
    if t.lb is None:
        return
    sku, sku_loc = get(t.lb.evaluated(), "sku.name")
    if isinstance(sku, (Unknown, Partial)):
        yield unverifiable(sku_loc, why_unknown(sku))
        return
    if sku is MISSING or lower(sku) == "basic":
        note = ' (written as the string "false", which Azure reads as false)' if isinstance(spg, str) else ""
        yield fail(sku_loc if sku is not MISSING else own_loc(t.lb.evaluated()), key=sku is MISSING,
                   sku="Basic" if sku is MISSING else sku, lb=_display_name(t.lb_name), note=note)
