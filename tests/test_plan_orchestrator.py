"""The orchestrator as documented, probed the way a user planning a rollout would: maxSurge, the
template's gallery settings, progress counts mid-run, times after a cancel and a re-check, exit status,
and hostile scenario input (issue 12, and the plan bullet of issue 11)."""

from __future__ import annotations

import json

import pytest

from linter.sim.backend import MINUTE, Backend, NotFound, Outcomes, Policy, ScaleSet, iso
from test_cli import run


def step_all(b, check):
    """Run the backend event by event, calling check() after each."""
    while b._queue:
        b.advance_to(b._queue[0][0])
        check()


def started(capacity=10, policy=None, fail=(), **kw):
    b = Backend(outcomes=Outcomes(fail_instances=fail))
    ss = b.add_set(ScaleSet("s", capacity, policy=policy or Policy(), **kw), enabled_at=0)
    b.publish_image("1.0.1")
    b.advance_to(b._queue[0][0])  # the platform starts the rollout
    return b, ss


# --- maxSurge (Microsoft's "Rolling upgrades with MaxSurge"; ORCH-POLICY) ---------------------------------

def test_max_surge_creates_new_instances_first_and_deletes_the_old_after():
    b, ss = started(10, Policy(max_surge=True))
    before = list(range(10))
    assert sorted(i.id for i in ss.instances) == before + [10, 11]  # batch 1 began: 2 new instances, 0 and 5 kept
    sizes, serving_old_or_new = [], []

    def check():
        sizes.append(len(ss.instances))
        # no instance is down for its upgrade: every old instance serves until its replacement is healthy
        serving_old_or_new.append(sum(1 for i in ss.instances if i.state != "upgrading"))
    step_all(b, check)
    up = ss.current
    assert up.code == "Completed" and sorted(i.id for i in ss.instances) == list(range(10, 20))  # ids change
    assert all(i.image == "1.0.1" and i.replaces is not None for i in ss.instances)
    assert max(sizes) == 12 and sizes[-1] == 10  # two surge instances at a time (a batch of 20%)
    assert min(serving_old_or_new) >= 10  # capacity never drops below the set's size
    assert [b_["replacements"] for b_ in up.batches][0] == {0: 10, 5: 11}
    assert all(ss.by_id(i).state == "deleted" for i in before)

    # without maxSurge: the same instance ids, upgraded in place, two of them down at a time
    b, ss = started(10, Policy(max_surge=False))
    down = []
    step_all(b, lambda: down.append(sum(1 for i in ss.instances if i.state == "upgrading")))
    assert sorted(i.id for i in ss.instances) == before and max(down) == 2


def test_max_surge_failed_new_instance_is_deleted_and_the_old_one_kept():
    b, ss = started(10, Policy(max_surge=True), fail=[5])
    step_all(b, lambda: None)
    up = ss.current
    assert up.code == "Faulted"  # 1 of 2 upgraded unhealthy > 20%
    first = up.batches[0]
    assert first["rolledBack"] == [5] and ss.has(5) and ss.by_id(5).image == "1.0.0"
    new_for_5 = first["replacements"][5]
    assert ss.by_id(new_for_5).state == "deleted" and not ss.has(new_for_5)
    assert sorted(i.id for i in ss.instances) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]  # 0 replaced by 10
    # with automatic rollback disabled the failing new instance stays, the old one goes
    b, ss = started(10, Policy(max_surge=True), fail=[5], disable_rollback=True)
    step_all(b, lambda: None)
    new_for_5 = ss.current.batches[0]["replacements"][5]
    assert ss.has(new_for_5) and ss.by_id(new_for_5).state == "failed" and not ss.has(5)


def test_max_surge_from_a_template(tmp_path):
    d = tmp_path / "web"
    assert run("generate", "--image", "Canonical:0001-com-ubuntu-server-jammy:22_04-LTS-Gen2", "--health", "probe",
               "--instances", "10", "-o", str(d)).returncode == 0
    path = d / "azuredeploy.json"
    doc = json.loads(path.read_text())
    vmss = next(r for r in doc["resources"] if r["type"].lower().endswith("virtualmachinescalesets"))
    vmss["properties"]["upgradePolicy"]["rollingUpgradePolicy"]["maxSurge"] = True
    path.write_text(json.dumps(doc, indent=2))
    r = run("plan", "--format", "json", str(path))
    s = json.loads(r.stdout)["scaleSets"][0]
    assert r.returncode == 0 and s["runningStatus"]["code"] == "Completed"
    assert s["batches"][0]["instances"] == [0, 5] and s["batches"][0]["replacements"] == {"0": 10, "5": 11}
    assert "maxSurge: new instances 10,11 first" in run("plan", str(path)).stdout


# --- progress counts, times --------------------------------------------------------------------------------

def test_progress_counts_add_up_at_every_step():
    b, ss = started(10, fail=[3])
    seen = [ss.current.progress()]  # the first batch running: nothing counted twice

    def check():
        up = ss.current
        p = up.progress()
        total = sum(p.values())
        assert total == len(ss.instances) == 10, p
        seen.append(p)
    step_all(b, check)
    assert seen[0] == {"successfulInstanceCount": 0, "failedInstanceCount": 0, "inProgressInstanceCount": 2,
                       "pendingInstanceCount": 8}
    assert {"successfulInstanceCount": 2, "failedInstanceCount": 0, "inProgressInstanceCount": 2,
            "pendingInstanceCount": 6} in seen
    assert seen[-1] == {"successfulInstanceCount": 9, "failedInstanceCount": 1, "inProgressInstanceCount": 0,
                        "pendingInstanceCount": 0}


def test_last_action_time_after_cancel():
    b, ss = started(10)
    start = ss.current.start
    b.advance(90)
    b.cancel("s")
    status = b.latest_status("s")["properties"]["runningStatus"]
    assert status["lastAction"] == "Cancel" and status["lastActionTime"] == iso(start + 90)
    b.run_until_idle()
    status = b.latest_status("s")["properties"]["runningStatus"]
    assert status["code"] == "Cancelled" and status["lastActionTime"] == iso(start + 90)
    assert ss.current.end == ss.current.batches[0]["end"]  # the running batch finished, nothing after it


def test_recheck_stops_at_the_end_of_the_batch_not_after_the_pause():
    b, ss = started(10, Policy(pause=10 * MINUTE))
    start = ss.current.start
    b.at(start + 2 * MINUTE, b.set_health, "s", [6, 7, 8], False)  # maintenance during batch 1
    b.run_until_idle()
    up = ss.current
    assert up.code == "Faulted" and up.stop_reason == "recheck" and len(up.batches) == 1
    assert up.end == up.batches[0]["end"] == start + 5 * MINUTE  # not start + 15m (after the pause)
    # maintenance during the pause is caught before the next batch
    b, ss = started(10, Policy(pause=10 * MINUTE))
    start = ss.current.start
    b.at(start + 8 * MINUTE, b.set_health, "s", [6, 7, 8], False)
    b.run_until_idle()
    assert ss.current.end == start + 15 * MINUTE and len(ss.current.batches) == 1


def test_unknown_instance_ids_are_not_found():
    b, _ = started(10)
    with pytest.raises(NotFound) as info:
        b.set_health("s", [99999999], False)
    assert info.value.status == 404 and "99999999" in info.value.message and "0-9" in info.value.message


# --- the template's gallery settings (ORCH-CUSTOM) and --publish -------------------------------------------

@pytest.fixture()
def gallery(tmp_path):
    d = tmp_path / "g"
    r = run("generate", "--new-gallery", "gal/img", "--os", "linux", "--health", "probe", "--instances", "10",
            "--location", "westeurope", "-o", str(d))
    assert r.returncode == 0, r.stderr
    # the set's region left to the deployment (resourceGroup().location), as a template reused across regions
    params = d / "azuredeploy.parameters.json"
    doc = json.loads(params.read_text())
    doc["parameters"].pop("location", None)
    params.write_text(json.dumps(doc, indent=2))
    return d / "azuredeploy.json"


def edit_version(path, **profile):
    doc = json.loads(path.read_text())
    ver = next(r for r in doc["resources"] if r["type"].lower() == "microsoft.compute/galleries/images/versions")
    ver["properties"]["publishingProfile"].update(profile)
    path.write_text(json.dumps(doc, indent=2))


def plan(path, *args):
    r = run("plan", "--format", "json", *args, str(path))
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)["scaleSets"][0], r.returncode


def test_gallery_version_in_the_template_reaches_the_set(gallery):
    s, rc = plan(gallery)
    assert rc == 0 and s["runningStatus"]["code"] == "Completed" and s["image"]["version"] == "1.0.0"
    assert "gal/img/1.0.0" in s["image"]["source"]


def test_gallery_version_excluded_from_latest_is_never_rolled_out(gallery):
    edit_version(gallery, excludeFromLatest=True)
    s, rc = plan(gallery)
    assert rc == 1 and s["runningStatus"] is None and s["batches"] == []
    assert "excluded from latest" in s["notStarted"] and "ORCH-CUSTOM" in s["notStarted"]
    text = run("plan", str(gallery)).stdout
    assert "not started: version 1.0.0 is never rolled out" in text
    # --publish overrides the template's feed
    s, rc = plan(gallery, "--publish", "2.0.0")
    assert rc == 0 and s["runningStatus"]["code"] == "Completed" and s["image"]["version"] == "2.0.0"


def test_gallery_version_excluded_in_the_sets_region_or_replicated_elsewhere(gallery):
    edit_version(gallery, targetRegions=[{"name": "[parameters('location')]", "excludeFromLatest": True}])
    s, rc = plan(gallery)
    assert rc == 1 and s["runningStatus"] is None and "excluded from latest" in s["notStarted"]
    edit_version(gallery, targetRegions=[{"name": "eastus"}])
    s, rc = plan(gallery, "--location", "westeurope")
    assert rc == 1 and s["runningStatus"] is None and "not replicated to the set's region" in s["notStarted"]
    s, rc = plan(gallery, "--location", "eastus")
    assert rc == 0 and s["runningStatus"]["code"] == "Completed"
    # a region the linter cannot know is said so, not guessed silently
    s, rc = plan(gallery)
    assert "not known before deployment" in s["image"]["source"]
    # --publish VERSION@REGION: replicated only to another region -> not started
    s, rc = plan(gallery, "--location", "westeurope", "--publish", "3.1.0@northeurope,eastus")
    assert rc == 1 and s["runningStatus"] is None
    s, rc = plan(gallery, "--location", "westeurope", "--publish", "3.1.0@westeurope")
    assert rc == 0 and s["history"][0]["properties"]["targetImageReference"]["version"] == "3.1.0"


# --- exit status ------------------------------------------------------------------------------------------

def test_exit_status_completed_not_completed_usage(gallery):
    assert run("plan", str(gallery)).returncode == 0
    assert run("plan", "--fail-instances", "0,5", str(gallery)).returncode == 1  # Faulted
    assert run("plan", "--scenario", "/nonexistent.yaml", str(gallery)).returncode == 2
    assert run("plan", "--fail-rate", "0.3", "--runs", "40", str(gallery)).returncode == 1  # a run did not complete
    assert run("plan", "--runs", "20", str(gallery)).returncode == 0
    help_text = run("plan", "--help").stdout
    assert "Exit status: 0 when every simulated rollout completed" in help_text and "2 for usage" in help_text


# --- hostile input (issue 11, plan) ------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--fail-instances", "99999999"], "instance 99999999 is not in the set (its instances are 0-9"),
    (["--maintenance", "P99999999999Y:3"], "'P99999999999Y' is out of range (0 to 365 days)"),
    (["--maintenance", "99999999999999999999999h:3"], "is out of range"),
    (["--maintenance", "5m:0"], "write AT:COUNT with COUNT 1-1000"),
    (["--fail-rate", "nan"], "nan is not a number from 0 to 1"),
    (["--publish", "latest@"], "the version must look like 1.2.3"),
])
def test_bad_plan_options_are_clear_messages(gallery, args, message):
    r = run("plan", *args, str(gallery))
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr


def test_plan_into_a_missing_directory_writes_nothing(gallery, tmp_path):
    for opt in ("--html", "-o"):
        r = run("plan", opt, str(tmp_path / "missing" / "out"), str(gallery))
        assert r.returncode == 2 and "does not exist" in r.stderr and "Traceback" not in r.stderr
        assert r.stdout == ""
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("scenario, message", [
    ("fail-instances: [99999999]\n", "instance 99999999 is not in the set"),
    ("events:\n  - {at: 5m, action: unhealthy, instances: [99999999]}\n", "event 1 (unhealthy at 300s): instance "
                                                                           "99999999 is not in the set"),
    ("events:\n  - {at: P99999999999Y, action: maintenance, count: 2}\n",
     "events.0.at 'P99999999999Y' is out of range"),
    ("events:\n  - {at: 999999999999999999999999, action: cancel}\n", "events[0].at"),
    ("fail-rate: .nan\n", "fail rate nan is not a number from 0 to 1"),
])
def test_bad_scenario_files_are_clear_messages(gallery, tmp_path, scenario, message):
    sc = tmp_path / "s.yaml"
    sc.write_text(scenario)
    r = run("plan", "--scenario", str(sc), str(gallery))
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr


@pytest.mark.parametrize("field, value, message", [
    ("capacity", "--5", "sku.capacity '--5' is not a whole number"),
    ("pause", "P99999999999Y", "pauseTimeBetweenBatches 'P99999999999Y' is out of range"),
])
def test_bad_template_values_name_their_location(tmp_path, gallery, field, value, message):
    doc = json.loads(gallery.read_text())
    vmss = next(r for r in doc["resources"] if r["type"].lower().endswith("virtualmachinescalesets"))
    if field == "capacity":
        vmss["sku"]["capacity"] = value
    else:
        vmss["properties"]["upgradePolicy"]["rollingUpgradePolicy"]["pauseTimeBetweenBatches"] = value
    path = tmp_path / "t.json"
    path.write_text(json.dumps(doc, indent=2))
    r = run("plan", str(path))
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if value in text)
    assert r.returncode == 2 and f"{path}:{line}:" in r.stderr and message in r.stderr, r.stderr
