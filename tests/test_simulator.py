"""The simulated backend: the documentation's worked examples, every ORCH behaviour, and
property-based invariants over random sets, policies, zones, update domains and failures."""

from __future__ import annotations

import os

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linter.sim.backend import DAY, HOUR, MINUTE, Backend, Conflict, Outcomes, Policy, ScaleSet


def run(capacity, *, policy=None, edition="2026", fail=(), fail_rate=0.0, seed=0, unhealthy=(), trigger="platform",
        **kw):
    b = Backend(seed=seed, edition=edition, outcomes=Outcomes(seed=seed, fail_rate=fail_rate, fail_instances=fail))
    ss = b.add_set(ScaleSet("s", capacity, policy=policy or Policy(), **kw), enabled_at=0)
    if unhealthy:
        b.set_health("s", list(unhealthy), False)
    b.publish_image("1.0.1")
    if trigger == "user":
        b.start_os_upgrade("s", "User")
    b.run_until_idle()
    return b, ss, ss.current


# --- the documentation's worked examples --------------------------------------------------------

def test_ten_instances_go_in_batches_of_two():
    _, ss, up = run(10)
    assert [len(b["instances"]) for b in up.batches] == [2, 2, 2, 2, 2]
    assert up.code == "Completed" and all(i.image == "1.0.1" for i in ss.instances)


def test_five_instances_go_one_by_one_in_2026():
    _, _, up = run(5, policy=Policy(max_batch=50))
    assert [len(b["instances"]) for b in up.batches] == [1] * 5
    _, _, up = run(5, policy=Policy(max_batch=50), edition="2020")
    assert max(len(b["instances"]) for b in up.batches) == 1  # one per update domain anyway
    _, _, up = run(4, policy=Policy(max_batch=50), edition="2020", update_domains=1)
    assert [len(b["instances"]) for b in up.batches] == [2, 2]


def test_three_of_ten_unhealthy_before_the_start_means_no_start():
    b, ss, up = run(10, unhealthy=[1, 2, 3])
    assert up.code == "Faulted" and up.batches == []
    assert up.error["code"] == "MaxUnhealthyInstancePercentExceededBeforeRollingUpgrade"
    assert all(i.image == "1.0.0" for i in ss.instances)
    _, _, up = run(10, unhealthy=[1, 2])  # 20% is still allowed
    assert up.code == "Completed"


# --- each ORCH behaviour ----------------------------------------------------------------------------

def test_unhealthy_instance_is_rolled_back_after_five_minutes():
    b, ss, up = run(10, fail=[4])
    batch = next(x for x in up.batches if 4 in x["instances"])
    assert batch["rolledBack"] == [4] and ss.by_id(4).image == "1.0.0" and ss.by_id(4).state == "rolledBack"
    assert batch["end"] - batch["start"] == 3 * MINUTE + 5 * MINUTE + 3 * MINUTE  # disk + wait + old disk back
    assert up.code == "Completed"  # 1 of 10 upgraded unhealthy is within 20%


def test_disabled_rollback_and_manual_trigger_keep_the_failing_disk():
    _, ss, up = run(10, fail=[4], disable_rollback=True)
    assert ss.by_id(4).state == "failed" and ss.by_id(4).image == "1.0.1" and up.rolled_back == set()
    _, ss, up = run(10, fail=[4], trigger="user")
    assert up.started_by == "User" and up.manual and ss.by_id(4).state == "failed"


def test_manual_trigger_is_refused_when_no_instance_uses_latest():
    b = Backend()
    b.add_set(ScaleSet("s", 3, version_latest=False))
    b.publish_image("1.0.1")
    with pytest.raises(Conflict) as info:
        b.start_os_upgrade("s")
    assert info.value.status == 409


def test_stops_when_too_many_upgraded_instances_are_unhealthy():
    _, ss, up = run(10, fail=[0, 5])
    assert up.code == "Faulted" and len(up.batches) == 1
    assert up.error["code"] == "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"
    assert sum(1 for i in ss.instances if i.image == "1.0.1") == 0  # both rolled back, nothing else touched


def test_recheck_stops_when_maintenance_makes_the_set_unhealthy():
    b = Backend(outcomes=Outcomes())
    ss = b.add_set(ScaleSet("s", 10), enabled_at=0)
    b.publish_image("1.0.1")
    b.advance_to(b._queue[0][0])  # the platform starts the rollout
    start = b.now
    b.at(start + 6 * MINUTE, b.set_health, "s", [7, 8, 9], False)  # during batch 2
    b.run_until_idle()
    up = ss.current
    assert up.code == "Faulted" and up.error["code"] == "MaxUnhealthyInstancePercentExceededInRollingUpgrade"
    assert len(up.batches) == 2


def test_service_fabric_goes_one_update_domain_at_a_time():
    _, ss, up = run(15, service_fabric=True, policy=Policy(max_batch=5))
    for batch in up.batches:
        assert len({ss.by_id(i).update_domain for i in batch["instances"]}) == 1
    assert [len(b["instances"]) for b in up.batches] == [3, 3, 3, 3, 3]


def test_zones_are_never_mixed_unless_cross_zone_upgrade():
    _, ss, up = run(30, zones=["1", "2", "3"], policy=Policy(max_batch=20))
    assert all(len({ss.by_id(i).zone for i in b["instances"]}) == 1 for b in up.batches)
    _, ss, up = run(30, zones=["1", "2", "3"], policy=Policy(max_batch=20, cross_zone=True))
    assert any(len({ss.by_id(i).zone for i in b["instances"]}) > 1 for b in up.batches)


def test_policy_pause_and_prioritize_unhealthy():
    _, _, up = run(10, policy=Policy(pause=10 * MINUTE))
    gaps = [b2["start"] - b1["end"] for b1, b2 in zip(up.batches, up.batches[1:])]
    assert gaps == [10 * MINUTE] * 4
    _, _, up = run(10, unhealthy=[7], policy=Policy(prioritize_unhealthy=True))
    assert 7 in up.batches[0]["instances"]


def test_rollback_failed_instances_on_policy_breach():
    _, ss, up = run(10, fail=[0, 5], disable_rollback=True, policy=Policy(rollback_on_breach=True))
    assert up.code == "Faulted" and {ss.by_id(0).state, ss.by_id(5).state} == {"rolledBack"}


def test_expired_credentials_fail_the_first_batch():
    _, ss, up = run(10, credentials_expired=True)
    assert up.code == "Faulted" and up.batches[0]["failed"] == up.batches[0]["instances"]
    assert len(up.batches) == 1


def test_gallery_version_needs_replication_and_latest():
    b = Backend()
    ss = b.add_set(ScaleSet("g", 4, image_kind="gallery", location="westeurope"), enabled_at=0)
    b.publish_image("1.0.1", gallery=True, regions=["northeurope"])
    b.publish_image("1.0.2", gallery=True, regions=["westeurope"], exclude_from_latest=True)
    b.run_until_idle()
    assert ss.current is None  # ORCH-CUSTOM: neither version may roll out here
    b.publish_image("1.0.3", gallery=True, regions=["westeurope", "eastus"])
    b.run_until_idle()
    assert ss.current.code == "Completed" and ss.current.target == "1.0.3"


def test_first_rollout_delay_and_later_trigger_windows():
    """ORCH-TIMING: up to 3 hours in both editions (seeds 000, 001 and 004, June 2020, say 3 hours; only the
    April 2020 text says 2), never before 30 minutes, later rollouts 30-60 minutes after a new image."""
    for seed in range(30):
        for edition in ("2026", "2020"):
            b = Backend(seed=seed, edition=edition)
            ss = b.add_set(ScaleSet("s", 2), enabled_at=0)
            b.publish_image("1.0.1")
            b.run_until_idle()
            assert 30 * MINUTE <= ss.current.start <= 3 * HOUR
            first_end = b.now
            b.publish_image("1.0.2")
            b.run_until_idle()
            assert 30 * MINUTE <= ss.current.start - first_end <= 60 * MINUTE


def test_first_rollout_times_do_not_pile_onto_the_30_minute_floor():
    starts = []
    for seed in range(600):
        b = Backend(seed=seed)
        ss = b.add_set(ScaleSet("s", 1), enabled_at=0)
        b.publish_image("1.0.1")
        b.advance_to(b._queue[0][0])
        starts.append(ss.current.start)
    at_floor = sum(1 for s in starts if s == 30 * MINUTE)
    assert at_floor <= 3, at_floor  # was a sixth of all runs (100 of 600) when draws were clamped
    # uniform over [30m, 3h]: each half-hour slice gets about a fifth
    slices = [sum(1 for s in starts if 30 * MINUTE + k * 1800 <= s < 30 * MINUTE + (k + 1) * 1800) for k in range(5)]
    assert all(80 <= n <= 160 for n in slices), slices
    # an image published after the window has passed waits the later rollouts' 30-60 minutes
    b = Backend(seed=1)
    ss = b.add_set(ScaleSet("s", 1), enabled_at=0)
    b.advance(5 * HOUR)
    b.publish_image("1.0.1")
    b.run_until_idle()
    assert 5 * HOUR + 30 * MINUTE <= ss.current.start <= 5 * HOUR + 60 * MINUTE


def test_history_keeps_five_upgrades_of_two_months():
    b = Backend()
    b.add_set(ScaleSet("s", 2), enabled_at=0)
    for n in range(8):
        b.publish_image(f"1.0.{n + 1}")
        b.run_until_idle()
        b.advance(10 * DAY)
    hist = b.os_upgrade_history("s")
    assert len(hist) == 5
    assert [h["properties"]["targetImageReference"]["version"] for h in hist] == ["1.0.8", "1.0.7", "1.0.6", "1.0.5",
                                                                                  "1.0.4"]
    b.advance(45 * DAY)
    assert len(b.os_upgrade_history("s")) == 1  # only the last one is within two months
    entry = hist[0]
    assert entry["type"] == "Microsoft.Compute/virtualMachineScaleSets/rollingUpgrades"
    assert set(entry["properties"]) >= {"runningStatus", "progress", "startedBy", "targetImageReference",
                                        "rollbackInfo"}
    assert set(entry["properties"]["progress"]) == {"successfulInstanceCount", "failedInstanceCount",
                                                    "inProgressInstanceCount", "pendingInstanceCount"}


def test_cancel_stops_after_the_running_batch():
    b = Backend()
    ss = b.add_set(ScaleSet("s", 10), enabled_at=0)
    b.publish_image("1.0.1")
    b.advance_to(b._queue[0][0])
    b.advance(60)
    b.cancel("s")
    b.run_until_idle()
    assert ss.current.code == "Cancelled" and len(ss.current.batches) == 1
    assert b.latest_status("s")["properties"]["runningStatus"]["code"] == "Cancelled"
    with pytest.raises(Conflict):
        b.cancel("s")


def test_manual_model_path_of_2016():
    b = Backend()
    ss = b.add_set(ScaleSet("s", 10, auto_upgrade=False, mode="Manual"))
    b.update_model("s", "2.0.0")
    assert all(i.image == "1.0.0" for i in ss.instances)  # a model change moves nothing by itself
    b.upgrade_instances("s", instance_ids=[3])
    b.upgrade_instances("s", update_domain=0)
    assert {i.id for i in ss.instances if i.image == "2.0.0"} == {0, 3, 5}


# --- invariants -----------------------------------------------------------------------------------

policies = st.builds(Policy, max_batch=st.integers(5, 100), max_unhealthy=st.integers(5, 100),
                     max_unhealthy_upgraded=st.integers(0, 100), pause=st.sampled_from([0, 60, 600]),
                     prioritize_unhealthy=st.booleans(), cross_zone=st.booleans(), max_surge=st.booleans(),
                     rollback_on_breach=st.booleans())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=bool(os.environ.get("CI")), database=None)
@given(capacity=st.integers(1, 1000), policy=policies, zones=st.sampled_from([(), ("1", "2"), ("1", "2", "3")]),
       uds=st.integers(1, 20), sf=st.booleans(), fail_rate=st.sampled_from([0.0, 0.02, 0.1, 0.5]),
       unhealthy=st.integers(0, 40), disable_rollback=st.booleans(), edition=st.sampled_from(["2020", "2026"]),
       trigger=st.sampled_from(["platform", "user"]), signal=st.sampled_from(["probe", "extension", "none"]),
       seed=st.integers(0, 2 ** 16))
def test_invariants(capacity, policy, zones, uds, sf, fail_rate, unhealthy, disable_rollback, edition, trigger,
                    signal, seed):
    b = Backend(seed=seed, edition=edition, outcomes=Outcomes(seed=seed, fail_rate=fail_rate), record=False)
    ss = b.add_set(ScaleSet("s", capacity, zones=zones, update_domains=uds, policy=policy, service_fabric=sf,
                            disable_rollback=disable_rollback, health_signal=signal), enabled_at=0)
    sick = list(range(0, capacity, max(1, capacity // max(1, unhealthy))))[:unhealthy]
    if sick:
        b.set_health("s", sick, False)
    before_unhealthy = sum(1 for i in ss.instances if i.counts_unhealthy(signal))
    b.publish_image("1.0.1")
    if trigger == "user":
        b.start_os_upgrade("s", "User")
    b.run_until_idle()
    up = ss.current
    total = capacity
    # no start when the pre-check fails
    if before_unhealthy * 100 > policy.max_unhealthy * total:
        assert up.code == "Faulted" and up.batches == [] and up.stop_reason == "precheck"
        return
    limit = 1 if edition == "2026" and total <= 5 else max(1, math.floor(total * policy.max_batch / 100))
    failed_so_far = attempted = 0
    for n, batch in enumerate(up.batches):
        members = [ss.by_id(i) for i in batch["instances"]]
        if sf:
            assert len({m.update_domain for m in members}) == 1  # SF: inside one update domain
        else:
            assert len(members) <= limit  # no batch larger than the policy allows
            if not policy.cross_zone:
                assert len({m.zone for m in members}) == 1  # zones not mixed
        if batch["rolledBack"]:
            assert not (disable_rollback or up.manual)  # rollback only where allowed
        if signal != "none" and not (disable_rollback or up.manual):
            assert batch["failed"] == [] or ss.credentials_expired  # every sick instance rolled back
        attempted += len(members)
        failed_so_far += len(batch["rolledBack"]) + len(batch["failed"])
        if failed_so_far * 100 > policy.max_unhealthy_upgraded * attempted:
            assert n == len(up.batches) - 1 and up.code == "Faulted"  # stop as soon as the share passes
    # every instance: on the new image, rolled back, failed, or never reached because the upgrade stopped
    for inst in ss.instances:
        assert inst.image == "1.0.1" or inst.state in ("rolledBack", "failed") or up.code != "Completed"
    if up.code == "Completed":
        assert all(i.image == "1.0.1" or i.state == "rolledBack" for i in ss.instances)
    assert len(b.os_upgrade_history("s")) <= 5


def test_every_orch_behaviour_is_named_in_the_code():
    import pathlib
    import re

    from conftest import SHARED
    if not (SHARED / "REQUIREMENTS.md").exists():
        pytest.skip("../shared is not here")
    ids = set(re.findall(r"\| (ORCH-[A-Z-]+) \|", (SHARED / "REQUIREMENTS.md").read_text()))
    code = (pathlib.Path(__file__).parent.parent / "linter" / "sim" / "backend.py").read_text()
    docs = (pathlib.Path(__file__).parent.parent / "docs" / "simulator.md").read_text()
    assert ids and sorted(i for i in ids if i not in code) == []
    assert sorted(i for i in ids if i not in docs) == []


def test_a_platform_trigger_does_nothing_once_the_feature_is_turned_off():
    """ORCH-TIMING: the platform rolls out only to sets that have automatic OS upgrade on when it acts."""
    b = Backend()
    ss = b.add_set(ScaleSet("s", 4, policy=Policy()), enabled_at=0)
    b.publish_image("1.0.1")
    assert b.next_event_time() is not None  # the trigger is scheduled
    ss.auto_upgrade = False  # PATCH enableAutomaticOSUpgrade: false before it fires
    b.run_until_idle()
    assert ss.current is None and all(i.image != "1.0.1" for i in ss.instances)
    ss.auto_upgrade = True
    b.publish_image("1.0.2")
    b.run_until_idle()
    assert ss.current is not None and all(i.image == "1.0.2" for i in ss.instances)
