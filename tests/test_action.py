"""action.yml, the composite GitHub Action: its inputs, and its steps' commands run as the runner runs them.

The ``uses:`` steps (setup-python, the SARIF upload) are GitHub's; the ``run:`` steps run here with bash in
the environment the runner gives them (inputs as variables, GITHUB_OUTPUT), the install step into a fresh
virtual environment from a copy of this repository, offline (no index, no build isolation: the build
backend hatchling must be importable, as the test extra installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, assert_valid_sarif, template, vmss, write

PINNED = {"properties.virtualMachineProfile.storageProfile.imageReference.version": "1.0"}


def action():
    from ruamel.yaml import YAML
    return YAML(typ="safe").load((REPO / "action.yml").read_text(encoding="utf-8"))


def expand(text: str, ctx: dict) -> str:
    """GitHub's ${{ expression }} for the plain names the action uses."""
    return re.sub(r"\$\{\{\s*([\w.-]+)\s*\}\}", lambda m: str(ctx[m.group(1)]), text)


def test_inputs_and_steps():
    doc = action()
    assert set(doc["inputs"]) >= {"paths", "args", "sarif"}
    assert doc["runs"]["using"] == "composite"
    uses = [s["uses"].split("@")[0] for s in doc["runs"]["steps"] if "uses" in s]
    assert "github/codeql-action/upload-sarif" in uses
    upload = next(s for s in doc["runs"]["steps"] if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif }}"
    for step in doc["runs"]["steps"]:
        if "run" in step:  # inputs reach the shell only through env (no script injection)
            assert "${{" not in step["run"] and step["shell"] == "bash"


@pytest.mark.skipif(not shutil.which("bash"), reason="needs bash")
def test_steps_install_vmsslint_lint_and_write_sarif(tmp_path):
    pytest.importorskip("hatchling", reason="the install step builds vmsslint offline with hatchling (test extra)")
    source = tmp_path / "action"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", "__pycache__", ".pytest_cache", "*.pyc"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    work = tmp_path / "repo"
    write(work / "infra" / "azuredeploy.json", template(vmss(**PINNED)))
    out = tmp_path / "github_output"
    out.write_text("")
    doc = action()
    inputs = {f"inputs.{k}": v.get("default", "") for k, v in doc["inputs"].items()}
    inputs.update({"inputs.paths": "infra", "inputs.args": "--require-auto-upgrade", "github.action_path": source})
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=f"{bindir}{os.pathsep}{env['PATH']}", GITHUB_OUTPUT=str(out), PIP_NO_INDEX="1",
               PIP_NO_DEPS="1", PIP_NO_BUILD_ISOLATION="0", PIP_DISABLE_PIP_VERSION_CHECK="1")
    results = {}
    for step in doc["runs"]["steps"]:
        if "run" not in step:
            continue
        step_env = dict(env, **{k: expand(str(v), inputs) for k, v in (step.get("env") or {}).items()})
        r = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=work, env=step_env, capture_output=True,
                           text=True, timeout=300)
        results[step["name"]] = r
        if step["name"] == "Install vmsslint":
            assert r.returncode == 0, r.stderr
            assert (bindir / "vmsslint").exists()
    lint = results["Lint"]
    assert lint.returncode == 1, lint.stderr  # a pinned image version is an error
    assert "exit-code=1" in out.read_text()
    assert "::error file=infra/azuredeploy.json,line=" in lint.stdout and "title=VMSS200" in lint.stdout
    sarif = assert_valid_sarif((work / "vmsslint.sarif").read_text(encoding="utf-8"))
    assert [res["ruleId"] for res in sarif["runs"][0]["results"]] == ["VMSS200"]
    # the vmsslint that ran is the one the step installed, not this checkout
    r = subprocess.run([str(bindir / "python"), "-c", "import linter; print(linter.__file__)"], capture_output=True,
                       text=True, env=env, cwd=work, timeout=60)
    assert str(venv) in r.stdout
