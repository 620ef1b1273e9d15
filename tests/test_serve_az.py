"""The second tier: the real az CLI drives ``vmsslint serve`` registered as a custom cloud.

azure-cli pins its own azure-core and azure-mgmt-compute, so it lives in its own virtual environment,
installed once with pip (about 80 s and 730 MB) and cached in VMSSLINT_AZ_VENV (default: the system's
temporary directory, vmsslint-azcli/venv).  The install is attempted only when VMSSLINT_AZ_TIER=1
(.ci/run sets it) and is capped at 10 minutes; the test skips, saying why, when the package index
cannot be reached or the install fails.  An already cached venv is used without the variable.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import pytest

from test_serve import SUB, Server, generate

INSTALL_CAP = 600


def az_venv():
    return os.environ.get("VMSSLINT_AZ_VENV") or os.path.join(tempfile.gettempdir(), "vmsslint-azcli", "venv")


def _az_works(az):
    if not os.path.exists(az):
        return False
    try:
        r = subprocess.run([az, "version", "-o", "json"], capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, AZURE_CONFIG_DIR=tempfile.mkdtemp(prefix="az-probe-")))
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0 and "azure-cli" in r.stdout


@pytest.fixture(scope="module")
def az():
    venv = az_venv()
    exe = os.path.join(venv, "Scripts" if os.name == "nt" else "bin", "az")
    if _az_works(exe):
        return exe
    if os.environ.get("VMSSLINT_AZ_TIER") != "1":
        pytest.skip("the az CLI tier installs azure-cli (~80 s, ~730 MB) into its own venv: set VMSSLINT_AZ_TIER=1 "
                    f"(.ci/run does) or point VMSSLINT_AZ_VENV at a venv with azure-cli (looked in {venv})")
    import fcntl
    import shutil
    os.makedirs(os.path.dirname(venv), exist_ok=True)
    with open(venv + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one install at a time; the next run reuses it
        if _az_works(exe):
            return exe
        shutil.rmtree(venv, ignore_errors=True)
        start = time.monotonic()
        try:
            subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True, timeout=120)
            r = subprocess.run([os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--quiet",
                                "--disable-pip-version-check", "azure-cli"], capture_output=True, text=True,
                               timeout=INSTALL_CAP)
        except subprocess.TimeoutExpired:
            shutil.rmtree(venv, ignore_errors=True)
            pytest.skip(f"installing azure-cli took more than {INSTALL_CAP} s; the az tier did not run")
        except (OSError, subprocess.CalledProcessError) as exc:
            shutil.rmtree(venv, ignore_errors=True)
            pytest.skip(f"cannot make a virtual environment for azure-cli: {exc}")
        if r.returncode != 0 or not _az_works(exe):
            shutil.rmtree(venv, ignore_errors=True)
            tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["no output"]
            pytest.skip(f"pip install azure-cli failed (is the package index reachable?): {tail[0]}")
        print(f"azure-cli installed in {time.monotonic() - start:.0f} s into {venv}")
    return exe


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    d = tmp_path_factory.mktemp("serve-az")
    srv = Server(generate(d, "web", "--instances", "10"), "--speed", "0")
    try:
        yield srv
    finally:
        srv.stop()


class Az:
    def __init__(self, exe, server, config_dir):
        self.exe = exe
        self.server = server
        self.env = dict(os.environ, AZURE_CONFIG_DIR=str(config_dir), REQUESTS_CA_BUNDLE=server.ca,
                        AZURE_CORE_COLLECT_TELEMETRY="false", AZURE_CORE_NO_COLOR="true",
                        AZURE_CORE_ONLY_SHOW_ERRORS="true")

    def __call__(self, *args, check=True, timeout=120):
        r = subprocess.run([self.exe, *args], capture_output=True, text=True, env=self.env, timeout=timeout)
        if check:
            assert r.returncode == 0, f"az {' '.join(args)}: {r.stderr[-1500:]}"
        return r

    def json(self, *args):
        return json.loads(self(*args, "-o", "json").stdout)

    def popen(self, *args):
        return subprocess.Popen([self.exe, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env)


def drive_until_exit(proc, server, limit=120):
    """The server runs at --speed 0: move its clock while a blocking az command polls."""
    deadline = time.monotonic() + limit
    while proc.poll() is None and time.monotonic() < deadline:
        server.control("POST", "/vmsslint/clock", {"advanceMinutes": 5})
        time.sleep(0.3)
    if proc.poll() is None:
        proc.kill()
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err


def test_az_cli_drives_a_rollout(az, served, tmp_path):
    cli = Az(az, served, tmp_path / "azconfig")
    base = served.base
    cli("config", "set", "core.instance_discovery=false", "core.collect_telemetry=false")
    cli("cloud", "register", "-n", "vmsslint", "--endpoint-resource-manager", base + "/",
        "--endpoint-active-directory", base, "--endpoint-active-directory-resource-id",
        "https://management.core.windows.net/", "--endpoint-management", "https://management.core.windows.net/",
        "--endpoint-active-directory-graph-resource-id", "https://graph.windows.net/",
        "--endpoint-microsoft-graph-resource-id", "https://graph.microsoft.com/", "--skip-endpoint-discovery")
    cli("cloud", "set", "-n", "vmsslint")
    accounts = cli.json("login", "--service-principal", "-u", "00000000-0000-0000-0000-000000000002", "-p", "any",
                        "--tenant", "00000000-0000-0000-0000-000000000001")
    assert accounts[0]["id"] == SUB
    # automatic OS upgrade off (az vmss update: a GET, then a full PUT), so that only az starts upgrades
    cli("vmss", "update", "-g", "rg", "-n", "web", "--set",
        "upgradePolicy.automaticOSUpgradePolicy.enableAutomaticOSUpgrade=false")
    state = served.control("GET", "/vmsslint/state").json()
    assert state["scaleSets"][0]["automaticOSUpgrade"] is False

    served.control("POST", "/vmsslint/images", {"publisher": "Canonical", "offer": "o", "sku": "s", "version": "1.0.1"})
    cli("vmss", "rolling-upgrade", "start", "-g", "rg", "-n", "web", "--no-wait")
    latest = cli.json("vmss", "rolling-upgrade", "get-latest", "-g", "rg", "-n", "web")
    assert latest["runningStatus"]["code"] == "RollingForward" and latest["progress"]["pendingInstanceCount"] == 10
    served.control("POST", "/vmsslint/clock", {"advanceMinutes": 6})
    cli("vmss", "rolling-upgrade", "cancel", "-g", "rg", "-n", "web", "--no-wait")
    served.control("POST", "/vmsslint/clock", {"until": "idle"})
    latest = cli.json("vmss", "rolling-upgrade", "get-latest", "-g", "rg", "-n", "web")
    assert latest["runningStatus"]["code"] == "Cancelled" and latest["runningStatus"]["lastAction"] == "Cancel"
    assert 0 < latest["progress"]["successfulInstanceCount"] < 10

    served.control("POST", "/vmsslint/images", {"publisher": "Canonical", "offer": "o", "sku": "s", "version": "1.0.2"})
    code, out, err = drive_until_exit(cli.popen("vmss", "rolling-upgrade", "start", "-g", "rg", "-n", "web"), served)
    assert code == 0, err
    latest = cli.json("vmss", "rolling-upgrade", "get-latest", "-g", "rg", "-n", "web")
    assert latest["runningStatus"]["code"] == "Completed" and latest["progress"]["successfulInstanceCount"] == 10

    # a batch made to fail: az reports Azure's error code and exits non-zero
    served.control("POST", "/vmsslint/faults", {"scaleSet": "web", "kind": "unhealthy-after-upgrade", "count": 2})
    served.control("POST", "/vmsslint/images", {"publisher": "Canonical", "offer": "o", "sku": "s", "version": "1.0.3"})
    code, out, err = drive_until_exit(cli.popen("vmss", "rolling-upgrade", "start", "-g", "rg", "-n", "web"), served)
    assert code != 0 and "MaxUnhealthyUpgradedInstancePercentExceededInRollingUpgrade" in err

    history = cli.json("vmss", "get-os-upgrade-history", "-g", "rg", "-n", "web")
    assert [h["properties"]["runningStatus"]["code"] for h in history] == ["Faulted", "Completed", "Cancelled"]
    assert [h["properties"]["targetImageReference"]["version"] for h in history] == ["1.0.3", "1.0.2", "1.0.1"]
    assert all(h["properties"]["startedBy"] == "User" for h in history)
