"""The language server's core (linter/lsp/core.py): linting from the text in memory, no pygls needed."""

from __future__ import annotations

import json

from conftest import template, vmss, write
from linter.lsp.core import Workspace, parameters_template

PINNED = {"properties.virtualMachineProfile.storageProfile.imageReference.version": "1.0"}


def test_positions_follow_the_negotiated_encoding(tmp_path):
    doc = template(vmss(**PINNED))
    doc["resources"][0]["tags"] = {"owner": "🦊 team ü"}  # before the finding, on the same line once minified
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    path = tmp_path / "main.json"
    write(path, "{}")  # the disk has something else: the open text is what is linted
    prefix = text[:text.index('"1.0"')]
    for enc, units in (("utf-16", len(prefix.encode("utf-16-le")) // 2), ("utf-32", len(prefix)),
                       ("utf-8", len(prefix.encode("utf-8")))):
        ws = Workspace(encoding=enc)
        ws.open(path, text)
        by_path, _ = ws.lint(path)
        [d] = [d for d in by_path[str(path)] if d.code == "VMSS200"]
        assert d.range == ((0, units), (0, units + 5)), enc
        assert d.fix is not None and d.fix.applicability == "safe"
        assert "\nhelp: " in d.message  # how to fix it, under what is wrong


def test_parameter_files_name_their_template(tmp_path):
    assert parameters_template(str(tmp_path / "web.parameters.json")) == str(tmp_path / "web.json")
    assert parameters_template(str(tmp_path / "azuredeploy.parameters.json")) == str(tmp_path / "azuredeploy.json")
    assert parameters_template(str(tmp_path / "web.json")) is None
    write(tmp_path / "azuredeploy.json", template(vmss()))
    write(tmp_path / "azuredeploy.parameters.json", {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
        "parameters": {}})
    ws = Workspace()
    assert ws.templates_for(str(tmp_path / "azuredeploy.parameters.json")) == [str(tmp_path / "azuredeploy.json")]
    assert ws.templates_for(str(tmp_path / "azuredeploy.json")) == [str(tmp_path / "azuredeploy.json")]


def test_an_unsaved_parameter_file_is_used(tmp_path):
    doc = template(vmss(**{"properties.virtualMachineProfile.storageProfile.imageReference.version":
                           "[parameters('v')]"}))
    doc["parameters"] = {"v": {"type": "string", "defaultValue": "latest"}}
    write(tmp_path / "main.json", doc)
    ws = Workspace()
    by_path, files = ws.lint(str(tmp_path / "main.json"))
    assert not any(d.code == "VMSS200" for d in by_path.get(str(tmp_path / "main.json"), []))
    # a parameter file that exists only in the editor
    ws.open(tmp_path / "main.parameters.json", json.dumps({"parameters": {"v": {"value": "1.2.3"}}}))
    by_path, files = ws.lint(str(tmp_path / "main.json"))
    assert str(tmp_path / "main.parameters.json") in files
    [d] = [d for d in by_path[str(tmp_path / "main.parameters.json")] if d.code == "VMSS200"]
    [(rel_path, _, _)] = d.related
    assert rel_path == str(tmp_path / "main.json")


def test_settings_from_the_editor_override_the_configuration_file(tmp_path):
    write(tmp_path / ".vmsslint.yaml", "ignore: [VMSS2]\n")
    write(tmp_path / "main.json", template(vmss(**PINNED)))
    ws = Workspace()
    assert not any(d.code == "VMSS200" for ds in ws.lint(str(tmp_path / "main.json"))[0].values() for d in ds)
    ws.configure({"isolated": True})
    assert any(d.code == "VMSS200" for ds in ws.lint(str(tmp_path / "main.json"))[0].values() for d in ds)
