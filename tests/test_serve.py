"""vmsslint serve driven by the real azure-mgmt-compute SDK, as a process on a free port.

One server (``--speed 0``: simulated time moves only through the control API) serves five generated scale
sets, one per scenario, so that the tests do not disturb each other's sets.  Every SDK model the tests read
is checked field by field: what the server sends is a field the SDK knows, comes back non-None, and an enum
value is a member of the SDK's enum.
"""

from __future__ import annotations

import enum
import os
import re
import subprocess
import sys
import threading
import time

import pytest

from conftest import REPO
from test_cli import run

pytest.importorskip("werkzeug", reason="vmsslint serve needs the 'serve' extra (werkzeug, cryptography)")
pytest.importorskip("cryptography", reason="vmsslint serve needs the 'serve' extra (werkzeug, cryptography)")
pytest.importorskip("azure.mgmt.compute", reason="the SDK tier needs azure-mgmt-compute (the 'test' extra)")
requests = pytest.importorskip("requests")

from azure.core.credentials import AccessToken  # noqa: E402
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError  # noqa: E402
from azure.mgmt.compute import ComputeManagementClient  # noqa: E402
from azure.mgmt.compute import models as sdk_models  # noqa: E402

SUB = "00000000-0000-0000-0000-000000000000"
IMAGE = "Canonical:0001-com-ubuntu-server-jammy:22_04-LTS-Gen2"


class FakeCredential:
    """Any bearer token is accepted: the SDK's TokenCredential protocol, nothing else."""

    def __init__(self):
        self.scopes = []

    def get_token(self, *scopes, **kwargs):
        self.scopes.append(scopes)
        return AccessToken("not-a-real-token", int(time.time()) + 3600)


class Server:
    """``vmsslint serve`` as a process: the first stdout line is the base URL; always stopped."""

    def __init__(self, *args, timeout=60, cwd=None):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
        self.proc = subprocess.Popen([sys.executable, "-m", "linter", "serve", "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                     cwd=cwd or REPO)
        self.lines = []
        got = threading.Event()

        def read():
            for line in self.proc.stdout:
                self.lines.append(line.rstrip("\n"))
                if line.startswith("control API:"):
                    got.set()
            got.set()

        threading.Thread(target=read, daemon=True).start()
        if not got.wait(timeout) or not self.lines:
            self.stop()
            raise AssertionError(f"vmsslint serve did not start: {self.proc.stderr.read()[-2000:]}")
        self.base = self.lines[0]
        self.ca = next((ln.split(": ", 1)[1] for ln in self.lines if ln.startswith("CA bundle")), None)

    @property
    def verify(self):
        return self.ca if self.ca else True

    def control(self, method, path, body=None):
        r = requests.request(method, self.base + path, json=body, verify=self.verify, timeout=30)
        return r

    def arm(self, method, path, body=None, api="2024-11-01", token="x"):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        sep = "&" if "?" in path else "?"
        url = self.base + path + (f"{sep}api-version={api}" if api else "")
        return requests.request(method, url, json=body, headers=headers, verify=self.verify, timeout=30)

    def client(self):
        return ComputeManagementClient(FakeCredential(), SUB, base_url=self.base, connection_verify=self.ca,
                                       polling_interval=0)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()


def generate(d, name, *extra):
    r = run("generate", "--image", IMAGE, "--health", "probe", "--name", name, "-o", str(d / name), *extra)
    assert r.returncode == 0, r.stderr
    return str(d / name / "azuredeploy.json")


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    d = tmp_path_factory.mktemp("serve")
    return {n: generate(d, n, "--instances", str(c), *x) for n, c, x in [
        ("web", 10, ()), ("canary", 10, ()), ("precheck", 10, ()), ("stop", 10, ()),
        ("manual", 4, ("--upgrade-mode", "Manual"))]}


@pytest.fixture(scope="module")
def server(templates):
    srv = Server(*templates.values(), "--speed", "0")
    try:
        # the tests drive every upgrade themselves: the platform's own trigger stays out
        for name in templates:
            r = srv.arm("PATCH", f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/"
                        f"virtualMachineScaleSets/{name}",
                        {"properties": {"upgradePolicy": {"automaticOSUpgradePolicy": {"enableAutomaticOSUpgrade": False}}}})
            assert r.status_code == 200, r.text
        r = srv.control("POST", "/vmsslint/images", {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy",
                                                      "sku": "22_04-LTS-Gen2", "version": "1.0.1"})
        assert r.status_code == 201, r.text
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def client(server):
    return server.client()


def check_model(model, raw, where="model"):
    """Every field the server sent is one the SDK knows, comes back non-None, and enum values are members."""
    if isinstance(raw, list):
        assert isinstance(model, list) and len(model) == len(raw), where
        for k, (m, r) in enumerate(zip(model, raw)):
            check_model(m, r, f"{where}[{k}]")
        return
    if not isinstance(raw, dict) or not hasattr(model, "_attr_to_rest_field"):  # a plain map (tags)
        return
    fields = {f._rest_name: attr for attr, f in model._attr_to_rest_field.items()}
    for key, value in raw.items():
        assert key in fields, f"{where}.{key}: not a field of the SDK's {type(model).__name__}"
        attr = fields[key]
        got = getattr(model, attr)
        assert got is not None, f"{where}.{key} was sent but the SDK reads None"
        hint = ""
        for cls in type(model).__mro__:
            if attr in getattr(cls, "__annotations__", {}):
                hint = str(cls.__annotations__[attr])
                break
        for enum_name in re.findall(r"_models\.(\w+)", hint):
            enum_cls = getattr(sdk_models, enum_name, None)
            if isinstance(enum_cls, type) and issubclass(enum_cls, enum.Enum):
                assert isinstance(got, enum_cls), f"{where}.{key} = {got!r} is not a member of {enum_name}"
        if isinstance(value, (dict, list)) and not isinstance(got, (str, int)):
            check_model(got, value, f"{where}.{key}")


def set_path(name):
    return f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/{name}"


def advance_while(poller, server, minutes=5, limit=200):
    """Move simulated time on until the poller's operation is done (the server runs at --speed 0)."""
    for _ in range(limit):
        if poller.done():
            return
        server.control("POST", "/vmsslint/clock", {"advanceMinutes": minutes})
        time.sleep(0.05)
    raise AssertionError("the operation never finished")


# --- the contract of the command ---------------------------------------------------------------

def test_banner_base_url_first_then_how_to_connect(server):
    assert re.fullmatch(r"https://127\.0\.0\.1:\d+", server.base)
    assert server.ca and os.path.exists(server.ca)
    text = "\n".join(server.lines)
    assert "ComputeManagementClient(" in text and "az cloud register" in text
    assert all(f"scale set {n}:" in text for n in ("web", "canary", "precheck", "stop", "manual"))


def test_certificate_is_its_own_ca_for_loopback(server):
    from cryptography import x509
    cert = x509.load_pem_x509_certificate(open(server.ca, "rb").read())
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert "127.0.0.1" in [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    with pytest.raises(requests.exceptions.SSLError):  # and it is not trusted without the bundle
        requests.get(server.base + "/vmsslint/clock", timeout=10)


def test_refuses_a_template_with_lint_blockers():
    r = run("serve", "--port", "0", str(REPO / "examples" / "needs-work" / "azuredeploy.json"))
    assert r.returncode == 1 and r.stdout == ""
    assert "VMSS200" in r.stderr and "azuredeploy" in r.stderr and "Traceback" not in r.stderr


def test_refuses_a_port_in_use(server, templates):
    port = server.base.rsplit(":", 1)[1]
    r = run("serve", "--port", port, templates["web"])
    assert r.returncode == 2 and "cannot listen" in r.stderr and "Traceback" not in r.stderr and r.stdout == ""


def test_refuses_a_non_loopback_host(templates):
    r = run("serve", "--host", "0.0.0.0", templates["web"])
    assert r.returncode == 2 and "loopback" in r.stderr and r.stdout == ""


# --- the SDK --------------------------------------------------------------------------------------

def test_read_the_set(server, client):
    s = client.virtual_machine_scale_sets.get("rg", "web")
    raw = server.arm("GET", set_path("web")).json()
    check_model(s, raw)
    assert s.name == "web" and s.sku.capacity == 10 and s.upgrade_policy.mode == sdk_models.UpgradeMode.ROLLING
    assert s.virtual_machine_profile.storage_profile.image_reference.version == "latest"
    names = [x.name for x in client.virtual_machine_scale_sets.list("rg")]
    assert sorted(names) == ["canary", "manual", "precheck", "stop", "web"]
    assert sorted(x.name for x in client.virtual_machine_scale_sets.list_all()) == sorted(names)
    with pytest.raises(ResourceNotFoundError) as exc:
        client.virtual_machine_scale_sets.get("rg", "nope")
    assert exc.value.error.code == "ResourceNotFound"


def test_rollout_with_the_sdk(server, client):
    """Publish an image, start the upgrade, watch it, read the history page by page."""
    ru = client.virtual_machine_scale_set_rolling_upgrades
    poller = ru.begin_start_os_upgrade("rg", "web")
    time.sleep(0.3)
    server.control("POST", "/vmsslint/clock", {"advanceMinutes": 6})
    mid = ru.get_latest("rg", "web")
    check_model(mid, server.arm("GET", set_path("web") + "/rollingUpgrades/latest").json())
    assert mid.running_status.code == sdk_models.RollingUpgradeStatusCode.ROLLING_FORWARD
    assert mid.id.endswith("/virtualMachineScaleSets/web/rollingUpgrades/latest") and mid.location == "westeurope"
    p = mid.progress
    assert p.successful_instance_count + p.failed_instance_count + p.in_progress_instance_count + \
        p.pending_instance_count == 10
    assert 0 < p.successful_instance_count < 10
    # the running upgrade is in the history already
    running = list(client.virtual_machine_scale_sets.get_os_upgrade_history("rg", "web"))
    assert running[0].properties.running_status.code == sdk_models.RollingUpgradeStatusCode.ROLLING_FORWARD
    advance_while(poller, server)
    assert poller.result() is None and poller.status().lower() == "succeeded"
    done = ru.get_latest("rg", "web")
    assert done.running_status.code == sdk_models.RollingUpgradeStatusCode.COMPLETED
    assert done.progress.successful_instance_count == 10 and done.progress.pending_instance_count == 0
    vms = list(client.virtual_machine_scale_set_vms.list("rg", "web"))
    raw_vms = server.arm("GET", set_path("web") + "/virtualMachines").json()["value"]
    check_model(vms, raw_vms)
    assert {v.storage_profile.image_reference.exact_version for v in vms} == {"1.0.1"}
    assert all(v.latest_model_applied for v in vms)
    # two more rollouts: three entries, paged two by two (nextLink followed by the SDK)
    for version in ("1.0.2", "1.0.3"):
        assert server.control("POST", "/vmsslint/images", {"publisher": "Canonical", "offer": "o", "sku": "s",
                                                            "version": version}).status_code == 201
        poller = ru.begin_start_os_upgrade("rg", "web")
        advance_while(poller, server)
        poller.result()
    first = server.arm("GET", set_path("web") + "/osUpgradeHistory").json()
    assert len(first["value"]) == 2 and first["nextLink"].startswith(server.base)
    hist = list(client.virtual_machine_scale_sets.get_os_upgrade_history("rg", "web"))
    assert [h.properties.target_image_reference.version for h in hist] == ["1.0.3", "1.0.2", "1.0.1"]
    second = requests.get(first["nextLink"], headers={"Authorization": "Bearer x"}, verify=server.verify,
                          timeout=10).json()
    check_model(hist, first["value"] + second["value"])
    for h in hist:
        assert h.properties.running_status.code == sdk_models.RollingUpgradeStatusCode.COMPLETED
        assert h.properties.started_by == sdk_models.UpgradeOperationInvoker.USER
        assert h.properties.running_status.end_time > h.properties.running_status.start_time
        assert h.properties.rollback_info.successfully_rolledback_instance_count == 0


def test_faulted_upgrade_raises_azure_error_code(server, client):
    """Instances that come up unhealthy: the upgrade stops; the SDK raises with Azure's error code."""
    r = server.control("POST", "/vmsslint/faults", {"scaleSet": "canary", "kind": "unhealthy-after-upgrade",
                                                    "count": 3})
    # the first instances the rollout reaches: update domain 0 (0 and 5), then 1
    assert r.status_code == 201 and r.json()["instances"] == [0, 1, 5]
    # the platform's trigger on, for the next test (a platform-started upgrade rolls failed instances back)
    r = server.arm("PATCH", set_path("canary"), {"properties": {"upgradePolicy": {
        "automaticOSUpgradePolicy": {"enableAutomaticOSUpgrade": True}}}})
    assert r.status_code == 200
    poller = client.virtual_machine_scale_set_rolling_upgrades.begin_start_os_upgrade("rg", "canary")
    advance_while(poller, server)
    with pytest.raises(HttpResponseError) as exc:
        poller.result()
    assert exc.value.error.code == "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"
    latest = client.virtual_machine_scale_set_rolling_upgrades.get_latest("rg", "canary")
    assert latest.running_status.code == sdk_models.RollingUpgradeStatusCode.FAULTED
    assert latest.error.code == "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"
    check_model(latest, server.arm("GET", set_path("canary") + "/rollingUpgrades/latest").json())
    vms = list(client.virtual_machine_scale_set_vms.list("rg", "canary"))
    check_model(vms, server.arm("GET", set_path("canary") + "/virtualMachines").json()["value"])
    assert [v.instance_id for v in vms if v.provisioning_state == "Failed"] == ["0", "5"]
    assert latest.progress.failed_instance_count == 2  # the first batch, 0 and 5, both unhealthy
    assert latest.progress.successful_instance_count == 0 and latest.progress.pending_instance_count == 8


def test_rollback_fails_is_reported(server, client):
    """A platform-started upgrade rolls failed instances back; one rollback fails: rollbackInfo counts it
    and carries rollbackError."""
    assert server.control("DELETE", "/vmsslint/faults").status_code == 204
    # the first batch is instances 0 and 5 (update domains 0); both fail, and 5 cannot be rolled back
    for body in ({"scaleSet": "canary", "kind": "unhealthy-after-upgrade", "instances": [0, 5]},
                 {"scaleSet": "canary", "kind": "rollback-fails", "instances": [5]}):
        assert server.control("POST", "/vmsslint/faults", body).status_code == 201
    # the next image, rolled out by the platform on 'canary' (its trigger is on since the previous test)
    assert server.control("POST", "/vmsslint/images", {"publisher": "Canonical", "offer": "o", "sku": "s",
                                                        "version": "1.0.4"}).status_code == 201
    state = server.control("GET", "/vmsslint/state").json()
    canary = next(s for s in state["scaleSets"] if s["name"] == "canary")
    sick = [i["id"] for i in canary["instances"] if not i["healthy"]]
    # two failed instances out of ten is 20%: not above maxUnhealthyInstancePercent, so the upgrade may start
    assert len(sick) == 2
    server.control("POST", "/vmsslint/clock", {"advanceMinutes": 4 * 60})
    hist = list(client.virtual_machine_scale_sets.get_os_upgrade_history("rg", "canary"))
    platform = [h for h in hist if h.properties.started_by == sdk_models.UpgradeOperationInvoker.PLATFORM]
    assert platform, [h.as_dict() for h in hist]
    info = platform[0].properties.rollback_info
    assert info.failed_rolledback_instance_count == 1
    assert info.successfully_rolledback_instance_count == 1
    assert info.rollback_error.code == "RollbackFailed" and "5" in info.rollback_error.message
    vms = {v.instance_id: v for v in client.virtual_machine_scale_set_vms.list("rg", "canary")}
    assert vms["0"].storage_profile.image_reference.exact_version != "1.0.4"  # rolled back
    assert vms["5"].storage_profile.image_reference.exact_version == "1.0.4"  # its rollback failed
    raw = server.arm("GET", set_path("canary") + "/osUpgradeHistory").json()["value"]
    check_model(hist[:len(raw)], raw)


def test_precheck_refuses_too_many_unhealthy(server, client):
    r = server.control("POST", "/vmsslint/faults", {"scaleSet": "precheck", "kind": "unhealthy-now", "count": 3})
    assert r.status_code == 201
    poller = client.virtual_machine_scale_set_rolling_upgrades.begin_start_os_upgrade("rg", "precheck")
    with pytest.raises(HttpResponseError) as exc:
        poller.result()
    assert exc.value.error.code == "MaxUnhealthyInstancePercentExceededBeforeRollingUpgrade"


def test_cancel_mid_rollout_and_conflicts(server, client):
    ru = client.virtual_machine_scale_set_rolling_upgrades
    start = ru.begin_start_os_upgrade("rg", "stop")
    server.control("POST", "/vmsslint/clock", {"advanceMinutes": 6})
    # 409: a second upgrade while one runs
    with pytest.raises(ResourceExistsError) as exc:
        ru.begin_start_os_upgrade("rg", "stop").result()
    assert exc.value.status_code == 409 and exc.value.error.code == "RollingUpgradeInProgress"
    cancel = ru.begin_cancel("rg", "stop")
    latest = ru.get_latest("rg", "stop")
    assert latest.running_status.last_action == sdk_models.RollingUpgradeActionType.CANCEL
    advance_while(cancel, server, minutes=1)
    cancel.result()
    with pytest.raises(HttpResponseError):  # the start operation ends Canceled
        start.result()
    assert start.status().lower() == "canceled"
    latest = ru.get_latest("rg", "stop")
    assert latest.running_status.code == sdk_models.RollingUpgradeStatusCode.CANCELLED
    assert 0 < latest.progress.successful_instance_count < 10 and latest.progress.pending_instance_count > 0
    # 409: nothing to cancel now
    with pytest.raises(ResourceExistsError) as exc:
        ru.begin_cancel("rg", "stop").result()
    assert exc.value.error.code == "NoRollingUpgradeInProgress"


def test_manual_mode_model_change_then_manual_upgrade(server, client):
    vmss = client.virtual_machine_scale_sets
    s = vmss.get("rg", "manual")
    assert s.upgrade_policy.mode == sdk_models.UpgradeMode.MANUAL
    s.virtual_machine_profile.storage_profile.image_reference.version = "1.0.1"
    updated = vmss.begin_create_or_update("rg", "manual", s).result()
    assert updated.virtual_machine_profile.storage_profile.image_reference.version == "1.0.1"
    assert updated.provisioning_state == "Succeeded"
    vms = {v.instance_id: v for v in client.virtual_machine_scale_set_vms.list("rg", "manual")}
    assert not any(v.latest_model_applied for v in vms.values())
    assert {v.storage_profile.image_reference.exact_version for v in vms.values()} == {"1.0.0"}
    poller = vmss.begin_update_instances("rg", "manual", {"instanceIds": ["0", "1"]})
    advance_while(poller, server, minutes=1)
    poller.result()
    vms = {v.instance_id: v for v in client.virtual_machine_scale_set_vms.list("rg", "manual")}
    assert [vms[i].latest_model_applied for i in "0123"] == [True, True, False, False]
    assert vms["0"].storage_profile.image_reference.exact_version == "1.0.1"
    assert vms["3"].storage_profile.image_reference.exact_version == "1.0.0"
    # and 'latest' is refused by osRollingUpgrade now that the model pins a version
    with pytest.raises(ResourceExistsError) as exc:
        client.virtual_machine_scale_set_rolling_upgrades.begin_start_os_upgrade("rg", "manual").result()
    assert exc.value.error.code == "OperationNotAllowed" and "latest" in exc.value.error.message


def test_automatic_mode_applies_a_model_change_at_once(server, client):
    vmss = client.virtual_machine_scale_sets
    s = vmss.get("rg", "precheck")
    s.upgrade_policy.mode = "Automatic"
    s.virtual_machine_profile.storage_profile.image_reference.version = "1.0.1"
    vmss.begin_create_or_update("rg", "precheck", s).result()
    vms = list(client.virtual_machine_scale_set_vms.list("rg", "precheck"))
    assert all(v.latest_model_applied for v in vms)
    assert {v.storage_profile.image_reference.exact_version for v in vms} == {"1.0.1"}


def test_rolling_mode_rolls_a_model_change(server, client):
    """A new image in a Rolling set's model: a rolling upgrade to it; instances take the model batch by batch."""
    vmss = client.virtual_machine_scale_sets
    s = vmss.get("rg", "stop")
    assert s.upgrade_policy.mode == sdk_models.UpgradeMode.ROLLING
    s.virtual_machine_profile.storage_profile.image_reference.version = "1.0.2"
    vmss.begin_create_or_update("rg", "stop", s).result()
    latest = client.virtual_machine_scale_set_rolling_upgrades.get_latest("rg", "stop")
    assert latest.running_status.code == sdk_models.RollingUpgradeStatusCode.ROLLING_FORWARD
    server.control("POST", "/vmsslint/clock", {"advanceMinutes": 6})
    applied = [v.latest_model_applied for v in client.virtual_machine_scale_set_vms.list("rg", "stop")]
    assert 0 < sum(applied) < 10
    server.control("POST", "/vmsslint/clock", {"until": "idle"})
    vms = list(client.virtual_machine_scale_set_vms.list("rg", "stop"))
    assert all(v.latest_model_applied for v in vms)
    assert {v.storage_profile.image_reference.exact_version for v in vms} == {"1.0.2"}
    hist = list(vmss.get_os_upgrade_history("rg", "stop"))
    assert hist[0].properties.target_image_reference.version == "1.0.2"
    assert hist[0].properties.running_status.code == sdk_models.RollingUpgradeStatusCode.COMPLETED


def test_unhealthy_during_the_rollout_stops_it(server, client):
    """Instances going unhealthy mid-rollout: the check before the next batch stops the upgrade."""
    server.control("POST", "/vmsslint/images", {"publisher": "Canonical", "offer": "o", "sku": "s", "version": "1.0.5"})
    poller = client.virtual_machine_scale_set_rolling_upgrades.begin_start_os_upgrade("rg", "web")
    server.control("POST", "/vmsslint/clock", {"advanceMinutes": 1})
    r = server.control("POST", "/vmsslint/faults", {"scaleSet": "web", "kind": "unhealthy-now", "instances": [7, 8, 9],
                                                    "durationMinutes": 30})
    assert r.status_code == 201
    advance_while(poller, server)
    with pytest.raises(HttpResponseError) as exc:
        poller.result()
    assert exc.value.error.code == "MaxUnhealthyInstancePercentExceededInRollingUpgrade"
    server.control("POST", "/vmsslint/clock", {"until": "idle"})  # they recover after 30 minutes
    web = next(s for s in server.control("GET", "/vmsslint/state").json()["scaleSets"] if s["name"] == "web")
    assert all(i["healthy"] for i in web["instances"])


# --- ARM shapes and errors -------------------------------------------------------------------------

def test_lro_headers_and_operation_status(server):
    server.control("POST", "/vmsslint/images", {"publisher": "Canonical", "offer": "o", "sku": "s", "version": "1.0.9"})
    r = server.arm("POST", set_path("web") + "/osRollingUpgrade")
    assert r.status_code == 202 and r.headers["Retry-After"] == "1"
    status_url, location = r.headers["Azure-AsyncOperation"], r.headers["Location"]
    assert status_url.startswith(server.base) and location.startswith(server.base)
    op = requests.get(status_url, headers={"Authorization": "Bearer x"}, verify=server.verify, timeout=10)
    assert op.json()["status"] == "InProgress"
    assert requests.get(location, headers={"Authorization": "Bearer x"}, verify=server.verify,
                        timeout=10).status_code == 202
    server.control("POST", "/vmsslint/clock", {"until": "idle"})
    op = requests.get(status_url, headers={"Authorization": "Bearer x"}, verify=server.verify, timeout=10).json()
    assert op["status"] == "Succeeded" and op["endTime"] >= op["startTime"]
    assert requests.get(location, headers={"Authorization": "Bearer x"}, verify=server.verify,
                        timeout=10).status_code == 200


@pytest.mark.parametrize("method,path,body,raw,status,code", [
    ("GET", set_path("web"), None, None, 401, "AuthenticationFailed"),
    ("GET", set_path("nope"), None, None, 404, "ResourceNotFound"),
    ("GET", set_path("web").replace("/rg/", "/other/"), None, None, 404, "ResourceGroupNotFound"),
    ("GET", set_path("web").replace(SUB, "11111111-1111-1111-1111-111111111111"), None, None, 404,
     "SubscriptionNotFound"),
    ("PATCH", set_path("web"), None, b"{not json", 400, "InvalidRequestContent"),
    ("PATCH", set_path("web"), None, b"[1]", 400, "InvalidRequestContent"),
    ("PATCH", set_path("web"), {"properties": {"upgradePolicy": {"mode": "Sometimes"}}}, None, 400, "InvalidParameter"),
    ("PATCH", set_path("web"), {"sku": {"capacity": 99}}, None, 409, "OperationNotAllowed"),
    ("POST", set_path("web") + "/manualupgrade", {"instanceIds": ["77"]}, None, 404, "NotFound"),
    ("DELETE", set_path("web"), None, None, 405, "MethodNotAllowed"),
    ("GET", set_path("web") + "/extensions", None, None, 404, "InvalidResourceType"),
])
def test_arm_errors(server, method, path, body, raw, status, code):
    headers = {} if code == "AuthenticationFailed" else {"Authorization": "Bearer x"}
    r = requests.request(method, server.base + path + "?api-version=2023-09-01", json=body, data=raw,
                         headers=headers, verify=server.verify, timeout=10)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and err["message"] and "Traceback" not in r.text


def test_missing_api_version_is_refused(server):
    r = server.arm("GET", set_path("web"), api=None)
    assert r.status_code == 400 and r.json()["error"]["code"] == "MissingApiVersionParameter"


def test_paths_are_case_insensitive_and_any_api_version(server):
    r = server.arm("GET", set_path("web").lower() + "/ROLLINGUPGRADES/latest", api="2026-04-01")
    assert r.status_code == 200 and r.json()["name"] == "latest"


def test_no_latest_yet_is_404(server):
    r = server.arm("GET", set_path("manual") + "/rollingUpgrades/latest")
    assert r.status_code == 404 and r.json()["error"]["code"] == "ResourceNotFound"


# --- the control API -------------------------------------------------------------------------------

@pytest.mark.parametrize("path,body,status", [
    ("/vmsslint/images", {"publisher": "p", "offer": "o", "sku": "s", "version": "one"}, 400),
    ("/vmsslint/images", {"version": "2.0.0"}, 400),
    ("/vmsslint/images", {"publisher": "p", "offer": "o", "sku": "s", "version": "1.0.1"}, 409),
    ("/vmsslint/images", {"galleryImageId": "/subscriptions/x/g", "version": "1.0.0", "regions": "westeurope"}, 400),
    ("/vmsslint/clock", {"advanceMinutes": -5}, 400),
    ("/vmsslint/clock", {"until": "tomorrow"}, 400),
    ("/vmsslint/faults", {"scaleSet": "web", "kind": "gremlins", "count": 1}, 400),
    ("/vmsslint/faults", {"scaleSet": "web", "kind": "unhealthy-now", "count": 0}, 400),
    ("/vmsslint/faults", {"scaleSet": "web", "kind": "unhealthy-now", "instances": [99]}, 404),
    ("/vmsslint/faults", {"scaleSet": "ghost", "kind": "unhealthy-now", "count": 1}, 404),
])
def test_control_api_errors_are_arm_shaped(server, path, body, status):
    r = server.control("POST", path, body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] and r.json()["error"]["message"]


def test_clock_and_state(server):
    before = server.control("GET", "/vmsslint/clock").json()
    after = server.control("POST", "/vmsslint/clock", {"advanceMinutes": 90}).json()
    assert after["seconds"] - before["seconds"] == 90 * 60 and after["speed"] == 0
    state = server.control("GET", "/vmsslint/state").json()
    assert state["seconds"] == after["seconds"] and state["subscriptionId"] == SUB
    assert {s["name"] for s in state["scaleSets"]} == {"web", "canary", "precheck", "stop", "manual"}
    web = next(s for s in state["scaleSets"] if s["name"] == "web")
    assert len(web["instances"]) == 10 and {"image", "healthy", "updateDomain", "zone"} <= set(web["instances"][0])
    assert [i["version"] for i in state["images"]["platform"]][:2] == ["1.0.1", "1.0.2"]
    assert state["operations"] and {"status", "kind", "scaleSet"} <= set(state["operations"][0])


def test_gallery_image_keeps_its_id(tmp_path):
    r = run("generate", "--gallery-image", "/subscriptions/" + SUB + "/resourceGroups/img/providers/"
            "Microsoft.Compute/galleries/g/images/app", "--os", "linux", "--health", "probe", "--name", "gal",
            "--instances", "3", "-o", str(tmp_path / "gal"))
    assert r.returncode == 0, r.stderr
    srv = Server(str(tmp_path / "gal" / "azuredeploy.json"), "--speed", "0", "--no-tls")
    try:
        assert srv.base.startswith("http://")
        r = srv.arm("PATCH", set_path("gal"), {"properties": {"upgradePolicy": {"automaticOSUpgradePolicy": {
            "enableAutomaticOSUpgrade": False}}}})  # only the test starts upgrades
        assert r.status_code == 200
        gid = f"/subscriptions/{SUB}/resourceGroups/img/providers/Microsoft.Compute/galleries/g/images/app"
        # not replicated to the set's region: not the set's latest
        r = srv.control("POST", "/vmsslint/images", {"galleryImageId": gid, "version": "2.0.0",
                                                     "regions": ["eastus"], "excludeFromLatest": False})
        assert r.status_code == 201
        gal = srv.control("GET", "/vmsslint/state").json()["scaleSets"][0]
        assert gal["latestAvailableVersion"] == "1.0.0"
        r = srv.control("POST", "/vmsslint/images", {"galleryImageId": gid, "version": "2.0.1",
                                                     "regions": ["westeurope"]})
        assert r.status_code == 201
        gal = srv.control("GET", "/vmsslint/state").json()["scaleSets"][0]
        assert gal["latestAvailableVersion"] == "2.0.1"
        r = srv.arm("POST", set_path("gal") + "/osRollingUpgrade")
        assert r.status_code == 202, r.text
        srv.control("POST", "/vmsslint/clock", {"until": "idle"})
        hist = srv.arm("GET", set_path("gal") + "/osUpgradeHistory").json()["value"]
        ref = hist[0]["properties"]["targetImageReference"]
        assert ref["id"] == gid and ref["version"] == "2.0.1"
        # maintenance that ends: unhealthy for ten simulated minutes
        r = srv.control("POST", "/vmsslint/faults", {"scaleSet": "gal", "kind": "maintenance", "instances": [2],
                                                     "durationMinutes": 10})
        assert r.status_code == 201
        healthy = [i["healthy"] for i in srv.control("GET", "/vmsslint/state").json()["scaleSets"][0]["instances"]]
        assert healthy == [True, True, False]
        srv.control("POST", "/vmsslint/clock", {"advanceMinutes": 11})
        healthy = [i["healthy"] for i in srv.control("GET", "/vmsslint/state").json()["scaleSets"][0]["instances"]]
        assert healthy == [True, True, True]
        # expired credentials: the next upgrade fails in its first batch (one instance: a set of three)
        srv.control("POST", "/vmsslint/images", {"galleryImageId": gid, "version": "2.0.2", "regions": ["westeurope"]})
        assert srv.control("POST", "/vmsslint/faults", {"scaleSet": "gal", "kind": "expired-credential"}).status_code == 201
        assert srv.arm("POST", set_path("gal") + "/osRollingUpgrade").status_code == 202
        srv.control("POST", "/vmsslint/clock", {"until": "idle"})
        latest = srv.arm("GET", set_path("gal") + "/rollingUpgrades/latest").json()["properties"]
        assert latest["runningStatus"]["code"] == "Faulted" and latest["progress"]["failedInstanceCount"] == 1
        assert latest["error"]["code"] == "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade"
    finally:
        srv.stop()


def test_state_dir_survives_a_restart(templates, tmp_path):
    state = tmp_path / "state"
    srv = Server(templates["web"], "--speed", "0", "--state-dir", str(state))
    try:
        srv.control("POST", "/vmsslint/images", {"publisher": "p", "offer": "o", "sku": "s", "version": "1.0.1"})
        r = srv.arm("POST", set_path("web") + "/osRollingUpgrade")
        assert r.status_code == 202
        srv.control("POST", "/vmsslint/clock", {"advanceMinutes": 7})
        before = srv.control("GET", "/vmsslint/state").json()
    finally:
        srv.stop()
    assert srv.proc.returncode == 0
    assert sorted(p.name for p in state.iterdir()) == ["cert.pem", "key.pem", "state.pickle"]
    srv = Server("--speed", "0", "--state-dir", str(state))
    try:
        assert "(state restored)" in "\n".join(srv.lines)
        after = srv.control("GET", "/vmsslint/state").json()
        assert after["seconds"] == before["seconds"]
        assert after["scaleSets"][0]["instances"] == before["scaleSets"][0]["instances"]
        assert after["scaleSets"][0]["rollingUpgrade"]["properties"]["runningStatus"]["code"] == "RollingForward"
        srv.control("POST", "/vmsslint/clock", {"until": "idle"})
        latest = srv.arm("GET", set_path("web") + "/rollingUpgrades/latest").json()
        assert latest["properties"]["runningStatus"]["code"] == "Completed"
    finally:
        srv.stop()
    (state / "state.pickle").write_bytes(b"garbage")
    r = run("serve", "--port", "0", "--state-dir", str(state))
    assert r.returncode == 2 and "not a vmsslint serve state file" in r.stderr and "Traceback" not in r.stderr


def test_speed_moves_time_with_the_wall_clock(templates):
    srv = Server(templates["web"], "--speed", "600", "--no-tls")
    try:
        t0 = srv.control("GET", "/vmsslint/clock").json()["seconds"]
        time.sleep(1.0)
        t1 = srv.control("GET", "/vmsslint/clock").json()["seconds"]
        assert 500 <= t1 - t0 <= 1200
    finally:
        srv.stop()


def test_lint_does_not_import_the_server():
    code = ("import sys, runpy; sys.argv=['vmsslint','lint',%r]\n"
            "try:\n    runpy.run_module('linter', run_name='__main__')\nexcept SystemExit: pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('werkzeug','cryptography','azure') "
            "or m.startswith('linter.serve')))" % str(REPO / "examples" / "ready" / "azuredeploy.json"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert r.stdout.strip().splitlines()[-1] == "[]"


def test_docs_document_every_control_route():
    text = (REPO / "docs" / "serve.md").read_text()
    for route in ("POST /vmsslint/images", "POST /vmsslint/clock", "POST /vmsslint/faults", "GET /vmsslint/state",
                  "DELETE /vmsslint/faults", "GET /vmsslint/clock", "GET /vmsslint/images"):
        assert f"### `{route}`" in text, route


def test_oversized_and_non_http_requests_are_refused(server):
    try:  # 413, or (over TLS, the client still sending) the connection closed on it
        r = requests.post(server.base + "/vmsslint/clock", data=b"0" * (2 << 20), verify=server.verify, timeout=30)
        assert r.status_code == 413
    except requests.exceptions.ConnectionError:
        assert server.base.startswith("https:"), "over plain HTTP the server answers 413"
    assert server.control("GET", "/vmsslint/clock").status_code == 200  # and the server is still there
