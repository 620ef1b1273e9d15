"""Hostile input, class by class (issue 11): each test is a new minimal input of its class.

Output that breaks its consumer, secrets, the file system, byte-exact fixes, configuration and data
files, and a crash that is not "findings".  The fuzzer (tests/test_fuzz.py) checks the same
properties over generated and mutated inputs.
"""

from __future__ import annotations

import codecs
import json
import re
import os
import stat
import subprocess
import sys
import threading
import time

import pytest

from conftest import template, vmss, write
from hostile import FORMATS, check_output, cli

PINNED = {"properties.virtualMachineProfile.storageProfile.imageReference.version": "1.0"}
ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


def run_sub(*args, timeout=60, **kw):
    """``vmsslint ARGS`` in a child process (for what could hang or exhaust memory), bounded in time."""
    return subprocess.run([sys.executable, "-m", "linter", *map(str, args)], capture_output=True, timeout=timeout,
                          **kw)


# --- 1. output that breaks its consumer ----------------------------------------------------------

@pytest.fixture
def hostile_dir(tmp_path):
    """A template whose resource name holds ESC[2J, a lone surrogate and U+0001; a broken file quoting a
    NUL byte; a file whose name is not UTF-8."""
    t = template(vmss(name="evil\u001b[2J\ud800\u0001\u202ex", **PINNED))
    write(tmp_path / "t.json", json.dumps(t, ensure_ascii=True))
    write(tmp_path / "nul.json", b'{"resources": [\x00\x1b[2J]}')
    with open(os.path.join(os.fsencode(tmp_path), b"bad\xff\x1b.json"), "wb") as fh:
        fh.write(b'{"resources": [}')
    return tmp_path


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_writes_valid_utf8_and_escapes_control_characters(hostile_dir, tmp_path_factory, fmt):
    code, out, err = cli("lint", "--format", fmt, hostile_dir)
    assert code == 1 and b"Traceback" not in err
    text = check_output(fmt, out)
    assert "\x1b" not in text  # (check_output decoded it strictly: no lone surrogate can be in it)
    if fmt in ("text", "github", "azure", "junit"):  # the escapes are visible where people read them
        assert "evil\\u001b[2J\\ud800\\u0001\\u202ex" in text and "bad\\xff\\u001b.json" in text
    # -o writes the same bytes
    dest = tmp_path_factory.mktemp("o") / f"report.{fmt}"
    code, out, err = cli("lint", "--format", fmt, "-o", dest, hostile_dir)
    assert code == 1 and out == b""
    check_output(fmt, dest.read_bytes())


def test_control_characters_are_escaped_visibly_in_text():
    from linter.findings import clean
    assert clean("a\x1b[2Jb\x00\x7f\x85\ud800\udcff\u2028\u202e\tz") == \
        "a\\u001b[2Jb\\u0000\\u007f\\u0085\\ud800\\xff\\u2028\\u202e\tz"
    assert clean("plain é ü 中") == "plain é ü 中"


# --- 2. secrets -------------------------------------------------------------------------------------

PASSWORD = "Hunter2-SuperSecret!"
SIG = "SECRETSIGabc123%3D"


@pytest.fixture
def secret_dir(tmp_path):
    sas = f"https://acct.blob.core.windows.net/c/setup.sh?sv=2022-11-02&se=2030-01-01&sig={SIG}"
    res = vmss(name=sas, **PINNED)
    ref = res["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"]
    ref["adminPassword"] = PASSWORD  # context lines of the --diff of the version fix
    ref["comment"] = f"see {sas}"
    write(tmp_path / "t.json", template(res))
    return tmp_path


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_secret_in_any_format(secret_dir, fmt):
    code, out, err = cli("lint", "--format", fmt, secret_dir)
    text = check_output(fmt, out) + err.decode()
    assert "acct.blob.core.windows.net" in text  # the resource is shown ...
    assert SIG not in text and PASSWORD not in text  # ... its signature is not


def test_no_secret_in_the_diff(secret_dir):
    code, out, err = cli("lint", "--diff", secret_dir)
    text = out.decode("utf-8")
    assert code == 1 and re.search(r'\n\+ +"version": "latest"', text)
    assert '"adminPassword": "***"' in text and "sig=***" in text
    assert SIG not in text and PASSWORD not in text


def test_mask_is_one_importable_function():
    from linter.findings import display, mask
    assert mask('"adminPassword": "Hunter2",') == '"adminPassword": "***",'
    assert mask('"clientSecret" : "x\\"y"') == '"clientSecret" : "***"'
    assert mask('"adminPassword": "[parameters(\'adminPassword\')]"') == '"adminPassword": "[parameters(\'adminPassword\')]"'
    assert mask("https://a/b?sv=1&sig=abc%2F&se=2") == "https://a/b?sv=1&sig=***&se=2"
    assert mask("AccountKey=abc==;EndpointSuffix=x") == "AccountKey=***;EndpointSuffix=x"
    assert display('"pwd": "a\x1bb"') == '"pwd": "***"'


# --- 3. the file system -------------------------------------------------------------------------------

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="this system cannot create FIFOs")


@needs_fifo
def test_a_fifo_in_a_linted_directory_is_reported_not_read(tmp_path):
    write(tmp_path / "t.json", template(vmss()))
    os.mkfifo(tmp_path / "x.json")
    r = run_sub("lint", "--format", "json", tmp_path, timeout=60)
    findings = json.loads(r.stdout)["findings"]
    assert [(f["code"], f["file"].endswith("x.json")) for f in findings] == [("VMSS001", True)]
    assert "not a regular file (a FIFO" in findings[0]["message"]


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/stdin"])
def test_devices_are_not_read(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    # /dev/stdin: a pipe nobody writes to and nobody closes while the command runs (reading it would hang)
    proc = subprocess.Popen([sys.executable, "-m", "linter", "lint", device], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        code = proc.wait(timeout=60)
        out, err = proc.stdout.read(), proc.stderr.read()
    finally:
        proc.kill()
        proc.stdin.close()
        proc.stdout.close()
        proc.stderr.close()
    assert code == 1 and b"not a regular file" in out and b"Traceback" not in err


def test_linked_templates_stay_in_the_templates_tree(tmp_path):
    outside = write(tmp_path / "outside.json", template(vmss(name="outer", **PINNED)))
    inner = tmp_path / "repo"
    write(inner / "nested" / "child.json", template(vmss(name="child", **PINNED)))

    def deployment(name, rel):
        return {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": name,
                "properties": {"mode": "Incremental", "templateLink": {"relativePath": rel}}}
    write(inner / "main.json", template(deployment("a", "nested/child.json"), deployment("b", "../outside.json"),
                                        deployment("c", "/etc/passwd"), deployment("d", "/dev/zero")))
    code, out, err = cli("lint", "--format", "json", inner / "main.json")
    found = json.loads(out)["findings"]
    assert {f["resource"] for f in found if f["code"] == "VMSS200"} == {"child"}
    outside_msgs = [f["message"] for f in found if f["code"] == "VMSS006"]
    assert len(outside_msgs) == 3 and all("outside the template's directory" in m for m in outside_msgs)
    assert "root:" not in out.decode()
    code, out, err = cli("lint", "--format", "json", "--allow-linked-outside", inner / "main.json")
    found = json.loads(out)["findings"]
    assert {f["resource"] for f in found if f["code"] == "VMSS200"} == {"child", "outer"}
    msgs = " ".join(f["message"] for f in found if f["code"] == "VMSS006")
    assert "not a regular file (a character device)" in msgs or not os.path.exists("/dev/zero")
    assert outside.exists()


def test_output_onto_a_symlink_writes_the_target_and_keeps_the_link(tmp_path):
    write(tmp_path / "t.json", template(vmss()))
    target = write(tmp_path / "real" / "report.json", "old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    code, out, err = cli("lint", "--format", "json", "-o", link, tmp_path / "t.json")
    assert code == 0 and link.is_symlink()
    assert json.loads(target.read_text())["summary"]["templates"] == 1


@needs_fifo
def test_output_onto_a_fifo_writes_through_or_refuses(tmp_path):
    write(tmp_path / "t.json", template(vmss()))
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    r = run_sub("lint", "-o", fifo, tmp_path / "t.json", timeout=60)  # nobody reads it: refused at once
    assert r.returncode == 2 and b"no process is reading it" in r.stderr and b"Traceback" not in r.stderr
    got = []
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader is there: the report goes through the FIFO

    def drain():
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                time.sleep(0.01)
                continue
            if not chunk:  # no writer (yet, or any more)
                if got:
                    return
                time.sleep(0.01)
                continue
            got.append(chunk)
    reader = threading.Thread(target=drain)
    reader.start()
    r = run_sub("lint", "--format", "json", "-o", fifo, tmp_path / "t.json", timeout=60)
    reader.join(70)
    os.close(fd)
    assert r.returncode == 0 and json.loads(b"".join(got))["summary"]["templates"] == 1
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still a FIFO, not replaced by a regular file


def test_fix_on_a_symlinked_template_fixes_the_target(tmp_path):
    target = write(tmp_path / "src" / "t.json", template(vmss(**PINNED)))
    link = tmp_path / "lint" / "t.json"
    link.parent.mkdir()
    link.symlink_to(target)
    code, out, err = cli("lint", "--fix", link)
    assert code == 0 and link.is_symlink() and os.readlink(link) == str(target)
    assert '"version": "latest"' in target.read_text()


def test_write_errors_are_clear_and_exit_2(tmp_path):
    t = write(tmp_path / "t.json", template(vmss()))
    code, out, err = cli("lint", "-o", tmp_path / "missing" / "r.txt", t)
    assert code == 2 and b"cannot write" in err and b"does not exist" in err and b"Traceback" not in err
    code, out, err = cli("lint", "--write-baseline", tmp_path / "t.json" / "b.json", t)
    assert code == 2 and b"Traceback" not in err
    code, out, err = cli("plan", t, "--html", tmp_path / "missing" / "p.html")
    assert code == 2 and b"cannot write" in err and b"Traceback" not in err


@pytest.mark.skipif(ROOT, reason="root writes into read-only directories; the permission check cannot fail")
def test_output_into_a_read_only_directory(tmp_path):
    t = write(tmp_path / "t.json", template(vmss()))
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        code, out, err = cli("lint", "-o", ro / "r.txt", t)
        assert code == 2 and b"permission denied" in err
    finally:
        ro.chmod(0o755)


def test_fix_on_a_250_byte_file_name(tmp_path):
    name = "t" * 245 + ".json"
    t = write(tmp_path / name, template(vmss(**PINNED)))
    code, out, err = cli("lint", "--fix", t)
    assert code == 0 and b"Traceback" not in err and '"latest"' in t.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_generate_output_under_a_file_and_all_or_none(tmp_path):
    a_file = write(tmp_path / "f", "x")
    args = ["generate", "--image", "Canonical:0001-com-ubuntu-server-jammy:22_04-LTS-Gen2", "--health", "probe",
            "--no-input"]
    code, out, err = cli(*args, "-o", a_file / "sub")
    assert code == 2 and b"not a directory" in err and b"Traceback" not in err
    code, out, err = cli(*args, "-o", a_file)
    assert code == 2 and b"Traceback" not in err
    d = tmp_path / "out"
    (d / "azuredeploy.parameters.json").mkdir(parents=True)
    code, out, err = cli(*args, "--force", "-o", d)
    assert code == 2 and b"is a directory; nothing written" in err
    assert sorted(p.name for p in d.iterdir()) == ["azuredeploy.parameters.json"]  # the other file not written


def test_new_files_get_the_users_umask(tmp_path):
    write(tmp_path / "t.json", template(vmss()))
    code = ("import os; os.umask(0o027)\nfrom linter.launch import main\n"
            f"main(['lint', '-o', {str(tmp_path / 'r.txt')!r}, {str(tmp_path / 't.json')!r}])")
    subprocess.run([sys.executable, "-c", code], timeout=60, check=False)
    assert stat.S_IMODE(os.stat(tmp_path / "r.txt").st_mode) == 0o640
    os.chmod(tmp_path / "r.txt", 0o604)  # an existing file keeps its own mode
    cli("lint", "-o", tmp_path / "r.txt", tmp_path / "t.json")
    assert stat.S_IMODE(os.stat(tmp_path / "r.txt").st_mode) == 0o604


def test_a_killed_fix_leaves_no_tmp_after_the_next_run(tmp_path):
    t = write(tmp_path / "t.json", template(vmss(**PINNED)))
    before = t.read_bytes()
    code = (f"import os\nos.fsync = lambda *a, **k: os._exit(137)\n"
            f"from linter.launch import main\nmain(['lint', '--fix', {str(t)!r}])\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert r.returncode == 137 and t.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # the kill left one
    cli("lint", "--fix", t)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.json"] and b'"latest"' in t.read_bytes()


def test_an_unreadable_subdirectory_is_reported(tmp_path, monkeypatch):
    write(tmp_path / "ok" / "t.json", template(vmss()))
    secret = tmp_path / "locked"
    write(secret / "t.json", template(vmss()))
    real = os.scandir

    def scandir(path="."):
        if os.fspath(path) == str(secret):
            raise PermissionError(13, "Permission denied", str(secret))
        return real(path)
    monkeypatch.setattr(os, "scandir", scandir)
    code, out, err = cli("lint", "--format", "json", tmp_path)
    found = json.loads(out)["findings"]
    assert [f["code"] for f in found] == ["VMSS001"] and code == 1
    assert found[0]["file"].endswith("locked") and "cannot read this directory: Permission denied" in found[0]["message"]


# --- 4. fixes keep every byte they do not mean to change ----------------------------------------------

@pytest.mark.parametrize("bom,codec", [(b"", "utf-8"), (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF8 * 2, "utf-8"),
                                       (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
                                       (codecs.BOM_UTF16_BE * 2, "utf-16-be")],
                         ids=["utf8", "utf8-bom", "utf8-double-bom", "utf16le", "utf16be", "utf16be-double-bom"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_fix_is_byte_exact_over_encodings_line_endings_and_comments(tmp_path, bom, codec, newline):
    text = json.dumps(template(vmss(**PINNED)), indent=2, ensure_ascii=False)
    text = text.replace('"vmss"', '"vmss" /* ünïcode comment */', 1).replace('"resources"', '// a line comment\n  "resources"')
    text = text.replace("\n", newline)
    t = write(tmp_path / "t.json", bom + text.encode(codec))
    before = t.read_bytes()
    code, out, err = cli("lint", "--fix", t)
    assert code == 0, out
    expected = bom + text.replace('"version": "1.0"', '"version": "latest"').encode(codec)
    assert t.read_bytes() == expected and before != expected


def test_inserting_into_an_object_of_comments_keeps_them(tmp_path):
    res = vmss(**{"properties.virtualMachineProfile.storageProfile.imageReference":
                  {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer",
                   "sku": "2022-datacenter-azure-edition", "version": "latest"},
                  "properties.virtualMachineProfile.osProfile": {"computerNamePrefix": "vm", "adminUsername": "u",
                                                                 "windowsConfiguration": "PLACEHOLDER"}})
    text = json.dumps(template(res), indent=2).replace('"PLACEHOLDER"', "{ /* keep this comment */ }")
    t = write(tmp_path / "t.json", text)
    code, out, err = cli("lint", "--fix", "--select", "VMSS401", t)
    assert t.read_text() == text.replace("{ /* keep this comment */ }",
                                         '{ /* keep this comment */ "enableAutomaticUpdates": false }')


# --- 5. configuration and data files -------------------------------------------------------------------

LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9)) + "select: *j\n"


def deep_yaml(n):
    return "select: " + "[" * n + "]" * n + "\n"


@pytest.mark.parametrize("name,content,words", [
    (".vmsslint.yaml", LAUGHS, "YAML aliases"),
    (".vmsslint.yaml", b"select: [VMSS2]\n# \xff\n", "not valid UTF-8"),
    (".vmsslint.yaml", deep_yaml(5000), "nested deeper than"),
    (".vmsslint.yaml", "credential-horizon-days: " + "9" * 5000 + "\n", "integer"),
    (".vmsslint.yaml", "credential-horizon-days: " + "9" * 30 + "\n", "beyond 64 bits"),
    ("pyproject.toml", "tool = 5\n", "'tool' must be a table"),
    ("pyproject.toml", b"[tool.vmsslint]\nselect = [\"VMSS2\"] # \xff\n", "not valid UTF-8"),
    ("pyproject.toml", "[tool.vmsslint]\nx = " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than"),
    ("pyproject.toml", "[tool.vmsslint]\ncredential-horizon-days = " + "9" * 5000 + "\n", "TOML"),
], ids=["yaml-aliases", "yaml-not-utf8", "yaml-5000-deep", "yaml-5000-digits", "yaml-beyond-64-bits", "toml-tool-5",
        "toml-bad-byte", "toml-5000-deep", "toml-5000-digits"])
def test_broken_configuration_is_a_clear_error_naming_the_file(tmp_path, name, content, words):
    t = write(tmp_path / "t.json", template(vmss()))
    cfg = write(tmp_path / name, content)
    start = time.monotonic()
    args = ["--config", cfg] if "tool = 5" in str(content) else []
    code, out, err = cli("lint", *args, t)
    assert time.monotonic() - start < 10
    assert code == 2 and str(cfg).encode() in err and words.encode() in err and b"Traceback" not in err, err


@pytest.mark.parametrize("content,words", [
    (LAUGHS.replace("select", "zones"), "YAML aliases"),
    (b"image: Canonical:x:y\n# \xff\n", "not valid UTF-8"),
    ("zones: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than"),
    ("instances: " + "9" * 5000 + "\n", "integer"),
], ids=["aliases", "not-utf8", "5000-deep", "5000-digits"])
def test_broken_generate_spec_is_a_clear_error(tmp_path, content, words):
    spec = write(tmp_path / "spec.yaml", content)
    start = time.monotonic()
    code, out, err = cli("generate", "--spec", spec, "--no-input", "-o", tmp_path / "out")
    assert time.monotonic() - start < 10
    assert code == 2 and str(spec).encode() in err and words.encode() in err and b"Traceback" not in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("content,words", [
    ('{"format": "vmsslint-baseline/1", "findings": [{"fingerprint": ["x"]}]}', "must be a string"),
    ("[" * 100000 + "]" * 100000, "nested"),
    (b'{"format": "vmsslint-baseline/1", "findings": [], "x": "\xff"}', "not valid UTF-8"),
    ('{"format": "vmsslint-baseline/1", "findings": [], "n": ' + "9" * 5000 + "}", "not a usable JSON value"),
], ids=["fingerprint-list", "100000-deep", "not-utf8", "5000-digits"])
def test_broken_baseline_is_a_clear_error(tmp_path, content, words):
    t = write(tmp_path / "t.json", template(vmss()))
    b = write(tmp_path / "b.json", content)
    code, out, err = cli("lint", "--baseline", b, t)
    assert code == 2 and str(b).encode() in err and words.encode() in err and b"Traceback" not in err, err


def test_a_5000_digit_integer_in_a_template_is_a_finding_at_its_place(tmp_path):
    t = write(tmp_path / "t.json", '{\n  "resources": [],\n  "x": ' + "9" * 5000 + "\n}\n")
    code, out, err = cli("lint", "--format", "json", t)
    (f,) = json.loads(out)["findings"]
    assert code == 1 and f["code"] == "VMSS001" and (f["line"], f["column"]) == (3, 8)
    assert "out of range: ARM integers are 64-bit" in f["message"] and len(f["message"]) < 200


# --- 6. a crash is not "findings" ---------------------------------------------------------------------

def test_an_internal_error_exits_3_and_the_other_files_are_reported(tmp_path, monkeypatch):
    write(tmp_path / "a.json", template(vmss(**PINNED)))
    write(tmp_path / "boom.json", template(vmss()))
    from linter import loader
    real = loader.build

    def build(template, *a, **k):
        if template.path.endswith("boom.json"):
            raise RuntimeError("a bug")
        return real(template, *a, **k)
    monkeypatch.setattr(loader, "build", build)
    for fmt in ("text", "json"):
        code, out, err = cli("lint", "--format", fmt, "--exit-zero", tmp_path)
        assert code == 3 and b"VMSS000" in out and b"VMSS200" in out and b"Traceback" not in err
    code, out, err = cli("lint", "--ignore", "VMSS000", tmp_path)
    assert code == 1 and b"VMSS000" not in out


def test_exit_3_is_documented():
    from conftest import REPO
    assert "3 — internal error" in (REPO / "README.md").read_text(encoding="utf-8")
    code, out, err = cli("lint", "--help")
    assert b"3 internal error (VMSS000)" in b" ".join(out.split())
