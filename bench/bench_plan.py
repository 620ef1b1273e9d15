#!/usr/bin/env python3
"""Simulator speed: one rollout of a 1,000-instance set, and `--runs 1000` and `--runs 10000` on it.

    python bench/bench_plan.py [--jobs N]

Target (issue 12): the ten thousand runs within 10 seconds on this 2-core machine (every core used).
Prints figures only.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from linter.sim.backend import Policy  # noqa: E402
from linter.sim.plan import Scenario, SetConfig, _cores, monte_carlo, simulate  # noqa: E402


def config(capacity=1000):
    return SetConfig(name="big", capacity=capacity, capacity_known=True, zones=["1", "2", "3"], health_signal="probe",
                     service_fabric=False, policy=Policy(), disable_rollback=False, image_kind="platform",
                     version_latest=True, location="westeurope", auto_upgrade=True, credentials_expired=False,
                     mode="Rolling", image_ref={}, blockers=[])


def main():
    jobs = int(sys.argv[sys.argv.index("--jobs") + 1]) if "--jobs" in sys.argv else None
    cfg = config()
    sc = Scenario(seed=1, fail_rate=0.01)
    t = time.perf_counter()
    r = simulate(cfg, sc)
    one = time.perf_counter() - t
    print(f"one rollout, 1000 instances, 1% failures:  {one * 1000:8.1f} ms  ({len(r['batches'])} batches, "
          f"{r['runningStatus']['code']})")
    n = jobs or _cores()
    for runs in (1000, 10000):
        t, c = time.perf_counter(), os.times()
        stats = monte_carlo(cfg, sc, runs, workers=jobs)
        many, c2 = time.perf_counter() - t, os.times()
        cpu = (c2.user + c2.system + c2.children_user + c2.children_system) - (
            c.user + c.system + c.children_user + c.children_system)
        print(f"--runs {runs:<5} on it ({n} processes): {many:8.2f} s wall, {cpu:6.2f} s CPU = {cpu / n:5.2f} s on "
              f"{n} idle cores   (completed {stats['completed']:.1%}, p50 {stats['durationSeconds']['p50']} s)"
              + ("   target < 10 s" if runs == 10000 else ""))
    print(f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: on a shared machine the wall time "
          f"is the CPU time divided by the share the processes got")


if __name__ == "__main__":
    main()
