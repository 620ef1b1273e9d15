"""The ARM model: parameters and parameter files, variables, copy loops, conditions, child resources,
symbolic names, nested and linked deployments — checked through the findings they produce, with
the positions they point at."""

from __future__ import annotations

import json

from conftest import DELETE, SCHEMA, at, codes, lint, template, vmss, write


def pos(text: str, needle: str, occurrence: int = 1):
    """1-based (line, column) of the n-th occurrence of ``needle`` in ``text``."""
    i = -1
    for _ in range(occurrence):
        i = text.index(needle, i + 1)
    line = text.count("\n", 0, i) + 1
    return line, i - (text.rfind("\n", 0, i) + 1) + 1


def test_value_from_parameter_file_points_into_the_parameter_file(tmp_path):
    t = template(vmss(**{"properties.virtualMachineProfile.storageProfile.imageReference.version":
                         "[parameters('imageVersion')]"}),
                 parameters={"imageVersion": {"type": "string", "defaultValue": "latest"}})
    write(tmp_path / "azuredeploy.json", t)
    ptext = json.dumps({"$schema": SCHEMA.replace("Template", "Parameters"), "contentVersion": "1.0.0.0",
                        "parameters": {"imageVersion": {"value": "18.04.202001010"}}}, indent=2)
    write(tmp_path / "azuredeploy.parameters.json", ptext)
    report = lint(tmp_path / "azuredeploy.json")
    [f] = [f for f in report.findings if f.code == "VMSS200"]
    assert f.file.endswith("azuredeploy.parameters.json")
    assert (f.line, f.column) == pos(ptext, '"18.04.202001010"')
    assert f.path == "/parameters/imageVersion/value"
    assert "18.04.202001010" in f.message
    assert any("parameter values from" in n and "azuredeploy.parameters.json" in n for n in report.notes)


def test_default_value_used_without_parameter_file_points_at_the_default(tmp_path):
    t = template(vmss(**{"properties.virtualMachineProfile.storageProfile.imageReference.version":
                         "[variables('v')]"}),
                 parameters={"ver": {"type": "string", "defaultValue": "1.2.3"}},
                 variables={"v": "[parameters('ver')]"})
    text = json.dumps(t, indent=2)
    write(tmp_path / "main.json", text)
    report = lint(tmp_path / "main.json")
    assert at(report, "VMSS200") == [pos(text, '"1.2.3"')]


def test_explicit_parameters_option_wins_and_merges(tmp_path):
    t = template(vmss(**{"properties.virtualMachineProfile.storageProfile.imageReference.sku": "[parameters('sku')]"}),
                 parameters={"sku": {"type": "string"}})
    write(tmp_path / "main.json", t)
    write(tmp_path / "main.parameters.json", {"parameters": {"sku": {"value": "22_04-LTS-Gen2"}}})
    a = write(tmp_path / "a.json", {"$schema": SCHEMA.replace("Template", "Parameters"),
                                    "parameters": {"sku": {"value": "22_04-LTS-Gen2"}}})
    b = write(tmp_path / "b.json", {"$schema": SCHEMA.replace("Template", "Parameters"),
                                    "parameters": {"sku": {"value": "18.04-LTS"}}})
    assert codes(lint(tmp_path / "main.json", parameters=[a, b])) == ["VMSS201"]
    assert codes(lint(tmp_path / "main.json", parameters=[b, a])) == []
    # the companion file is used when no --parameters is given
    assert codes(lint(tmp_path / "main.json")) == []


def test_missing_parameter_value_is_unverifiable_not_a_failure(tmp_path):
    t = template(vmss(**{"properties.virtualMachineProfile.storageProfile.imageReference.version":
                         "[parameters('v')]"}), parameters={"v": {"type": "string"}})
    write(tmp_path / "t.json", t)
    report = lint(tmp_path / "t.json")
    [f] = report.findings
    assert (f.code, f.severity) == ("VMSS200", "info")
    assert "Cannot verify" in f.message and "parameter 'v' has no value" in f.message


def test_key_vault_reference_in_parameter_file_is_unknown(tmp_path):
    t = template(vmss(**{"properties.virtualMachineProfile.storageProfile.imageReference.version":
                         "[parameters('v')]"}), parameters={"v": {"type": "string"}})
    write(tmp_path / "t.json", t)
    write(tmp_path / "t.parameters.json", {"parameters": {"v": {"reference": {
        "keyVault": {"id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.KeyVault/vaults/kv"},
        "secretName": "ver"}}}})
    [f] = lint(tmp_path / "t.json").findings
    assert f.severity == "info" and "Key Vault secret 'ver'" in f.message


def test_unknown_auto_upgrade_flag_reports_precondition(tmp_path):
    t = template(vmss(**{"properties.upgradePolicy.automaticOSUpgradePolicy.enableAutomaticOSUpgrade":
                         "[parameters('auto')]",
                         "properties.virtualMachineProfile.storageProfile.imageReference.version": "1.0"}),
                 parameters={"auto": {"type": "bool"}})
    write(tmp_path / "t.json", t)
    report = lint(tmp_path / "t.json")
    [f] = report.findings
    assert f.code == "VMSS010" and f.severity == "info"
    assert "VMSS200" in f.message and "parameter 'auto' has no value" in f.message
    # with the policy on, every set is checked as if the feature were on
    assert "VMSS200" in codes(lint(tmp_path / "t.json", require_auto_upgrade=True))


def test_copy_loop_checks_each_instance_with_copy_index(tmp_path):
    t = template(vmss(**{"name": "[concat('vmss', copyIndex())]", "copy": {"name": "sets", "count": 3},
                         "properties.virtualMachineProfile.storageProfile.imageReference.version":
                         "[if(equals(copyIndex(), 1), '1.0.0', 'latest')]"}))
    write(tmp_path / "t.json", t)
    report = lint(tmp_path / "t.json")
    assert [(f.code, f.resource) for f in report.findings] == [("VMSS200", "vmss1")]


def test_copy_count_over_azure_limit(tmp_path):
    t = template(vmss(copy={"name": "sets", "count": 801}, name="[concat('v', copyIndex())]"))
    write(tmp_path / "t.json", t)
    report = lint(tmp_path / "t.json")
    assert [(f.code, f.severity) for f in report.findings] == [("VMSS005", "error")]


def test_condition_false_resources_are_skipped(tmp_path):
    bad = {"properties.virtualMachineProfile.storageProfile.imageReference.version": "1.0"}
    t = template(vmss(condition="[equals(parameters('deploy'), 'yes')]", **bad),
                 parameters={"deploy": {"type": "string", "defaultValue": "no"}})
    write(tmp_path / "t.json", t)
    assert codes(lint(tmp_path / "t.json")) == []
    t["parameters"]["deploy"]["defaultValue"] = "yes"
    write(tmp_path / "t.json", t)
    assert codes(lint(tmp_path / "t.json")) == ["VMSS200"]


def test_property_copy_and_case_insensitive_names(tmp_path):
    res = vmss()
    res["Properties"] = res.pop("properties")
    res["Properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"] = {
        "Publisher": "Canonical", "Offer": "UbuntuServer", "SKU": "18.04-LTS", "Version": "latest"}
    res["Properties"]["virtualMachineProfile"]["storageProfile"]["copy"] = [
        {"name": "dataDisks", "count": 2, "input": {"lun": "[copyIndex('dataDisks')]", "createOption": "Empty"}}]
    write(tmp_path / "t.json", template(res))
    assert codes(lint(tmp_path / "t.json")) == ["VMSS201"]
    assert codes(lint(tmp_path / "t.json", edition="2020")) == []


def test_symbolic_name_resources_and_existing(tmp_path):
    t = {"$schema": SCHEMA, "languageVersion": "2.0", "contentVersion": "1.0.0.0",
         "resources": {"old": dict(vmss(name="old", **{
             "properties.virtualMachineProfile.storageProfile.imageReference.version": "1.0"}), existing=True),
             "set": vmss(**{"properties.virtualMachineProfile.storageProfile.imageReference.version": "2.0"})}}
    write(tmp_path / "t.json", t)
    report = lint(tmp_path / "t.json")
    assert [(f.code, f.resource) for f in report.findings] == [("VMSS200", "vmss")]


def test_nested_deployment_inner_and_outer_scope(tmp_path):
    inner_set = vmss(**{"properties.virtualMachineProfile.storageProfile.imageReference.version": "[parameters('v')]"})
    outer_set = vmss(name="outer", **{"properties.virtualMachineProfile.storageProfile.imageReference.version":
                                       "[parameters('v')]"})
    t = template(
        {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "inner",
         "properties": {"mode": "Incremental", "expressionEvaluationOptions": {"scope": "inner"},
                        "parameters": {"v": {"value": "[concat('1.', '0')]"}},
                        "template": {"$schema": SCHEMA, "parameters": {"v": {"type": "string"}},
                                     "resources": [inner_set]}}},
        {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "outer",
         "properties": {"mode": "Incremental",
                        "template": {"$schema": SCHEMA, "resources": [outer_set]}}},
        parameters={"v": {"type": "string", "defaultValue": "2.0"}})
    text = json.dumps(t, indent=2)
    write(tmp_path / "t.json", text)
    report = lint(tmp_path / "t.json")
    got = sorted((f.resource, f.line, f.message.split("'")[1]) for f in report.findings)
    # inner: the value passed in (evaluated in the parent); outer: the parent's parameter default
    assert got == [("outer", pos(text, '"2.0"')[0], "2.0"), ("vmss", pos(text, "[concat('1.', '0')]")[0], "1.0")]


def test_linked_template_by_relative_path(tmp_path):
    child = template(vmss(**{"properties.virtualMachineProfile.storageProfile.imageReference.version": "3.0"}))
    ctext = json.dumps(child, indent=2)
    write(tmp_path / "nested" / "vmss.json", ctext)
    t = template({"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "linked",
                  "properties": {"mode": "Incremental", "templateLink": {"relativePath": "nested/vmss.json"}}},
                 {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "gone",
                  "properties": {"mode": "Incremental", "templateLink": {"relativePath": "nested/missing.json"}}})
    write(tmp_path / "main.json", t)
    report = lint(tmp_path / "main.json")
    found = {(f.code, f.file.split("/")[-1]) for f in report.findings}
    assert found == {("VMSS200", "vmss.json"), ("VMSS006", "main.json")}
    f = next(f for f in report.findings if f.code == "VMSS200")
    assert (f.line, f.column) == pos(ctext, '"3.0"')


def test_linked_template_cycle_is_not_followed(tmp_path):
    t = template({"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "self",
                  "properties": {"mode": "Incremental", "templateLink": {"relativePath": "main.json"}}})
    write(tmp_path / "main.json", t)
    assert codes(lint(tmp_path / "main.json")) == ["VMSS005"]


def test_child_extension_resources_count_as_extensions(tmp_path):
    s = vmss(**{"properties.virtualMachineProfile.networkProfile.healthProbe": DELETE})
    health = {"type": "Microsoft.Compute/virtualMachineScaleSets/extensions", "apiVersion": "2024-11-01",
              "name": "vmss/health", "properties": {"publisher": "Microsoft.ManagedServices",
                                                   "type": "ApplicationHealthLinux", "typeHandlerVersion": "2.0",
                                                   "settings": {"protocol": "tcp", "port": 80}}}
    write(tmp_path / "t.json", template(s))
    assert codes(lint(tmp_path / "t.json")) == ["VMSS300"]
    write(tmp_path / "t.json", template(s, health))
    assert codes(lint(tmp_path / "t.json")) == []
    nested = dict(s, resources=[dict(health, type="extensions", name="health")])
    write(tmp_path / "t.json", template(nested))
    assert codes(lint(tmp_path / "t.json")) == []


def test_user_defined_functions(tmp_path):
    t = template(vmss(**{"properties.virtualMachineProfile.storageProfile.imageReference.version":
                         "[ops.version('x')]"}),
                 functions=[{"namespace": "ops", "members": {"version": {
                     "parameters": [{"name": "p", "type": "string"}],
                     "output": {"type": "string", "value": "[concat('1.', parameters('p'))]"}}}}])
    write(tmp_path / "t.json", t)
    [f] = lint(tmp_path / "t.json").findings
    assert f.code == "VMSS200" and "'1.x'" in f.message


def test_non_arm_json_and_parameter_files_are_skipped(tmp_path):
    write(tmp_path / "package.json", {"name": "x", "version": "1.0.0"})
    write(tmp_path / "t.parameters.json", {"$schema": SCHEMA.replace("Template", "Parameters"), "parameters": {}})
    report = lint(tmp_path)
    assert report.findings == [] and report.templates == 0 and report.files == 2
    assert any("not an ARM deployment template" in n for n in report.notes)
    assert any("a parameter file" in n for n in report.notes)


def test_broken_json_is_a_finding_with_position(tmp_path):
    write(tmp_path / "t.json", '{\n  "$schema": "x",\n  "resources": [\n    {"a": 1 "b": 2}\n  ]\n}\n')
    [f] = lint(tmp_path / "t.json").findings
    assert (f.code, f.line, f.column) == ("VMSS001", 4, 13)
    assert "expected ',' or '}'" in f.message


def test_duplicate_keys_are_reported_at_the_second_key(tmp_path):
    text = '{\n  "$schema": "%s",\n  "resources": [],\n  "Resources": []\n}\n' % SCHEMA
    write(tmp_path / "t.json", text)
    [f] = lint(tmp_path / "t.json").findings
    assert (f.code, f.line, f.column) == ("VMSS002", 4, 3)
    assert "line 3, column 3" in f.message


def test_internal_errors_do_not_stop_the_run(tmp_path, monkeypatch):
    from linter import engine
    write(tmp_path / "a.json", template(vmss()))
    write(tmp_path / "b.json", template(vmss(**{
        "properties.virtualMachineProfile.storageProfile.imageReference.version": "1"})))

    real = engine.Engine.lint_deployment

    def boom(self, deployment, report, *args):
        if deployment.src.path.endswith("a.json"):
            raise RuntimeError("bug")
        return real(self, deployment, report, *args)

    monkeypatch.setattr(engine.Engine, "lint_deployment", boom)
    report = lint(tmp_path)
    assert sorted(f.code for f in report.findings) == ["VMSS000", "VMSS200"]


def test_hostile_templates_are_bounded(tmp_path):
    import time
    inner = {"name": "d", "count": 800, "input": {"copy": [{"name": "e", "count": 800, "input": "[copyIndex('e')]"}]}}
    res = vmss(copy={"name": "sets", "count": 800}, name="[concat('v', copyIndex())]")
    res["properties"]["virtualMachineProfile"]["storageProfile"]["copy"] = [
        {"name": "dataDisks", "count": 800, "input": {"lun": "[copyIndex('dataDisks')]", "x": inner}}]
    write(tmp_path / "t.json", template(res))
    t = time.perf_counter()
    report = lint(tmp_path / "t.json")
    assert time.perf_counter() - t < 60
    assert "VMSS005" in codes(report)
    deep = "[" * 100 + "]" * 100
    write(tmp_path / "deep.json", '{"$schema": "%s", "resources": [], "x": %s}' % (SCHEMA, deep))
    assert codes(lint(tmp_path / "deep.json")) == []
    write(tmp_path / "deeper.json", '{"resources": %s}' % ("[" * 200 + "]" * 200))
    [f] = lint(tmp_path / "deeper.json").findings
    assert f.code == "VMSS001" and "nesting deeper than" in f.message and (f.line, f.column) == (1, 142)


def test_finding_positions_in_a_file_with_a_byte_order_mark(tmp_path):
    text = json.dumps(template(vmss(**{
        "properties.virtualMachineProfile.storageProfile.imageReference.version": "7.7.7"})), indent=2)
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    [f] = lint(tmp_path / "bom.json").findings
    assert (f.code, f.line, f.column) == ("VMSS200", *pos(text, '"7.7.7"'))


def test_secrets_are_never_printed(tmp_path):
    import subprocess
    import sys
    sas = "https://sa.blob.core.windows.net/c/x?sv=2022-11-02&se=2020-01-01&sp=r&sig=TOPSECRETSIG%3D"
    t = template(vmss(**{"properties.virtualMachineProfile.networkProfile.healthProbe.id": sas,
                         "properties.virtualMachineProfile.osProfile.adminPassword": "Hunter2Hunter2!"}),
                 parameters={"payload": {"type": "string", "defaultValue": sas}})
    write(tmp_path / "t.json", t)
    for fmt in ("text", "json", "sarif", "junit", "github", "azure"):
        r = subprocess.run([sys.executable, "-m", "linter", "lint", "--format", fmt, "--now", "2026-01-01",
                            str(tmp_path / "t.json")], capture_output=True, text=True)
        assert "VMSS302" in r.stdout and "VMSS505" in r.stdout and "VMSS506" in r.stdout
        assert "TOPSECRETSIG" not in r.stdout + r.stderr and "Hunter2" not in r.stdout + r.stderr
    from linter.findings import mask
    assert mask("x?sp=r&sig=abc%3D&se=1") == "x?sp=r&sig=***&se=1"
    assert mask("AccountKey=abc==;EndpointSuffix=core") == "AccountKey=***;EndpointSuffix=core"
