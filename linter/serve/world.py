"""The simulated subscription behind ``vmsslint serve``: Backend, a clock that follows the wall clock
(``--speed``), long-running operations, injected faults and atomic persistence.

Everything here runs under :attr:`World.lock`; the REST layer calls :meth:`World.sync` first, which moves
simulated time on by the wall time elapsed times the speed and then reconciles what the backend does not
model itself (failed rollbacks, model generations).
"""

from __future__ import annotations

import os
import pickle
import re
import threading
import time

from linter.sim.backend import MINUTE, Backend, Conflict, NotFound, Outcomes, ScaleSet, iso

STATE_FILE = "state.pickle"
STATE_MAGIC = "vmsslint-serve-state/1"
VERSION_RE = re.compile(r"^\d+(\.\d+){1,3}$")


class ApiError(Exception):
    """An ARM error: ``{"error": {"code", "message"}}`` with an HTTP status."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class ServeOutcomes(Outcomes):
    """Outcomes with faults per instance object (the backend's ids repeat across scale sets)."""

    def __init__(self, seed=0):
        super().__init__(seed=seed)
        self.fail_objects = set()

    def healthy_after_upgrade(self, inst) -> bool:
        if inst in self.fail_objects:
            return False
        return super().healthy_after_upgrade(inst)


class ServeBackend(Backend):
    """The orchestrator serve runs (the simulator's own Backend; a subclass so state files name it)."""


class SetMeta:
    """What the REST view of a set needs beyond the orchestrator's ScaleSet."""

    def __init__(self, name, version_text, gallery_id=None, tags=None, sku_name="Standard_D2s_v5"):
        self.name = name
        self.version_text = version_text  # 'latest' or a pinned version, as the model says
        self.gallery_id = gallery_id
        self.tags = dict(tags or {})
        self.sku_name = sku_name
        self.model_gen = 0
        self.inst_gen: dict = {}  # instance id -> model generation it runs
        self.rolling_model = None  # (generation, Upgrade) while a model change rolls
        self.rollback_fails: set = set()  # instance ids whose rollback fails
        self.faults: list = []  # what /vmsslint/faults was told, for the state view
        self.cancel_time: dict = {}  # Upgrade start -> simulated time of the cancel request


class World:
    def __init__(self, subscription, resource_group, speed=600.0, edition="2026", tenant=None):
        self.subscription = subscription
        self.resource_group = resource_group
        self.tenant = tenant or "00000000-0000-0000-0000-000000000001"
        self.speed = float(speed)
        self.backend = ServeBackend(seed=0, edition=edition, outcomes=ServeOutcomes(0))
        self.meta: dict = {}
        self.ops: dict = {}
        self.op_seq = 0
        self.images = {"platform": [], "gallery": []}  # what the control API published, as given
        self.state_dir = None
        self.lock = threading.RLock()
        self._mark = time.monotonic()
        self._frac = 0.0

    # -- persistence ---------------------------------------------------------------------------
    def __getstate__(self):
        d = dict(self.__dict__)
        for k in ("lock", "_mark", "_frac", "state_dir"):
            d.pop(k, None)
        return d

    def __setstate__(self, d):
        self.__dict__.update(d)
        self.lock = threading.RLock()
        self._mark = time.monotonic()
        self._frac = 0.0
        self.state_dir = None

    def save(self):
        """Write the whole simulation to STATE_FILE atomically (a temporary file, fsync, rename)."""
        if not self.state_dir:
            return
        with self.lock:
            data = pickle.dumps((STATE_MAGIC, self), protocol=pickle.HIGHEST_PROTOCOL)
        path = os.path.join(self.state_dir, STATE_FILE)
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    @staticmethod
    def load(state_dir):
        """The saved World, or None when the directory holds none; ValueError when it is unreadable."""
        path = os.path.join(state_dir, STATE_FILE)
        if not os.path.exists(path):
            return None
        try:
            with open(path, "rb") as fh:
                magic, world = pickle.load(fh)  # noqa: S301 - the user's own state directory
        except Exception as exc:  # a truncated or foreign file
            raise ValueError(f"{path}: not a vmsslint serve state file ({type(exc).__name__})") from None
        if magic != STATE_MAGIC or not isinstance(world, World):
            raise ValueError(f"{path}: not a vmsslint serve state file of this version")
        world.state_dir = state_dir
        return world

    # -- clock ---------------------------------------------------------------------------------
    @property
    def now(self):
        return self.backend.now

    def sync(self):
        """Move simulated time on by the wall time since the last call, times the speed."""
        t = time.monotonic()
        if self.speed > 0:
            self._frac += (t - self._mark) * self.speed
            whole = int(self._frac)
            if whole:
                self._frac -= whole
                self._run_to(self.backend.now + whole)
        self._mark = t
        self.reconcile()

    def advance(self, seconds):
        self.sync()
        self._run_to(self.backend.now + int(seconds))

    def _run_to(self, target):
        """Event by event, reconciling after each, so that a failed rollback counts before the next batch."""
        while True:
            at = self.backend.next_event_time()
            if at is None or at > target:
                break
            self.backend.advance_to(at)
            self.reconcile()
        self.backend.advance_to(target)
        self.reconcile()

    def run_until_idle(self):
        self.sync()
        # the backend's queue may hold far-future events (maintenance recoveries); run them all
        for _ in range(100000):
            at = self.backend.next_event_time()
            if at is None:
                break
            self.backend.advance_to(at)
            self.reconcile()
        self.reconcile()

    def reconcile(self):
        """What the backend leaves to the REST layer: failed rollbacks and model generations."""
        for name, ss in self.backend.sets.items():
            meta = self.meta[name]
            up = ss.current
            if up is None:
                continue
            bad = (meta.rollback_fails & up.rolled_back) - up.rollback_failed
            for iid in sorted(bad):
                inst = ss.by_id(iid)
                # the rollback failed: the instance stays on the new, unhealthy OS disk
                if inst.image != up.target:
                    inst.previous_image, inst.image = inst.image, up.target
                inst.healthy = False
                inst.state = "failed"
                ss.health_epoch += 1  # the set's unhealthy count (ORCH-RECHECK) must see it
                up.rollback_failed.add(iid)
                self.backend.note(ss, "rollback-failed", instance=iid)
            if meta.rolling_model and meta.rolling_model[1] is up:
                gen = meta.rolling_model[0]
                for inst in ss.instances:
                    if inst.image == up.target and inst.state != "failed":
                        meta.inst_gen[inst.id] = gen
                if up.code != "RollingForward":
                    meta.rolling_model = None
            if up.code != "RollingForward":
                for entry in ss.history:
                    if entry.get("_start") == up.start:
                        info = entry["properties"]["rollbackInfo"]
                        info["successfullyRolledbackInstanceCount"] = len(up.rolled_back - up.rollback_failed)
                        info["failedRolledbackInstanceCount"] = len(up.rollback_failed)
                        if up.rollback_failed:
                            info["rollbackError"] = rollback_error(up)

    # -- sets ----------------------------------------------------------------------------------
    def deploy(self, config, version="1.0.0"):
        """A template's scale set, its instances on ``version`` (the image its model resolves to)."""
        if config.name in self.backend.sets:
            raise ValueError(f"two scale sets named '{config.name}'")
        ss = config.build()
        for inst in ss.instances:
            inst.image = version
        ss.model_image = version
        gallery_id = config.image_ref.get("id") if config.image_kind == "gallery" else None
        meta = SetMeta(config.name, "latest" if config.version_latest else version, gallery_id=gallery_id)
        meta.inst_gen = {i.id: 0 for i in ss.instances}
        self.meta[config.name] = meta
        self.backend.add_set(ss)
        return ss

    def seed_feeds(self, version="1.0.0"):
        """The image versions the deployed sets run are in the feeds from the start."""
        kinds = {ss.image_kind for ss in self.backend.sets.values()}
        if "platform" in kinds and not self.backend.platform_versions:
            self.backend.publish_image(version)
        if "gallery" in kinds and not self.backend.gallery_versions:
            regions = sorted({ss.location.lower() for ss in self.backend.sets.values()})
            self.backend.publish_image(version, gallery=True, regions=regions)

    def get_set(self, name) -> ScaleSet:
        for key, ss in self.backend.sets.items():
            if key.lower() == name.lower():
                return ss
        raise ApiError(404, "ResourceNotFound",
                       f"The Resource 'Microsoft.Compute/virtualMachineScaleSets/{name}' under resource group "
                       f"'{self.resource_group}' was not found.")

    def latest_model_applied(self, ss, inst) -> bool:
        return self.meta[ss.name].inst_gen.get(inst.id, 0) == self.meta[ss.name].model_gen

    # -- operations ----------------------------------------------------------------------------
    def new_op(self, kind, ss, upgrade=None, status="InProgress", error=None):
        self.op_seq += 1
        op_id = f"{self.op_seq:08x}-0000-4000-8000-{int(time.time()) % 10**12:012d}"
        op = {"id": op_id, "kind": kind, "set": ss.name, "location": ss.location, "upgrade": upgrade,
              "status": status, "error": error, "start": self.now, "end": None if status == "InProgress" else self.now}
        self.ops[op_id] = op
        return op

    def op_status(self, op):
        """(status, error, endTime): an upgrade's operations follow the upgrade."""
        up = op["upgrade"]
        if up is not None and op["status"] == "InProgress":
            if op["kind"] == "osRollingUpgrade" and up.code != "RollingForward":
                op["status"], op["error"] = {"Completed": ("Succeeded", None), "Cancelled": ("Canceled", None),
                                             "Faulted": ("Failed", up.error)}[up.code]
                op["end"] = up.end
            elif op["kind"] == "cancel" and up.code != "RollingForward":
                op["status"], op["end"] = "Succeeded", up.end
        return op["status"], op["error"], op["end"]

    # -- Azure operations ----------------------------------------------------------------------
    def start_os_upgrade(self, ss):
        try:
            self.backend.start_os_upgrade(ss.name, "User")
        except Conflict as exc:
            raise ApiError(409, exc.code, exc.message) from None
        return self.new_op("osRollingUpgrade", ss, upgrade=ss.current)

    def cancel(self, ss):
        try:
            self.backend.cancel(ss.name)
        except Conflict as exc:
            raise ApiError(409, exc.code, exc.message) from None
        self.meta[ss.name].cancel_time[ss.current.start] = self.now
        return self.new_op("cancel", ss, upgrade=ss.current)

    def change_model(self, ss, changes):
        """A PUT/PATCH: policy, mode, automatic upgrade, tags at once; an image change follows the mode."""
        meta = self.meta[ss.name]
        if ss.current is not None and ss.current.code == "RollingForward" and "version" in changes:
            raise ApiError(409, "OperationNotAllowed",
                           "The model's image cannot change while a rolling upgrade is in progress; cancel it first")
        for key in ("mode", "policy", "disable_rollback"):
            if key in changes:
                setattr(ss, key, changes[key])
        if "tags" in changes:
            meta.tags = changes["tags"]
        if "auto_upgrade" in changes and changes["auto_upgrade"] != ss.auto_upgrade:
            ss.auto_upgrade = changes["auto_upgrade"]
            if ss.auto_upgrade and ss.enabled_at is None:
                ss.enabled_at = self.now
        if "version" in changes and changes["version"].lower() != meta.version_text.lower():
            text = changes["version"]
            if text.lower() == "latest":
                target = self.backend.latest_version(ss) or ss.model_image
                ss.version_latest = True
                meta.version_text = "latest"
            else:
                target = text
                ss.version_latest = False
                meta.version_text = text
            self.backend.update_model(ss.name, target)
            meta.model_gen += 1
            self._apply_by_mode(ss, meta, target)
        return self.new_op("update", ss, status="Succeeded")

    def _apply_by_mode(self, ss, meta, target):
        gen = meta.model_gen
        if ss.mode.lower() == "automatic":
            # Automatic: every instance at once
            for inst in ss.instances:
                if inst.image != target:
                    inst.previous_image, inst.image = inst.image, target
                meta.inst_gen[inst.id] = gen
            self.backend.note(ss, "model-applied", version=target, mode="Automatic")
        elif ss.mode.lower() == "rolling":
            if all(i.image == target for i in ss.instances):
                for inst in ss.instances:
                    meta.inst_gen[inst.id] = gen
                return
            # Rolling: a rolling upgrade to the new model (the backend's orchestrator, user-started)
            self.backend.begin_upgrade(ss, target, "User", manual=True)
            meta.rolling_model = (gen, ss.current)
            self.reconcile()
        # Manual: nothing until manualUpgrade

    def manual_upgrade(self, ss, ids):
        op = self.new_op("manualUpgrade", ss)
        self.backend.at(self.now + self.backend.outcomes.disk_seconds, self._manual_done, op["id"], ss.name, list(ids))
        return op

    def _manual_done(self, op_id, name, ids):
        ss = self.backend.sets[name]
        meta = self.meta[name]
        for iid in ids:
            inst = ss.by_id(iid)
            if inst.image != ss.model_image:
                inst.previous_image, inst.image = inst.image, ss.model_image
            meta.inst_gen[iid] = meta.model_gen
        self.backend.note(ss, "manual-upgrade", instances=ids, version=ss.model_image)
        op = self.ops[op_id]
        op["status"], op["end"] = "Succeeded", self.now

    # -- control API ---------------------------------------------------------------------------
    def publish(self, body):
        version = body.get("version")
        if not isinstance(version, str) or not VERSION_RE.match(version):
            raise ApiError(400, "InvalidParameter", "'version' must be a version such as 1.0.1 (digits and dots)")
        if "galleryImageId" in body:
            gid = body["galleryImageId"]
            regions = body.get("regions")
            if not isinstance(gid, str) or not gid.startswith("/subscriptions/"):
                raise ApiError(400, "InvalidParameter", "'galleryImageId' must be a gallery image definition's "
                               "resource id (/subscriptions/.../galleries/G/images/I)")
            if not isinstance(regions, list) or not regions or not all(isinstance(r, str) for r in regions):
                raise ApiError(400, "InvalidParameter", "'regions' must be a non-empty list of region names")
            exclude = body.get("excludeFromLatest", False)
            if not isinstance(exclude, bool):
                raise ApiError(400, "InvalidParameter", "'excludeFromLatest' must be true or false")
            if any(g["version"] == version for g in self.backend.gallery_versions):
                raise ApiError(409, "Conflict", f"gallery image version {version} is already published")
            for ss in self.backend.sets.values():
                if ss.image_kind == "gallery" and not self.meta[ss.name].gallery_id:
                    self.meta[ss.name].gallery_id = gid
            self.backend.publish_image(version, gallery=True, regions=regions, exclude_from_latest=exclude)
            entry = {"galleryImageId": gid, "version": version, "regions": regions, "excludeFromLatest": exclude}
            self.images["gallery"].append(dict(entry, publishedAt=iso(self.now)))
        else:
            for key in ("publisher", "offer", "sku"):
                if not isinstance(body.get(key), str) or not body[key]:
                    raise ApiError(400, "InvalidParameter", f"'{key}' is required (a platform image: publisher, "
                                   "offer, sku, version; or a gallery image: galleryImageId, version, regions)")
            if any(v == version for _, v in self.backend.platform_versions):
                raise ApiError(409, "Conflict", f"platform image version {version} is already published")
            self.backend.publish_image(version)
            entry = {k: body[k] for k in ("publisher", "offer", "sku")}
            entry["version"] = version
            self.images["platform"].append(dict(entry, publishedAt=iso(self.now)))
        self.reconcile()
        return entry

    def fault(self, body):
        name = body.get("scaleSet")
        if not isinstance(name, str):
            raise ApiError(400, "InvalidParameter", "'scaleSet' (a scale set's name) is required")
        ss = self.get_set(name)
        meta = self.meta[ss.name]
        kind = body.get("kind")
        kinds = ("unhealthy-after-upgrade", "unhealthy-now", "maintenance", "expired-credential", "rollback-fails")
        if kind not in kinds:
            raise ApiError(400, "InvalidParameter", f"'kind' must be one of {', '.join(kinds)}")
        ids = []
        if kind != "expired-credential":
            ids = self._fault_ids(ss, body)
        duration = body.get("durationMinutes")
        if duration is not None and (not isinstance(duration, (int, float)) or isinstance(duration, bool)
                                     or duration <= 0):
            raise ApiError(400, "InvalidParameter", "'durationMinutes' must be a positive number")
        if kind == "unhealthy-after-upgrade":
            self.backend.outcomes.fail_objects.update(ss.by_id(i) for i in ids)
        elif kind in ("unhealthy-now", "maintenance"):
            self.backend.set_health(ss.name, ids, False, reason="maintenance" if kind == "maintenance" else "unhealthy")
            if duration:
                self.backend.at(self.now + int(duration * MINUTE), self.backend.set_health, ss.name, ids, True,
                                "recovered")
        elif kind == "expired-credential":
            ss.credentials_expired = True
        elif kind == "rollback-fails":
            meta.rollback_fails.update(ids)
        entry = {"scaleSet": ss.name, "kind": kind, "instances": ids, "at": iso(self.now)}
        if duration:
            entry["durationMinutes"] = duration
        meta.faults.append(entry)
        self.reconcile()
        return entry

    def _fault_ids(self, ss, body):
        total = len(ss.instances)
        if "instances" in body:
            raw = body["instances"]
            if not isinstance(raw, list) or not raw:
                raise ApiError(400, "InvalidParameter", "'instances' must be a non-empty list of instance ids")
            ids = []
            for r in raw:
                if isinstance(r, bool) or not (isinstance(r, int) or (isinstance(r, str) and r.isdigit())):
                    raise ApiError(400, "InvalidParameter", f"instance id {r!r} is not a number")
                ids.append(int(r))
            try:  # ids change with maxSurge: the set knows which it has now
                ss.check_ids(ids)
            except NotFound as exc:
                raise ApiError(404, "ResourceNotFound", str(exc)) from None
            return sorted(set(ids))
        count = body.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= total:
            raise ApiError(400, "InvalidParameter", f"give 'instances': [ids] or 'count': 1..{total}")
        # the first instances a rollout reaches: zone by zone, update domain by update domain
        order = sorted(ss.instances, key=lambda i: (i.zone or "", i.update_domain, i.id))
        return sorted(i.id for i in order[:count])

    def clear_faults(self):
        self.backend.outcomes.fail_objects.clear()
        for meta in self.meta.values():
            meta.rollback_fails.clear()
            meta.faults.clear()
        for ss in self.backend.sets.values():
            ss.credentials_expired = False


def rollback_error(up):
    n = len(up.rollback_failed)
    return {"code": "RollbackFailed",
            "message": f"{n} instance(s) could not be rolled back to the previous OS image and stay on "
                       f"{up.target}, unhealthy: {', '.join(str(i) for i in sorted(up.rollback_failed))}"}
