"""Shared helpers: write a template to a temporary directory, lint it, look at the findings."""

from __future__ import annotations

import json
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures"

needs_shared = pytest.mark.skipif(
    not (SHARED / "REQUIREMENTS.md").exists(),
    reason="../shared (requirements, corpus, schemas) is not beside this checkout; it exists on the "
           "developers' machines and in CI only")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("VMSSLINT_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "rule-cache"))
    monkeypatch.delenv("NO_COLOR", raising=False)


def write(path: pathlib.Path, content) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, (dict, list)):
        content = json.dumps(content, indent=2)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def lint(paths, **settings):
    """Lint files with the real engine and rules; returns the Report."""
    from linter.engine import Engine, Settings
    paths = [str(p) for p in (paths if isinstance(paths, (list, tuple)) else [paths])]
    if "parameters" in settings:
        settings["parameters"] = [str(p) for p in settings["parameters"]]
    return Engine(Settings(**settings)).lint_paths(paths)


def codes(report, severity=None):
    return sorted(f.code for f in report.findings if severity is None or f.severity == severity)


def at(report, code):
    """(line, column) of each finding of ``code``."""
    return sorted((f.line, f.column) for f in report.findings if f.code == code)


SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


def vmss(**overrides):
    """A compliant automatic-OS-upgrade scale set resource (as a dict); override by dotted path."""
    res = {
        "type": "Microsoft.Compute/virtualMachineScaleSets",
        "apiVersion": "2024-11-01",
        "name": "vmss",
        "location": "westeurope",
        "sku": {"name": "Standard_D2s_v5", "capacity": 10},
        "properties": {
            "upgradePolicy": {
                "mode": "Rolling",
                "automaticOSUpgradePolicy": {"enableAutomaticOSUpgrade": True},
            },
            "virtualMachineProfile": {
                "storageProfile": {
                    "imageReference": {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy",
                                       "sku": "22_04-LTS-Gen2", "version": "latest"},
                    "osDisk": {"createOption": "FromImage"},
                },
                "osProfile": {"computerNamePrefix": "vm", "adminUsername": "azureuser",
                              "linuxConfiguration": {"disablePasswordAuthentication": True}},
                "networkProfile": {
                    "healthProbe": {"id": "[resourceId('Microsoft.Network/loadBalancers/probes', 'lb', 'health')]"},
                    "networkInterfaceConfigurations": [],
                },
            },
        },
    }
    for path, value in overrides.items():
        node = res
        parts = path.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        if value is DELETE:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = value
    return res


DELETE = object()


def template(*resources, parameters=None, variables=None, **extra):
    t = {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "parameters": parameters or {},
         "variables": variables or {}, "resources": list(resources)}
    t.update(extra)
    return t


SARIF_SCHEMA = SHARED / "reference" / "schemas" / "sarif" / "sarif-schema-2.1.0.json"
_sarif_validator = None


def assert_valid_sarif(text: str):
    """Validate a SARIF document against the OASIS 2.1.0 schema (when ../shared is there)."""
    global _sarif_validator
    doc = json.loads(text)
    assert doc["version"] == "2.1.0" and len(doc["runs"]) == 1
    if not SARIF_SCHEMA.exists():
        return doc
    if _sarif_validator is None:
        from jsonschema import Draft7Validator
        _sarif_validator = Draft7Validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))
    errors = sorted(_sarif_validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])
    return doc


SARIF_PRODUCED = []


@pytest.fixture(autouse=True)
def _validate_every_sarif(monkeypatch):
    """Every SARIF document the suite produces in-process is validated against the OASIS schema."""
    from linter import output
    real = output.FORMATTERS["sarif"]

    def checked(report, options):
        text = real(report, options)
        assert_valid_sarif(text)
        SARIF_PRODUCED.append(len(text))
        return text

    monkeypatch.setitem(output.FORMATTERS, "sarif", checked)
