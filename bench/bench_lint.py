#!/usr/bin/env python3
"""Lint speed: cold start against bare Python, and the whole corpus against read + json.loads.

    python bench/bench_lint.py [--runs N] [--corpus DIR]

Targets (issue 2): cold start of `vmsslint lint` on one small template within 3x `python -c pass`;
the whole ../shared/corpus in under 2 seconds on a 2-core machine.  Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SMALL = os.path.join(REPO, "examples", "ready", "azuredeploy.json")


def timed(cmd, env=None):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return (time.perf_counter() - t) * 1000


def median_ms(cmd, runs, env=None):
    times = [timed(cmd, env) for _ in range(runs)]
    return statistics.median(times), min(times)


def paired_ms(cmd_a, cmd_b, runs, env_b=None):
    """Alternate the two commands so that a busy moment of the machine hits both alike."""
    a, b = [], []
    for _ in range(runs):
        a.append(timed(cmd_a))
        b.append(timed(cmd_b, env_b))
    return (statistics.median(a), min(a)), (statistics.median(b), min(b))


def main():
    sys.path.insert(0, REPO)
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--corpus", default=os.path.join(REPO, "..", "shared", "corpus"))
    args = ap.parse_args()
    # pip compiles bytecode at install time; an editable checkout under PYTHONDONTWRITEBYTECODE would
    # otherwise compile every module on every start and measure the compiler, not vmsslint.
    import compileall
    import linter
    compileall.compile_dir(os.path.dirname(linter.__file__), quiet=1)
    exe = os.path.join(os.path.dirname(sys.executable), "vmsslint")
    exe = exe if os.path.exists(exe) else shutil.which("vmsslint")
    lint_cmd = [exe] if exe else [sys.executable, "-m", "linter"]
    env = dict(os.environ, VMSSLINT_CACHE_DIR=tempfile.mkdtemp(prefix="vmsslint-bench-"))
    subprocess.run(lint_cmd + ["lint", SMALL], stdout=subprocess.DEVNULL, env=env)  # warm the rule cache
    (bare, bare_min), (lint, lint_min) = paired_ms([sys.executable, "-c", "pass"], lint_cmd + ["lint", SMALL],
                                                   args.runs, env)
    print(f"cold start   python -c pass            median {bare:7.1f} ms  (min {bare_min:.1f})")
    print(f"cold start   vmsslint lint small.json  median {lint:7.1f} ms  (min {lint_min:.1f})"
          f"  = {lint / bare:.2f}x bare Python by medians, {lint_min / bare_min:.2f}x by minimums (target <= 3x)")
    if not os.path.isdir(args.corpus):
        print(f"corpus: {args.corpus} not found; skipped")
        return
    files = sorted(glob.glob(os.path.join(args.corpus, "**", "*.json"), recursive=True))
    size = sum(os.path.getsize(f) for f in files)

    def plain():
        for f in files:
            with open(f, "rb") as fh:
                data = fh.read()
            try:
                json.loads(data.decode("utf-8-sig"))
            except (ValueError, UnicodeDecodeError):
                pass

    t = time.perf_counter()
    plain()
    base = time.perf_counter() - t
    whole, whole_min = median_ms(lint_cmd + ["lint", args.corpus], 5, env)
    from linter.engine import Engine, Settings
    t = time.perf_counter()
    report = Engine(Settings()).lint_paths([args.corpus])
    inproc = time.perf_counter() - t
    print(f"corpus       {len(files)} files, {size / 1e6:.1f} MB, {report.templates} templates, "
          f"{len(report.findings)} findings")
    print(f"corpus       read + json.loads         {base * 1000:7.1f} ms")
    print(f"corpus       vmsslint lint (process)   median {whole:7.1f} ms  (min {whole_min:.1f})  "
          f"= {whole / 1000 / base:.0f}x json.loads (target < 2000 ms)")
    print(f"corpus       vmsslint lint (in-process){inproc * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
