"""``vmsslint eval``: the template evaluated offline; its JSON contract, context, masking and errors."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from linter.cli import cli
from tests.conftest import REPO, SCHEMA, vmss, write

SUB = "00000000-0000-0000-0000-000000000000"


def run(*args):
    return CliRunner().invoke(cli, ["eval", *map(str, args)])


def template(**extra):
    t = {"$schema": SCHEMA, "contentVersion": "1.0.0.0",
         "parameters": {"prefix": {"type": "string", "defaultValue": "web"},
                        "adminPassword": {"type": "securestring"},
                        "count": {"type": "int", "defaultValue": 2}},
         "variables": {"name": "[concat(parameters('prefix'), '-', uniqueString(resourceGroup().id))]"},
         "resources": [vmss(**{"name": "[variables('name')]",
                               "properties.virtualMachineProfile.osProfile.adminPassword":
                                   "[parameters('adminPassword')]",
                               "sku.capacity": "[parameters('count')]"})],
         "outputs": {"name": {"type": "string", "value": "[variables('name')]"},
                     "rg": {"type": "string", "value": "[resourceGroup().name]"},
                     "count": {"type": "int", "value": "[parameters('count')]"},
                     "zones": {"type": "array", "value": "[createArray('1', '2')]"},
                     "flag": {"type": "bool", "value": "[greater('A', 'a')]"},
                     "secret": {"type": "securestring", "value": "[parameters('adminPassword')]"}}}
    t.update(extra)
    return t


def test_readme_example_prints_the_evaluated_resources():
    r = run(REPO / "examples" / "ready" / "azuredeploy.json")
    assert r.exit_code == 0, r.output
    assert "Microsoft.Compute/virtualMachineScaleSets web (apiVersion " in r.output
    assert re.search(r"examples/ready/azuredeploy\.json:\d+", r.output)
    assert '"mode": "Rolling"' in r.output


def test_json_contract_with_unknown_and_partial_values(tmp_path):
    path = write(tmp_path / "t.json", template())
    r = run(path, "--format", "json", "--parameter", "adminPassword=Hunter2-SuperSecret!")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert set(doc) == {"outputs", "resources", "parameters", "problems"} and doc["problems"] == []
    out = doc["outputs"]
    assert out["name"] == {"type": "String", "value": {"$partial": "web-[uniqueString(resourceGroup().id)]"}}
    assert out["rg"] == {"type": "String", "value": {"$unknown": "resourceGroup().name"}}
    assert out["count"] == {"type": "Int", "value": 2}
    assert out["zones"] == {"type": "Array", "value": ["1", "2"]}
    assert out["flag"] == {"type": "Bool", "value": True}
    assert out["secret"]["type"] == "SecureString" and out["secret"]["value"] == "********"
    assert doc["parameters"] == {"prefix": "web", "adminPassword": "********", "count": 2}
    [res] = doc["resources"]
    assert res["type"] == "Microsoft.Compute/virtualMachineScaleSets" and res["apiVersion"]
    assert res["name"] == {"$partial": "web-[uniqueString(resourceGroup().id)]"}
    assert res["sku"]["capacity"] == 2
    assert res["properties"]["virtualMachineProfile"]["osProfile"]["adminPassword"] == "********"
    assert "Hunter2" not in r.output


def test_deployment_context_makes_unique_string_exact(tmp_path):
    """uniqueString('/subscriptions/0…0/resourceGroups/my-rg') = bmg7c6xu4tw46 (an independent
    reimplementation's self-test, checked there against Bicep), reached through resourceGroup().id."""
    path = write(tmp_path / "t.json", template())
    r = run(path, "--format", "json", "--subscription-id", SUB, "--resource-group", "my-rg",
            "--deployment-name", "d1", "--location", "westeurope")
    doc = json.loads(r.output)
    assert doc["outputs"]["name"]["value"] == "web-bmg7c6xu4tw46"
    assert doc["outputs"]["rg"]["value"] == "my-rg"
    r = run(path, "--expr", "[resourceGroup().id]", "--subscription-id", SUB, "--resource-group", "my-rg")
    assert r.output.strip() == f"/subscriptions/{SUB}/resourceGroups/my-rg"


def test_context_from_the_lint_command_line_and_configuration(tmp_path):
    from tests.conftest import lint
    t = {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": [
        vmss(**{"properties.virtualMachineProfile.storageProfile.imageReference.version":
                "[if(equals(uniqueString(resourceGroup().id), 'bmg7c6xu4tw46'), '1.0.0', 'latest')]"})]}
    path = write(tmp_path / "t.json", t)
    unknown = lint(path)
    assert any(f.code == "VMSS200" and f.unverifiable for f in unknown.findings)
    from linter.engine import Engine, Settings
    s = Settings()
    s.context = {"subscription_id": SUB, "resource_group": "my-rg"}
    report = Engine(s).lint_paths([str(path)])
    assert [f.severity for f in report.findings if f.code == "VMSS200"] == ["error"]
    (tmp_path / ".vmsslint.yaml").write_text(f"subscription-id: '{SUB}'\nresource-group: other-rg\n")
    from linter.launch import main
    with pytest.raises(SystemExit) as info:
        main(["lint", "--exit-zero", "--format", "json", "-o", str(tmp_path / "r.json"), str(path)])
    assert info.value.code == 0
    doc = json.loads((tmp_path / "r.json").read_text())
    # the configuration's context was used: the hash is known (other-rg: 'latest'), so no VMSS200 at all,
    # neither an error nor an unverifiable one
    assert not [f for f in doc["findings"] if f["code"] == "VMSS200"]


def test_expression_in_the_templates_scope(tmp_path):
    path = write(tmp_path / "t.json", template())
    assert run(path, "--expr", "[variables('name')]").output.strip() == "web-[uniqueString(resourceGroup().id)]"
    assert run(path, "--expr", "length(createArray(parameters('prefix'), uniqueString(resourceGroup().id)))"
               ).output.strip() == "2"
    r = run(path, "--expr", "[div(1, 0)]")
    assert r.exit_code == 1 and "div() by zero" in r.output
    r = run(path, "--expr", "[concat('a'")
    assert r.exit_code == 2 and "is not an expression" in r.output
    r = run(path, "--expr", "[nosuchFunction(1)]")  # Azure would refuse it unless it is newer than vmsslint
    assert r.exit_code == 1 and "'nosuchFunction' is not known to vmsslint" in r.output
    r = run(path, "--expr", "[toUpper(parameters('adminPassword'))]", "--parameter", "adminPassword=Hunter2x")
    assert r.output.strip() == "********"  # computed from a secure parameter


def test_problems_are_in_the_json_with_their_place(tmp_path):
    t = template()
    t["variables"]["broken"] = "[concat('a', ]"
    t["outputs"]["b"] = {"type": "string", "value": "[variables('broken')]"}
    doc = json.loads(run(write(tmp_path / "t.json", t), "--format", "json").output)
    [p] = doc["problems"]
    assert p["code"] == "VMSS003" and p["path"] == "/variables/broken" and p["line"] > 1
    assert doc["outputs"]["b"]["value"] == {"$unknown": "concat('a', "}


def test_templates_that_cannot_be_read_exit_2_with_a_position(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "resources": [\n')
    r = run(broken)
    assert r.exit_code == 2 and "broken.json:3:1" in r.output and "Traceback" not in r.output
    other = write(tmp_path / "package.json", {"name": "x"})
    r = run(other)
    assert r.exit_code == 2 and "not an ARM deployment template" in r.output
    r = run(write(tmp_path / "t.json", template()), "--parameter", "novalue")
    assert r.exit_code == 2 and "NAME=VALUE" in r.output
    r = run(write(tmp_path / "main.tf", "# terraform"))
    assert r.exit_code == 2 and "evaluates ARM JSON templates" in r.output


def test_api_profile_gives_the_version_and_an_unknown_profile_is_unverifiable(tmp_path):
    t = template(apiProfile="2019-03-01-hybrid")
    del t["resources"][0]["apiVersion"]
    doc = json.loads(run(write(tmp_path / "t.json", t), "--format", "json").output)
    assert doc["resources"][0]["apiVersion"] == "2017-12-01"  # the profile table's Compute version
    t["apiProfile"] = "2031-01-01-hybrid"
    path = write(tmp_path / "u.json", t)
    doc = json.loads(run(path, "--format", "json").output)
    assert "$unknown" in doc["resources"][0]["apiVersion"]
    from tests.conftest import lint
    report = lint(path)
    assert [(f.code, f.severity) for f in report.findings if f.code == "VMSS110"] == [("VMSS110", "info")]
    assert "2031-01-01-hybrid" in next(f.message for f in report.findings if f.code == "VMSS110")


def test_reference_to_a_resource_of_the_same_template(tmp_path):
    t = template()
    t["resources"].insert(0, {"type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2023-04-01",
                              "name": "pip", "location": "westeurope",
                              "properties": {"dnsSettings": {"domainNameLabel": "web"}}})
    t["outputs"] = {
        "label": {"type": "string", "value": "[reference('pip').dnsSettings.domainNameLabel]"},
        "byId": {"type": "string",
                 "value": "[reference(resourceId('Microsoft.Network/publicIPAddresses', 'pip')).dnsSettings.domainNameLabel]"},
        "full": {"type": "string",
                 "value": "[reference(resourceId('Microsoft.Network/publicIPAddresses', 'pip'), '2023-04-01', 'Full').location]"},
        "runtime": {"type": "string", "value": "[reference('pip').ipAddress]"},
        "outside": {"type": "string", "value": "[reference('elsewhere').ipAddress]"}}
    out = json.loads(run(write(tmp_path / "t.json", t), "--format", "json").output)["outputs"]
    assert out["label"]["value"] == out["byId"]["value"] == "web"
    assert out["full"]["value"] == "westeurope"
    assert out["runtime"]["value"] == {"$unknown": "reference('pip').ipAddress"}
    assert out["outside"]["value"] == {"$unknown": "reference('elsewhere').ipAddress"}


def test_values_built_from_a_secure_parameter_are_masked(tmp_path):
    t = template()
    t["parameters"]["storageKey"] = {"type": "securestring"}
    t["resources"][0]["tags"] = {"cmd": "[concat('bash setup.sh --key ', parameters('storageKey'))]"}
    t["outputs"]["cmd"] = {"type": "string", "value": "[format('k={0}', parameters('storageKey'))]"}
    path = write(tmp_path / "t.json", t)
    for fmt in ("text", "json"):
        r = run(path, "--format", fmt, "--parameter", "storageKey=c2VjcmV0LWtleS12YWx1ZQ==")
        assert r.exit_code == 0, r.output
        assert "c2VjcmV0LWtleS12YWx1ZQ==" not in r.output
        assert "bash setup.sh" not in r.output  # a value computed from a secret is masked whole
    r = run(path, "--expr", "[concat('x', parameters('storageKey'))]", "--parameter", "storageKey=abcd-secret")
    assert r.exit_code == 0 and r.output.strip() == "********"
