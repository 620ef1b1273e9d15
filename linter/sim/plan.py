"""``vmsslint plan``: build a template's scale sets on the simulated backend and run their rollouts.

Lint comes first: a set Azure would refuse (an error finding of any rule but expiring credentials,
which the simulation plays out as ORCH-CREDENTIALS) is reported, not simulated as if it worked.
Scenario times are relative to the start of the rollout.
"""

from __future__ import annotations

import math
import random
import re

from linter.sim.backend import DAY, HOUR, MINUTE, Backend, Outcomes, Policy, ScaleSet, iso

RUNTIME_CODES = {"VMSS500"}  # findings the simulation plays out instead of refusing the set
ADVICE_CODES = {"VMSS007", "VMSS008", "VMSS010"}
POLICY_CODES = {"VMSS100"}  # your policy, not Azure's: a set without the feature still deploys
# Azure deploys a set with a secret in a default or a SAS in plain settings: advice, not a refusal
NOT_REFUSED_REQS = {"REQ-CREDENTIALS", "REQ-EXTERNAL", "ORCH-CREDENTIALS"}


def azure_refuses(finding) -> bool:
    """Whether Azure itself would refuse the set for this finding (an error it rejects at deployment)."""
    if finding.severity != "error" or finding.code in RUNTIME_CODES | ADVICE_CODES | POLICY_CODES:
        return False
    return not (finding.requirements and set(finding.requirements) <= NOT_REFUSED_REQS)


class PlanError(Exception):
    pass


def parse_duration(text) -> int:
    """Seconds of '90', '30m', '2h', '1h30m', 'PT5M'."""
    if isinstance(text, (int, float)):
        return int(text)
    t = str(text).strip()
    if t.upper().startswith("P"):
        from linter.arm.functions import parse_duration as iso_duration
        d = iso_duration(t)
        if d is None:
            raise PlanError(f"'{text}' is not a duration")
        return int(d.total_seconds())
    m = re.fullmatch(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?", t)
    if not t or not m:
        raise PlanError(f"'{text}' is not a duration (write 90s, 30m, 2h or PT30M)")
    d, h, mi, s = (int(x) if x else 0 for x in m.groups())
    return d * DAY + h * HOUR + mi * MINUTE + s


class Scenario:
    """Failure injection: instances unhealthy before the start, failures, maintenance, a cancel."""

    def __init__(self, seed=0, unhealthy_before=0, fail_rate=0.0, fail_instances=(), events=(), trigger="platform",
                 instances=None):
        self.seed = seed
        self.unhealthy_before = unhealthy_before
        self.fail_rate = fail_rate
        self.fail_instances = list(fail_instances)
        self.events = sorted(events, key=lambda e: e["at"])  # {"at": seconds, "action", "count"/"instances"}
        self.trigger = trigger  # platform | user
        self.instances = instances

    @classmethod
    def from_file(cls, path, **overrides):
        data = _load_scenario(path)
        events = []
        for e in data.get("events", []):
            ev = {"at": parse_duration(e.get("at", 0)), "action": e["action"]}
            if "count" in e:
                ev["count"] = int(e["count"])
            if "instances" in e:
                ev["instances"] = [int(i) for i in e["instances"]]
            events.append(ev)
        kwargs = {"seed": data.get("seed", 0), "unhealthy_before": data.get("unhealthy-before", 0),
                  "fail_rate": data.get("fail-rate", 0.0), "fail_instances": data.get("fail-instances", []),
                  "events": events, "trigger": data.get("trigger", "platform"), "instances": data.get("instances")}
        kwargs.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**kwargs)


def _load_scenario(path):
    from linter import specfile
    return specfile.load(path, "scenario.schema.json", PlanError, "a mapping (seed, events, ...)")


# --- the template's scale sets ------------------------------------------------------------------

class SetConfig:
    """What the orchestrator needs to know of one scale set of the template."""

    def __init__(self, name, capacity, capacity_known, zones, health_signal, service_fabric, policy,
                 disable_rollback, image_kind, version_latest, location, auto_upgrade, credentials_expired,
                 mode, image_ref, blockers):
        self.__dict__.update(locals())
        del self.__dict__["self"]

    def build(self, capacity=None, auto_upgrade=True):
        return ScaleSet(self.name, capacity or self.capacity, zones=self.zones, health_signal=self.health_signal,
                        service_fabric=self.service_fabric, policy=self.policy, disable_rollback=self.disable_rollback,
                        image_kind=self.image_kind, version_latest=self.version_latest, location=self.location,
                        auto_upgrade=auto_upgrade, credentials_expired=self.credentials_expired, mode=self.mode,
                        target_image_reference=self.image_ref)


def sets_from_template(path, parameters=(), edition="2026", location=None, now=None):
    """(SetConfig list, lint report) for a template."""
    from linter.arm.template import MISSING
    from linter.arm.values import Partial, Unknown
    from linter.checks.vmss import as_bool, as_number, facts, get
    from linter.engine import Context, Engine, Report, Settings
    from linter.jsonc import ci_get
    settings = Settings(edition=edition, require_auto_upgrade=True, parameters=list(parameters),
                        location=location, now=now)
    engine = Engine(settings)
    report = Report()
    from linter import loader
    params = [loader.read(p) for p in parameters]
    dep = engine.lint_file(path, params, report)
    engine._finalize(report)
    if dep is None:
        problems = "; ".join(f"{f.file}:{f.line}:{f.column}: {f.message}" for f in report.findings) or \
            "not an ARM deployment template"
        raise PlanError(f"{path}: {problems}")
    ctx = Context(dep, settings)
    out = []
    for res in ctx.resources("microsoft.compute/virtualmachinescalesets"):
        if res.existing:
            continue
        f = facts(ctx, res)
        ev = res.evaluated()
        name = res.display_name()
        cap, _ = get(ev, "sku.capacity")
        cap = as_number(cap)
        known = isinstance(cap, int) and not isinstance(cap, bool)
        zones, _ = get(ev, "zones")
        zones = [str(z) for z in zones] if isinstance(zones, list) and not any(
            isinstance(z, (Unknown, Partial)) for z in zones) else []
        rp, _ = get(ev, "properties.upgradePolicy.rollingUpgradePolicy")
        rp = rp if isinstance(rp, dict) else {}

        def num(key, default, rp=rp):
            v = as_number(ci_get(rp, key))
            return v if isinstance(v, int) and not isinstance(v, bool) else default

        pause = ci_get(rp, "pauseTimeBetweenBatches")
        try:
            pause_s = parse_duration(pause) if isinstance(pause, str) else 0
        except PlanError:
            pause_s = 0
        policy = Policy(max_batch=num("maxBatchInstancePercent", 20), max_unhealthy=num("maxUnhealthyInstancePercent", 20),
                        max_unhealthy_upgraded=num("maxUnhealthyUpgradedInstancePercent", 20), pause=pause_s,
                        prioritize_unhealthy=as_bool(ci_get(rp, "prioritizeUnhealthyInstances")) is True,
                        cross_zone=as_bool(ci_get(rp, "enableCrossZoneUpgrade")) is True,
                        max_surge=as_bool(ci_get(rp, "maxSurge")) is True,
                        rollback_on_breach=as_bool(ci_get(rp, "rollbackFailedInstancesOnPolicyBreach")) is True)
        dis, _ = get(ev, "properties.upgradePolicy.automaticOSUpgradePolicy.disableAutomaticRollback")
        mode, _ = get(ev, "properties.upgradePolicy.mode")
        loc, _ = get(ev, "location")
        if f.probe is not MISSING and f.probe is not None:
            signal = "probe"
        elif f.health_extensions:
            signal = "extension"
        else:
            signal = "none"
        img = f.image if isinstance(f.image, dict) else {}
        version = ci_get(img, "version")
        image_ref = {k: v for k, v in img.items() if isinstance(v, str) and k.lower() != "version"}
        mine = [x for x in report.findings if res.display_name() in x.resources]
        blockers = [x for x in mine if azure_refuses(x)]
        out.append(SetConfig(
            name=name, capacity=cap if known else 10, capacity_known=known, zones=zones, health_signal=signal,
            service_fabric=bool(f.sf_extensions), policy=policy, disable_rollback=as_bool(dis) is True,
            image_kind="gallery" if f.image_kind == "gallery" else "platform",
            version_latest=f.image_kind == "gallery" or (isinstance(version, str) and version.lower() == "latest"),
            location=loc if isinstance(loc, str) else "westeurope", auto_upgrade=f.auto is True,
            credentials_expired=any(x.code == "VMSS500" for x in mine), mode=mode if isinstance(mode, str) else "Manual",
            image_ref=image_ref, blockers=blockers))
    return out, report


# --- running rollouts --------------------------------------------------------------------------------

def simulate(config: SetConfig, scenario: Scenario, edition="2026", seed=None, record=True, capacity=None):
    """One rollout of a new image on ``config``'s set; returns the result (REST shapes included)."""
    seed = scenario.seed if seed is None else seed
    outcomes = Outcomes(seed=seed, fail_rate=scenario.fail_rate, fail_instances=scenario.fail_instances)
    backend = Backend(seed=seed, edition=edition, outcomes=outcomes, record=record)
    # a user-started plan is that one rollout: the platform's own trigger stays out of it
    ss = config.build(capacity or scenario.instances, auto_upgrade=scenario.trigger != "user")
    backend.add_set(ss, enabled_at=0)
    rng = random.Random(seed * 7919 + 17)
    total = len(ss.instances)
    if scenario.unhealthy_before:
        ids = sorted(rng.sample(range(total), min(scenario.unhealthy_before, total)))
        backend.set_health(ss.name, ids, False, reason="unhealthy before the upgrade")
    state = {"started": None}

    def started():
        state["started"] = backend.now
        for ev in scenario.events:
            backend.at(backend.now + ev["at"], _apply_event, backend, ss, ev, rng)

    if config.image_kind == "gallery":
        backend.publish_image("1.0.1", gallery=True, regions=[ss.location])
    else:
        backend.publish_image("1.0.1")
    if scenario.trigger == "user":
        try:
            backend.start_os_upgrade(ss.name, "User")
        except Exception as exc:  # Conflict: refused
            return {"name": ss.name, "refused": {"status": 409, "code": getattr(exc, "code", "Conflict"),
                                                 "message": str(exc)}, "batches": [], "runningStatus": None,
                    "history": [], "instances": total, "timeline": backend.log}
        started()
    else:
        # ORCH-TIMING: the platform starts it; scenario events count from that moment
        backend.advance_to(backend._queue[0][0] if backend._queue else 0)
        if ss.current is not None:
            started()
    backend.run_until_idle()
    up = ss.current
    result = {
        "name": ss.name,
        "instances": total,
        "batches": [{"instances": b["instances"], "start": iso(b["start"]), "end": iso(b["end"]),
                     "outcome": b["outcome"], "rolledBack": b["rolledBack"], "failed": b["failed"]}
                    for b in (up.batches if up else [])],
        "runningStatus": backend.latest_status(ss.name)["properties"]["runningStatus"] if up else None,
        "progress": up.progress() if up else None,
        "error": up.error if up else None,
        "stopReason": up.stop_reason if up else None,
        "history": backend.os_upgrade_history(ss.name),
        "start": up.start if up else None,
        "end": up.end if up else None,
        "rolledBack": sorted(up.rolled_back) if up else [],
        "failed": sorted(up.failed - up.rolled_back) if up else [],
        "final": {i.id: i.state for i in ss.instances},
        "layout": [{"id": i.id, "zone": i.zone, "updateDomain": i.update_domain, "faultDomain": i.fault_domain}
                   for i in ss.instances],
        "timeline": backend.log,
        "_raw_batches": up.batches if up else [],
    }
    return result


def _apply_event(backend, ss, ev, rng):
    action = ev["action"]
    healthy_ids = [i.id for i in ss.instances if i.healthy]
    if action in ("maintenance", "unhealthy"):
        ids = ev.get("instances") or sorted(rng.sample(healthy_ids, min(ev.get("count", 1), len(healthy_ids))))
        backend.set_health(ss.name, ids, False, reason="maintenance")
    elif action == "recover":
        sick = [i.id for i in ss.instances if not i.healthy and i.state != "failed"]
        ids = ev.get("instances") or sick[:ev.get("count", len(sick))]
        backend.set_health(ss.name, ids, True, reason="recovered")
    elif action == "cancel":
        if ss.current is not None and ss.current.code == "RollingForward":
            backend.cancel(ss.name)


def monte_carlo(config, scenario, runs, edition="2026", capacity=None):
    """N seeded rollouts: the chance of completing, of stopping, of rollbacks, and duration percentiles."""
    durations = []
    completed = stopped = with_rollback = refused = 0
    for k in range(runs):
        r = simulate(config, scenario, edition=edition, seed=scenario.seed + k, record=False, capacity=capacity)
        if r.get("refused") or r["runningStatus"] is None:
            refused += 1
            continue
        code = r["runningStatus"]["code"]
        completed += code == "Completed"
        stopped += code in ("Faulted", "Cancelled")
        with_rollback += bool(r["rolledBack"])
        if r["end"] is not None:
            durations.append(r["end"] - r["start"])
    durations.sort()

    def pct(p):
        if not durations:
            return None
        return durations[min(len(durations) - 1, max(0, math.ceil(p / 100 * len(durations)) - 1))]

    return {"runs": runs, "completed": completed / runs, "stopped": stopped / runs,
            "rolledBack": with_rollback / runs, "refused": refused / runs,
            "durationSeconds": {"p50": pct(50), "p90": pct(90), "p99": pct(99),
                                "max": durations[-1] if durations else None}}

