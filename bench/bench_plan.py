#!/usr/bin/env python3
"""Simulator speed: one rollout of a 1,000-instance set, and `--runs 1000` on it.

    python bench/bench_plan.py

Target (issue 6): the thousand runs in under 10 seconds on a 2-core machine. Prints figures only.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from linter.sim.backend import Policy  # noqa: E402
from linter.sim.plan import Scenario, SetConfig, monte_carlo, simulate  # noqa: E402


def config(capacity=1000):
    return SetConfig(name="big", capacity=capacity, capacity_known=True, zones=["1", "2", "3"], health_signal="probe",
                     service_fabric=False, policy=Policy(), disable_rollback=False, image_kind="platform",
                     version_latest=True, location="westeurope", auto_upgrade=True, credentials_expired=False,
                     mode="Rolling", image_ref={}, blockers=[])


def main():
    cfg = config()
    sc = Scenario(seed=1, fail_rate=0.01)
    t = time.perf_counter()
    r = simulate(cfg, sc)
    one = time.perf_counter() - t
    print(f"one rollout, 1000 instances, 1% failures: {one * 1000:8.1f} ms  ({len(r['batches'])} batches, "
          f"{r['runningStatus']['code']})")
    t = time.perf_counter()
    stats = monte_carlo(cfg, sc, 1000)
    many = time.perf_counter() - t
    print(f"--runs 1000 on it:                        {many:8.2f} s   (target < 10 s; completed "
          f"{stats['completed']:.1%}, p50 {stats['durationSeconds']['p50']} s)")


if __name__ == "__main__":
    main()
