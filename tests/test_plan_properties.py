"""Invariants of the simulated orchestrator, as properties over random sets (1-1000 instances), policies,
failures, maintenance and cancels at random times, across several rollouts (issue 12).

Checked after every event of the clock:
- the progress counts add up to the instances in the set (maxSurge instances included while they exist);
- no instance is in two batches of one upgrade; no batch is larger than the policy allows;
- zones are never mixed in a batch unless enableCrossZoneUpgrade (Service Fabric sets go one update
  domain at a time instead, ORCH-SF-UD; docs/simulator.md);
- the history is newest first, at most five entries, all within two months;
- every time is monotonic (the clock, the log, batches, upgrades).
"""

from __future__ import annotations

import math
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linter.sim.backend import DAY, HISTORY_WINDOW, HOUR, Backend, Conflict, Outcomes, Policy, ScaleSet

policies = st.builds(Policy, max_batch=st.integers(5, 100), max_unhealthy=st.integers(5, 100),
                     max_unhealthy_upgraded=st.integers(0, 100), pause=st.sampled_from([0, 60, 600, 3600]),
                     prioritize_unhealthy=st.booleans(), cross_zone=st.booleans(), max_surge=st.booleans(),
                     rollback_on_breach=st.booleans())

events = st.lists(st.tuples(st.integers(0, 8 * HOUR), st.sampled_from(["maintenance", "recover", "cancel", "user"]),
                            st.integers(1, 300)), max_size=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], derandomize=bool(os.environ.get("CI")), database=None)
@given(capacity=st.one_of(st.integers(1, 30), st.integers(31, 1000), st.sampled_from([999, 1000])), policy=policies,
       zones=st.sampled_from([(), ("1", "2"), ("1", "2", "3")]),
       uds=st.integers(1, 20), sf=st.booleans(), fail_rate=st.sampled_from([0.0, 0.02, 0.1, 0.5]),
       disable_rollback=st.booleans(), edition=st.sampled_from(["2020", "2026"]),
       signal=st.sampled_from(["probe", "extension", "none"]), seed=st.integers(0, 2 ** 16), evs=events,
       gaps=st.lists(st.integers(0, 40 * DAY), min_size=1, max_size=4))
def test_orchestrator_invariants(capacity, policy, zones, uds, sf, fail_rate, disable_rollback, edition, signal,
                                 seed, evs, gaps):
    b = Backend(seed=seed, edition=edition, outcomes=Outcomes(seed=seed, fail_rate=fail_rate))
    ss = b.add_set(ScaleSet("s", capacity, zones=zones, update_domains=uds, policy=policy, service_fabric=sf,
                            disable_rollback=disable_rollback, health_signal=signal), enabled_at=0)
    import random
    rng = random.Random(seed)

    def event(kind, count):
        ids = [i.id for i in ss.instances]
        if kind == "maintenance":
            b.set_health("s", rng.sample(ids, min(count, len(ids))), False)
        elif kind == "recover":
            b.set_health("s", rng.sample(ids, min(count, len(ids))), True)
        elif kind == "cancel":
            try:
                b.cancel("s")
            except Conflict:
                pass  # nothing running: refused, as the REST API does
        else:
            try:
                b.start_os_upgrade("s", "User")
            except Conflict:
                pass

    upgrades = {}
    state = {"log": 0, "now": 0}

    def check():
        assert b.now >= state["now"]
        state["now"] = b.now
        log_times = [e["time"] for e in b.log[max(0, state["log"] - 1):]]
        assert log_times == sorted(log_times)
        state["log"] = len(b.log)
        up = ss.current
        if up is None:
            return
        upgrades[id(up)] = up
        p = up.progress()
        assert sum(p.values()) == len(ss.instances), p  # surge instances counted while they exist
        assert min(p.values()) >= 0
        # the set holds more than its capacity only while a maxSurge batch runs, by at most that batch
        running = up.batches[-1] if up.batches and up.batches[-1]["end"] is None else None
        assert len(ss.instances) <= capacity + (len(running["instances"]) if running and policy.max_surge else 0)
        check_history()

    def check_history():
        hist = b.os_upgrade_history("s")
        assert len(hist) <= 5
        starts = [seconds(h["properties"]["runningStatus"]["startTime"]) for h in hist]
        assert starts == sorted(starts, reverse=True)  # newest first
        assert all(b.now - t <= HISTORY_WINDOW for t in starts)  # within two months
        for h in hist:
            rs = h["properties"]["runningStatus"]
            assert seconds(rs["startTime"]) <= seconds(rs["endTime"])

    for k, (at, kind, count) in enumerate(evs):
        b.at(at, event, kind, count)
    t = 0
    for n, gap in enumerate(gaps):
        t += gap
        b.at(t, b.publish_image, f"1.0.{n + 1}")
    while b._queue:
        b.advance_to(b._queue[0][0])
        check()

    stats["examples"] += 1
    stats["instances"] = max(stats["instances"], capacity)
    stats["batches"] += sum(len(up.batches) for up in upgrades.values())
    limit = 1 if edition >= "2026" and capacity <= 5 else max(1, math.floor(capacity * policy.max_batch / 100))
    for up in upgrades.values():
        seen = set()
        last_end = up.start
        for batch in up.batches:
            members = [ss.by_id(i) for i in batch["instances"]]
            assert not seen & set(batch["instances"])  # no instance in two batches
            seen |= set(batch["instances"])
            if sf:
                assert len({m.update_domain for m in members}) == 1
            else:
                assert len(members) <= limit
                if not policy.cross_zone:
                    assert len({m.zone for m in members}) == 1
            assert last_end <= batch["start"] <= batch["end"]  # monotonic, batches never overlap
            assert all(batch["start"] <= d <= batch["end"] for d in batch["done"].values())
            last_end = batch["end"]
        if up.end is not None:
            assert up.start <= last_end <= up.end
            assert up.last_action_time <= up.end
    check_history()


stats = {"examples": 0, "instances": 0, "batches": 0}


def seconds(stamp):
    import datetime as dt

    from linter.sim.backend import EPOCH
    return int((dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc) - EPOCH)
               .total_seconds())


def test_the_properties_ran_on_large_sets_too():
    """The random sets above reached the upper end (hypothesis shrinks toward small ones otherwise)."""
    if stats["examples"] == 0:
        import pytest
        pytest.skip("run together with test_orchestrator_invariants")
    assert stats["batches"] > stats["examples"]
