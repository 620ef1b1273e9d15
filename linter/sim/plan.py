"""``vmsslint plan``: build a template's scale sets on the simulated backend and run their rollouts.

Lint comes first: a set Azure would refuse (an error finding of any rule but expiring credentials,
which the simulation plays out as ORCH-CREDENTIALS) is reported, not simulated as if it worked.
Scenario times are relative to the start of the rollout.
"""

from __future__ import annotations

import math
import random
import re

from linter.sim.backend import DAY, HOUR, MINUTE, Backend, Conflict, Outcomes, Policy, ScaleSet, iso

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


MAX_DURATION = 365 * DAY  # the simulation's horizon: a scenario time or a pause beyond it is refused


def parse_duration(text, what="duration") -> int:
    """Seconds of '90', '30m', '2h', '1h30m', 'PT5M'; PlanError when it is not one or beyond a year."""
    if isinstance(text, bool):
        raise PlanError(f"{what} {text!r} is not a duration (write 90s, 30m, 2h or PT30M)")
    if isinstance(text, (int, float)):
        if not math.isfinite(text) or not 0 <= text <= MAX_DURATION:
            raise PlanError(f"{what} {text!r} is out of range (0 to 365 days)")
        return int(text)
    t = str(text).strip()
    if len(t) > 40:
        raise PlanError(f"{what} '{t[:40]}…' is not a duration (write 90s, 30m, 2h or PT30M)")
    if t.upper().startswith("P"):
        from linter.arm.functions import duration_seconds
        try:
            seconds = duration_seconds(t)
        except (OverflowError, ValueError):
            raise PlanError(f"{what} '{text}' is out of range (0 to 365 days)") from None
        if seconds is None:
            raise PlanError(f"{what} '{text}' is not a duration (write 90s, 30m, 2h or PT30M)")
        if not math.isfinite(seconds) or not 0 <= seconds <= MAX_DURATION:
            raise PlanError(f"{what} '{text}' is out of range (0 to 365 days)")
        return int(seconds)
    m = re.fullmatch(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?", t)
    if not t or not m:
        raise PlanError(f"{what} '{text}' is not a duration (write 90s, 30m, 2h or PT30M)")
    d, h, mi, sec = (int(x) if x else 0 for x in m.groups())
    total = d * DAY + h * HOUR + mi * MINUTE + sec
    if total > MAX_DURATION:
        raise PlanError(f"{what} '{text}' is out of range (0 to 365 days)")
    return total


class Scenario:
    """Failure injection: instances unhealthy before the start, failures, maintenance, a cancel."""

    def __init__(self, seed=0, unhealthy_before=0, fail_rate=0.0, fail_instances=(), events=(), trigger="platform",
                 instances=None):
        if isinstance(fail_rate, bool) or not isinstance(fail_rate, (int, float)) or not 0 <= fail_rate <= 1:
            raise PlanError(f"fail rate {fail_rate!r} is not a number from 0 to 1")  # nan fails both comparisons
        self.seed = seed
        self.unhealthy_before = unhealthy_before
        self.fail_rate = fail_rate
        self.fail_instances = list(fail_instances)
        self.events = sorted(events, key=lambda e: e["at"])  # {"at": seconds, "action", "count"/"instances"}
        self.trigger = trigger  # platform | user
        self.instances = instances

    def check(self, capacity):
        """PlanError naming the first instance id the scenario uses that a set of ``capacity`` lacks."""
        named = [("--fail-instances / fail-instances", i) for i in self.fail_instances]
        for n, ev in enumerate(self.events):
            named += [(f"event {n + 1} ({ev['action']} at {ev['at']}s)", i) for i in ev.get("instances", [])]
        for where, iid in named:
            if not 0 <= iid < capacity:
                raise PlanError(f"{where}: instance {iid} is not in the set (its instances are 0-{capacity - 1}; "
                                f"--instances N to simulate more)")

    @classmethod
    def from_file(cls, path, **overrides):
        data = _load_scenario(path)
        events = []
        for n, e in enumerate(data.get("events", [])):
            ev = {"at": parse_duration(e.get("at", 0), f"{path}: events.{n}.at"), "action": e["action"]}
            if "count" in e:
                ev["count"] = int(e["count"])
            if "instances" in e:
                ev["instances"] = [int(i) for i in e["instances"]]
            events.append(ev)
        kwargs = {"seed": data.get("seed", 0), "unhealthy_before": data.get("unhealthy-before", 0),
                  "fail_rate": data.get("fail-rate", 0.0), "fail_instances": data.get("fail-instances", []),
                  "events": events, "trigger": data.get("trigger", "platform"), "instances": data.get("instances")}
        kwargs.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**kwargs)
        except PlanError as exc:
            raise PlanError(f"{path}: {exc}") from None


def _load_scenario(path):
    from linter import specfile
    return specfile.load(path, "scenario.schema.json", PlanError, "a mapping (seed, events, ...)")


# --- the template's scale sets ------------------------------------------------------------------

class SetConfig:
    """What the orchestrator needs to know of one scale set of the template."""

    def __init__(self, name, capacity, capacity_known, zones, health_signal, service_fabric, policy,
                 disable_rollback, image_kind, version_latest, location, auto_upgrade, credentials_expired,
                 mode, image_ref, blockers, feed=None, assumed=None):
        self.__dict__.update(locals())
        del self.__dict__["self"]
        # feed: the gallery image version the template defines for this set's image (ORCH-CUSTOM), or None:
        # {"version", "resource", "where", "regions" (names), "reaches" (True/False/None = cannot tell),
        #  "exclude" (excludeFromLatest), "region_exclude" (excluded from latest in the set's region)}

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
        cap, cap_loc = get(ev, "sku.capacity")
        try:
            cap = as_number(cap)
        except (ValueError, OverflowError):
            raise PlanError(f"{_where(cap_loc, path)}: sku.capacity {str(cap)[:40]!r} is not a whole number "
                            f"(set '{name}')") from None
        if isinstance(cap, int) and not isinstance(cap, bool) and not 0 <= cap <= 1000:
            raise PlanError(f"{_where(cap_loc, path)}: sku.capacity {cap} is outside 0-1000, the most a scale set "
                            f"holds (set '{name}')")
        known = isinstance(cap, int) and not isinstance(cap, bool)
        zones, _ = get(ev, "zones")
        zones = [str(z) for z in zones] if isinstance(zones, list) and not any(
            isinstance(z, (Unknown, Partial)) for z in zones) else []
        rp, _ = get(ev, "properties.upgradePolicy.rollingUpgradePolicy")
        rp = rp if isinstance(rp, dict) else {}

        def num(key, default, rp=rp):
            v = as_number(ci_get(rp, key))
            return v if isinstance(v, int) and not isinstance(v, bool) else default

        pause, pause_loc = get(ev, "properties.upgradePolicy.rollingUpgradePolicy.pauseTimeBetweenBatches")
        try:
            pause_s = parse_duration(pause, "pauseTimeBetweenBatches") if isinstance(pause, str) and \
                pause.strip().upper().startswith("P") else 0
        except PlanError as exc:
            raise PlanError(f"{_where(pause_loc, path)}: {exc} (set '{name}')") from None
        policy = Policy(max_batch=num("maxBatchInstancePercent", 20), max_unhealthy=num("maxUnhealthyInstancePercent", 20),
                        max_unhealthy_upgraded=num("maxUnhealthyUpgradedInstancePercent", 20), pause=pause_s,
                        prioritize_unhealthy=as_bool(ci_get(rp, "prioritizeUnhealthyInstances")) is True,
                        cross_zone=as_bool(ci_get(rp, "enableCrossZoneUpgrade")) is True,
                        max_surge=as_bool(ci_get(rp, "maxSurge")) is True,
                        rollback_on_breach=as_bool(ci_get(rp, "rollbackFailedInstancesOnPolicyBreach")) is True)
        dis, _ = get(ev, "properties.upgradePolicy.automaticOSUpgradePolicy.disableAutomaticRollback")
        mode, _ = get(ev, "properties.upgradePolicy.mode")
        loc, _ = get(ev, "location")
        assumed = None
        if isinstance(f.probe, Unknown):  # never a guess said as a fact: the assumption is printed
            signal = "probe"
            assumed = "the template does not write the health signal, so it is simulated as a load balancer probe"
        elif f.probe is not MISSING and f.probe is not None:
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
            image_ref=image_ref, blockers=blockers,
            feed=_gallery_feed(ctx, img, loc) if f.image_kind == "gallery" else None, assumed=assumed))
    return out, report


def _where(loc, path):
    """file:line:col of a Loc (the template when it has none)."""
    if not loc:
        return path
    try:
        from linter.findings import span
        src, start, _, _ = span(loc)
        line, col = src.position(start)
        return f"{src.display}:{line}:{col}"
    except Exception:  # noqa: BLE001 - a location is a courtesy; the message stands without it
        return path


def _region_key(value):
    """A region as Azure compares them (case and spaces ignored); a canonical key for an unknown value."""
    from linter.arm.values import canon
    c = canon(value)
    return None if c is None else c.replace(" ", "").lower()


def _region_name(value):
    from linter.arm.values import Unknown, display
    if isinstance(value, str):
        return value
    key = getattr(value, "key", None) if isinstance(value, Unknown) else None
    return f"[{key}]" if key else display(value, 60)


def _gallery_feed(ctx, image, set_location):
    """ORCH-CUSTOM: the newest gallery image version the template defines for the set's image definition —
    its targetRegions, excludeFromLatest and per-region excludeFromLatest decide whether it reaches the set."""
    from linter.arm.values import canon
    from linter.checks.vmss import as_bool, get
    from linter.jsonc import ci_get
    rid = canon(ci_get(image, "id"))
    if not rid:
        return None
    low = rid.lower().rstrip("/")
    best = None
    for res in ctx.resources("microsoft.compute/galleries/images/versions"):
        name = canon(res.name)
        parts = name.split("/") if name else []
        if len(parts) != 3:
            continue
        gallery, definition, version = parts
        suffix = f"/providers/microsoft.compute/galleries/{gallery}/images/{definition}".lower()
        if not (low.endswith(suffix) or low.endswith(f"{suffix}/versions/{version.lower()}")):
            continue
        ev = res.evaluated()
        prof, prof_loc = get(ev, "properties.publishingProfile")
        prof = prof if isinstance(prof, dict) else {}
        targets = ci_get(prof, "targetRegions")
        own = _region_key(set_location)
        regions, reaches, region_exclude = [], False, False
        if isinstance(targets, list):
            for t in targets:
                rname = ci_get(t, "name") if isinstance(t, dict) else None
                regions.append(_region_name(rname))
                key = _region_key(rname)
                if key is None or own is None or (key != own and ("\x00" in key or "\x00" in own)):
                    reaches = None if reaches is False else reaches  # cannot tell
                elif key == own:
                    reaches = True
                    region_exclude = as_bool(ci_get(t, "excludeFromLatest")) is True
        else:
            reaches = True  # no targetRegions: the version is replicated to the gallery's own region only;
            # ARM requires targetRegions for a new version, so this is a template ARM would refuse anyway
            regions = ["(the gallery's region)"]
        entry = {"version": version, "resource": name, "where": _where(prof_loc or (res.raw, None), ""),
                 "regions": regions, "reaches": reaches, "region_exclude": region_exclude,
                 "exclude": as_bool(ci_get(prof, "excludeFromLatest")) is True}
        try:
            from linter.sim.backend import _vkey
            newer = best is None or _vkey(version) > _vkey(best["version"])
        except TypeError:
            newer = best is None or version > best["version"]
        if newer:
            best = entry
    return best


# --- running rollouts --------------------------------------------------------------------------------

def parse_publish(text):
    """``VERSION[@REGION,...]`` of ``--publish``: (version, [regions]) — no regions: the set's own."""
    version, _, regions = str(text).partition("@")
    version = version.strip()
    if not re.fullmatch(r"\d+(\.\d+){0,3}", version):
        raise PlanError(f"--publish {text}: the version must look like 1.2.3 (VERSION[@REGION,...])")
    names = [r.strip() for r in regions.split(",") if r.strip()] if regions else []
    if regions and not names:
        raise PlanError(f"--publish {text}: name at least one region after '@'")
    return version, names


def _publication(config, ss, publish):
    """What gets published: (version, kwargs of Backend.publish_image, a sentence for the report)."""
    if publish is not None:
        version, regions = publish
        if config.image_kind == "gallery":
            regions = regions or [ss.location]
            return version, {"gallery": True, "regions": regions}, \
                f"--publish: gallery version {version} replicated to {', '.join(regions)}"
        return version, {}, f"--publish: platform image version {version}"
    feed = config.feed
    if config.image_kind == "gallery" and feed is not None:
        why = f"gallery image version {feed['resource']} defined in the template (targetRegions " \
              f"{', '.join(feed['regions']) or 'none'}" + (", excludeFromLatest" if feed["exclude"] else "") + \
              (f", excluded from latest in {ss.location}" if feed["region_exclude"] else "") + ")"
        if feed["reaches"] is None:
            why += "; whether it reaches the set's region is not known before deployment: simulated as if it " \
                   "does (--location REGION or --publish to choose)"
        regions = [ss.location] if feed["reaches"] is not False else [r for r in feed["regions"]]
        return feed["version"], {"gallery": True, "regions": regions, "exclude_from_latest": feed["exclude"],
                                 "region_exclude": [ss.location] if feed["region_exclude"] else []}, why
    if config.image_kind == "gallery":
        return "1.0.1", {"gallery": True, "regions": [ss.location]}, \
            f"a new gallery image version 1.0.1 replicated to {ss.location}"
    return "1.0.1", {}, "a new platform image version 1.0.1"


def _initial_image(target):
    from linter.sim.backend import _vkey
    try:
        return "1.0.0" if _vkey(target) > _vkey("1.0.0") else "0.0.0"
    except TypeError:
        return "1.0.0"


def simulate(config: SetConfig, scenario: Scenario, edition="2026", seed=None, record=True, capacity=None,
             publish=None):
    """One rollout of a new image on ``config``'s set; returns the result (REST shapes included).

    ``publish`` (version, regions) overrides the image feed; otherwise a gallery image version the template
    defines for the set's image decides what is published where (ORCH-CUSTOM), else version 1.0.1."""
    seed = scenario.seed if seed is None else seed
    outcomes = Outcomes(seed=seed, fail_rate=scenario.fail_rate, fail_instances=scenario.fail_instances)
    backend = Backend(seed=seed, edition=edition, outcomes=outcomes, record=record)
    # a user-started plan is that one rollout: the platform's own trigger stays out of it
    ss = config.build(capacity or scenario.instances, auto_upgrade=scenario.trigger != "user")
    total = len(ss.instances)
    scenario.check(total)
    version, how, source = _publication(config, ss, publish)
    first = _initial_image(version)
    if first != ss.model_image:
        ss.model_image = first
        for inst in ss.instances:
            inst.image = first
    backend.add_set(ss, enabled_at=0)
    rng = random.Random(seed * 7919 + 17)
    if scenario.unhealthy_before:
        ids = sorted(rng.sample(range(total), min(scenario.unhealthy_before, total)))
        backend.set_health(ss.name, ids, False, reason="unhealthy before the upgrade")

    def started():
        for ev in scenario.events:
            backend.at(backend.now + ev["at"], _apply_event, backend, ss, ev, rng)

    backend.publish_image(version, **how)
    if not record:
        return _quick(backend, ss, scenario, started)
    refused = None
    if scenario.trigger == "user":
        try:
            backend.start_os_upgrade(ss.name, "User")
            started()
        except Conflict as exc:
            refused = {"status": exc.status, "code": exc.code, "message": exc.message}
    else:
        # ORCH-TIMING: the platform starts it; scenario events count from that moment
        backend.advance_to(backend.next_event_time() or 0)
        if ss.current is not None:
            started()
    backend.run_until_idle()
    up = ss.current
    ignored = [e for e in backend.log if e["event"] == "image-ignored"]
    status = backend.latest_status(ss.name) if up else None
    result = {
        "name": ss.name,
        "instances": total,
        "target": version,
        "published": 0,
        "publishedHow": source,
        "notStarted": None if up else (
            f"version {version} is never rolled out to this set: {ignored[0]['why']} (ORCH-CUSTOM)" if ignored
            else "no rollout started"),
        "batches": [{"instances": b["instances"], "start": iso(b["start"]), "end": iso(b["end"]),
                     "outcome": b["outcome"], "rolledBack": b["rolledBack"], "failed": b["failed"],
                     **({"replacements": {str(k): v for k, v in b["replacements"].items()}} if b["surge"] else {})}
                    for b in (up.batches if up else [])],
        "runningStatus": status["properties"]["runningStatus"] if up else None,
        "progress": status["properties"]["progress"] if up else None,
        "error": up.error if up else None,
        "stopReason": up.stop_reason if up else None,
        "history": backend.os_upgrade_history(ss.name),
        "start": up.start if up else None,
        "end": up.end if up else None,
        "rolledBack": sorted(up.rolled_back) if up else [],
        "failed": sorted(up.failed - up.rolled_back) if up else [],
        "final": {i.id: i.state for i in list(ss.instances) + ss.deleted},
        "layout": [{"id": i.id, "zone": i.zone, "updateDomain": i.update_domain, "faultDomain": i.fault_domain,
                    "replaces": i.replaces} for i in sorted(list(ss.instances) + ss.deleted, key=lambda i: i.id)],
        "instanceIds": sorted(i.id for i in ss.instances),
        "timeline": backend.log,
        "_raw_batches": up.batches if up else [],
    }
    if refused:
        result["refused"] = refused
    return result


def _quick(backend, ss, scenario, started):
    """The outcome of one run for --runs: (code, rolled back?, duration in seconds or None)."""
    if scenario.trigger == "user":
        try:
            backend.start_os_upgrade(ss.name, "User")
        except Conflict:
            return "Refused", False, None
        started()
    else:
        backend.advance_to(backend.next_event_time() or 0)
        if ss.current is not None:
            started()
    backend.run_until_idle()
    up = ss.current
    if up is None:
        return "NotStarted", False, None
    return up.code, bool(up.rolled_back), (up.end - up.start) if up.end is not None else None


def _apply_event(backend, ss, ev, rng):
    action = ev["action"]
    # maintenance picks instances that are serving (not one being upgraded: its upgrade decides its health)
    healthy_ids = [i.id for i in ss.instances if i.healthy and i.state != "upgrading"]
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


def monte_carlo(config, scenario, runs, edition="2026", capacity=None, publish=None, workers=None, progress=None):
    """N seeded rollouts (seeds seed, seed+1, ...): the odds of each outcome, of rollbacks, and the durations.

    ``workers`` processes share the runs (default: every core); the result depends only on the inputs and
    the seed, never on the number of workers.  ``progress(done, runs)`` is called as runs finish."""
    outcomes = _run_all(config, scenario, runs, edition, capacity, publish, workers, progress)
    durations = sorted(d for code, _, d in outcomes if d is not None and code in ("Completed", "Faulted", "Cancelled"))
    counts = {}
    for code, _, _ in outcomes:
        counts[code] = counts.get(code, 0) + 1

    def pct(p):
        if not durations:
            return None
        return durations[min(len(durations) - 1, max(0, math.ceil(p / 100 * len(durations)) - 1))]

    completed = counts.get("Completed", 0)
    stopped = counts.get("Faulted", 0) + counts.get("Cancelled", 0)
    return {"runs": runs, "completed": completed / runs, "stopped": stopped / runs,
            "rolledBack": sum(1 for _, rb, _ in outcomes if rb) / runs,
            "refused": (runs - completed - stopped) / runs,
            "outcomes": {k: counts[k] for k in sorted(counts)},
            "durationSeconds": {"p50": pct(50), "p90": pct(90), "p99": pct(99),
                                "min": durations[0] if durations else None,
                                "max": durations[-1] if durations else None},
            "histogram": _histogram(outcomes)}


def _histogram(outcomes, bins=30):
    """Durations of the runs that started, in equal bins of a round width starting at a multiple of it:
    {"start", "width", "counts", "byOutcome": {code: counts}} (seconds)."""
    runs = [(code, d) for code, _, d in outcomes if d is not None and code in ("Completed", "Faulted", "Cancelled")]
    if not runs:
        return {"start": 0, "width": 0, "counts": [], "byOutcome": {}}
    lo = min(d for _, d in runs)
    hi = max(d for _, d in runs)
    width = next((w for w in (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
                  if (hi // w - lo // w + 1) <= bins), 86400 * math.ceil((hi - lo + 1) / (86400 * bins)))
    start = lo // width * width
    n = (hi - start) // width + 1
    counts = [0] * n
    by = {}
    for code, d in runs:
        k = (d - start) // width
        counts[k] += 1
        by.setdefault(code, [0] * n)[k] += 1
    return {"start": start, "width": width, "counts": counts, "byOutcome": {c: by[c] for c in sorted(by)}}


def _cores():
    import os
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


_JOB = None  # the (config, scenario, edition, capacity, publish) a worker process runs


def _init_worker(job):
    global _JOB
    _JOB = job


def _run_chunk(bounds):
    config, scenario, edition, capacity, publish = _JOB
    lo, hi = bounds
    return lo, [simulate(config, scenario, edition=edition, seed=scenario.seed + k, record=False,
                         capacity=capacity, publish=publish) for k in range(lo, hi)]


def _run_all(config, scenario, runs, edition, capacity, publish, workers, progress):
    job = (config, scenario, edition, capacity, publish)
    workers = _cores() if workers is None else max(1, int(workers))
    chunk = max(1, min(250, math.ceil(runs / (workers * 4))))
    bounds = [(lo, min(runs, lo + chunk)) for lo in range(0, runs, chunk)]
    results = {}
    done = 0
    if workers == 1 or runs < 100:
        _init_worker(job)
        try:
            for b in bounds:
                lo, out = _run_chunk(b)
                results[lo] = out
                done += len(out)
                if progress:
                    progress(done, runs)
        finally:
            _init_worker(None)
    else:
        import concurrent.futures as cf
        import multiprocessing as mp
        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
        with cf.ProcessPoolExecutor(max_workers=min(workers, len(bounds)), mp_context=ctx,
                                    initializer=_init_worker, initargs=(job,)) as pool:
            for fut in cf.as_completed([pool.submit(_run_chunk, b) for b in bounds]):
                lo, out = fut.result()
                results[lo] = out
                done += len(out)
                if progress:
                    progress(done, runs)
    return [r for lo in sorted(results) for r in results[lo]]
