"""vmsslint generate: the whole support matrix lints clean and validates against Microsoft's schemas;
hostile values stay values."""

from __future__ import annotations

import json

import pytest

from conftest import SHARED, lint, needs_shared
from linter import generate

ARM_SCHEMAS = SHARED / "reference" / "schemas" / "arm"


def build(tmp_path, **choices):
    context = generate.resolve(choices)
    files = generate.render(context)
    out = tmp_path / "out"
    generate.write(files, str(out), force=True)
    return out, files


def lint_clean(out, edition, extra_images=()):
    """Every finding, info included: a generated template has none at all."""
    report = lint(out / "azuredeploy.json", edition=edition, extra_images=list(extra_images))
    bad = [f"{f.code} {f.severity} {f.message}" for f in report.findings]
    return report, bad


_validators = {}


def schema_validator():
    if "registry" not in _validators:
        from referencing import Registry
        from referencing.jsonschema import DRAFT4
        resources = []
        for path in ARM_SCHEMAS.rglob("*.json"):
            doc = json.loads(path.read_text(encoding="utf-8"))
            url = (doc.get("id") or doc.get("$id")).rstrip("#")
            resources.append((url, DRAFT4.create_resource(doc)))
        _validators["registry"] = Registry().with_resources(resources)
        index = {}
        for url, res in resources:
            for name in res.contents.get("resourceDefinitions", {}):
                api = url.split("/schemas/")[1].split("/")[0]
                index[(name.lower(), api)] = f"{url}#/resourceDefinitions/{name}"
        _validators["index"] = index
    return _validators["registry"], _validators["index"]


CHECKED_TYPES = {"microsoft.compute/virtualmachinescalesets": "virtualmachinescalesets",
                 "microsoft.network/loadbalancers": "loadbalancers",
                 "microsoft.compute/galleries": "galleries",
                 "microsoft.compute/galleries/images": "galleries_images",
                 "microsoft.compute/galleries/images/versions": "galleries_images_versions",
                 "microsoft.servicefabric/clusters": "clusters"}


def _ecma_pattern(validator, pattern, instance, schema):
    """``pattern`` as ECMA-262 reads it: Microsoft's schemas write ranges like [\\w-.] that Python rejects."""
    import re

    from jsonschema import ValidationError
    if not isinstance(instance, str):
        return
    try:
        rx = re.compile(pattern)
    except re.error:
        rx = re.compile(re.sub(r"(\\[wdsWDS])-", r"\1\\-", pattern))
    if not rx.search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def validate_resources(template: dict):
    from jsonschema import Draft4Validator, validators
    registry, index = schema_validator()
    Draft4Validator = validators.extend(Draft4Validator, {"pattern": _ecma_pattern})
    checked = []
    for res in template["resources"]:
        name = CHECKED_TYPES.get(res["type"].lower())
        if name is None:
            continue
        ref = index.get((name, res["apiVersion"]))
        assert ref, f"no schema for {res['type']} {res['apiVersion']} in reference/schemas/arm"
        v = Draft4Validator({"$ref": ref}, registry=registry)
        errors = sorted(v.iter_errors(res), key=lambda e: list(e.absolute_path))
        assert not errors, f"{res['type']}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:3])
        checked.append(res["type"])
    return checked


def matrix():
    cases = []
    for edition in ("2020", "2026"):
        images, _ = generate.support_matrix(edition)
        for urn in images:
            for health in ("probe", "extension"):
                cases.append((edition, urn, health, False))
            cases.append((edition, urn, None if edition == "2020" else "probe", True))
    return cases


MATRIX = matrix()
MATRIX_IDS = [f"{e}-{u}-{h}-{'sf' if s else 'plain'}" for e, u, h, s in MATRIX]


@pytest.mark.parametrize("edition, urn, health, sf", MATRIX, ids=MATRIX_IDS)
def test_support_matrix_lints_clean(tmp_path, edition, urn, health, sf):
    out, files = build(tmp_path, image=urn, health=health, **{"service-fabric": sf, "docs-edition": edition})
    json.loads(files["azuredeploy.json"])  # strict: no comments, no trailing commas
    json.loads(files["azuredeploy.parameters.json"])
    report, bad = lint_clean(out, edition)
    assert bad == []


@needs_shared
@pytest.mark.parametrize("edition, urn, health, sf", MATRIX, ids=MATRIX_IDS)
def test_support_matrix_validates_against_microsoft_schemas(tmp_path, edition, urn, health, sf):
    _, files = build(tmp_path, image=urn, health=health, **{"service-fabric": sf, "docs-edition": edition})
    checked = validate_resources(json.loads(files["azuredeploy.json"]))
    assert "Microsoft.Compute/virtualMachineScaleSets" in checked
    if health == "probe":
        assert "Microsoft.Network/loadBalancers" in checked
    if sf:
        assert "Microsoft.ServiceFabric/clusters" in checked


GALLERY_ID = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/images/providers/"
              "Microsoft.Compute/galleries/corp/images/web")


@pytest.mark.parametrize("choices", [
    {"gallery-image": GALLERY_ID, "os": "linux", "health": "probe"},
    {"gallery-image": GALLERY_ID, "os": "windows", "health": "extension", "health-mode": "binary"},
    {"new-gallery": "corp/web", "os": "linux", "health": "extension", "health-protocol": "tcp", "health-port": 22,
     "location": "westeurope", "gallery-publisher": "fabrikam"},
    {"new-gallery": "corp/web", "os": "windows", "health": "probe", "zones": ["1", "2", "3"],
     "service-fabric": True, "durability": "Gold", "instances": 7, "location": "West Europe"},
    {"new-gallery": "corp/web", "os": "windows", "health": "extension", "location": "northeurope",
     "password-keyvault": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/kv/providers/"
                          "Microsoft.KeyVault/vaults/corp-kv", "password-secret": "vmss-admin"},
    {"gallery-image": GALLERY_ID, "os": "linux", "health": "probe", "service-fabric": True},
], ids=["gallery-linux", "gallery-windows", "new-gallery-linux", "new-gallery-windows-sf", "new-gallery-keyvault",
        "gallery-sf-probe"])
def test_gallery_images(tmp_path, choices):
    out, files = build(tmp_path, **choices)
    report, bad = lint_clean(out, "2026")
    assert bad == []
    if not ARM_SCHEMAS.exists():
        pytest.skip("Microsoft's schemas are in ../shared/reference, which is not here; the lint part passed")
    checked = validate_resources(json.loads(files["azuredeploy.json"]))
    if "new-gallery" in choices:
        assert {"Microsoft.Compute/galleries", "Microsoft.Compute/galleries/images",
                "Microsoft.Compute/galleries/images/versions"} <= set(checked)


def test_output_is_deterministic_and_windows_is_patched_by_images(tmp_path):
    choices = {"image": "MicrosoftWindowsServer:WindowsServer:2022-datacenter-azure-edition", "health": "extension"}
    _, a = build(tmp_path / "a", **choices)
    _, b = build(tmp_path / "b", **choices)
    assert a == b
    t = json.loads(a["azuredeploy.json"])
    vmss = t["resources"][-1]["properties"]["virtualMachineProfile"]
    assert vmss["osProfile"]["windowsConfiguration"]["enableAutomaticUpdates"] is False
    assert t["parameters"]["adminPassword"]["type"] == "secureString"
    assert vmss["storageProfile"]["imageReference"]["sku"] == "2022-Datacenter-azure-edition"  # the table's spelling
    linux = json.loads(build(tmp_path / "c", image="Canonical:ubuntu-24_04-lts:server-arm64",
                             health="probe")[1]["azuredeploy.json"])
    assert linux["parameters"]["sshPublicKey"]["type"] == "secureString"
    assert "adminPassword" not in json.dumps(linux)


HOSTILE = ['he said "hi"', "back\\slash", "new\nline", "[concat('evil')]", "[[already]", "]", "[",
           "ünïcødé ☃ \u2028", "x" * 10_000, '", "injected": "yes', "{{ 7*7 }}", "'; drop"]


@pytest.mark.parametrize("value", HOSTILE, ids=[repr(v)[:20] for v in HOSTILE])
def test_hostile_values_stay_values(tmp_path, value):
    out, files = build(tmp_path, image="Canonical:0001-com-ubuntu-server-jammy:22_04-LTS-Gen2", health="probe",
                       name=value[:64], **{"admin-username": value, "vm-size": value})
    template = json.loads(files["azuredeploy.json"])
    params = json.loads(files["azuredeploy.parameters.json"])
    assert "injected" not in template and "injected" not in template["parameters"]
    expected = "[" + value if value.startswith("[") and value.endswith("]") and len(value) >= 2 else value
    assert template["parameters"]["adminUsername"]["defaultValue"] == expected
    assert params["parameters"]["adminUsername"]["value"] == expected
    # ARM reads the escaped value back as exactly the given value
    from linter.arm.template import Options, load_deployment
    from linter.jsonc import parse
    from linter.source import SourceFile
    src = SourceFile.read(str(out / "azuredeploy.json"))
    root, _ = parse(src)
    dep = load_deployment(root, src, {}, Options())
    from linter.arm.template import Scope
    assert Scope(dep, root, {}).parameter("adminUsername") == value


@pytest.mark.parametrize("choices, message", [
    ({"image": "Canonical:UbuntuServer:18.04-LTS", "health": "probe"}, "not a supported image in the 2026"),
    ({"image": "Canonical:0001-com-ubuntu-server-jammy:22_04-LTS-Gen2:latest", "health": "probe"}, "without a version"),
    ({"image": "Canonical:0001-com-ubuntu-server-jammy:22_04-LTS-Gen2"}, "choose a health signal"),
    ({"health": "probe"}, "choose one image"),
    ({"gallery-image": GALLERY_ID + "/versions/1.0.0", "os": "linux", "health": "probe"}, "without /versions/"),
    ({"image": "Canonical:0001-com-ubuntu-server-jammy:22_04-LTS-Gen2", "health": "probe", "service-fabric": True,
      "docs-edition": "2020"}, "not a supported image in the 2020"),
    ({"image": "Canonical:UbuntuServer:18.04-LTS", "health": "probe", "service-fabric": True,
      "docs-edition": "2020"}, "does not support health probes on Service Fabric"),
    ({"image": "Canonical:0001-com-ubuntu-server-jammy:22_04-LTS-Gen2", "service-fabric": True, "instances": 3},
     "from 5 to 1000"),
    ({"image": "Canonical:0001-com-ubuntu-server-jammy:22_04-LTS-Gen2", "health": "probe",
      "api-version": "2018-06-01"}, "automatic OS image upgrades need one of"),
    ({"image": "Canonical:0001-com-ubuntu-server-jammy:22_04-LTS-Gen2", "health": "probe",
      "pause-time-between-batches": "5m"}, "not an ISO 8601 duration"),
])
def test_refused_choices(choices, message):
    with pytest.raises(generate.GenerateError) as info:
        generate.resolve(choices)
    assert message in str(info.value)


def test_command_line_never_clobbers_and_no_input_fails_clearly(tmp_path):
    from test_cli import run
    out = tmp_path / "o"
    args = ["generate", "--image", "Canonical:0001-com-ubuntu-server-jammy:22_04-LTS-Gen2", "--health", "probe",
            "-o", str(out)]
    r = run(*args)
    assert r.returncode == 0, r.stderr
    before = (out / "azuredeploy.json").read_bytes()
    r = run(*args[:-2], "--name", "other", "-o", str(out))
    assert r.returncode == 2 and "already exist" in r.stderr and "--force" in r.stderr
    assert (out / "azuredeploy.json").read_bytes() == before
    assert run(*args[:-2], "--name", "other", "-o", str(out), "--force").returncode == 0
    assert (out / "azuredeploy.json").read_bytes() != before
    r = run("generate", "--no-input", "-o", str(tmp_path / "x"))
    assert r.returncode == 2 and "missing --image" in r.stderr and not (tmp_path / "x" / "azuredeploy.json").exists()
    r = run("lint", str(out))
    assert r.returncode == 0 and "No findings" in r.stdout


def test_spec_file(tmp_path):
    from test_cli import run
    spec = tmp_path / "spec.yaml"
    spec.write_text("image: MicrosoftCblMariner:Azure-Linux:azure-linux-3\nhealth: extension\n"
                    "health-protocol: https\nhealth-port: 8443\nzones: [1, 2]\ninstances: 10\n")
    r = run("generate", "--spec", str(spec), "--instances", "20", "-o", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    t = json.loads((tmp_path / "o" / "azuredeploy.json").read_text())
    assert t["parameters"]["instanceCount"]["defaultValue"] == 20  # the command line wins
    assert t["resources"][-1]["zones"] == ["1", "2"]
    spec.write_text("image: MicrosoftCblMariner:Azure-Linux:azure-linux-3\nhelth: extension\n")
    r = run("generate", "--spec", str(spec), "-o", str(tmp_path / "p"))
    assert r.returncode == 2 and "unknown setting 'helth'; did you mean 'health'?" in r.stderr


def test_list_images():
    from test_cli import run
    r = run("generate", "--list-images", "--docs-edition", "2020")
    assert "Canonical:UbuntuServer:18.04-LTS" in r.stdout.splitlines()


EXTRA = ["Debian:debian-12:12-gen2", "MicrosoftWindowsServer:WindowsServer:2025-datacenter-azure-edition"]


@pytest.mark.parametrize("edition", ["2020", "2026"])
@pytest.mark.parametrize("urn", EXTRA)
@pytest.mark.parametrize("health, sf", [("probe", False), ("extension", False), (None, True)])
def test_extra_images_are_accepted_and_lint_with_no_finding(tmp_path, edition, urn, health, sf):
    choices = {"image": urn, "health": health, "service-fabric": sf, "docs-edition": edition}
    if sf and edition == "2026":
        choices["health"] = "probe"
    with pytest.raises(generate.GenerateError, match="not a supported image"):
        generate.resolve(choices)
    out, files = build(tmp_path, **choices, **{"extra-images": EXTRA})
    report, bad = lint_clean(out, edition, extra_images=EXTRA)
    assert bad == []
    vmss = json.loads(files["azuredeploy.json"])["resources"][-1]["properties"]["virtualMachineProfile"]
    assert ("windowsConfiguration" in vmss["osProfile"]) == urn.startswith("MicrosoftWindowsServer")


def test_extra_images_from_the_configuration_file(tmp_path):
    """The configuration lint finds for the output (above -o DIR) is the one whose extra-images count."""
    from test_cli import run
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / ".vmsslint.yaml").write_text(f"extra-images: ['{EXTRA[0]}']\n")
    args = ["generate", "--image", EXTRA[0], "--health", "extension", "--no-input"]
    r = run(*args, "-o", "out", cwd=str(tmp_path / "a"))
    assert r.returncode == 0, r.stderr
    r = run("lint", "out", cwd=str(tmp_path / "a"))
    assert r.returncode == 0 and "No findings" in r.stdout, r.stdout
    r = run(*args, "-o", "out", cwd=str(tmp_path / "b"))
    assert r.returncode == 2 and "not a supported image" in r.stderr
    r = run(*args, "--extra-image", EXTRA[0], "-o", "out", cwd=str(tmp_path / "b"))
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("choices, message", [
    ({"new-gallery": "corp/web", "os": "linux", "health": "probe"}, "--location REGION"),
    ({"new-gallery": "corp/web", "os": "linux", "health": "probe", "location": "westeurope",
      "gallery-publisher": "bad publisher!"}, "--gallery-publisher"),
    ({"image": EXTRA[1], "extra-images": EXTRA, "health": "probe", "password-keyvault": "/subscriptions/x"},
     "go together"),
    ({"image": EXTRA[1], "extra-images": EXTRA, "health": "probe", "password-keyvault": "kv",
      "password-secret": "s"}, "key vault's resource id"),
    ({"image": EXTRA[0], "extra-images": ["Debian:debian-12"], "health": "probe"}, "not PUBLISHER:OFFER:SKU"),
])
def test_refused_generator_choices(choices, message):
    with pytest.raises(generate.GenerateError) as info:
        generate.resolve(choices)
    assert message in str(info.value)


def test_gallery_publisher_is_the_users(tmp_path):
    _, files = build(tmp_path, **{"new-gallery": "corp/web", "os": "linux", "health": "probe",
                                  "location": "westeurope"})
    assert "contoso" not in files["azuredeploy.json"]
    image = [r for r in json.loads(files["azuredeploy.json"])["resources"]
             if r["type"] == "Microsoft.Compute/galleries/images"][0]
    assert image["properties"]["identifier"]["publisher"] == "corp"
