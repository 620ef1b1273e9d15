#!/usr/bin/env python3
"""uniqueString() speed: microseconds per call for typical ARM inputs, and the import cost.

    python bench/bench_hash.py [--calls N]

Prints figures, asserts nothing (a timed test would be flaky on a shared 2-core machine).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

INPUTS = {
    "short ('test')": ("test",),
    "resourceGroup().id": ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg",),
    "rg id + deployment name": ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg",
                                "vmss-deployment-20260101"),
    "1 KiB string": ("x" * 1024,),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=20000)
    args = ap.parse_args()

    t = time.perf_counter()
    from linter.arm.hashing import unique_string
    import_ms = (time.perf_counter() - t) * 1000

    print(f"python {sys.version.split()[0]}; {args.calls} calls per input")
    print(f"import linter.arm.hashing (in-process, after interpreter start): {import_ms:.2f} ms")
    for label, values in INPUTS.items():
        unique_string(*values)
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            for _ in range(args.calls):
                unique_string(*values)
            best = min(best, time.perf_counter() - t)
        print(f"  {label:<28} {best / args.calls * 1e6:8.2f} us/call  -> {unique_string(*values)}")

    env = dict(os.environ, PYTHONPATH=REPO)
    cmd = [sys.executable, "-X", "importtime", "-c", "import linter.arm.hashing"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True).stderr
    own = [ln for ln in out.splitlines() if ln.rstrip().endswith("linter.arm.hashing")]
    if own:
        print("importtime:", own[-1].strip())


if __name__ == "__main__":
    main()
