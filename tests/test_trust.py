"""Issue 10: findings users can trust — stdin, parameter files named alone, runs without a template,
partial updates, secrets, and the check API."""

from __future__ import annotations

import json
import os

from conftest import FIXTURES, REPO, lint, template, vmss, write
from test_cli import run

NEEDS_WORK = REPO / "examples" / "needs-work"


def test_stdin_with_a_name_reads_the_parameter_file_beside_that_name():
    text = (NEEDS_WORK / "azuredeploy.json").read_text(encoding="utf-8")
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "linter", "lint", "-", "--stdin-filename", "azuredeploy.json",
                        "--format", "json"], input=text, capture_output=True, text=True, cwd=str(NEEDS_WORK),
                       timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.returncode == 1, r.stderr
    found = {(f["file"], f["code"]) for f in json.loads(r.stdout)["findings"]}
    assert ("azuredeploy.parameters.json", "VMSS200") in found and ("azuredeploy.json", "VMSS300") in found
    # without a name: <stdin>, and no parameter file is guessed from the working directory
    r = subprocess.run([sys.executable, "-m", "linter", "lint", "-", "--format", "concise"], input=text,
                       capture_output=True, text=True, cwd=str(NEEDS_WORK), timeout=120,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.stdout.startswith("<stdin>:") and "VMSS200" not in r.stdout
    r = subprocess.run([sys.executable, "-m", "linter", "lint", "-", "--fix"], input=text, capture_output=True,
                       text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.returncode == 2 and "standard input" in r.stderr and "Traceback" not in r.stderr


def test_a_parameter_file_named_alone_lints_its_template(tmp_path):
    cwd = os.getcwd()
    os.chdir(NEEDS_WORK)
    try:
        report = lint("azuredeploy.parameters.json")
    finally:
        os.chdir(cwd)
    assert report.templates == 1
    assert ("azuredeploy.parameters.json", "VMSS200", 6) in {(f.file, f.code, f.line) for f in report.findings}


def test_a_run_without_a_template_says_so_and_names_bicep_files(tmp_path):
    write(tmp_path / "infra" / "main.bicep", "param location string = resourceGroup().location\n")
    write(tmp_path / "package.json", {"name": "x"})
    r = run("lint", "--format", "concise", ".", cwd=str(tmp_path))
    assert r.returncode == 0
    assert "No template, Terraform module, plan or export was linted (1 file read)." in r.stdout
    assert ("az bicep build --file infra/main.bicep --stdout | vmsslint lint - --stdin-filename infra/main.json"
            in r.stdout)


def test_every_suggested_image_is_in_its_own_editions_table():
    from linter.rules import load_rules
    rule = next(r for r in load_rules() if r.code == "VMSS201")
    tables = {e: {u.lower() for u in rows} for e, rows in rule.options["editions"].items()}
    assert set(rule.options["suggest"]) == set(tables)
    for edition, by_os in rule.options["suggest"].items():
        assert set(by_os) == {"linux", "windows"}
        for urn in by_os.values():
            assert urn.lower() in tables[edition], (edition, urn)


def test_messages_say_what_is_wrong_in_one_clause_and_help_says_how_to_fix_it():
    """No rule message glues clauses with semicolons; the fix goes in `help`, carried by every format."""
    from linter.rules import load_rules
    for rule in load_rules():
        for variant, text in rule.messages.items():
            assert ";" not in text, f"{rule.code}.{variant}: {text}"
        if rule.function != "engine" and rule.code != "VMSS310":  # VMSS310 names its problem in the message
            assert rule.helps, f"{rule.code} has no help"
    report = lint(FIXTURES / "rules" / "VMSS200")
    assert report.findings and all(f.help for f in report.findings if f.code == "VMSS200" and not f.unverifiable)


def test_engine_findings_keep_their_fix_out_of_the_message(tmp_path):
    t = template(vmss(), metadata={"vmsslint": {"ignore": {"VMSS200": "pinned until the rollout"}}})
    write(tmp_path / "t.json", t)
    report = lint(tmp_path / "t.json")
    [f] = [f for f in report.findings if f.code == "VMSS007"]
    assert f.message == "VMSS200 reports nothing in this template" and f.help == "remove the unused suppression"


def test_message_is_optional_only_for_engine_rules(tmp_path):
    import re

    import pytest

    from linter.rules import RuleError, compile_rules
    engine = (REPO / "rules" / "VMSS007-unused-suppression.yaml").read_text(encoding="utf-8")
    assert "\nmessage:" not in engine
    text = (REPO / "rules" / "VMSS101-auto-upgrade-flag-is-string.yaml").read_text(encoding="utf-8")
    text = re.sub(r"\nmessage: >-\n(  .*\n)+", "\n", text)
    p = tmp_path / "VMSS101-auto-upgrade-flag-is-string.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(RuleError, match="field 'message' is required"):
        compile_rules([str(p)])


def test_credentials_are_never_printed_in_any_format(tmp_path):
    """The passwords and tokens the credential fixtures write never reach any output format."""
    import subprocess
    import sys
    cases = {"VMSS505/fail-literal-in-parameter-file.json": "Sup3r-Secret-Passw0rd",
             "VMSS505/fail-member-of-plain-object.json": "Obj3ct-Member-Passw0rd",
             "VMSS504/fail-secure-parameter-from-parameter-file.json": "not-a-real-token-0123456789"}
    for fixture, secret in cases.items():
        for fmt in ("full", "concise", "json", "sarif", "junit", "github", "azure"):
            r = subprocess.run([sys.executable, "-m", "linter", "lint", "--format", fmt, "--color", "never",
                                str(FIXTURES / "rules" / fixture)], capture_output=True, text=True, timeout=120,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
            assert r.returncode == 1 and "VMSS50" in r.stdout, (fixture, fmt, r.stderr)
            assert secret not in r.stdout + r.stderr, (fixture, fmt)
