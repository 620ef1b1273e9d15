"""Terraform modules: variables, locals, references, functions, modules, count/for_each, errors,
the corpus of real configurations, and what the ARM lint path must not import."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import REPO, SHARED, lint, needs_shared, write

pytest.importorskip("hcl2")

CORPUS = SHARED / "corpus-terraform"
REVIEWED = os.path.join(os.path.dirname(__file__), "terraform_corpus_errors.txt")

SET = '''
resource "azurerm_linux_virtual_machine_scale_set" "app" {{
  name                = {name}
  resource_group_name = "rg"
  location            = "westeurope"
  sku                 = "Standard_D2s_v5"
  instances           = 2
  admin_username      = "azureuser"
  upgrade_mode        = "Rolling"
  health_probe_id     = {probe}

  automatic_os_upgrade_policy {{
    enable_automatic_os_upgrade = true
    disable_automatic_rollback  = false
  }}

  rolling_upgrade_policy {{
    max_batch_instance_percent              = 20
    max_unhealthy_instance_percent          = 20
    max_unhealthy_upgraded_instance_percent = 20
    pause_time_between_batches              = "PT0S"
  }}

  source_image_reference {{
    publisher = "Canonical"
    offer     = "0001-com-ubuntu-server-jammy"
    sku       = "22_04-lts-gen2"
    version   = {version}
  }}

  os_disk {{
    storage_account_type = "Standard_LRS"
    caching              = "ReadWrite"
  }}

  network_interface {{
    name    = "nic"
    primary = true
    ip_configuration {{
      name      = "ip"
      primary   = true
      subnet_id = "x"
      load_balancer_backend_address_pool_ids = [azurerm_lb_backend_address_pool.p.id]
    }}
  }}
}}
'''

LB = '''
resource "azurerm_lb" "lb" {
  name                = "lb"
  location            = "westeurope"
  resource_group_name = "rg"
  sku                 = "Standard"
}

resource "azurerm_lb_backend_address_pool" "p" {
  name            = "pool"
  loadbalancer_id = azurerm_lb.lb.id
}

resource "azurerm_lb_probe" "h" {
  name                = "h"
  loadbalancer_id     = azurerm_lb.lb.id
  port                = 80
  interval_in_seconds = 5
}
'''


def module(tmp_path, version='"latest"', name='"app"', probe="azurerm_lb_probe.h.id", extra="", files=None):
    d = tmp_path / "mod"
    write(d / "main.tf", LB + SET.format(version=version, name=name, probe=probe) + extra)
    for fname, text in (files or {}).items():
        write(d / fname, text)
    return d


def findings(report, code):
    return [f for f in report.findings if f.code == code]


def test_clean_module_and_its_summary(tmp_path):
    d = module(tmp_path)
    report = lint(d)
    assert report.findings == []
    assert report.templates == 1
    [entry] = report.inputs
    assert entry["kind"] == "terraform-module" and entry["parameters"] == []
    assert entry["template"].rstrip(os.sep).endswith("mod")


def test_variable_precedence_tfvars_auto_var_file_and_var(tmp_path):
    var = '\nvariable "v" {\n  type    = string\n  default = "latest"\n}\n'
    d = module(tmp_path, version="var.v", extra=var,
               files={"terraform.tfvars": 'v = "1.0.0"\n', "b.auto.tfvars": 'v = "2.0.0"\n',
                      "prod.tfvars": 'v = "3.0.0"\n'})
    r = lint(d)
    [f] = findings(r, "VMSS200")
    assert f.file.endswith("b.auto.tfvars") and (f.line, f.column) == (1, 5) and "2.0.0" in f.message
    from linter.engine import Engine, Settings
    s = Settings()
    s.tf_var_files = [str(d / "prod.tfvars")]
    [f] = findings(Engine(s).lint_paths([str(d)]), "VMSS200")
    assert f.file.endswith("prod.tfvars") and "3.0.0" in f.message
    s.tf_vars = ["v=4.0.0"]
    [f] = findings(Engine(s).lint_paths([str(d)]), "VMSS200")
    assert "4.0.0" in f.message and f.file.endswith("main.tf")
    s.tf_vars = ["v=latest"]
    assert findings(Engine(s).lint_paths([str(d)]), "VMSS200") == []


def test_named_tfvars_on_the_command_line_lints_its_module_with_it(tmp_path):
    var = '\nvariable "v" {\n  type    = string\n  default = "latest"\n}\n'
    d = module(tmp_path, version="var.v", extra=var, files={"prod.tfvars": 'v = "3.0.0"\n'})
    assert findings(lint(d), "VMSS200") == []
    [f] = findings(lint(d / "prod.tfvars"), "VMSS200")
    assert f.file.endswith("prod.tfvars")


def test_locals_functions_and_conditionals(tmp_path):
    extra = '''
locals {
  env      = "prod"
  versions = { prod = "1.2.3", dev = "latest" }
  tags     = merge({ a = 1 }, { b = 2 })
  names    = concat(["x"], [for s in ["a", "b"] : upper(s) if s != ""])
  pick     = try(local.versions["nope"], lookup(local.versions, local.env, "latest"))
  fmt      = format("%s-%03d", local.env, 7)
  chosen   = local.env == "prod" ? coalesce("", local.pick) : "latest"
}
'''
    d = module(tmp_path, version="local.chosen", name="local.fmt", extra=extra)
    [f] = findings(lint(d), "VMSS200")
    assert "1.2.3" in f.message
    text = (d / "main.tf").read_text()
    line = text[:text.index('prod = "1.2.3"') + len('prod = ')].count("\n") + 1
    assert f.line == line  # the value's origin: the map entry the lookup picked


def test_reference_between_resources_resolves_the_probe(tmp_path):
    r = lint(module(tmp_path, probe="azurerm_lb_probe.missing_probe.id"))
    # an undeclared resource is unknown, never guessed
    assert [f.code for f in r.findings] == ["VMSS302"] and r.findings[0].unverifiable
    extra = '''
resource "azurerm_lb_probe" "other" {
  name            = "other"
  loadbalancer_id = azurerm_lb.lb2.id
  port            = 80
}
resource "azurerm_lb" "lb2" {
  name                = "lb2"
  location            = "westeurope"
  resource_group_name = "rg"
  sku                 = "Standard"
}
'''
    [f] = lint(module(tmp_path, probe="azurerm_lb_probe.other.id", extra=extra)).findings
    assert f.code == "VMSS303" and "'lb2'" in f.message


def test_count_and_for_each_give_one_set_per_instance(tmp_path):
    text = LB + SET.format(version='each.value', name='"app-${each.key}"', probe="azurerm_lb_probe.h.id")
    text = text.replace('resource "azurerm_linux_virtual_machine_scale_set" "app" {',
                        'resource "azurerm_linux_virtual_machine_scale_set" "app" {\n'
                        '  for_each = { a = "latest", b = "9.9.9" }')
    d = tmp_path / "fe"
    write(d / "main.tf", text)
    [f] = findings(lint(d), "VMSS200")
    assert f.resource == 'azurerm_linux_virtual_machine_scale_set.app["b"]'
    unknown = text.replace('{ a = "latest", b = "9.9.9" }', "var.sets") + '\nvariable "sets" {}\n'
    write(d / "main.tf", unknown)
    r = lint(d)
    [f] = findings(r, "VMSS200")
    assert f.unverifiable and "for_each" in f.message and f.severity == "info"


def test_child_module_addresses_and_inputs(tmp_path):
    child = tmp_path / "root" / "modules" / "web"
    write(child / "main.tf", LB + SET.format(version="var.image_version", name='"app"', probe="azurerm_lb_probe.h.id")
          + '\nvariable "image_version" {\n  type = string\n}\n')
    write(tmp_path / "root" / "main.tf", 'module "web" {\n  source        = "./modules/web"\n'
                                          '  image_version = "5.5.5"\n}\n')
    r = lint(tmp_path / "root" / "main.tf")
    [f] = findings(r, "VMSS200")
    assert f.resource == "module.web.azurerm_linux_virtual_machine_scale_set.app"
    assert f.file.endswith(os.path.join("root", "main.tf")) and (f.line, f.column) == (3, 19)  # the module argument
    assert f.path == "module.web.image_version"


def test_syntax_error_is_a_finding_with_a_position(tmp_path):
    d = tmp_path / "bad"
    write(d / "main.tf", 'resource "azurerm_lb" "x" {\n  name = \n}\n')
    r = lint(d)
    [f] = r.findings
    assert f.code == "VMSS001" and f.line == 2 and "HCL syntax error" in f.message
    r = subprocess.run([sys.executable, "-m", "linter", "lint", str(d)], capture_output=True, text=True,
                       cwd=str(REPO), timeout=60)
    assert r.returncode == 1 and "Traceback" not in r.stderr and "main.tf:2:" in r.stdout


def test_evaluation_error_is_vmss004_at_the_expression(tmp_path):
    d = module(tmp_path, version='local.nope')
    r = lint(d)
    assert [f.code for f in r.findings if not f.unverifiable] == ["VMSS004"]
    assert "local value \"nope\" is not declared" in r.findings[0].message


def test_json_report_counts_every_input(tmp_path):
    d = module(tmp_path)
    arm = write(tmp_path / "arm" / "t.json", {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/"
                                                           "deploymentTemplate.json#", "resources": []})
    r = subprocess.run([sys.executable, "-m", "linter", "lint", "--format", "json", str(d), str(arm)],
                       capture_output=True, text=True, cwd=str(REPO), timeout=60)
    out = json.loads(r.stdout)
    assert out["summary"]["templates"] == 2


def test_cli_var_and_var_file(tmp_path):
    var = '\nvariable "v" {\n  type    = string\n  default = "latest"\n}\n'
    d = module(tmp_path, version="var.v", extra=var, files={"x.tfvars": 'v = "7.7.7"\n'})
    run = [sys.executable, "-m", "linter", "lint", "--format", "json"]
    r = subprocess.run(run + ["--var-file", str(d / "x.tfvars"), str(d)], capture_output=True, text=True,
                       cwd=str(REPO), timeout=60)
    assert [f["code"] for f in json.loads(r.stdout)["findings"]] == ["VMSS200"]
    r = subprocess.run(run + ["--var", "v=latest", "--var-file", str(d / "x.tfvars"), str(d)], capture_output=True,
                       text=True, cwd=str(REPO), timeout=60)
    assert json.loads(r.stdout)["findings"] == []
    r = subprocess.run(run + ["--var", "nonsense", str(d)], capture_output=True, text=True, cwd=str(REPO), timeout=60)
    assert r.returncode == 2 and "NAME=VALUE" in r.stderr


def test_lint_imports_hcl_parser_only_for_terraform(tmp_path):
    arm = write(tmp_path / "t.json", '{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/'
                                     'deploymentTemplate.json#", "resources": []}')
    tf = module(tmp_path)
    code = ("import sys, runpy; sys.argv=['vmsslint','lint',%r];\n"
            "try:\n    runpy.run_module('linter', run_name='__main__')\nexcept SystemExit: pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('hcl2', 'lark') "
            "or m in ('linter.terraform.lint', 'linter.terraform.hcl')))")
    env = {**os.environ, "VMSSLINT_CACHE_DIR": str(tmp_path / "c")}
    r = subprocess.run([sys.executable, "-c", code % str(arm)], env=env, capture_output=True, text=True)
    assert r.stdout.strip().splitlines()[-1] == "[]"
    r = subprocess.run([sys.executable, "-c", code % str(tf)], env=env, capture_output=True, text=True)
    assert "'hcl2'" in r.stdout.strip().splitlines()[-1]


def _reviewed():
    out = set()
    with open(REVIEWED, encoding="utf-8") as fh:
        for line in fh:
            if line.strip() and not line.startswith("#"):
                f, code, ln, why = [x.strip() for x in line.split("|", 3)]
                assert why and why != "REVIEW"
                out.add((f, code, int(ln)))
    return out


@needs_shared
def test_every_error_on_the_terraform_corpus_was_reviewed():
    report = lint(CORPUS)
    assert report.templates >= 30
    assert not [f for f in report.findings if f.code in ("VMSS000", "VMSS001")]
    got = {(os.path.relpath(f.src.path, CORPUS), f.code, f.line) for f in report.findings if f.severity == "error"}
    assert got == _reviewed()


@needs_shared
@pytest.mark.parametrize("settings", [{"require_auto_upgrade": True}, {"edition": "2020"}])
def test_terraform_corpus_without_internal_errors(settings):
    report = lint(CORPUS, **settings)
    assert not [f for f in report.findings if f.code == "VMSS000"]
    assert getattr(report, "tf_resources", 0) >= 70  # azurerm resources mapped onto the model
    unverifiable = [f for f in report.findings if f.unverifiable or f.code == "VMSS010"]
    assert all(f.severity == "info" for f in unverifiable)


@pytest.mark.skipif(__import__("shutil").which("git") is None, reason="git is not installed")
def test_pre_commit_hook_lints_the_module_of_a_changed_tfvars(tmp_path):
    import shutil
    pre_commit = shutil.which("pre-commit") or os.path.join(os.path.dirname(sys.executable), "pre-commit")
    if not os.path.exists(pre_commit):
        pytest.skip("pre-commit is not installed (pip install '.[test]' installs it)")
    if not (REPO / ".git").exists():
        pytest.skip("the checkout is not a git repository; pre-commit try-repo needs one")
    from test_pipelines import _git
    repo = tmp_path / "project"
    repo.mkdir()
    _git(repo, "init", "-q")
    var = '\nvariable "v" {\n  type    = string\n  default = "latest"\n}\n'
    module(repo, version="var.v", extra=var, files={"terraform.tfvars": 'v = "latest"\n'})
    write(repo / "notes.txt", "not linted\n")
    _git(repo, "add", "-A")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "NO_COLOR": "1",
           "VMSSLINT_CACHE_DIR": str(tmp_path / "cache")}
    base = [pre_commit, "try-repo", str(REPO), "vmsslint"]
    r = subprocess.run(base + ["--all-files"], cwd=repo, capture_output=True, text=True, env=env, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    write(repo / "mod" / "terraform.tfvars", 'v = "1.2.3"\n')
    _git(repo, "add", "-A")
    r = subprocess.run(base + ["--files", "mod/terraform.tfvars"], cwd=repo, capture_output=True, text=True, env=env,
                       timeout=900)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "mod/terraform.tfvars:1:5: VMSS200 error" in out and "Traceback" not in out


def test_readme_terraform_commands_run_as_shown(tmp_path):
    import re
    import shutil
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Terraform configurations and plans", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    commands = [re.sub(r"\s+#.*$", "", ln).strip() for ln in block.splitlines() if ln.startswith("vmsslint ")]
    assert len(commands) == 3
    shutil.copytree(REPO / "tests" / "fixtures" / "terraform" / "VMSS200" / "pass-latest", tmp_path / "infra" / "web")
    write(tmp_path / "prod.tfvars", 'ssh_public_key = "ssh-ed25519 AAAA"\n')
    for cmd in commands:
        r = subprocess.run(cmd.replace("vmsslint ", f"{sys.executable} -m linter ", 1), shell=True, cwd=str(tmp_path),
                           capture_output=True, text=True, timeout=120,
                           env={**os.environ, "PYTHONPATH": str(REPO)})
        assert r.returncode == 0, (cmd, r.stdout, r.stderr)
    assert "No findings in 1 template." in subprocess.run(
        [sys.executable, "-m", "linter", "lint", "infra/tf"], cwd=str(tmp_path), capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)}).stdout


def test_huge_expressions_are_bounded_not_hung(tmp_path):
    d = tmp_path / "big"
    write(d / "main.tf", 'locals {\n  big = [for i in range(100000) : [for j in range(1000) : j]]\n}\n'
                         'resource "azurerm_linux_virtual_machine_scale_set" "x" {\n  name = length(local.big)\n}\n'
                         'resource "azurerm_lb" "y" {\n  count = 100000\n  name  = format("%99999999s", "x")\n}\n')
    import time
    t0 = time.time()
    r = lint(d)
    assert time.time() - t0 < 30
    assert {f.code for f in r.findings} <= {"VMSS004", "VMSS005"}
    assert [f for f in r.findings if f.code == "VMSS005" and f.line == 2]


def test_tfvars_json_gives_values_with_positions(tmp_path):
    var = '\nvariable "v" {\n  type    = string\n  default = "latest"\n}\n'
    d = module(tmp_path, version="var.v", extra=var, files={"terraform.tfvars.json": '{\n  "v": "6.6.6"\n}\n'})
    [f] = findings(lint(d), "VMSS200")
    assert f.file.endswith("terraform.tfvars.json") and (f.line, f.column) == (2, 8)
    write(d / "terraform.tfvars.json", '{"v": ')
    r = lint(d)
    assert [f.code for f in r.findings] == ["VMSS001"] and r.findings[0].file.endswith("terraform.tfvars.json")


def test_named_tfvars_json_is_a_var_file(tmp_path):
    var = '\nvariable "v" {\n  type    = string\n  default = "latest"\n}\n'
    d = module(tmp_path, version="var.v", extra=var, files={"prod.tfvars.json": '{"v": "3.1.4"}'})
    assert findings(lint(d), "VMSS200") == []  # a walk does not apply a named var file
    r = lint(d / "prod.tfvars.json")
    assert r.findings == [] and any("--var-file" in n for n in r.notes)
    from linter.engine import Engine, Settings
    s = Settings()
    s.tf_var_files = [str(d / "prod.tfvars.json")]
    [f] = findings(Engine(s).lint_paths([str(d)]), "VMSS200")
    assert f.file.endswith("prod.tfvars.json") and "3.1.4" in f.message
