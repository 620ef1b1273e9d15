"""--fix, --unsafe-fixes and --diff: minimal edits, atomic writes, idempotence."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from conftest import SHARED, needs_shared, template, vmss, write
from test_cli import run


def lint_json(path, *args):
    r = run("lint", "--format", "json", *args, str(path))
    return json.loads(r.stdout)["findings"]


def test_safe_fix_edits_the_parameter_file_that_supplied_the_value(tmp_path):
    t = template(vmss(**{"properties.virtualMachineProfile.storageProfile.imageReference.version":
                         "[parameters('v')]"}), parameters={"v": {"type": "string"}})
    write(tmp_path / "t.json", t)
    ptext = '{\n  // pinned for the audit\n  "parameters": {\n    "v": {"value": "1.2.3"}\n  }\n}\n'
    write(tmp_path / "t.parameters.json", ptext)
    before_t = (tmp_path / "t.json").read_bytes()
    r = run("lint", "--fix", str(tmp_path / "t.json"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Fixed 1 finding." in r.stdout
    assert (tmp_path / "t.json").read_bytes() == before_t
    assert (tmp_path / "t.parameters.json").read_text() == ptext.replace('"1.2.3"', '"latest"')
    assert run("lint", "--fix", str(tmp_path / "t.json")).returncode == 0
    assert (tmp_path / "t.parameters.json").read_text() == ptext.replace('"1.2.3"', '"latest"')


def test_missing_property_is_inserted_in_the_objects_own_layout(tmp_path):
    text = ('{\r\n\t"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",\r\n'
            '\t"resources": [{\r\n\t\t"type": "Microsoft.Compute/virtualMachineScaleSets", "apiVersion": "2024-11-01",'
            ' "name": "w",\r\n\t\t"properties": {\r\n\t\t\t"upgradePolicy": {"mode": "Rolling", '
            '"automaticOSUpgradePolicy": {"enableAutomaticOSUpgrade": true}},\r\n'
            '\t\t\t"virtualMachineProfile": {\r\n\t\t\t\t"storageProfile": {"imageReference": {\r\n'
            '\t\t\t\t\t"publisher": "MicrosoftWindowsServer",\r\n\t\t\t\t\t"offer": "WindowsServer",\r\n'
            '\t\t\t\t\t"sku": "2022-Datacenter" /* no version */\r\n\t\t\t\t}},\r\n'
            '\t\t\t\t"osProfile": {"windowsConfiguration": {"provisionVMAgent": true}},\r\n'
            '\t\t\t\t"networkProfile": {"healthProbe": {"id": "[resourceId(\'Microsoft.Network/loadBalancers/probes\', \'lb\', \'p\')]"}}\r\n'
            '\t\t\t}\r\n\t\t}\r\n\t}]\r\n}\r\n')
    write(tmp_path / "t.json", text)
    r = run("lint", "--fix", str(tmp_path / "t.json"))
    assert r.returncode == 0, r.stdout
    new = (tmp_path / "t.json").read_bytes().decode("utf-8")
    assert '\t\t\t\t\t"sku": "2022-Datacenter",\r\n\t\t\t\t\t"version": "latest" /* no version */' in new
    assert '{"provisionVMAgent": true, "enableAutomaticUpdates": false}' in new
    assert new.count("\r\n") == text.count("\r\n") + 1 and "\n" not in new.replace("\r\n", "")
    assert [f["code"] for f in lint_json(tmp_path / "t.json")] == []


def test_no_fix_for_computed_values_and_allowed_values(tmp_path):
    t = template(vmss(name="a", **{"properties.virtualMachineProfile.storageProfile.imageReference.version":
                                   "[concat('1.', '0')]"}),
                 vmss(name="b", **{"properties.virtualMachineProfile.storageProfile.imageReference.version":
                                   "[parameters('v')]"}),
                 parameters={"v": {"type": "string", "defaultValue": "1.0", "allowedValues": ["1.0", "2.0"]}})
    write(tmp_path / "t.json", t)
    before = (tmp_path / "t.json").read_bytes()
    found = {f["resource"]: f["fix"] for f in lint_json(tmp_path / "t.json")}
    assert found["a"] == {"applicability": "none", "reason": "the value is computed by an expression; edit it by hand"}
    assert "allowedValues" in found["b"]["reason"]
    run("lint", "--fix", "--unsafe-fixes", str(tmp_path / "t.json"))
    assert (tmp_path / "t.json").read_bytes() == before


def test_unsafe_fixes_need_their_flag_and_diff_changes_nothing(tmp_path):
    t = template(vmss(apiVersion="2017-12-01"))
    t["resources"][0]["properties"]["upgradePolicy"] = {"mode": "Rolling", "automaticOSUpgradePolicy": {
        "enableAutomaticOSUpgrade": True, "disableAutomaticRollback": True}}
    write(tmp_path / "t.json", t)
    before = (tmp_path / "t.json").read_bytes()
    r = run("lint", "--diff", str(tmp_path / "t.json"))
    assert r.returncode == 0 and r.stdout == ""  # only unsafe fixes here
    r = run("lint", "--diff", "--unsafe-fixes", str(tmp_path / "t.json"))
    assert r.returncode == 1
    assert re.search(r'^- +"apiVersion": "2017-12-01",$', r.stdout, re.M)
    assert re.search(r'^\+ +"apiVersion": "2026-03-01",$', r.stdout, re.M)
    assert re.search(r'^\+ +"disableAutomaticRollback": false$', r.stdout, re.M)
    assert (tmp_path / "t.json").read_bytes() == before
    r = run("lint", "--fix", str(tmp_path / "t.json"))
    assert (tmp_path / "t.json").read_bytes() == before and "2 fixable" not in r.stdout
    r = run("lint", "--fix", "--unsafe-fixes", str(tmp_path / "t.json"))
    assert r.returncode == 0 and "Fixed 2 findings." in r.stdout


@needs_shared
@pytest.mark.parametrize("name, args, code", [
    ("Azure-Samples+service-fabric-cluster-templates/Ubuntu-NodeType-Loop-Secure/AzureDeploy.json", [], "VMSS110"),
    ("Azure+azure-quickstart-templates/application-workloads/darktrace/darktrace-vsensor-autoscaling/azuredeploy.json",
     [], "VMSS701"),
])
def test_fix_on_real_templates_with_crlf_or_comments(tmp_path, name, args, code):
    src = SHARED / "corpus" / name
    target = tmp_path / src.name
    shutil.copy(src, target)
    before = target.read_bytes()
    common = ["--require-auto-upgrade", "--unsafe-fixes", "--select", code]
    assert code in [f["code"] for f in lint_json(target, "--require-auto-upgrade")]
    run("lint", "--fix", *common, str(target))
    after = target.read_bytes()
    old_lines, new_lines = before.split(b"\n"), after.split(b"\n")
    assert len(old_lines) == len(new_lines)
    changed = [(a, b) for a, b in zip(old_lines, new_lines) if a != b]
    assert len(changed) == 1
    a, b = changed[0]
    assert b in (a.replace(b'"2017-03-30"', b'"2026-03-01"'), a.replace(b'"Automatic"', b'"Rolling"'))
    assert after.count(b"\r\n") == before.count(b"\r\n") and after.count(b"//") == before.count(b"//")
    assert code not in [f["code"] for f in lint_json(target, "--require-auto-upgrade")]
    run("lint", "--fix", *common, str(target))
    assert target.read_bytes() == after  # a second --fix changes nothing


@pytest.mark.parametrize("hook", ["os.fsync", "os.replace"])
def test_a_kill_mid_write_leaves_the_original_intact(tmp_path, hook):
    write(tmp_path / "t.json", template(vmss(**{
        "properties.virtualMachineProfile.storageProfile.imageReference.version": "1.0"})))
    before = (tmp_path / "t.json").read_bytes()
    code = (f"import os, sys\n{hook} = lambda *a, **k: os._exit(137)\n"
            f"from linter.launch import main\nmain(['lint', '--fix', {str(tmp_path / 't.json')!r}])\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 137
    assert (tmp_path / "t.json").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".json")] == ["t.json"]
