"""The World in the shapes of the Compute REST API (checked against the examples of Microsoft's REST
specification, Azure/azure-rest-api-specs, ComputeRP/stable/.../virtualMachineScaleSetExamples):
VirtualMachineScaleSet, VirtualMachineScaleSetVM, RollingUpgradeStatusInfo (GetLatest) and
UpgradeOperationHistoricalStatusInfo (GetOSUpgradeHistory).

Where the backend's own REST-like output departs from Azure's, the shaping is done here: GetLatest gets
``id``, ``name``, ``type``, ``location``; ``lastAction`` says Cancel once a cancel is asked; history is
paged and begins with the running upgrade; a gallery image's ``id`` stays in ``targetImageReference``;
rollbackInfo counts failed rollbacks and carries ``rollbackError``.
"""

from __future__ import annotations

import copy

from linter.sim.backend import HISTORY_KEEP, HISTORY_WINDOW, iso

VMSS_TYPE = "Microsoft.Compute/virtualMachineScaleSets"
HISTORY_PAGE = 2  # entries per page of osUpgradeHistory, so that clients' paging is exercised


def set_id(world, name):
    return (f"/subscriptions/{world.subscription}/resourceGroups/{world.resource_group}/providers/"
            f"{VMSS_TYPE}/{name}")


def image_reference(world, ss, exact=None):
    meta = world.meta[ss.name]
    if ss.image_kind == "gallery":
        ref = {"id": meta.gallery_id or ss.target_image_reference.get("id") or
               f"/subscriptions/{world.subscription}/resourceGroups/{world.resource_group}/providers/"
               f"Microsoft.Compute/galleries/gallery/images/{ss.name}"}
        if meta.version_text.lower() != "latest":
            ref["id"] += f"/versions/{meta.version_text}"
    else:
        ref = {k: ss.target_image_reference[k] for k in ("publisher", "offer", "sku")
               if k in ss.target_image_reference}
        ref["version"] = meta.version_text
    if exact:
        ref["exactVersion"] = exact
    return ref


def target_image_reference(world, ss, version):
    ref = image_reference(world, ss)
    if ss.image_kind == "gallery":
        ref["id"] = ref["id"].split("/versions/")[0]
    ref["version"] = version
    return ref


def vmss(world, ss, provisioning="Succeeded"):
    meta = world.meta[ss.name]
    body = {
        "id": set_id(world, ss.name),
        "name": ss.name,
        "type": VMSS_TYPE,
        "location": ss.location,
        "tags": dict(meta.tags),
        "sku": {"name": meta.sku_name, "tier": "Standard", "capacity": len(ss.instances)},
        "properties": {
            "provisioningState": provisioning,
            "uniqueId": f"00000000-0000-4000-8000-{abs(sum(map(ord, ss.name))):012d}",
            "upgradePolicy": {
                "mode": ss.mode,
                "rollingUpgradePolicy": ss.policy.to_json(),
                "automaticOSUpgradePolicy": {"enableAutomaticOSUpgrade": bool(ss.auto_upgrade),
                                             "disableAutomaticRollback": bool(ss.disable_rollback)},
            },
            "virtualMachineProfile": {"storageProfile": {"imageReference": image_reference(world, ss)}},
            "overprovision": False,
            "singlePlacementGroup": len(ss.instances) <= 100,
        },
    }
    if ss.zones:
        body["zones"] = list(ss.zones)
    return body


def instance(world, ss, inst):
    iid = str(inst.id)
    state = "HealthState/healthy" if not inst.counts_unhealthy(ss.health_signal) else "HealthState/unhealthy"
    body = {
        "id": f"{set_id(world, ss.name)}/virtualMachines/{iid}",
        "name": f"{ss.name}_{iid}",
        "type": f"{VMSS_TYPE}/virtualMachines",
        "location": ss.location,
        "instanceId": iid,
        "sku": {"name": world.meta[ss.name].sku_name, "tier": "Standard"},
        "properties": {
            "latestModelApplied": world.latest_model_applied(ss, inst),
            "provisioningState": "Updating" if inst.state == "upgrading" else
            ("Failed" if inst.state == "failed" else "Succeeded"),
            "vmId": f"00000000-0000-4000-9000-{inst.id:012d}",
            "storageProfile": {"imageReference": image_reference(world, ss, exact=inst.image)},
            "instanceView": {
                "platformUpdateDomain": inst.update_domain,
                "platformFaultDomain": inst.fault_domain,
                "vmHealth": {"status": {"code": state, "level": "Info",
                                        "displayStatus": state.split("/")[1].capitalize()}},
            },
        },
    }
    if inst.zone:
        body["zones"] = [inst.zone]
    return body


def _running_status(world, ss, up):
    meta = world.meta[ss.name]
    cancelled_at = meta.cancel_time.get(up.start)
    status = {"code": up.code, "startTime": iso(up.start),
              "lastAction": "Cancel" if cancelled_at is not None else "Start",
              "lastActionTime": iso(cancelled_at if cancelled_at is not None else up.start)}
    return status  # RollingUpgradeRunningStatus has no endTime (the history's status has)


def latest(world, ss):
    """GET rollingUpgrades/latest (RollingUpgradeStatusInfo), or None when no upgrade has run."""
    up = ss.current
    if up is None:
        return None
    props = {"policy": ss.policy.to_json(), "runningStatus": _running_status(world, ss, up),
             "progress": up.progress()}
    if up.error:
        props["error"] = dict(up.error)
    return {"id": f"{set_id(world, ss.name)}/rollingUpgrades/latest", "name": "latest",
            "type": f"{VMSS_TYPE}/rollingUpgrades", "location": ss.location, "properties": props}


def _rollback_info(up, meta):
    info = {"successfullyRolledbackInstanceCount": len(up.rolled_back - up.rollback_failed),
            "failedRolledbackInstanceCount": len(up.rollback_failed)}
    if up.rollback_failed:
        from linter.serve.world import rollback_error
        info["rollbackError"] = rollback_error(up)
    return info


def history(world, ss):
    """Every entry of GET osUpgradeHistory, newest first: the running upgrade, then the backend's history
    (ORCH-HISTORY: the last five of the past two months)."""
    entries = []
    up = ss.current
    if up is not None and up.code == "RollingForward":
        status = _running_status(world, ss, up)
        entries.append({"properties": {
            "runningStatus": {"code": status["code"], "startTime": status["startTime"]},
            "progress": up.progress(), "startedBy": up.started_by,
            "targetImageReference": target_image_reference(world, ss, up.target),
            "rollbackInfo": _rollback_info(up, world.meta[ss.name])},
            "type": f"{VMSS_TYPE}/rollingUpgrades", "location": ss.location})
    kept = [h for h in ss.history if world.now - h["_start"] <= HISTORY_WINDOW][-HISTORY_KEEP:]
    for h in reversed(kept):
        e = copy.deepcopy({k: v for k, v in h.items() if not k.startswith("_")})
        version = e["properties"].get("targetImageReference", {}).get("version")
        e["properties"]["targetImageReference"] = target_image_reference(world, ss, version)
        entries.append(e)
    return entries


def history_page(world, ss, skip, next_url):
    entries = history(world, ss)
    page = {"value": entries[skip:skip + HISTORY_PAGE]}
    if skip + HISTORY_PAGE < len(entries):
        page["nextLink"] = next_url(skip + HISTORY_PAGE)
    return page


def operation(op_id, status, error, start, end):
    body = {"name": op_id, "status": status, "startTime": iso(start)}
    if end is not None:
        body["endTime"] = iso(end)
    if error:
        body["error"] = dict(error)
    return body


def state(world):
    """GET /vmsslint/state: every set, instance, image feed, operation and the clock."""
    sets = []
    for ss in world.backend.sets.values():
        meta = world.meta[ss.name]
        sets.append({
            "name": ss.name, "id": set_id(world, ss.name), "location": ss.location, "mode": ss.mode,
            "imageKind": ss.image_kind, "modelImageVersion": ss.model_image, "modelVersion": meta.version_text,
            "automaticOSUpgrade": bool(ss.auto_upgrade), "healthSignal": ss.health_signal,
            "latestAvailableVersion": world.backend.latest_version(ss),
            "instances": [{"id": i.id, "zone": i.zone, "updateDomain": i.update_domain, "faultDomain": i.fault_domain,
                           "image": i.image, "healthy": not i.counts_unhealthy(ss.health_signal), "state": i.state,
                           "latestModelApplied": world.latest_model_applied(ss, i)} for i in ss.instances],
            "rollingUpgrade": latest(world, ss),
            "faults": list(meta.faults),
        })
    ops = []
    for op in world.ops.values():
        status, error, end = world.op_status(op)
        ops.append(dict(operation(op["id"], status, error, op["start"], end), kind=op["kind"], scaleSet=op["set"]))
    return {"now": iso(world.now), "seconds": world.now, "speed": world.speed,
            "subscriptionId": world.subscription, "resourceGroup": world.resource_group,
            "scaleSets": sets, "images": world.images, "operations": ops}
