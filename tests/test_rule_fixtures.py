"""Every rule's fixtures: templates that pass it and templates that fail it, with the exact findings.

``tests/fixtures/rules/<CODE>/<name>.json`` is linted (with ``<name>.parameters.json`` when present,
and settings from the template's ``metadata["vmsslint-test"]``); the findings, one text line each
(``file:line:col: CODE severity message [resource]``, then ``    help: how to fix it`` when the rule
says), must equal ``<name>.expected``.  Names start
with ``pass-`` (the rule must not fire), ``fail-`` (it must) or ``unverifiable-`` (it must report
itself unverifiable).  To review changed output: ``VMSSLINT_UPDATE_SNAPSHOTS=1 pytest`` rewrites
the .expected files, and ``git diff`` shows what changed.
"""

from __future__ import annotations

import os
import pathlib

import pytest

from conftest import FIXTURES, lint

RULE_FIXTURES = FIXTURES / "rules"
CASES = sorted(p for p in RULE_FIXTURES.glob("*/*.json") if not p.name.endswith(".parameters.json"))


def _settings(path: pathlib.Path) -> dict:
    from linter.jsonc import ci_get, parse
    from linter.source import SourceFile
    root, _ = parse(SourceFile.read(str(path)))
    meta = ci_get(ci_get(root, "metadata", {}), "vmsslint-test", {})
    settings = dict(meta)
    if "now" in settings:
        from linter.lintcmd import parse_now
        settings["now"] = parse_now(settings["now"])
    return settings


def render(report, base: pathlib.Path) -> str:
    lines = []
    for f in report.sorted():
        rel = os.path.relpath(f.src.path, base) if f.src is not None else f.file
        res = f" [{f.resource}]" if f.resource else ""
        lines.append(f"{rel}:{f.line}:{f.column}: {f.code} {f.severity} {f.message}{res}")
        if f.help:
            lines.append(f"    help: {f.help}")
    return "\n".join(lines) + ("\n" if lines else "")


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_fixture(path):
    report = lint(path, **_settings(path))
    got = render(report, path.parent)
    expected_file = path.with_suffix(".expected")
    if os.environ.get("VMSSLINT_UPDATE_SNAPSHOTS"):
        expected_file.write_text(got, encoding="utf-8")
    assert expected_file.exists(), f"no {expected_file.name}: run with VMSSLINT_UPDATE_SNAPSHOTS=1 and review it"
    assert got == expected_file.read_text(encoding="utf-8")
    code = path.parent.name
    mine = [f for f in report.findings if f.code == code]
    kind = path.name.split("-")[0]
    if kind == "pass":
        assert mine == [], f"{code} fired on a fixture that must pass it"
    elif kind == "fail":
        assert any(not f.unverifiable for f in mine), f"{code} did not fire on a fixture that must fail it"
    elif kind == "unverifiable":
        assert mine and all(f.unverifiable and f.severity == "info" for f in mine)
    else:
        pytest.fail(f"fixture name must start with pass-, fail- or unverifiable-: {path.name}")


def test_every_rule_has_passing_and_failing_fixtures():
    from linter.rules import load_rules
    missing = []
    for rule in load_rules():
        if rule.function == "engine":
            continue
        names = [p.name for p in (RULE_FIXTURES / rule.code).glob("*.json")]
        for kind in ("pass-", "fail-"):
            if not any(n.startswith(kind) for n in names):
                missing.append(f"{rule.code} has no {kind}* fixture")
    assert missing == []


def test_fixture_directories_name_real_rules():
    from linter.rules import load_rules
    known = {r.code for r in load_rules()}
    assert {p.name for p in RULE_FIXTURES.iterdir() if p.is_dir()} <= known
