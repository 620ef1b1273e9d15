"""vmsslint generate's prompts on a real terminal (a pty): image names typed and Tab-completed, a gallery,
the health extension's settings; --from asks for the health settings it needs."""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time

import pytest

pty = pytest.importorskip("pty")


class Terminal:
    """A vmsslint process on a pty; every read is bounded, the child is killed at the end."""

    def __init__(self, *args, cwd=None):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # pragma: no cover - the child
            if cwd:
                os.chdir(cwd)
            os.execv(sys.executable, [sys.executable, "-m", "linter", *args])
        self.out = b""

    def expect(self, marker: bytes, timeout=60):
        end = time.time() + timeout
        while marker not in self.out:
            left = end - time.time()
            if left <= 0:
                break
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                break
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.out += chunk
        assert marker in self.out, self.out.decode(errors="replace")[-800:]
        return self

    def send(self, text: str):
        os.write(self.fd, text.encode())
        return self

    def close(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        os.close(self.fd)


@pytest.fixture
def terminal():
    opened = []

    def start(*args, cwd=None):
        t = Terminal(*args, cwd=cwd)
        opened.append(t)
        return t
    yield start
    for t in opened:
        t.close()


def _vmss(path):
    t = json.loads(path.read_text())
    return [r for r in t["resources"] if r["type"] == "Microsoft.Compute/virtualMachineScaleSets"][0]


def test_image_completed_with_tab_and_health_extension_settings(tmp_path, terminal):
    t = terminal("generate", "-o", str(tmp_path / "o"), cwd=str(tmp_path))
    t.expect(b"Tab completes").expect(b"Image [")  # the default is shown
    t.send("MicrosoftCblMariner:Azure-Linux:azure-linux-G\t").expect(b"azure-linux-Gen2").send("\n")  # completed
    t.expect(b"Health signal [extension]").send("\n")  # the default
    t.expect(b"Health protocol [http]").send("https\n")
    t.expect(b"Health port [80]").send("99999\n").expect(b"a port is 1-65535").send("8443\n")
    t.expect(b"Health path [/health]").send("ready\n").expect(b"start with '/'").send("/ready\n")
    t.expect(b"next: vmsslint lint")
    props = _vmss(tmp_path / "o" / "azuredeploy.json")["properties"]["virtualMachineProfile"]
    assert props["storageProfile"]["imageReference"]["sku"] == "azure-linux-Gen2"
    settings = props["extensionProfile"]["extensions"][0]["properties"]["settings"]
    assert (settings["protocol"], settings["port"], settings["requestPath"]) == ("https", 8443, "/ready")


def test_image_typed_by_part_of_its_name_and_ambiguity_explained(tmp_path, terminal):
    t = terminal("generate", "--health", "probe", "--health-protocol", "tcp", "--health-port", "22",
                 "-o", str(tmp_path / "o"), cwd=str(tmp_path))
    t.expect(b"Image [").send("jammy\n").expect(b"images match").send("jammy:22_04-LTS-Gen2\n")
    t.expect(b"next: vmsslint lint")
    ref = _vmss(tmp_path / "o" / "azuredeploy.json")["properties"]["virtualMachineProfile"]["storageProfile"]
    assert ref["imageReference"]["offer"] == "0001-com-ubuntu-server-jammy"


def test_choosing_a_new_gallery(tmp_path, terminal):
    from conftest import lint
    t = terminal("generate", "-o", str(tmp_path / "o"), cwd=str(tmp_path))
    t.expect(b"Image [").send("gallery\n")
    t.expect(b"GALLERY/IMAGE").expect(b"Gallery image").send("corp/web\n")
    t.expect(b"OS family [linux]").send("windows\n")
    t.expect(b"Region [westeurope]").send("northeurope\n")
    t.expect(b"Publisher [corp]").send("fabrikam\n")
    t.expect(b"Health signal").send("probe\n")
    t.expect(b"Health protocol").send("tcp\n")
    t.expect(b"Health port").send("3389\n")
    t.expect(b"next: vmsslint lint")
    out = tmp_path / "o"
    t_ = json.loads((out / "azuredeploy.json").read_text())
    image = [r for r in t_["resources"] if r["type"] == "Microsoft.Compute/galleries/images"][0]
    assert image["properties"]["identifier"]["publisher"] == "fabrikam"
    params = json.loads((out / "azuredeploy.parameters.json").read_text())
    assert params["parameters"]["location"]["value"] == "northeurope"
    assert lint(out / "azuredeploy.json").findings == []


def test_from_asks_for_the_health_settings(tmp_path, terminal):
    from conftest import REPO
    t = terminal("generate", "--from", str(REPO / "examples" / "needs-work" / "azuredeploy.json"),
                 "-o", str(tmp_path / "o"), cwd=str(tmp_path))
    t.expect(b"has no health signal").expect(b"Health protocol [http]").send("tcp\n")
    t.expect(b"Health port [80]").send("8080\n")
    t.expect(b"wrote")
    ext = _vmss(tmp_path / "o" / "azuredeploy.json")["properties"]["virtualMachineProfile"]["extensionProfile"]
    assert ext["extensions"][-1]["properties"]["settings"]["port"] == 8080
