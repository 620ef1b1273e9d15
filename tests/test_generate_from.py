"""vmsslint generate --from: the template you have, made ready, every other byte kept."""

from __future__ import annotations

import difflib
import json
import shutil
import subprocess

import pytest

from conftest import REPO, lint, write
from linter import generate, readyfrom

HEALTH = {"health_protocol": "http", "health_port": 8080, "health_path": "/healthz"}

# comments, CRLF, tabs, a BOM, properties before type/name, values from a variable and a parameter file
TEMPLATE = """{
\t// a comment the user wrote
\t"contentVersion": "1.0.0.0",
\t"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
\t"parameters": {
\t\t"imageSku": {"type": "string", "defaultValue": "22_04-lts-gen2"},
\t\t"osVersion": {"type": "string", "defaultValue": "latest"},
\t\t"apiVersion": {"type": "string", "defaultValue": "2017-12-01"}
\t},
\t"variables": {"windowsUpdates": true /* the old way */},
\t"resources": [
\t\t{
\t\t\t"properties": {
\t\t\t\t/* keep me */
\t\t\t\t"virtualMachineProfile": {
\t\t\t\t\t"storageProfile": {
\t\t\t\t\t\t"imageReference": {"version": "[parameters('osVersion')]", "sku": "[parameters('imageSku')]", "offer": "0001-com-ubuntu-server-jammy", "publisher": "Canonical"}
\t\t\t\t\t},
\t\t\t\t\t"osProfile": {"computerNamePrefix": "vm", "adminUsername": "azureuser", "linuxConfiguration": {"disablePasswordAuthentication": true}}
\t\t\t\t},
\t\t\t\t"upgradePolicy": {"mode": "Manual"}
\t\t\t},
\t\t\t"sku": {"capacity": 3, "name": "Standard_D2s_v5"},
\t\t\t"name": "web",
\t\t\t"location": "westeurope",
\t\t\t"apiVersion": "[parameters('apiVersion')]",
\t\t\t"type": "Microsoft.Compute/virtualMachineScaleSets"
\t\t}
\t]
}
""".replace("\n", "\r\n")

PARAMS = ('{\r\n  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",\r\n'
          '  "contentVersion": "1.0.0.0",\r\n  "parameters": {\r\n    // pinned by the team\r\n'
          '    "osVersion": {"value": "22.04.202401161"}\r\n  }\r\n}')


def from_cli(*args):
    from test_cli import run
    return run("generate", "--from", *map(str, args))


def changed_lines(old: str, new: str) -> set:
    """1-based line numbers of ``new`` that are not in ``old``."""
    out = set()
    sm = difflib.SequenceMatcher(a=old.splitlines(keepends=True), b=new.splitlines(keepends=True), autojunk=False)
    for tag, _, _, j1, j2 in sm.get_opcodes():
        if tag != "equal":
            out.update(range(j1 + 1, j2 + 1))
    return out


def reported_lines(report: str, name: str) -> set:
    out = set()
    for line in report.splitlines():
        if line.startswith(f"changed {name}:"):
            span = line.split()[1].split(":")[1]
            a, _, b = span.partition("-")
            out.update(range(int(a), int(b or a) + 1))
    return out


@pytest.fixture
def project(tmp_path):
    src = tmp_path / "in"
    write(src / "azuredeploy.json", b"\xef\xbb\xbf" + TEMPLATE.encode())
    write(src / "azuredeploy.parameters.json", PARAMS)
    return src


def test_only_the_reported_lines_change_and_every_other_byte_stays(tmp_path, project):
    out = tmp_path / "out"
    r = from_cli(project / "azuredeploy.json", "--no-input", "--health-protocol", "http", "--health-port", "8080",
                 "--health-path", "/healthz", "-o", out)
    assert r.returncode == 0, r.stdout + r.stderr
    data = (out / "azuredeploy.json").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM stays
    text = data[3:].decode()
    assert "\n" not in text.replace("\r\n", "")  # CRLF everywhere, also in the new lines
    assert "// a comment the user wrote" in text and "/* keep me */" in text and "/* the old way */" in text
    assert "\t\t\t\t\t\"extensionProfile\": {\r\n\t\t\t\t\t\t\"extensions\": [" in text  # tabs, the file's layout
    for name, old in (("azuredeploy.json", TEMPLATE), ("azuredeploy.parameters.json", PARAMS)):
        new = (out / name).read_bytes().decode("utf-8-sig")
        assert changed_lines(old, new) <= reported_lines(r.stdout, name), (name, r.stdout)
        assert changed_lines(old, new)
    params = (out / "azuredeploy.parameters.json").read_bytes().decode()
    assert '// pinned by the team\r\n    "osVersion": {"value": "latest"}' in params  # edited where it is supplied
    assert "REQ-ENABLE" in r.stdout and "REQ-API" in r.stdout and "REQ-HEALTH" in r.stdout
    # the key order of the resource is the user's
    assert text.index('"properties"') < text.index('"sku"') < text.index('"type": "Microsoft.Compute')
    report = lint(out / "azuredeploy.json", require_auto_upgrade=True)
    assert [f.code for f in report.findings if f.severity != "info"] == []


def test_diff_equals_what_o_writes(tmp_path, project):
    if shutil.which("patch") is None:
        pytest.skip("the patch program is not installed")
    args = ["--no-input", "--health-protocol", "tcp", "--health-port", "22"]
    import os
    import sys
    d = subprocess.run([sys.executable, "-m", "linter", "generate", "--from", str(project / "azuredeploy.json"), *args,
                        "--diff"], capture_output=True, env=dict(os.environ), timeout=120)  # bytes: CRLF kept
    assert d.returncode == 0, d.stderr
    assert b"\r\n" in d.stdout
    assert not (project / "azuredeploy.json.orig").exists()
    o = from_cli(project / "azuredeploy.json", *args, "-o", tmp_path / "out")
    work = tmp_path / "work"
    shutil.copytree(project, work)
    p = subprocess.run(["patch", "-p1", "--binary", "-s"], input=d.stdout, cwd=work, capture_output=True)
    assert p.returncode == 0, p.stdout + p.stderr
    for name in ("azuredeploy.json", "azuredeploy.parameters.json"):
        assert (work / name).read_bytes() == (tmp_path / "out" / name).read_bytes()
    assert o.stdout.splitlines()[:-3] == d.stderr.decode().splitlines()  # the same report


def test_no_input_without_health_settings_fails_and_writes_nothing(tmp_path, project):
    r = from_cli(project / "azuredeploy.json", "--no-input", "-o", tmp_path / "out")
    assert r.returncode == 2 and "--health-protocol" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_never_overwrites_without_force(tmp_path, project):
    r = from_cli(project / "azuredeploy.json", "--no-input", "--health-protocol", "tcp", "--health-port", "22",
                 "-o", project)
    assert r.returncode == 2 and "--force" in r.stderr
    assert (project / "azuredeploy.json").read_bytes()[3:].decode() == TEMPLATE


def _generated(tmp_path, **choices):
    files = generate.render(generate.resolve(choices))
    d = tmp_path / "gen"
    for name, text in files.items():
        write(d / name, text)
    return d


def test_service_fabric_bronze_to_silver_on_extension_and_node_type(tmp_path):
    d = _generated(tmp_path, image="MicrosoftWindowsServer:WindowsServer:2022-Datacenter", **{"service-fabric": True})
    t = d / "azuredeploy.json"
    t.write_text(t.read_text().replace('"durabilityLevel": "Silver"', '"durabilityLevel": "Bronze"'))
    assert t.read_text().count('"durabilityLevel": "Bronze"') == 2
    res = readyfrom.make_ready(str(t), [], readyfrom.Options())
    new = res.texts[str(t)][1]
    assert new.count('"durabilityLevel": "Silver"') == 2
    assert {"REQ-SF-DURABILITY", "REQ-SF-MATCH"} <= {c.req for c in res.changes}
    assert res.ready and not res.left
    # four instances: not moved, and the report says why
    t.write_text(t.read_text().replace('"defaultValue": 5, "minValue": 5', '"defaultValue": 4, "minValue": 4')
                 .replace('"value": 5', '"value": 4'))
    (d / "azuredeploy.parameters.json").write_text((d / "azuredeploy.parameters.json").read_text()
                                                   .replace('"value": 5', '"value": 4'))
    res = readyfrom.make_ready(str(t), [], readyfrom.Options())
    assert '"durabilityLevel": "Silver"' not in res.texts[str(t)][1]
    assert [x.code for x in res.left] == ["VMSS600"] and "at least 5 instances" in res.left[0].reason


def test_windows_updates_off_and_pinned_gallery_version_removed(tmp_path):
    gid = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/images/providers/"
           "Microsoft.Compute/galleries/corp/images/web")
    d = _generated(tmp_path, **{"gallery-image": gid, "os": "windows", "health": "extension"})
    t = d / "azuredeploy.json"
    text = t.read_text().replace(f'"id": "{gid}"', f'"id": "{gid}/versions/1.2.3"') \
        .replace('"enableAutomaticUpdates": false', '"enableAutomaticUpdates": true')
    t.write_text(text)
    res = readyfrom.make_ready(str(t), [], readyfrom.Options())
    new = res.texts[str(t)][1]
    assert f'"id": "{gid}"' in new and "/versions/" not in new
    assert '"enableAutomaticUpdates": false' in new
    assert {"REQ-IMAGE-CUSTOM", "REQ-WINDOWS-AU"} <= {c.req for c in res.changes} and not res.left


def _unsupported(tmp_path, plan=False):
    d = _generated(tmp_path, image="Canonical:0001-com-ubuntu-server-jammy:22_04-LTS-Gen2", health="extension")
    t = d / "azuredeploy.json"
    doc = json.loads(t.read_text())
    vmss = doc["resources"][-1]
    vmss["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"].update(
        offer="0001-com-ubuntu-server-focal", sku="20_04-lts-cvm")
    if plan:
        vmss["plan"] = {"name": "20_04-lts-cvm", "publisher": "canonical", "product": "0001-com-ubuntu-server-focal"}
    t.write_text(json.dumps(doc, indent=2))
    return t


def test_image_replaced_only_when_asked(tmp_path):
    t = _unsupported(tmp_path)
    res = readyfrom.make_ready(str(t), [], readyfrom.Options())
    assert [x.code for x in res.left] == ["VMSS201"] and "--image" in res.left[0].reason
    res = readyfrom.make_ready(str(t), [], readyfrom.Options(image="auto"))
    assert not res.left
    images = generate.support_matrix("2026")[0]
    ref = json.loads(res.texts[str(t)][1])["resources"][-1]["properties"]["virtualMachineProfile"][
        "storageProfile"]["imageReference"]
    urn = f"{ref['publisher']}:{ref['offer']}:{ref['sku']}"
    assert urn in images and urn.startswith("Canonical:") and "arm64" not in urn and "Gen2" not in urn
    assert any(urn in c.what for c in res.changes)


def test_marketplace_image_with_a_plan_is_never_replaced(tmp_path):
    t = _unsupported(tmp_path, plan=True)
    res = readyfrom.make_ready(str(t), [], readyfrom.Options(image="auto"))
    assert "20_04-lts-cvm" in res.texts[str(t)][1]
    assert [x.code for x in res.left] == ["VMSS201"] and "plan" in res.left[0].reason


def test_health_probe_on_the_sets_own_load_balancer(tmp_path):
    d = _generated(tmp_path, image="Canonical:0001-com-ubuntu-server-jammy:22_04-LTS-Gen2", health="probe")
    t = d / "azuredeploy.json"
    text = t.read_text()
    doc = json.loads(text)
    vmss = doc["resources"][-1]["properties"]["virtualMachineProfile"]
    del vmss["networkProfile"]["healthProbe"]
    doc["resources"][-1]["properties"].pop("upgradePolicy")
    t.write_text(json.dumps(doc, indent=2))
    res = readyfrom.make_ready(str(t), [], readyfrom.Options(health="probe", health_protocol="http", health_port=8080,
                                                             health_path="/ready"))
    assert not res.left, res.report()
    new = json.loads(res.texts[str(t)][1])
    lb = [r for r in new["resources"] if r["type"] == "Microsoft.Network/loadBalancers"][0]
    probe = [p for p in lb["properties"]["probes"] if p["name"] == readyfrom.HEALTH_PROBE_NAME][0]
    assert probe["properties"]["port"] == 8080 and probe["properties"]["requestPath"] == "/ready"
    assert readyfrom.HEALTH_PROBE_NAME in json.dumps(new["resources"][-1]["properties"]["virtualMachineProfile"])
    assert [f.code for f in lint(t.parent / "x.json" if False else t, require_auto_upgrade=True).findings
            if f.severity == "error"]  # the input still fails ...
    out = tmp_path / "o"
    readyfrom.write(res, str(out), False)
    assert [f.code for f in lint(out / "azuredeploy.json", require_auto_upgrade=True).findings
            if f.severity != "info"] == []  # ... the output does not


def test_an_unchanged_parameter_file_is_not_written_and_secrets_never_printed(tmp_path):
    src = REPO / "examples" / "needs-work"
    r = from_cli(src / "azuredeploy.json", "--no-input", "--health-protocol", "tcp", "--health-port", "22",
                 "-o", tmp_path / "o")
    assert r.returncode == 1  # the image is left for a decision
    assert "VMSS201" in r.stdout and "--image URN or --image auto" in r.stdout
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["azuredeploy.json", "azuredeploy.parameters.json"]
    r = from_cli(src / "azuredeploy.json", "--no-input", "--health-protocol", "tcp", "--health-port", "22",
                 "--image", "Canonical:0001-com-ubuntu-server-jammy:22_04-LTS", "--diff")
    # the sku parameter's allowedValues do not hold the new sku: no part of the image is written
    assert r.returncode == 1 and "allowedValues" in r.stderr and "Canonical:0001-com-ubuntu-server-jammy" in r.stderr
    assert "0001-com-ubuntu-server-jammy" not in r.stdout and "REQ-HEALTH" in r.stderr


def test_broken_template_is_a_clear_message(tmp_path):
    t = write(tmp_path / "t.json", '{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/'
                                   'deploymentTemplate.json#", "resources": [}')
    r = from_cli(t, "--no-input", "-o", tmp_path / "o")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "t.json" in r.stderr


def test_pinned_gallery_version_in_a_resource_id_expression(tmp_path):
    gid = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/images/providers/"
           "Microsoft.Compute/galleries/corp/images/web")
    d = _generated(tmp_path, **{"gallery-image": gid, "os": "linux", "health": "extension"})
    t = d / "azuredeploy.json"
    expr = "[resourceId('Microsoft.Compute/galleries/images/versions', 'corp', 'web', '1.2.3')]"
    t.write_text(t.read_text().replace(f'"id": "{gid}"', json.dumps({"id": expr})[1:-1]))
    assert "1.2.3" in t.read_text()
    res = readyfrom.make_ready(str(t), [], readyfrom.Options())
    new = res.texts[str(t)][1]
    assert "resourceId('Microsoft.Compute/galleries/images', 'corp', 'web')" in new and "1.2.3" not in new
    assert not res.left, res.report()


def test_the_preview_automatic_os_upgrade_property_is_replaced(tmp_path):
    d = _generated(tmp_path, image="Canonical:0001-com-ubuntu-server-jammy:22_04-LTS-Gen2", health="extension")
    t = d / "azuredeploy.json"
    doc = json.loads(t.read_text())
    doc["resources"][-1]["properties"]["upgradePolicy"] = {"mode": "Rolling", "automaticOSUpgrade": "false"}
    t.write_text(json.dumps(doc, indent=2))
    res = readyfrom.make_ready(str(t), [], readyfrom.Options())
    policy = json.loads(res.texts[str(t)][1])["resources"][-1]["properties"]["upgradePolicy"]
    assert policy["automaticOSUpgradePolicy"] == {"enableAutomaticOSUpgrade": True}
    assert "automaticOSUpgrade" not in policy and "rollingUpgradePolicy" in policy
    assert not res.left and all("VMSS101" not in c.what for c in res.changes), res.report()


def test_api_version_given_raises_older_sets_and_no_scale_set_is_an_error(tmp_path):
    d = _generated(tmp_path, image="Canonical:0001-com-ubuntu-server-jammy:22_04-LTS-Gen2", health="extension",
                   **{"api-version": "2024-11-01"})
    t = d / "azuredeploy.json"
    res = readyfrom.make_ready(str(t), [], readyfrom.Options())
    assert not res.changes and res.texts[str(t)][0] == res.texts[str(t)][1]  # ready already: nothing changes
    res = readyfrom.make_ready(str(t), [], readyfrom.Options(api_version="2026-03-01"))
    assert [c.req for c in res.changes] == ["REQ-API"]
    assert '"apiVersion": "2026-03-01"' in res.texts[str(t)][1]
    empty = write(tmp_path / "e.json", {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/"
                                                   "deploymentTemplate.json#", "contentVersion": "1.0.0.0",
                                        "resources": [{"type": "Microsoft.Storage/storageAccounts",
                                                       "apiVersion": "2023-01-01", "name": "s"}]})
    with pytest.raises(readyfrom.ReadyError, match="no scale set"):
        readyfrom.make_ready(str(empty), [], readyfrom.Options())


@pytest.mark.parametrize("encoding, bom", [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"), ("utf-8", b"")])
def test_encoding_and_bom_are_kept(tmp_path, encoding, bom):
    d = _generated(tmp_path, image="MicrosoftWindowsServer:WindowsServer:2022-Datacenter", health="extension")
    t = d / "azuredeploy.json"
    text = t.read_text().replace('"enableAutomaticUpdates": false', '"enableAutomaticUpdates": true') \
        .replace('"description"', '"description ☃"')
    t.write_bytes(bom + text.encode(encoding))
    res = readyfrom.make_ready(str(t), [], readyfrom.Options())
    data = res.files[str(t)]
    assert data.startswith(bom) and data[len(bom):].decode(encoding) == text.replace(
        '"enableAutomaticUpdates": true', '"enableAutomaticUpdates": false')


def test_trailing_commas_and_one_line_objects(tmp_path):
    d = _generated(tmp_path, image="Canonical:0001-com-ubuntu-server-jammy:22_04-LTS-Gen2", health="extension")
    t = d / "azuredeploy.json"
    doc = json.loads(t.read_text())
    doc["resources"][-1]["properties"]["upgradePolicy"] = {"mode": "Manual"}
    text = json.dumps(doc, indent=2).replace('"mode": "Manual"\n', '"mode": "Manual",\n')
    t.write_text(text)
    res = readyfrom.make_ready(str(t), [], readyfrom.Options())
    new = res.texts[str(t)][1]
    from linter.jsonc import parse
    from linter.source import SourceFile
    root, _ = parse(SourceFile("x.json", new))
    policy = root["resources"][-1]["properties"]["upgradePolicy"]
    assert policy["mode"] == "Rolling" and policy["automaticOSUpgradePolicy"]["enableAutomaticOSUpgrade"] is True
    assert not res.left, res.report()
