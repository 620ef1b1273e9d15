"""vmsslint where it runs: the real pre-commit hook, and the CI steps the README shows."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from conftest import REPO, assert_valid_sarif, template, vmss, write

PINNED = {"properties.virtualMachineProfile.storageProfile.imageReference.version": "1.0"}


def readme_commands(heading):
    """The `vmsslint ...` commands of the README's YAML snippets under ``heading``."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"(?:- run:|- script:) (vmsslint [^\n]+)", section)


def run_shell(cmd, cwd):
    exe = shutil.which("vmsslint")
    argv = cmd.split()
    argv = ([exe] if exe else [sys.executable, "-m", "linter"]) + argv[1:]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_readme_ci_steps_run_as_shown(tmp_path):
    shutil.copytree(REPO / "examples", tmp_path / "infra")
    commands = readme_commands("In CI")
    assert len(commands) == 4
    outputs = {}
    for cmd in commands:
        r = run_shell(cmd, tmp_path)
        assert r.returncode in (0, 1) and "Traceback" not in r.stderr, (cmd, r.stderr)
        outputs[cmd] = r
    sarif = assert_valid_sarif((tmp_path / "vmsslint.sarif").read_text())
    assert {res["ruleId"] for res in sarif["runs"][0]["results"]} >= {"VMSS200", "VMSS201", "VMSS300"}
    junit = ET.parse(tmp_path / "vmsslint-junit.xml").getroot()
    assert int(junit.get("failures")) == len(sarif["runs"][0]["results"])
    gh = next(r for c, r in outputs.items() if "--format github" in c)
    assert gh.returncode == 1 and gh.stdout.startswith("::error file=infra/")
    az = next(r for c, r in outputs.items() if "--format azure" in c)
    assert az.returncode == 1 and "##vso[task.logissue type=error;sourcepath=infra/" in az.stdout


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"})


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_pre_commit_hook_with_the_real_pre_commit(tmp_path):
    pre_commit = shutil.which("pre-commit") or os.path.join(os.path.dirname(sys.executable), "pre-commit")
    if not os.path.exists(pre_commit):
        pytest.skip("pre-commit is not installed (pip install '.[test]' installs it)")
    if not (REPO / ".git").exists():
        pytest.skip("the checkout is not a git repository; pre-commit try-repo needs one")
    repo = tmp_path / "project"
    repo.mkdir()
    _git(repo, "init", "-q")
    write(repo / "good.json", template(vmss()))
    write(repo / "bad.json", template(vmss(**PINNED)))
    write(repo / "package.json", {"name": "not-a-template"})
    _git(repo, "add", "-A")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "NO_COLOR": "1",
           "VMSSLINT_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [pre_commit, "try-repo", str(REPO), "vmsslint", "--all-files"]
    r = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, env=env, timeout=600)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "bad.json:" in out and "VMSS200 error" in out
    assert "good.json:" not in out and "package.json" not in out
    write(repo / "bad.json", template(vmss()))
    _git(repo, "add", "-A")
    r = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Passed" in r.stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_pre_commit_a_changed_parameter_file_lints_its_template(tmp_path):
    """The README's headline case: a commit that changes only azuredeploy.parameters.json to pin the
    image version fails the hook with the finding at the parameter file; so does a parameter file of
    another layout, mapped to its template by parameter-files in the configuration."""
    pre_commit = shutil.which("pre-commit") or os.path.join(os.path.dirname(sys.executable), "pre-commit")
    if not os.path.exists(pre_commit):
        pytest.skip("pre-commit is not installed (pip install '.[test]' installs it)")
    if not (REPO / ".git").exists():
        pytest.skip("the checkout is not a git repository; pre-commit try-repo needs one")
    repo = tmp_path / "project"
    repo.mkdir()
    _git(repo, "init", "-q")
    key = "properties.virtualMachineProfile.storageProfile.imageReference.version"
    t = template(vmss(**{key: "[parameters('imageVersion')]"}), parameters={"imageVersion": {"type": "string"}})
    write(repo / "infra" / "azuredeploy.json", t)
    write(repo / "infra" / "azuredeploy.parameters.json", {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
        "contentVersion": "1.0.0.0", "parameters": {"imageVersion": {"value": "latest"}}})
    write(repo / "templates" / "main.json", t)
    write(repo / "env" / "prod.json", {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
        "contentVersion": "1.0.0.0", "parameters": {"imageVersion": {"value": "latest"}}})
    write(repo / ".vmsslint.yaml", 'parameter-files:\n  "env/*.json": templates/main.json\n')
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "initial")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "NO_COLOR": "1",
           "VMSSLINT_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [pre_commit, "try-repo", str(REPO), "vmsslint"]  # the staged files only, as on a commit
    for changed in ("infra/azuredeploy.parameters.json", "env/prod.json"):
        path = repo / changed
        path.write_text(path.read_text().replace('"latest"', '"22.04.202401161"'))
        _git(repo, "add", changed)
        r = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, env=env, timeout=600)
        out = r.stdout + r.stderr
        assert r.returncode == 1, out
        assert re.search(re.escape(changed) + r":\d+:\d+: VMSS200 error", out), out
        _git(repo, "commit", "-qm", f"pin {changed}", "--no-verify")
    r = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr  # nothing staged: nothing to say


def test_readme_quick_start_runs_as_shown(tmp_path):
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    line = re.search(r"^(vmsslint generate .+)$", section, re.M).group(1)
    for cmd in line.split(" && "):
        r = run_shell(cmd, tmp_path)
        assert r.returncode == 0, (cmd, r.stdout, r.stderr)
    assert "No findings in 1 template." in r.stdout
