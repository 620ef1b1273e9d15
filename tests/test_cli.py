"""The command line as a user runs it: exit codes, output contracts, usage errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import REPO, template, vmss, write

BAD = {"properties.virtualMachineProfile.storageProfile.imageReference.version": "1.0"}


def run(*args, cwd=None, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "linter", *args], capture_output=True, text=True, cwd=cwd,
                          env=e, timeout=120)


@pytest.fixture
def files(tmp_path):
    good = write(tmp_path / "good.json", template(vmss()))
    bad = write(tmp_path / "bad.json", template(vmss(**BAD)))
    return good, bad


def test_version():
    r = run("--version")
    from linter import __version__
    assert r.returncode == 0 and __version__ in r.stdout


def test_exit_codes(files, tmp_path):
    good, bad = files
    assert run("lint", str(good)).returncode == 0
    r = run("lint", str(bad))
    assert r.returncode == 1
    assert f"{bad.name}:" in r.stdout and "VMSS200 error" in r.stdout
    assert "Found 1 finding (1 error, 0 warnings, 0 info) in 1 template." in r.stdout
    assert run("lint", "--exit-zero", str(bad)).returncode == 0
    assert run("lint", "--ignore", "VMSS2", str(bad)).returncode == 0
    assert run("lint", "--select", "VMSS3", str(bad)).returncode == 0


def test_fail_level(tmp_path):
    t = write(tmp_path / "t.json", template(vmss(**{
        "properties.virtualMachineProfile.storageProfile.imageReference.version": "[parameters('v')]"}),
        parameters={"v": {"type": "string"}}))
    assert run("lint", str(t)).returncode == 0  # only info
    assert run("lint", "--fail-level", "info", str(t)).returncode == 1


@pytest.mark.parametrize("args, message", [
    (["lint", "--no-such-option", "x.json"], "No such option"),
    (["lint", "missing.json"], "does not exist"),
    (["lint", "--select", "VMSS29", "{good}"], "no rule code starts with 'VMSS29'"),
    (["lint", "--ignore", "VMS200", "{good}"], "did you mean VMSS200?"),
    (["lint", "--now", "yesterday", "{good}"], "is not a date"),
    (["lint", "--docs-edition", "2019", "{good}"], "'2019' is not one of"),
    (["rule", "VMSS999"], "no rule 'VMSS999'"),
    (["nonsense"], "No such command"),
])
def test_usage_errors_exit_2_without_traceback(files, args, message):
    good, _ = files
    r = run(*[a.replace("{good}", str(good)) for a in args])
    assert r.returncode == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_json_output_contract(files, tmp_path):
    _, bad = files
    out = tmp_path / "report.json"
    r = run("lint", "--format", "json", "-o", str(out), str(bad))
    assert r.returncode == 1 and r.stdout == ""
    doc = json.loads(out.read_text())
    [f] = doc["findings"]
    assert set(f) == {"code", "name", "severity", "requirements", "file", "line", "column", "endLine",
                      "endColumn", "resource", "resources", "path", "message", "help", "fix"}
    assert f["fix"] == {"applicability": "safe", "description": 'write "latest"'}
    assert f["help"] == 'write "version": "latest"' and ";" not in f["message"]
    assert (f["code"], f["name"], f["severity"], f["requirements"]) == (
        "VMSS200", "image-version-not-latest", "error", ["REQ-VERSION"])
    assert f["path"] == "/resources/0/properties/virtualMachineProfile/storageProfile/imageReference/version"
    assert f["resource"] == "vmss" and f["endLine"] == f["line"] and f["endColumn"] == f["column"] + 5
    assert doc["summary"] == {"templates": 1, "files": 1, "error": 1, "warning": 0, "info": 0}


def test_directory_walk_and_verbose_notes(files, tmp_path):
    write(tmp_path / "sub" / "package.json", {"name": "x"})
    write(tmp_path / ".git" / "ignored.json", "{broken")
    r = run("lint", "-v", str(tmp_path))
    assert r.returncode == 1
    assert "package.json: not an ARM deployment template" in r.stderr
    assert "ignored.json" not in r.stdout + r.stderr
    assert "in 2 templates" in r.stdout


def test_statistics_and_quiet(files):
    _, bad = files
    r = run("lint", "--statistics", "-q", str(bad))
    assert r.stdout == "    1  VMSS200  [*] image-version-not-latest\n"  # only the table, as ruff prints it


def test_colour_only_on_a_terminal(files):
    _, bad = files
    assert "\033[" not in run("lint", str(bad)).stdout


def test_rules_and_rule(tmp_path):
    r = run("rules")
    assert r.returncode == 0
    assert "VMSS200  image-version-not-latest" in r.stdout and "REQ-VERSION" in r.stdout
    r = run("rule", "VMSS200")
    assert r.returncode == 0 and "# VMSS200 image-version-not-latest" in r.stdout and "## Why" in r.stdout
    assert run("rule", "image-version-not-latest").stdout == r.stdout
    data = json.loads(run("rules", "--format", "json").stdout)
    assert {d["code"] for d in data} >= {"VMSS100", "VMSS110", "VMSS200", "VMSS201", "VMSS300"}


def test_output_file_is_written_atomically(files, tmp_path, monkeypatch):
    from linter import fileio
    target = tmp_path / "out.txt"
    target.write_text("old report")

    class Boom(Exception):
        pass

    real_fsync = os.fsync

    def failing_fsync(fd):
        raise Boom()

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(Boom):
        fileio.write_atomic(str(target), "new report")
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert target.read_text() == "old report"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_readme_quick_start_command_works():
    """The README's first command lints examples/: it must run and exit 0 or 1, never 2."""
    r = run("lint", "examples", cwd=REPO)
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    assert {ln.split()[1] for ln in lines if ln.startswith("examples/needs-work/")} >= {"VMSS200", "VMSS201", "VMSS300"}
    assert not any(ln.startswith("examples/ready/") for ln in lines)  # the compliant example passes
    assert "in 2 templates." in r.stdout


@pytest.mark.parametrize("argv", [
    ["{good}"],
    ["-p", "{params}", "--docs-edition", "2020", "--require-auto-upgrade", "{good}", "{bad}"],
    ["--select=VMSS2,VMSS3", "--ignore", "VMSS201", "--format", "json", "-o", "{out}", "{good}"],
    ["-q", "-v", "--statistics", "--exit-zero", "--fail-level", "warning", "--now", "2026-01-01", "{good}"],
    ["--location", "westeurope", "--", "{good}"],
    ["{good}", "-p", "{params}", "-p", "{params}"],
    ["--output-format", "full", "--color", "never", "--show-fixes", "{good}"],
    ["--format=concise", "--show-settings", "--color=always", "{good}"],
])
def test_fast_parser_agrees_with_click(files, tmp_path, argv):
    """The launcher's click-free parser must read a valid command line exactly as click does."""
    from linter.cli import cli
    from linter.options import fast_parse
    good, bad = files
    params = write(tmp_path / "p.json", {"parameters": {}})
    argv = [a.replace("{good}", str(good)).replace("{bad}", str(bad)).replace("{params}", str(params))
            .replace("{out}", str(tmp_path / "out.json")) for a in argv]
    fast = fast_parse(argv)
    ctx = cli.commands["lint"].make_context("lint", list(argv))
    assert fast == ctx.params


@pytest.mark.parametrize("argv", [
    ["--help"], ["--bogus", "x.json"], ["missing.json"], [], ["--format", "xml", "{good}"], ["-qv", "{good}"],
    ["--parameters", "missing.json", "{good}"], ["--select"], ["--quiet=yes", "{good}"],
])
def test_fast_parser_leaves_everything_else_to_click(files, argv):
    from linter.options import fast_parse
    good, _ = files
    assert fast_parse([a.replace("{good}", str(good)) for a in argv]) is None


def test_colour_on_a_terminal_unless_no_color(files):
    """Colour only when stdout is a terminal, and never with NO_COLOR."""
    import pty
    _, bad = files

    def on_tty(env_extra):
        env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
        env.update(env_extra)
        pid, fd = pty.fork()
        if pid == 0:  # pragma: no cover - the child
            os.execve(sys.executable, [sys.executable, "-m", "linter", "lint", str(bad)], env)
        chunks = []
        while True:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        os.waitpid(pid, 0)
        return b"".join(chunks).decode("utf-8", "replace")

    assert "\033[31merror\033[0m" in on_tty({})
    assert "\033[" not in on_tty({"NO_COLOR": "1"})


def test_json_names_the_parameter_files_used(tmp_path):
    write(tmp_path / "main.json", template(vmss()))
    write(tmp_path / "main.parameters.json", {"parameters": {}})
    doc = json.loads(run("lint", "--format", "json", str(tmp_path / "main.json")).stdout)
    [entry] = doc["templates"]
    assert entry["template"].endswith("main.json") and entry["parameters"][0].endswith("main.parameters.json")
