"""vmsslint generate --target terraform: the whole support matrix parses back with the HCL parser,
is in `terraform fmt` layout (when the terraform binary is on the machine) and lints clean; hostile
values stay values."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import lint
from linter import generate
from test_generate import MATRIX, MATRIX_IDS

pytest.importorskip("hcl2")

GALLERY_ID = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/app"


def build(tmp_path, **choices):
    files = generate.render_terraform(generate.resolve(choices))
    out = tmp_path / "tf"
    generate.write(files, str(out), force=True)
    return out, files


def clean(out, edition):
    report = lint(out, edition=edition)
    assert report.templates == 1
    return [f"{f.code} {f.severity} {f.message}" for f in report.findings if f.severity != "info"]


@pytest.mark.parametrize("edition, urn, health, sf", MATRIX, ids=MATRIX_IDS)
def test_support_matrix_lints_clean(tmp_path, edition, urn, health, sf):
    out, files = build(tmp_path, image=urn, health=health, **{"service-fabric": sf, "docs-edition": edition})
    assert set(files) == {"main.tf", "variables.tf"}
    assert clean(out, edition) == []


@pytest.mark.parametrize("choices", [
    {"gallery-image": GALLERY_ID, "os": "linux", "health": "probe"},
    {"new-gallery": "images/web", "os": "windows", "health": "extension", "health-protocol": "tcp",
     "location": "westeurope"},
    {"image": "Canonical:0001-com-ubuntu-server-jammy:22_04-LTS-Gen2", "health": "probe", "zones": ["1", "2", "3"]},
])
def test_gallery_zones_and_modes_lint_clean(tmp_path, choices):
    out, _ = build(tmp_path, **choices)
    assert clean(out, "2026") == []


def test_terraform_fmt_accepts_every_layout(tmp_path):
    """`terraform fmt -check` over a sample of the matrix (all health kinds, OS, SF, galleries, zones)."""
    exe = shutil.which("terraform")
    if exe is None:
        pytest.skip("the terraform binary is not on this machine")
    cases = [dict(image=u, health=h, **{"service-fabric": s, "docs-edition": e}) for e, u, h, s in MATRIX[::7]]
    cases += [{"gallery-image": GALLERY_ID, "os": "windows", "health": "probe"},
              {"new-gallery": "images/web", "os": "linux", "health": "extension", "zones": ["1", "2"],
               "location": "westeurope"}]
    for i, choices in enumerate(cases):
        build(tmp_path / str(i), **choices)
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    r = subprocess.run([exe, "fmt", "-check", "-recursive", "-diff", str(tmp_path)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:]


HOSTILE = ['he said "hi"', "back\\slash", "new\nline", "${file(\"/etc/passwd\")}", "%{ if true }x%{ endif }",
           "$${kept}", "ünïcødé ☃", '", injected = "yes', "{{ 7*7 }}"]


@pytest.mark.parametrize("value", HOSTILE, ids=[repr(v)[:20] for v in HOSTILE])
def test_hostile_values_stay_values(tmp_path, value):
    out, files = build(tmp_path, image="Canonical:0001-com-ubuntu-server-jammy:22_04-LTS-Gen2", health="probe",
                       name=value[:64], **{"admin-username": value, "vm-size": value})
    from linter.arm.template import Deployment, Options
    from linter.terraform import module as M
    tf = M.read_file(str(out / "variables.tf"))
    assert tf.error is None
    dep = Deployment(None, tf.src, Options())
    mod = M.Module(str(out), [tf], dep)
    assert mod.variable("admin_username")[0] == value  # Terraform reads back exactly the value given
    assert mod.variable("name")[0] == value[:64]
    assert dep.diagnostics == []


def test_command_line_target_terraform(tmp_path):
    from test_cli import run
    out = tmp_path / "o"
    r = run("generate", "--target", "terraform", "--image", "MicrosoftWindowsServer:WindowsServer:2022-Datacenter",
            "--health", "extension", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(out)) == ["main.tf", "variables.tf"]
    text = (out / "main.tf").read_text()
    assert "enable_automatic_updates = false" in text and "enable_automatic_os_upgrade = true" in text
    r = run("lint", str(out))
    assert r.returncode == 0 and "No findings" in r.stdout
