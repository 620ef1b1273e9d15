"""A simulated Azure backend for scale-set OS image upgrades, with an explicit clock.

It behaves as Microsoft documents the orchestrator (REQUIREMENTS.md, ORCH-*); each behaviour below
names the ORCH ID it implements.  Time is whole seconds since the simulation's epoch; nothing here
reads the real clock or draws an unseeded random number, so the same inputs give the same run.

Operations, shaped like the REST API so that a REST front can serve them later:
:meth:`Backend.publish_image`, :meth:`Backend.advance`, :meth:`Backend.start_os_upgrade`
(``POST .../osRollingUpgrade``), :meth:`Backend.cancel` (``POST .../rollingUpgrades/cancel``),
:meth:`Backend.latest_status` (``GET .../rollingUpgrades/latest``), :meth:`Backend.os_upgrade_history`
(``GET .../osUpgradeHistory``), and the manual path :meth:`Backend.update_model` +
:meth:`Backend.upgrade_instances`.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random

MINUTE = 60
HOUR = 3600
DAY = 86400
HEALTH_WAIT = 5 * MINUTE          # ORCH-HEALTH-WAIT: up to 5 minutes per upgraded instance
HISTORY_KEEP = 5                  # ORCH-HISTORY: the last five upgrades...
HISTORY_WINDOW = 60 * DAY         # ...of the past two months
FIRST_ROLLOUT_MAX = 3 * HOUR      # ORCH-TIMING: the one-time delay after the feature is first turned on
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


class Conflict(Exception):
    """HTTP 409: the operation is refused in the set's current state."""

    status = 409

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class NotFound(LookupError):
    """HTTP 404: an instance id that is not in the set."""

    status = 404
    code = "NotFound"

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class Policy:
    """The rolling upgrade policy in force (ORCH-POLICY): the model's values or the 20% defaults."""

    def __init__(self, max_batch=20, max_unhealthy=20, max_unhealthy_upgraded=20, pause=0,
                 prioritize_unhealthy=False, cross_zone=False, max_surge=False, rollback_on_breach=False):
        self.max_batch = max_batch
        self.max_unhealthy = max_unhealthy
        self.max_unhealthy_upgraded = max_unhealthy_upgraded
        self.pause = pause
        self.prioritize_unhealthy = prioritize_unhealthy
        self.cross_zone = cross_zone
        self.max_surge = max_surge
        self.rollback_on_breach = rollback_on_breach

    def to_json(self):
        return {"maxBatchInstancePercent": self.max_batch, "maxUnhealthyInstancePercent": self.max_unhealthy,
                "maxUnhealthyUpgradedInstancePercent": self.max_unhealthy_upgraded,
                "pauseTimeBetweenBatches": f"PT{self.pause}S", "prioritizeUnhealthyInstances": self.prioritize_unhealthy,
                "enableCrossZoneUpgrade": self.cross_zone, "maxSurge": self.max_surge,
                "rollbackFailedInstancesOnPolicyBreach": self.rollback_on_breach}


class Instance:
    __slots__ = ("id", "zone", "fault_domain", "update_domain", "image", "healthy", "powered_on",
                 "extensions_ok", "state", "previous_image", "replaces")

    def __init__(self, iid, zone, fd, ud, image):
        self.id = iid
        self.zone = zone
        self.fault_domain = fd
        self.update_domain = ud
        self.image = image
        self.previous_image = None
        self.replaces = None  # maxSurge: the id of the old instance this one replaces
        self.healthy = True
        self.powered_on = True
        self.extensions_ok = True
        # healthy | unhealthy | upgrading | upgraded | failed | rolledBack | deleted (replaced by maxSurge)
        self.state = "healthy"

    def counts_unhealthy(self, signal):
        """Unhealthy for any reason (ORCH-PRECHECK, ORCH-RECHECK); without a signal, ORCH-HEALTH-DEFAULT."""
        if signal == "none":
            return not (self.powered_on and self.extensions_ok)
        return not self.healthy


class ScaleSet:
    """The orchestrator's view of one scale set."""

    def __init__(self, name, capacity, *, zones=(), update_domains=5, fault_domains=5, image="1.0.0",
                 image_kind="platform", version_latest=True, health_signal="probe", service_fabric=False,
                 policy=None, disable_rollback=False, location="westeurope", auto_upgrade=True,
                 credentials_expired=False, mode="Rolling", target_image_reference=None):
        self.name = name
        self.location = location
        self.zones = list(zones)
        self.health_signal = health_signal  # probe | extension | none
        self.service_fabric = service_fabric
        self.policy = policy or Policy()
        self.disable_rollback = disable_rollback
        self.image_kind = image_kind  # platform | gallery
        self.version_latest = version_latest  # imageReference.version 'latest' (or a gallery definition)
        self.auto_upgrade = auto_upgrade
        self.credentials_expired = credentials_expired
        self.mode = mode
        self.target_image_reference = target_image_reference or {}
        self.model_image = image
        # Azure spreads instances round-robin over zones, and over update/fault domains within them
        zs = self.zones or [None]
        nz = len(zs)
        self.instances = [Instance(i, zs[i % nz], (i // nz) % fault_domains, (i // nz) % update_domains, image)
                          for i in range(capacity)]
        self._index = {inst.id: inst for inst in self.instances}  # deleted (surged-out) instances stay here
        self.next_id = capacity
        self.health_epoch = 0  # bumped whenever an instance's health may have changed
        self._unhealthy = (-1, 0)  # (epoch, count) cache of unhealthy_count()
        self.deleted = []  # instances removed by a maxSurge upgrade, in order
        self.enabled_at = None
        self.first_rollout_done = False
        self.history = []
        self.current = None

    def by_id(self, iid):
        """The instance with this id (also one a maxSurge upgrade has since deleted); KeyError if none."""
        return self._index[iid]

    def has(self, iid) -> bool:
        """Whether an instance with this id is in the set now."""
        inst = self._index.get(iid)
        return inst is not None and inst.state != "deleted"

    def check_ids(self, ids):
        """Raise NotFound naming the first id that is not an instance of the set now."""
        for iid in ids:
            if isinstance(iid, bool) or not isinstance(iid, int) or not self.has(iid):
                raise NotFound(f"instance {iid!r} is not in scale set '{self.name}' "
                               f"(its instance ids: {_id_ranges([i.id for i in self.instances])})")

    def create_instance(self, like, image):
        """A new instance (a new id) in the same zone and update/fault domain as ``like`` (ORCH-POLICY maxSurge)."""
        inst = Instance(self.next_id, like.zone, like.fault_domain, like.update_domain, image)
        self.next_id += 1
        self.instances.append(inst)
        self._index[inst.id] = inst
        return inst

    def unhealthy_count(self) -> int:
        """Instances unhealthy for any reason now (ORCH-PRECHECK, ORCH-RECHECK), cached per health change."""
        if self._unhealthy[0] != self.health_epoch:
            signal = self.health_signal
            self._unhealthy = (self.health_epoch, sum(1 for i in self.instances if i.counts_unhealthy(signal)))
        return self._unhealthy[1]

    def delete_instance(self, inst):
        self.health_epoch += 1
        inst.state = "deleted"
        self.instances.remove(inst)
        self.deleted.append(inst)


class Outcomes:
    """How instances behave when upgraded: the scenario's failure injection (seeded)."""

    def __init__(self, seed=0, fail_rate=0.0, fail_instances=(), boot_seconds=2 * MINUTE, disk_seconds=3 * MINUTE,
                 rollback_seconds=3 * MINUTE):
        self.rng = random.Random(seed)
        self.fail_rate = fail_rate
        self.fail_instances = set(fail_instances)
        self.boot_seconds = boot_seconds
        self.disk_seconds = disk_seconds
        self.rollback_seconds = rollback_seconds

    def healthy_after_upgrade(self, inst) -> bool:
        if inst.id in self.fail_instances:
            return False
        return not (self.fail_rate > 0 and self.rng.random() < self.fail_rate)


class Upgrade:
    """One rolling OS upgrade of a set (a ``rollingUpgrades`` resource while it runs)."""

    def __init__(self, ss, target, started_by, start, manual):
        self.set = ss
        self.target = target
        self.started_by = started_by  # Platform | User
        self.manual = manual  # ORCH-MANUAL-TRIGGER: a user-started upgrade has no automatic rollback
        self.start = start
        self.end = None
        self.code = "RollingForward"
        self.error = None
        self.batches = []  # {"index", "instances", "start", "end", "outcome", ...}
        self.attempted = set()
        self.failed = set()
        self.rolled_back = set()
        self.rollback_failed = set()
        self.in_progress = set()
        self.cancel_requested = False
        self.stop_reason = None
        self.last_action = "Start"
        self.last_action_time = start
        self.surged = {}  # maxSurge: old instance id -> the id of the new instance created for it

    def progress(self):
        """The four counts always add up to the instances in the set now (surge instances included while
        they exist): an instance being upgraded is in progress only; a failed or rolled back one is failed;
        one on the target image is successful; the rest are pending (a surged-out old instance stays pending
        until its replacement is healthy)."""
        ok = bad = busy = pending = 0
        for inst in self.set.instances:
            if inst.id in self.in_progress:
                busy += 1
            elif inst.id in self.failed:
                bad += 1
            elif inst.image == self.target:
                ok += 1
            else:
                pending += 1
        return {"successfulInstanceCount": ok, "failedInstanceCount": bad,
                "inProgressInstanceCount": busy, "pendingInstanceCount": pending}


class Backend:
    """The simulated platform: sets, an image feed and the orchestrator, driven by an explicit clock."""

    def __init__(self, seed=0, edition="2026", outcomes=None, record=True):
        self.now = 0
        self.edition = edition
        self.rng = random.Random(seed)
        self.outcomes = outcomes or Outcomes(seed)
        self.record = record
        self.sets: dict = {}
        self.platform_versions: list = []  # (time, version)
        self.gallery_versions: list = []   # {"version", "regions", "exclude", "time", "region_exclude"}
        self._queue: list = []
        self._seq = 0
        self.log: list = []  # (time, set, event, detail)

    # -- clock and events ------------------------------------------------------------------------
    def at(self, time, fn, *args):
        heapq.heappush(self._queue, (time, self._seq, fn, args))
        self._seq += 1

    def advance(self, seconds):
        """Move the clock forward, running everything that falls due."""
        self.advance_to(self.now + seconds)

    def next_event_time(self):
        """When the next scheduled event happens (simulated seconds), or None when nothing is scheduled."""
        return self._queue[0][0] if self._queue else None

    def begin_upgrade(self, ss, target, started_by, manual=False):
        """Start rolling ``ss`` to ``target`` now (a model change in Rolling mode, a user's upgrade)."""
        return self._begin(ss, target, started_by, manual)

    def advance_to(self, time):
        while self._queue and self._queue[0][0] <= time:
            t, _, fn, args = heapq.heappop(self._queue)
            self.now = max(self.now, t)
            fn(*args)
        self.now = max(self.now, time)

    def run_until_idle(self, limit=400 * DAY):
        while self._queue and self._queue[0][0] <= self.now + limit:
            self.advance_to(self._queue[0][0])

    def note(self, ss, event, **detail):
        if self.record:
            self.log.append({"time": self.now, "set": ss.name, "event": event, **detail})

    # -- sets and images --------------------------------------------------------------------------
    def add_set(self, ss: ScaleSet, enabled_at=None):
        self.sets[ss.name] = ss
        if ss.auto_upgrade:
            ss.enabled_at = self.now if enabled_at is None else enabled_at
        return ss

    def latest_version(self, ss):
        """The version automatic upgrades roll out now: the newest platform version, or for a gallery
        image the newest version replicated to the set's region and not excluded from latest (ORCH-CUSTOM)."""
        if ss.image_kind == "gallery":
            ok = [g for g in self.gallery_versions if g["time"] <= self.now
                  and ss.location.lower() in g["regions"] and not g["exclude"]
                  and ss.location.lower() not in g["region_exclude"]]
            return max(ok, key=lambda g: _vkey(g["version"]))["version"] if ok else None
        ok = [v for t, v in self.platform_versions if t <= self.now]
        return max(ok, key=_vkey) if ok else None

    def publish_image(self, version, *, gallery=False, regions=(), exclude_from_latest=False,
                      region_exclude=()):
        """A new image version appears; sets with automatic upgrade on pick it up (ORCH-TIMING)."""
        if gallery:
            self.gallery_versions.append({"version": version, "regions": [r.lower() for r in regions],
                                          "exclude": exclude_from_latest, "time": self.now,
                                          "region_exclude": [r.lower() for r in region_exclude]})
        else:
            self.platform_versions.append((self.now, version))
        for ss in self.sets.values():
            if not ss.auto_upgrade:
                continue
            if ss.image_kind != ("gallery" if gallery else "platform"):
                continue
            if self.latest_version(ss) != version:
                self.note(ss, "image-ignored", version=version,
                          why="not replicated to the set's region or excluded from latest")  # ORCH-CUSTOM
                continue
            self.at(self.now + self.trigger_delay(ss), self._platform_trigger, ss.name)

    def trigger_delay(self, ss) -> int:
        """ORCH-TIMING: the first rollout may come up to 3 hours after the feature is first turned on (a
        one-time delay per set); later rollouts start within 30-60 minutes of a new image.

        Choices (docs/simulator.md): every 2020 and 2026 text from June 2020 on says 3 hours, only the
        2020-04 text says 2, so both editions use 3 hours.  The platform never starts within 30 minutes of
        a new image, so the first rollout is drawn uniformly from [max(enabled + 30m, now + 30m), enabled +
        3h]; when that window has passed (the image came late), from the later rollouts' 30-60 minutes.
        No draw is clamped onto the 30-minute floor."""
        if not ss.first_rollout_done:
            enabled = ss.enabled_at or 0
            lo = max(enabled, self.now) + 30 * MINUTE
            hi = enabled + FIRST_ROLLOUT_MAX
            if hi >= lo:
                return self.rng.randint(lo, hi) - self.now
        return self.rng.randint(30 * MINUTE, 60 * MINUTE)

    def _platform_trigger(self, name):
        ss = self.sets.get(name)
        if ss is None or not ss.auto_upgrade:  # ORCH-TIMING: turned off since the trigger was scheduled
            return
        if ss.current is not None and ss.current.code == "RollingForward":
            return
        target = self.latest_version(ss)
        if target is None or all(i.image == target for i in ss.instances):
            return
        ss.first_rollout_done = True
        self._begin(ss, target, "Platform", manual=False, status=False)

    # -- operations -----------------------------------------------------------------------------
    def start_os_upgrade(self, name, started_by="User"):
        """POST osRollingUpgrade. ORCH-MANUAL-TRIGGER: every instance goes to the latest image, with no
        automatic rollback; refused (409) when no instance uses version 'latest'."""
        ss = self.sets[name]
        if not ss.version_latest:
            raise Conflict("OperationNotAllowed",
                           "OS rolling upgrade requires an image reference with version 'latest' (or a gallery "
                           "image definition); no instance of this set uses one")
        if ss.current is not None and ss.current.code == "RollingForward":
            raise Conflict("RollingUpgradeInProgress", "a rolling upgrade is already in progress")
        target = self.latest_version(ss)
        if target is None:
            raise Conflict("OperationNotAllowed", "no image version is available to this set: none published, "
                                                  "or (gallery) none replicated to its region and not excluded "
                                                  "from latest")
        return self._begin(ss, target, started_by, manual=started_by == "User")

    def cancel(self, name):
        """POST rollingUpgrades/cancel: no new batch starts; the running one finishes."""
        ss = self.sets[name]
        if ss.current is None or ss.current.code != "RollingForward":
            raise Conflict("NoRollingUpgradeInProgress", "there is no rolling upgrade to cancel")
        ss.current.cancel_requested = True
        ss.current.last_action = "Cancel"
        ss.current.last_action_time = self.now
        self.note(ss, "cancel-requested")

    def set_health(self, name, instance_ids, healthy, reason="maintenance"):
        """Concurrent planned or unplanned maintenance (or a recovery) changes instances' health."""
        ss = self.sets[name]
        ss.check_ids(instance_ids)
        ss.health_epoch += 1
        for iid in instance_ids:
            inst = ss.by_id(iid)
            inst.healthy = healthy
            if reason == "power":
                inst.powered_on = healthy
            if inst.state in ("healthy", "unhealthy"):
                inst.state = "healthy" if healthy else "unhealthy"
        self.note(ss, "health-change", instances=list(instance_ids), healthy=healthy, reason=reason)

    def latest_status(self, name):
        """GET rollingUpgrades/latest, in its REST shape."""
        ss = self.sets[name]
        up = ss.current
        if up is None:
            return None
        body = {"policy": ss.policy.to_json(),
                "runningStatus": {"code": up.code, "startTime": iso(up.start),
                                  "lastAction": up.last_action, "lastActionTime": iso(up.last_action_time)},
                "progress": up.progress()}
        if up.error:
            body["error"] = up.error
        return {"type": "Microsoft.Compute/virtualMachineScaleSets/rollingUpgrades", "location": ss.location,
                "properties": body}

    def os_upgrade_history(self, name):
        """GET osUpgradeHistory: the last five upgrades of the past two months, newest first (ORCH-HISTORY)."""
        ss = self.sets[name]
        keep = [h for h in ss.history if self.now - h["_start"] <= HISTORY_WINDOW][-HISTORY_KEEP:]
        return [{k: v for k, v in h.items() if not k.startswith("_")} for h in reversed(keep)]

    # -- the 2016 manual path (ORCH-MANUAL-MODEL) ----------------------------------------------------
    def update_model(self, name, version):
        """Change the model's image version (get model, change version, update the model)."""
        ss = self.sets[name]
        ss.model_image = version
        self.note(ss, "model-updated", version=version)

    def upgrade_instances(self, name, instance_ids=None, update_domain=None):
        """Bring instances to the model, one at a time or one update domain at a time (manualUpgrade)."""
        ss = self.sets[name]
        if update_domain is not None:
            ids = [i.id for i in ss.instances if i.update_domain == update_domain]
        else:
            ids = list(instance_ids or [])
            ss.check_ids(ids)
        t = self.now
        for iid in ids:
            inst = ss.by_id(iid)
            inst.previous_image, inst.image = inst.image, ss.model_image
            t += self.outcomes.disk_seconds
        self.note(ss, "manual-upgrade", instances=ids, version=ss.model_image)
        self.now = max(self.now, t)
        return ids

    # -- the orchestrator -----------------------------------------------------------------------------
    def _begin(self, ss, target, started_by, manual, status=True):
        up = Upgrade(ss, target, started_by, self.now, manual)
        ss.current = up
        total = len(ss.instances)
        unhealthy = ss.unhealthy_count()
        # ORCH-PRECHECK: no more than maxUnhealthyInstancePercent of all instances may be unhealthy
        if total and unhealthy * 100 > ss.policy.max_unhealthy * total:
            up.code = "Faulted"
            up.end = self.now
            up.stop_reason = "precheck"
            up.error = {"code": "MaxUnhealthyInstancePercentExceededBeforeRollingUpgrade",
                        "message": f"{unhealthy} of {total} instances are unhealthy before the upgrade; the policy "
                                   f"allows {ss.policy.max_unhealthy}%"}
            self.note(ss, "precheck-failed", unhealthy=unhealthy, total=total)
            self._finish(up)
            return self.latest_status(ss.name) if status else None
        self.note(ss, "upgrade-started", target=target, startedBy=started_by)
        up.plan = self._plan_batches(ss, target)
        up.next_batch = 0
        self.at(self.now, self._batch_start, up)
        return self.latest_status(ss.name) if status else None

    def batch_size(self, ss):
        """ORCH-BATCH: at most maxBatchInstancePercent of the total, at least one; 2026: sets of five or
        fewer go one instance per batch."""
        total = len(ss.instances)
        if self.edition >= "2026" and total <= 5:
            return 1
        return max(1, math.floor(total * ss.policy.max_batch / 100))

    def _plan_batches(self, ss, target):
        """The batches, in order. ORCH-COMPLETE: instances already on the target are untouched.
        ORCH-SF-UD: Service Fabric goes one update domain at a time. ORCH-ZONES: zones never share a
        batch unless enableCrossZoneUpgrade, and batches stay within update domains.
        ORCH-POLICY: prioritizeUnhealthyInstances puts unhealthy instances first."""
        todo = [i for i in ss.instances if i.image != target]
        groups: dict = {}
        for inst in todo:
            if ss.service_fabric:
                key = (inst.update_domain,)
            else:
                zone = None if ss.policy.cross_zone else inst.zone
                key = (zone or "", inst.update_domain)
            groups.setdefault(key, []).append(inst)
        size = self.batch_size(ss)
        batches = []
        order = sorted(groups)
        if ss.policy.prioritize_unhealthy:
            order.sort(key=lambda k: -sum(1 for i in groups[k] if i.counts_unhealthy(ss.health_signal)))
        for key in order:
            members = groups[key]
            if ss.policy.prioritize_unhealthy:
                members = sorted(members, key=lambda i: (not i.counts_unhealthy(ss.health_signal), i.id))
            if ss.service_fabric:
                batches.append([i.id for i in members])
                continue
            for k in range(0, len(members), size):
                batches.append([i.id for i in members[k:k + size]])
        return batches

    def _unhealthy_share_exceeded(self, ss):
        total = len(ss.instances)
        unhealthy = ss.unhealthy_count()
        if unhealthy * 100 > ss.policy.max_unhealthy * total:
            return {"code": "MaxUnhealthyInstancePercentExceededInRollingUpgrade",
                    "message": f"{unhealthy} of {total} instances are unhealthy; the policy allows "
                               f"{ss.policy.max_unhealthy}%"}
        return None

    def _batch_start(self, up):
        ss = up.set
        if up.code != "RollingForward":
            return
        if up.cancel_requested:
            return self._stop(up, "Cancelled", None, "cancelled")
        if up.next_batch >= len(up.plan):
            return self._complete(up)
        if up.next_batch > 0:
            # ORCH-RECHECK: the whole set again before every batch (maintenance during the pause counts;
            # what happened during the batch was already checked at its end)
            error = self._unhealthy_share_exceeded(ss)
            if error:
                return self._stop(up, "Faulted", error, "recheck")
        index_of, target = ss._index, up.target
        ids = [i for i in up.plan[up.next_batch]
               if (inst := index_of.get(i)) is not None and inst.state != "deleted" and inst.image != target]
        index = up.next_batch
        up.next_batch += 1
        if not ids:
            return self._batch_start(up)
        surge = ss.policy.max_surge
        batch = {"index": index, "instances": ids, "start": self.now, "end": None, "outcome": None,
                 "rolledBack": [], "failed": [], "surge": surge, "done": {}, "replacements": {}}
        up.batches.append(batch)
        self.note(ss, "batch-started", batch=index, instances=ids)
        end = self.now
        first_batch = index == 0
        finals: dict = {}
        o = self.outcomes
        if not surge and not (ss.credentials_expired and first_batch) and \
                type(o).healthy_after_upgrade is Outcomes.healthy_after_upgrade:
            finals = self._upgrade_batch_in_place(up, batch, ids)
            end = max([end, *finals])
            ids = ()  # done above, the same as _upgrade_instance one by one, faster for --runs
        for iid in ids:
            inst = ss.by_id(iid)
            up.attempted.add(iid)
            if surge:
                done, action, target = self._surge_instance(up, batch, inst, first_batch)
            else:
                done, action = self._upgrade_instance(up, batch, inst, first_batch)
                target = inst
            up.in_progress.add(target.id)
            batch["done"][iid] = done
            finals.setdefault(done, []).append((iid, target, action))
            end = max(end, done)
        for t in sorted(finals):
            self.at(t, self._instances_done, up, batch, finals[t])
        self.at(end, self._batch_end, up, batch)

    def _upgrade_batch_in_place(self, up, batch, ids):
        """:meth:`_upgrade_instance` for a whole batch (same outcomes, same random draws, same times)."""
        ss, o = up.set, self.outcomes
        index_of, target = ss._index, up.target
        t = self.now + o.disk_seconds
        if ss.health_signal == "none":
            ok_t, bad_t, bad = t, t, "failed-extensions"  # ORCH-HEALTH-DEFAULT
        elif ss.disable_rollback or up.manual:
            ok_t, bad_t, bad = t + o.boot_seconds, t + HEALTH_WAIT, "failed"  # ORCH-HEALTH-WAIT
        else:
            ok_t, bad_t, bad = t + o.boot_seconds, t + HEALTH_WAIT + o.rollback_seconds, "rolledBack"
        failing, rate, draw = o.fail_instances, o.fail_rate, o.rng.random
        good, sick = [], []
        for iid in ids:
            inst = index_of[iid]
            inst.previous_image = inst.image
            inst.image = target  # ORCH-REPLACE
            inst.state = "upgrading"
            if iid in failing or (rate > 0 and draw() < rate):
                sick.append((iid, inst, bad))
            else:
                good.append((iid, inst, "healthy"))
        up.attempted.update(ids)
        up.in_progress.update(ids)
        done = batch["done"]
        for iid in ids:
            done[iid] = ok_t
        for iid, _, _ in sick:
            done[iid] = bad_t
        finals = {}
        if good:
            finals[ok_t] = good
        if sick:
            finals.setdefault(bad_t, []).extend(sick)
        return finals

    def _upgrade_instance(self, up, batch, inst, first_batch):
        """Upgrade one instance of a batch in place; returns (when it is done, how it ends)."""
        ss, o = up.set, self.outcomes
        # ORCH-REPLACE: a new OS disk from the target image; model extensions and settings applied,
        # data disks kept. The instance is down (in progress) until it is done.
        inst.previous_image, inst.image = inst.image, up.target
        inst.state = "upgrading"
        t = self.now + o.disk_seconds
        if ss.credentials_expired and first_batch:
            # ORCH-CREDENTIALS: expired credentials fail the upgrade; the first batch is left failed
            return t, "failed-credentials"
        ok = o.healthy_after_upgrade(inst)
        if ss.health_signal == "none":
            # ORCH-HEALTH-DEFAULT: healthy when powered on and every extension provisioned
            return t, ("healthy" if ok else "failed-extensions")
        # ORCH-HEALTH-WAIT: up to 5 minutes for the probe or extension to report healthy
        if ok:
            return t + o.boot_seconds, "healthy"
        t += HEALTH_WAIT
        if ss.disable_rollback or up.manual:
            return t, "failed"  # kept on the new, failing disk
        return t + o.rollback_seconds, "rolledBack"  # its previous OS disk back

    def _surge_instance(self, up, batch, old, first_batch):
        """ORCH-POLICY maxSurge (Microsoft's "Rolling upgrades with MaxSurge"): a new instance (a new id) is
        created on the target image while the old one keeps serving; once the batch's new instances are
        created and healthy, the old ones are deleted. No instance is down for its upgrade.
        Returns (when the new instance is done, how it ends, the new instance)."""
        ss, o = up.set, self.outcomes
        new = ss.create_instance(old, up.target)
        new.previous_image = old.image
        new.replaces = old.id
        new.state = "upgrading"
        up.surged[old.id] = new.id
        batch["replacements"][old.id] = new.id
        self.note(ss, "instance-created", instance=new.id, replaces=old.id)
        t = self.now + o.disk_seconds
        if ss.credentials_expired and first_batch:
            return t, "failed-credentials", new  # ORCH-CREDENTIALS
        ok = o.healthy_after_upgrade(old)  # failure injection names the instance being upgraded
        if ss.health_signal == "none":
            return t, ("healthy" if ok else "failed-extensions"), new  # ORCH-HEALTH-DEFAULT
        if ok:
            return t + o.boot_seconds, "healthy", new
        t += HEALTH_WAIT  # ORCH-HEALTH-WAIT
        if ss.disable_rollback or up.manual:
            return t, "failed", new  # the failing new instance is kept; the old one goes
        return t, "rolledBack", new  # the failing new instance is deleted; the old one stays

    def _instances_done(self, up, batch, items):
        """Instances of a batch reach their end state (healthy, failed or rolled back) at this moment."""
        ss = up.set
        for iid, inst, action in items:
            up.in_progress.discard(inst.id)
            surge = inst.id != iid
            if action == "healthy" and inst.healthy and inst.extensions_ok:
                inst.state = "upgraded"
                continue
            if not (action == "rolledBack" and inst.healthy):  # a rollback leaves a healthy instance healthy
                ss.health_epoch += 1
            if action == "healthy":
                inst.healthy = True
                inst.state = "upgraded"
                continue
            up.failed.add(iid if surge and action == "rolledBack" else inst.id)
            if action == "rolledBack":
                if surge:
                    ss.delete_instance(inst)
                    self.note(ss, "instance-deleted", instance=inst.id, why="unhealthy after its creation")
                    old = ss.by_id(iid)
                    old.state = "rolledBack"
                else:
                    inst.image, inst.previous_image = inst.previous_image, inst.image
                    inst.healthy = True
                    inst.state = "rolledBack"
                up.rolled_back.add(iid)
                batch["rolledBack"].append(iid)
                continue
            if action in ("failed-credentials", "failed-extensions"):
                inst.extensions_ok = False
            inst.healthy = False
            inst.state = "failed"
            batch["failed"].append(inst.id)

    def _batch_end(self, up, batch):
        ss = up.set
        batch["end"] = self.now
        if batch["surge"]:
            # maxSurge: the new instances are created; the old ones they replace are deleted now
            for old_id, new_id in batch["replacements"].items():
                new = ss.by_id(new_id)
                if new.state != "deleted":
                    old = ss.by_id(old_id)
                    ss.delete_instance(old)
                    self.note(ss, "instance-deleted", instance=old_id, replacedBy=new_id)
        batch["rolledBack"].sort()
        batch["failed"].sort()
        bad = len(batch["failed"]) + len(batch["rolledBack"])
        batch["outcome"] = "Succeeded" if not bad else (
            "Failed" if bad == len(batch["instances"]) else "PartiallyFailed")
        self.note(ss, "batch-finished", batch=batch["index"], outcome=batch["outcome"],
                  rolledBack=batch["rolledBack"], failed=batch["failed"])
        # ORCH-STOP-UPGRADED: stop once more than maxUnhealthyUpgradedInstancePercent of upgraded instances
        # are unhealthy (rolled back instances failed their upgrade too)
        attempted = len(up.attempted)
        if attempted and len(up.failed) * 100 > ss.policy.max_unhealthy_upgraded * attempted:
            return self._stop(up, "Faulted", {
                "code": "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade",
                "message": f"{len(up.failed)} of {attempted} upgraded instances are unhealthy; the policy allows "
                           f"{ss.policy.max_unhealthy_upgraded}%"}, "upgraded-unhealthy")
        if up.next_batch < len(up.plan):
            # ORCH-RECHECK: more than maxUnhealthyInstancePercent unhealthy (concurrent maintenance during this
            # batch) stops the rollout at the end of the current batch, not after the following pause
            error = self._unhealthy_share_exceeded(ss)
            if error:
                return self._stop(up, "Faulted", error, "recheck")
        if up.cancel_requested:
            return self._stop(up, "Cancelled", None, "cancelled")
        self.at(self.now + ss.policy.pause, self._batch_start, up)  # ORCH-POLICY: pauseTimeBetweenBatches

    def _stop(self, up, code, error, reason):
        ss = up.set
        up.code = code
        up.error = error
        up.end = self.now
        up.stop_reason = reason
        ss.health_epoch += 1
        if code == "Faulted" and ss.policy.rollback_on_breach:
            # ORCH-POLICY: rollbackFailedInstancesOnPolicyBreach restores the previous model on failed instances
            for iid in sorted(up.failed - up.rolled_back):
                inst = ss.by_id(iid)
                if inst.previous_image is not None:
                    inst.image, inst.previous_image = inst.previous_image, inst.image
                    inst.state = "rolledBack"
                    inst.healthy = True
                    up.rolled_back.add(iid)
        self.note(ss, "upgrade-stopped", code=code, reason=reason)
        self._finish(up)

    def _complete(self, up):
        up.code = "Completed"
        up.end = self.now
        up.stop_reason = "completed"
        self.note(up.set, "upgrade-completed")
        self._finish(up)

    def _finish(self, up):
        ss = up.set
        entry = {
            "properties": {
                "runningStatus": {"code": up.code, "startTime": iso(up.start), "endTime": iso(up.end)},
                "progress": up.progress(),
                "startedBy": up.started_by,
                "targetImageReference": dict(ss.target_image_reference, version=up.target),
                "rollbackInfo": {"successfullyRolledbackInstanceCount": len(up.rolled_back),
                                 "failedRolledbackInstanceCount": len(up.rollback_failed)},
            },
            "type": "Microsoft.Compute/virtualMachineScaleSets/rollingUpgrades",
            "location": ss.location,
            "_start": up.start,
        }
        if up.error:
            entry["properties"]["error"] = up.error
        ss.history.append(entry)
        del ss.history[:-HISTORY_KEEP * 4]  # bounded memory; the REST view applies ORCH-HISTORY


def _id_ranges(ids) -> str:
    ids = sorted(ids)
    if not ids:
        return "none"
    out, start, prev = [], ids[0], ids[0]
    for i in ids[1:] + [None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if i is not None:
            start = prev = i
    return ",".join(out)


def _vkey(version: str):
    return tuple(int(p) if p.isdigit() else p for p in version.replace("-", ".").split("."))


def iso(seconds) -> str | None:
    if seconds is None:
        return None
    return (EPOCH + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
