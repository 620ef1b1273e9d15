"""Terraform plans (`terraform show -json`) and exports of deployed sets (az CLI, Resource Graph).

Plan fixtures are written by tests/fixtures/terraform-plans/make_plans.py in Terraform's documented
JSON output format; export fixtures are in the shapes `az vmss show/list`, `az network lb show` and
`az graph query` print.  Each fixture's findings must equal its `.expected` file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import FIXTURES, REPO, lint, write

PLANS = sorted((FIXTURES / "terraform-plans").glob("*.json"))
EXPORTS = sorted((FIXTURES / "exports").glob("*.json"))


def render(report, base):
    lines = []
    for f in report.sorted():
        rel = os.path.relpath(f.src.path, base) if f.src is not None else f.file
        res = f" [{f.resource}]" if f.resource else ""
        lines.append(f"{rel}:{f.line}:{f.column}: {f.code} {f.severity} {f.message}{res} @{f.path}")
    return "\n".join(lines) + ("\n" if lines else "")


def _check(path, report):
    got = render(report, path.parent)
    expected = path.with_suffix(".expected")
    if os.environ.get("VMSSLINT_UPDATE_SNAPSHOTS"):
        expected.write_text(got, encoding="utf-8")
    assert got == expected.read_text(encoding="utf-8")
    return got


@pytest.mark.parametrize("path", PLANS, ids=[p.stem for p in PLANS])
def test_plan_fixture(path):
    report = lint(path)
    assert report.templates == 1 and report.inputs[0]["kind"] == "terraform-plan"
    _check(path, report)
    kind = path.stem.split("-")[0]
    errors = [f for f in report.findings if f.severity == "error"]
    if kind == "pass":
        assert report.findings == []
    elif kind == "fail":
        assert errors
    else:
        assert report.findings and all(f.unverifiable for f in report.findings)
    for f in report.findings:
        assert f.resource.startswith("azurerm_") and f.path.startswith("/resource_changes/")


def test_plan_probe_reference_resolved_through_configuration():
    path = FIXTURES / "terraform-plans" / "pass-probe-by-reference.json"
    root = json.loads(path.read_text())
    # the plan itself does not know the id: after_unknown marks it
    set_change = root["resource_changes"][-1]["change"]
    assert set_change["after_unknown"]["health_probe_id"] is True
    assert lint(path).findings == []  # VMSS302/303 followed azurerm_lb_probe.web.id through `references`


def test_plan_without_references_leaves_the_probe_unknown(tmp_path):
    root = json.loads((FIXTURES / "terraform-plans" / "pass-probe-by-reference.json").read_text())
    for r in root["configuration"]["root_module"]["resources"]:
        r.get("expressions", {}).pop("health_probe_id", None)
    p = write(tmp_path / "plan.json", root)
    [f] = lint(p).findings
    assert f.code == "VMSS302" and f.unverifiable and "after_unknown" in f.message


def test_not_a_plan_says_so(tmp_path):
    p = write(tmp_path / "plan.json", {"format_version": "1.2", "resource_changes": {"oops": 1}})
    [f] = lint(p).findings
    assert f.code == "VMSS001" and "terraform show -json" in f.message


@pytest.mark.parametrize("path", EXPORTS, ids=[p.stem for p in EXPORTS])
def test_export_fixture(path):
    report = lint(path)
    assert report.inputs[0]["kind"] == "azure-export"
    _check(path, report)
    for f in report.findings:
        assert f.code not in ("VMSS110", "VMSS000", "VMSS001")  # an export has no apiVersion to check


def test_exports_in_one_run_resolve_probe_references(tmp_path):
    ex = FIXTURES / "exports"
    lb = json.loads((ex / "az-network-lb-show.json").read_text())
    lb["probes"][0]["name"] = "other"
    p = write(tmp_path / "lb.json", lb)
    alone = lint(ex / "az-vmss-show-ready.json")
    assert alone.findings == []  # the load balancer is not in the run: nothing to follow
    [f] = lint([ex / "az-vmss-show-ready.json", p]).findings
    assert f.code == "VMSS302" and "its probes: other" in f.message and f.resource == "web-vmss"


def test_readiness_over_exports():
    r = subprocess.run([sys.executable, "-m", "linter", "lint", "--readiness", "--format", "json",
                        str(FIXTURES / "exports")], capture_output=True, text=True, cwd=str(REPO), timeout=60)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["scaleSets"] == 6 and out["inputs"] == 4
    assert out["enabled"] == 5  # batch-vmss in the az vmss list has it off
    assert {b["code"]: b["sets"] for b in out["blockers"]} == {"VMSS200": 2, "VMSS300": 2, "VMSS400": 1}
    assert out["readyAsIs"] == 3  # web-vmss (twice: az and Resource Graph) and batch-vmss, with the lb in the run
    text = subprocess.run([sys.executable, "-m", "linter", "lint", "--readiness", str(FIXTURES / "exports")],
                          capture_output=True, text=True, cwd=str(REPO), timeout=60).stdout
    assert "sets ready as-is (only need the feature on)     3" in text and "VMSS300 no-health-signal" in text


def test_a_state_is_not_a_plan(tmp_path):
    p = write(tmp_path / "state.json", {"format_version": "1.0", "terraform_version": "1.11.4",
                                        "values": {"root_module": {"resources": []}}})
    [f] = lint(p).findings
    assert f.code == "VMSS001" and "of a state, not of a plan" in f.message
