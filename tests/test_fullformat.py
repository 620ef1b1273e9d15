"""The ``full`` format: findings drawn on the code (snapshots), columns with tabs/CRLF, long lines, and the
terminal options that go with it (--output-format, --color, --statistics, --show-fixes, --show-settings)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import FIXTURES, REPO, template, vmss, write
from linter.fullformat import render_line

SNAPSHOTS = FIXTURES / "full"
RULE_FIXTURES = FIXTURES / "rules"


def full(paths, cwd, *extra):
    r = subprocess.run([sys.executable, "-m", "linter", "lint", "--output-format", "full", *extra, *map(str, paths)],
                       capture_output=True, text=True, cwd=cwd, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.returncode in (0, 1), r.stderr
    return r.stdout


def snapshot(name, got):
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("VMSSLINT_UPDATE_SNAPSHOTS"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8")


def test_finding_in_the_template_with_a_safe_fix(tmp_path):
    write(tmp_path / "main.json", template(vmss(**{
        "properties.virtualMachineProfile.storageProfile.imageReference.version": "1.0"})))
    got = full(["main.json"], tmp_path)
    snapshot("template-safe-fix", got)
    lines = got.splitlines()
    # the header has the [*] mark; the carets sit under the value "1.0" of the line shown
    assert lines[0].startswith("main.json:") and " VMSS200 [*] error: " in lines[0]
    src_line = next(ln for ln in lines if '"version": "1.0"' in ln)
    carets = lines[lines.index(src_line) + 1]
    assert carets.index("^") == src_line.index('"1.0"') and carets.count("^") == len('"1.0"')
    assert '   = help: write "latest"' in lines


def test_finding_from_a_parameter_file_shows_both_places(tmp_path):
    for name in ("fail-pinned-through-parameter-file.json", "fail-pinned-through-parameter-file.parameters.json"):
        shutil.copy(RULE_FIXTURES / "VMSS200" / name, tmp_path / name)
    got = full(["fail-pinned-through-parameter-file.json"], tmp_path)
    snapshot("parameter-file", got)
    assert got.startswith("fail-pinned-through-parameter-file.parameters.json:6:16: VMSS200 [*] error:")
    assert "::: fail-pinned-through-parameter-file.json:" in got
    assert "the value is used here" in got


def test_crlf_and_tabs_columns_and_a_long_line_trimmed(tmp_path):
    name = "fail-format-in-variable-copy-crlf-tabs.json"
    shutil.copy(RULE_FIXTURES / "VMSS200" / name, tmp_path / name)
    got = full([name], tmp_path)
    snapshot("crlf-tabs", got)
    assert "\r" not in got and "\t" not in got
    lines = got.splitlines()
    value = next(ln for ln in lines if "[format('20348" in ln)
    carets = lines[lines.index(value) + 1]
    # the underline starts exactly under the value's opening quote, after the tabs were expanded
    assert carets.index("^") == value.index('"[format(')
    used = next(ln for ln in lines if "[variables('image')]" in ln)
    dashes = lines[lines.index(used) + 1]
    assert dashes.index("-") == used.index('"[variables(')


def test_very_long_line_is_trimmed_around_the_span(tmp_path):
    t = template(vmss(**{"properties.virtualMachineProfile.storageProfile.imageReference.version": "9.9.9"}))
    t["variables"] = {"padding": "x" * 3000}
    write(tmp_path / "min.json", json.dumps(t, separators=(",", ":")))  # the whole template on one line
    got = full(["min.json"], tmp_path)
    snapshot("long-line", got)
    lines = got.splitlines()
    shown = next(ln for ln in lines if '"9.9.9"' in ln)
    assert len(shown) < 120 and "…" in shown  # trimmed, with the span kept
    carets = lines[lines.index(shown) + 1]
    assert carets.index("^") == shown.index('"9.9.9"') and carets.count("^") == len('"9.9.9"')


@pytest.mark.parametrize("text, start, end, want_at, want_len", [
    ('"a": "b"', 5, 8, 5, 3),
    ('\t\t"v": "1.0"', 7, 12, 8 + 5, 5),          # two tabs = 8 cells
    (' \t"v": 1', 7, 8, 4 + 5, 1),                 # a tab after one space moves to cell 4
    ('"名前": "値"', 6, 9, 8, 4),                   # wide characters take two cells
])
def test_render_line_columns(text, start, end, want_at, want_len):
    shown, at, length = render_line(text, start, end)
    assert (at, length) == (want_at, want_len)
    assert "\t" not in shown


def test_render_line_trims_long_lines_around_the_span():
    text = "a" * 500 + "SPAN" + "b" * 500
    shown, at, length = render_line(text, 500, 504, width=60)
    assert shown.startswith("…") and shown.endswith("…") and len(shown) <= 62
    assert shown[at:at + length] == "SPAN"


def run(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "linter", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})


def test_default_format_off_a_terminal_is_concise_and_format_is_an_alias(tmp_path):
    write(tmp_path / "t.json", template(vmss(**{
        "properties.virtualMachineProfile.storageProfile.imageReference.version": "1.0"})))
    concise = run("lint", "t.json", cwd=tmp_path).stdout
    assert concise.startswith("t.json:") and "VMSS200 error" in concise and " |" not in concise
    assert run("lint", "--format", "full", "t.json", cwd=tmp_path).stdout == \
        run("lint", "--output-format", "full", "t.json", cwd=tmp_path).stdout
    assert run("lint", "--output-format", "concise", "t.json", cwd=tmp_path).stdout == concise


def test_no_path_lints_the_current_directory(tmp_path):
    write(tmp_path / "sub" / "t.json", template(vmss(**{
        "properties.virtualMachineProfile.storageProfile.imageReference.version": "1.0"})))
    r = run("lint", cwd=tmp_path)
    assert r.returncode == 1 and os.path.join("sub", "t.json") + ":" in r.stdout


def test_color_always_and_never(tmp_path):
    write(tmp_path / "t.json", template(vmss(**{
        "properties.virtualMachineProfile.storageProfile.imageReference.version": "1.0"})))
    assert "\033[31merror\033[0m" in run("lint", "--color", "always", "t.json", cwd=tmp_path).stdout
    assert "\033[31merror\033[0m" in run("lint", "--color", "always", "--output-format", "full", "t.json",
                                         cwd=tmp_path).stdout
    assert "\033[" not in run("lint", "--color", "never", "--output-format", "full", "t.json", cwd=tmp_path).stdout


def test_show_fixes_lists_what_fix_would_change(tmp_path):
    d = tmp_path / "p"
    for name in ("fail-pinned-through-parameter-file.json", "fail-pinned-through-parameter-file.parameters.json"):
        shutil.copy(RULE_FIXTURES / "VMSS200" / name, tmp_path / name)
    r = run("lint", "--show-fixes", "-q", "fail-pinned-through-parameter-file.json", cwd=tmp_path)
    assert "--fix would apply 1 fix:" in r.stdout
    assert "fail-pinned-through-parameter-file.parameters.json:6:16: VMSS200 write \"latest\"" in r.stdout
    before = (tmp_path / "fail-pinned-through-parameter-file.parameters.json").read_text()
    r = run("lint", "--fix", "--show-fixes", "fail-pinned-through-parameter-file.json", cwd=tmp_path)
    assert "Fixed 1 finding:" in r.stdout and "VMSS200 write \"latest\"" in r.stdout
    after = (tmp_path / "fail-pinned-through-parameter-file.parameters.json").read_text()
    assert after != before and '"latest"' in after
    del d


def test_show_settings_says_where_each_value_came_from(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.vmsslint]\ndocs-edition = "2020"\nignore = ["VMSS305"]\n'
                                         'resource-group = "rg-web"\n')
    write(tmp_path / "t.json", template(vmss()))
    r = run("lint", "--show-settings", "--fail-level", "warning", "--subscription-id", "s1", "t.json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "configuration file: " in out and "pyproject.toml" in out
    line = {ln.split()[0]: ln for ln in out.splitlines() if ln and not ln.startswith(" ") and "=" in ln}
    assert '"2020"' in line["docs-edition"] and "pyproject.toml" in line["docs-edition"]
    assert '"warning"' in line["fail-level"] and "--fail-level" in line["fail-level"]
    assert "default" in line["credential-horizon-days"]
    assert '"s1"' in line["subscription-id"] and "--subscription-id" in line["subscription-id"]
    assert '"rg-web"' in line["resource-group"] and "pyproject.toml" in line["resource-group"]


def test_lint_never_imports_the_language_server(tmp_path):
    write(tmp_path / "t.json", template(vmss()))
    code = ("import sys; from linter.launch import main\n"
            "try:\n    main(['lint', '--output-format', 'full', 't.json'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol', 'cattrs')"
            " or m.startswith('linter.lsp')))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.stdout.strip().splitlines()[-1] == "[]", r.stdout + r.stderr


def test_server_without_the_lsp_extra_says_how_to_install_it(tmp_path):
    # a pygls that cannot be imported, as on an install without the extra
    write(tmp_path / "pygls" / "__init__.py", "raise ImportError('no pygls here', name='pygls')\n")
    r = subprocess.run([sys.executable, "-m", "linter", "server"], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{REPO}"}, stdin=subprocess.DEVNULL)
    assert r.returncode == 2 and "pip install 'vmsslint[lsp]'" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("fixture", ["VMSS505/fail-literal-password.json", "VMSS506/fail-password-default.json",
                                     "VMSS506/fail-sas-default.json", "VMSS504/fail-list-keys-and-sas-in-settings.json",
                                     "VMSS500/fail-expired-sas-from-parameter-default.json"])
def test_full_format_never_prints_a_secret(tmp_path, fixture):
    import re
    shutil.copy(RULE_FIXTURES / fixture, tmp_path / "t.json")
    text = (tmp_path / "t.json").read_text(encoding="utf-8")
    secrets = re.findall(r"sig=([^&\"\s]+)", text)
    secrets += [v for v in re.findall(r'"(?:adminPassword|defaultValue)"\s*:\s*"([^"\[][^"]*)"', text)
                if "://" not in v]
    assert secrets
    got = full(["t.json"], tmp_path, "--now", "2026-06-01", "--color", "never")
    assert " |" in got  # the code was drawn
    for secret in secrets:
        assert secret not in got


def test_redact_keeps_columns():
    from linter.fullformat import redact
    line = '"u": "https://a/b?sv=1&sig=AB%3D&se=2", "adminPassword": "hunter2", "pwd": "[parameters(\'p\')]"'
    out = redact(line)
    assert len(out) == len(line) and "AB%3D" not in out and "hunter2" not in out
    assert "[parameters('p')]" in out and "sv=1&sig=*****&se=2" in out
    assert redact('"v": "GEN-PASSWORD"', (5, 19)) == '"v": "************"'
