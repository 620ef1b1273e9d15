"""Load on ``vmsslint serve`` (not a timed test): prints figures, fails on any error.

1. 8 concurrent clients (threads, each with its own keep-alive session) for 10 s against GetLatest and
   the OS upgrade history: requests per second, p50/p99 latency, errors (must be 0).
2. The wall time of an SDK-driven rollout (azure-mgmt-compute) of a 1,000-instance set at --speed 0,
   the clock advanced through the control API while the SDK polls.

    python bench/bench_serve.py [--clients 8] [--seconds 10] [--instances 1000]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))]


def load(server, path, clients, seconds):
    import requests
    lat, errors = [], []
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def worker():
        s = requests.Session()
        s.verify = server.verify
        s.headers["Authorization"] = "Bearer bench"
        mine, bad = [], []
        while time.monotonic() < stop:
            t = time.perf_counter()
            try:
                r = s.get(server.base + path + "?api-version=2024-11-01", timeout=30, verify=server.verify)
                code = r.status_code
            except requests.RequestException as exc:
                code = type(exc).__name__
            mine.append(time.perf_counter() - t)
            if code != 200:
                bad.append(code)
        with lock:
            lat.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.monotonic() - t0
    if errors:
        print(f"  errors: {sorted(set(map(str, errors)))}")
    return len(lat) / wall, pct(lat, 50) * 1000, pct(lat, 99) * 1000, errors


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--instances", type=int, default=1000)
    args = ap.parse_args(argv)
    from test_serve import SUB, Server  # the tests' process wrapper: bounded start, always stopped

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="bench-serve-"))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for name, n in (("web", 10), ("big", args.instances)):
        r = subprocess.run([sys.executable, "-m", "linter", "generate", "--image",
                            "Canonical:0001-com-ubuntu-server-jammy:22_04-LTS-Gen2", "--health", "probe", "--name", name,
                            "--instances", str(n), "-o", str(tmp / name)], capture_output=True, text=True, env=env)
        if r.returncode:
            sys.exit(f"generate failed: {r.stderr}")
    server = Server(str(tmp / "web" / "azuredeploy.json"), str(tmp / "big" / "azuredeploy.json"), "--speed", "0")
    failed = False
    try:
        set_path = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets"
        for name in ("web", "big"):
            server.arm("PATCH", f"{set_path}/{name}", {"properties": {"upgradePolicy": {
                "automaticOSUpgradePolicy": {"enableAutomaticOSUpgrade": False}}}})
        # a history to read: three finished upgrades and one running
        for v in ("1.0.1", "1.0.2", "1.0.3", "1.0.4"):
            server.control("POST", "/vmsslint/images", {"publisher": "p", "offer": "o", "sku": "s", "version": v})
            server.arm("POST", f"{set_path}/web/osRollingUpgrade")
            if v != "1.0.4":
                server.control("POST", "/vmsslint/clock", {"until": "idle"})
        server.control("POST", "/vmsslint/clock", {"advanceMinutes": 6})
        print(f"{args.clients} clients x {args.seconds:g} s, {'HTTPS' if server.ca else 'HTTP'} keep-alive:")
        for label, path in (("GetLatest", f"{set_path}/web/rollingUpgrades/latest"),
                            ("osUpgradeHistory", f"{set_path}/web/osUpgradeHistory")):
            rps, p50, p99, errors = load(server, path, args.clients, args.seconds)
            failed |= bool(errors)
            print(f"  {label:<17} {rps:7.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   errors {len(errors)}")

        client = server.client()
        ru = client.virtual_machine_scale_set_rolling_upgrades
        t0 = time.perf_counter()
        poller = ru.begin_start_os_upgrade("rg", "big")
        advances = 0
        while not poller.done():
            server.control("POST", "/vmsslint/clock", {"advanceMinutes": 5})  # one batch's time
            advances += 1
            time.sleep(0.05)
        poller.result()
        wall = time.perf_counter() - t0
        latest = ru.get_latest("rg", "big")
        print(f"SDK rollout of a {args.instances}-instance set at --speed 0: {wall:.2f} s wall, "
              f"{latest.progress.successful_instance_count} instances upgraded, {advances} clock advances of 5 "
              f"simulated minutes; status {latest.running_status.code}")
        failed |= latest.progress.successful_instance_count != args.instances
    finally:
        server.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
