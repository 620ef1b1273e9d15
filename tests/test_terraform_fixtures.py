"""Terraform rule fixtures: each ``tests/fixtures/terraform/<CODE>/<kind>-<name>/`` is a module
linted as ``vmsslint lint DIR`` does; its findings, one text line each, must equal ``expected.txt``.

The cases are written by ``tests/fixtures/terraform/make_fixtures.py``; ``VMSSLINT_UPDATE_SNAPSHOTS=1``
rewrites the expected files (read every line before committing them).
"""

from __future__ import annotations

import os
import pathlib

import pytest

from conftest import FIXTURES, lint

pytest.importorskip("hcl2")

TF = FIXTURES / "terraform"
CASES = sorted(p for p in TF.glob("*/*") if p.is_dir())


def render(report, base: pathlib.Path) -> str:
    lines = []
    for f in report.sorted():
        rel = os.path.relpath(f.src.path, base) if f.src is not None else f.file
        res = f" [{f.resource}]" if f.resource else ""
        lines.append(f"{rel}:{f.line}:{f.column}: {f.code} {f.severity} {f.message}{res}")
    return "\n".join(lines) + ("\n" if lines else "")


@pytest.mark.parametrize("case", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_terraform_fixture(case):
    settings = {}
    flags = case / "vmsslint-test.txt"
    for flag in (flags.read_text().split() if flags.exists() else []):
        if flag == "require_auto_upgrade":
            settings["require_auto_upgrade"] = True
        elif flag.startswith("edition="):
            settings["edition"] = flag[8:]
        elif flag.startswith("now="):
            from linter.lintcmd import parse_now
            settings["now"] = parse_now(flag[4:])
    report = lint(case, **settings)
    assert report.templates == 1
    got = render(report, case)
    expected = case / "expected.txt"
    if os.environ.get("VMSSLINT_UPDATE_SNAPSHOTS"):
        expected.write_text(got, encoding="utf-8")
    assert expected.exists(), f"no {expected}: run with VMSSLINT_UPDATE_SNAPSHOTS=1 and review it"
    assert got == expected.read_text(encoding="utf-8")
    code = case.parent.name
    mine = [f for f in report.findings if f.code == code]
    kind = case.name.split("-")[0]
    if kind == "pass":
        assert mine == [], f"{code} fired on a configuration that must pass it"
    elif kind == "fail":
        assert any(not f.unverifiable for f in mine), f"{code} did not fire on a configuration that must fail it"
    elif kind == "unverifiable":
        assert mine and all(f.unverifiable and f.severity == "info" for f in mine)
    else:
        pytest.fail(f"case name must start with pass-, fail- or unverifiable-: {case.name}")
    assert not [f for f in report.findings if f.code in ("VMSS000", "VMSS001", "VMSS004")]
