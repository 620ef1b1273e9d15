"""Configuration files, template metadata, suppressions and baselines — through the command line."""

from __future__ import annotations

import json

import pytest

from conftest import template, vmss, write
from test_cli import run

PINNED = {"properties.virtualMachineProfile.storageProfile.imageReference.version": "1.0"}
OLD_IMAGE = {"properties.virtualMachineProfile.storageProfile.imageReference.sku": "18.04-LTS",
             "properties.virtualMachineProfile.storageProfile.imageReference.offer": "UbuntuServer"}


def codes_of(r):
    return sorted(f["code"] for f in json.loads(r.stdout)["findings"])


@pytest.fixture
def project(tmp_path):
    write(tmp_path / "infra" / "web.json", template(vmss(**PINNED, **OLD_IMAGE)))
    return tmp_path


def test_pyproject_configuration_is_found_walking_up(project):
    write(project / "pyproject.toml", '[project]\nname = "x"\n\n[tool.vmsslint]\nignore = ["VMSS200"]\n'
                                      'docs-edition = "2020"\n')
    r = run("lint", "--format", "json", "-v", str(project / "infra" / "web.json"))
    assert codes_of(r) == []  # VMSS200 ignored, 18.04 supported in 2020
    assert "configuration from" in r.stderr and "pyproject.toml" in r.stderr


def test_yaml_configuration_and_command_line_precedence(project):
    write(project / ".vmsslint.yaml", "select: [VMSS2]\ndocs-edition: '2020'\nfail-level: warning\n"
                                      "severity:\n  VMSS200: warning\n")
    target = str(project / "infra")
    r = run("lint", "--format", "json", target)
    assert codes_of(r) == ["VMSS200"]
    assert json.loads(r.stdout)["findings"][0]["severity"] == "warning"
    assert r.returncode == 1  # fail-level warning from the configuration
    r = run("lint", "--format", "json", "--docs-edition", "2026", "--fail-level", "error", target)
    assert codes_of(r) == ["VMSS200", "VMSS201"] and r.returncode == 1  # VMSS201 is still an error
    r = run("lint", "--format", "json", "--isolated", target)
    assert "VMSS300" not in codes_of(r) and "VMSS201" in codes_of(r)


def test_per_file_ignores_and_exclude(project):
    write(project / "infra" / "legacy" / "old.json", template(vmss(**PINNED)))
    write(project / ".vmsslint.yaml", "per-file-ignores:\n  'infra/web.json': [VMSS20]\nexclude: ['infra/legacy']\n")
    r = run("lint", "--format", "json", str(project / "infra"))
    assert codes_of(r) == []


@pytest.mark.parametrize("text, message", [
    ("ignore: [VMSS2OO]\n", "no rule code starts with 'VMSS2OO'; did you mean VMSS200?"),
    ("docs-editon: '2020'\n", "unknown setting 'docs-editon'; did you mean 'docs-edition'?"),
    ("docs-edition: '2019'\n", "'docs-edition' is '2019'; it must be one of 2020, 2026"),
    ("require-auto-upgrade: yes please\n", "'require-auto-upgrade' must be a boolean"),
    ("extra-images: ['Canonical:ubuntu']\n", "not of the form"),
    ("ignore: [unclosed\n", "not valid YAML"),
    ("severity:\n  VMSS2: info\n", "is a prefix; name one rule code"),
])
def test_broken_configuration_is_a_usage_error(project, text, message):
    write(project / ".vmsslint.yaml", text)
    r = run("lint", str(project / "infra"))
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr


def test_broken_pyproject_is_a_usage_error(project):
    write(project / "pyproject.toml", "[tool.vmsslint]\nignore = [\n")
    r = run("lint", str(project / "infra"))
    assert r.returncode == 2 and "not valid TOML" in r.stderr


def test_resource_suppression_needs_a_reason_and_unused_ones_are_reported(tmp_path):
    ok = vmss(name="a", **PINNED)
    ok["metadata"] = {"vmsslint": {"ignore": {"VMSS200": "pinned until the 2027 rollout"}}}
    no_reason = vmss(name="b", **PINNED)
    no_reason["metadata"] = {"vmsslint": {"ignore": {"VMSS200": ""}}}
    unused = vmss(name="c")
    unused["metadata"] = {"vmsslint": {"ignore": {"VMSS200": "old", "VMSS999": "typo"}}}
    write(tmp_path / "t.json", template(ok, no_reason, unused))
    r = run("lint", "--format", "json", str(tmp_path / "t.json"))
    found = [(f["code"], f["resource"] or f["path"]) for f in json.loads(r.stdout)["findings"]]
    assert sorted(found) == sorted([
        ("VMSS200", "b"),                                    # an empty reason does not suppress
        ("VMSS008", "/resources/1/metadata/vmsslint/ignore/VMSS200"),
        ("VMSS008", "/resources/2/metadata/vmsslint/ignore/VMSS999"),
        ("VMSS007", "/resources/2/metadata/vmsslint/ignore/VMSS200"),
    ])
    # a rule that did not run cannot make its suppression "unused"
    r = run("lint", "--format", "json", "--ignore", "VMSS200", str(tmp_path / "t.json"))
    assert "VMSS007" not in codes_of(r)


def test_template_metadata_sits_between_configuration_and_command_line(tmp_path):
    t = template(vmss(**OLD_IMAGE))
    t["metadata"] = {"vmsslint": {"docs-edition": "2020", "ignore": {"VMSS300": "probe added by policy"}}}
    write(tmp_path / "t.json", t)
    write(tmp_path / ".vmsslint.yaml", "docs-edition: '2026'\n")
    assert codes_of(run("lint", "--format", "json", str(tmp_path / "t.json"))) == ["VMSS007"]  # 2020: 18.04 ok
    assert codes_of(run("lint", "--format", "json", "--docs-edition", "2026", str(tmp_path / "t.json"))) == [
        "VMSS007", "VMSS201"]


def test_baseline_reports_only_new_findings(tmp_path):
    t = template(vmss(**PINNED))
    write(tmp_path / "t.json", t)
    base = tmp_path / "baseline.json"
    r = run("lint", "--write-baseline", str(base), str(tmp_path / "t.json"))
    assert r.returncode == 0 and json.loads(base.read_text())["findings"][0]["code"] == "VMSS200"
    assert "baseline of 1 findings written to" in r.stderr
    r = run("lint", "--baseline", str(base), str(tmp_path / "t.json"))
    assert r.returncode == 0 and "No findings in 1 template (1 more in the baseline)." in r.stdout
    # edits elsewhere move lines but do not resurrect the accepted finding
    t["variables"] = {"a": 1, "b": 2, "c": 3}
    t["resources"].append(vmss(name="new", **OLD_IMAGE))
    write(tmp_path / "t.json", json.dumps(t, indent=4))
    r = run("lint", "--baseline", str(base), "--format", "json", str(tmp_path / "t.json"))
    assert codes_of(r) == ["VMSS201"]


def test_bad_baseline_file(tmp_path):
    write(tmp_path / "t.json", template(vmss()))
    write(tmp_path / "b.json", {"findings": []})
    r = run("lint", "--baseline", str(tmp_path / "b.json"), str(tmp_path / "t.json"))
    assert r.returncode == 2 and "not a vmsslint baseline" in r.stderr
