"""Rule files: validation with messages naming file, rule and field; the compiled cache; the lint path's imports."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, SHARED, needs_shared
from linter.rules import RuleError, compile_rules, data_dir, load_rules, rule_files

GOOD = (REPO / "rules" / "VMSS200-image-version-not-latest.yaml").read_text()


def broken(tmp_path, text, name="VMSS200-image-version-not-latest.yaml"):
    d = tmp_path / "rules"
    d.mkdir(exist_ok=True)
    (d / name).write_text(text)
    return rule_files(str(d))


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("severity: error", "severity: fatal"),
     "rule VMSS200: field 'severity': 'fatal' is not one of error, warning, info"),
    (lambda t: t.replace("summary: A platform", "sumary: A platform"), "field '(top level)'"),
    (lambda t: t.replace("function: equals", "function: equal"), "field 'check.function': no check function 'equal'"),
    (lambda t: t.replace("case-insensitive: true", "case-insensitive: yes-please"),
     "field 'check.options.case-insensitive': must be a boolean"),
    (lambda t: t.replace("when: [auto-upgrade-on, platform-image]", "when: [auto-upgrade-on, marketplace]"),
     "field 'applies-to.when': no condition 'marketplace'"),
    (lambda t: t.replace("imageReference.version is '{value}'", "imageReference.version is '{value'"),
     "field 'message.default'"),
    (lambda t: t.replace("requirements: [REQ-VERSION]", "requirements: [VERSION]"),
     "field 'requirements.0': 'VERSION' does not have the required form"),
    (lambda t: t.replace("  missing: >-", "  gone: >-"), "field 'message.gone': function 'equals' has no message variant"),
    (lambda t: t.replace("code: VMSS200", "code: [VMSS200"), "not valid YAML"),
])
def test_broken_rule_file_messages(tmp_path, edit, message):
    files = broken(tmp_path, edit(GOOD))
    with pytest.raises(RuleError) as info:
        compile_rules(files)
    text = str(info.value)
    assert "VMSS200-image-version-not-latest.yaml" in text
    assert message in text


def test_yaml_error_has_line_and_column(tmp_path):
    files = broken(tmp_path, GOOD.replace("name: image-version-not-latest", "name: [oops"))
    with pytest.raises(RuleError) as info:
        compile_rules(files)
    assert re.search(r"\.yaml:\d+:\d+: not valid YAML", str(info.value))


def test_file_name_must_carry_the_code(tmp_path):
    with pytest.raises(RuleError, match="must start with 'VMSS200-'"):
        compile_rules(broken(tmp_path, GOOD, name="image.yaml"))


def test_duplicate_codes_are_refused(tmp_path):
    broken(tmp_path, GOOD)
    files = broken(tmp_path, GOOD.replace("name: image-version-not-latest", "name: other"),
                   name="VMSS200-other.yaml")
    with pytest.raises(RuleError, match="'VMSS200' is also used by"):
        compile_rules(files)


def test_cache_is_used_on_the_second_load(tmp_path, monkeypatch):
    monkeypatch.setenv("VMSSLINT_CACHE_DIR", str(tmp_path / "cache"))
    first = load_rules()
    assert list((tmp_path / "cache").glob("rules-*.json"))
    import linter.rules as rules_mod

    def no_compile(files):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(rules_mod, "compile_rules", no_compile)
    second = load_rules()
    assert [r.to_dict() for r in first] == [r.to_dict() for r in second]


def test_cache_is_invalidated_when_a_rule_file_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("VMSSLINT_CACHE_DIR", str(tmp_path / "cache"))
    d = tmp_path / "rules"
    shutil.copytree(data_dir("rules"), d)
    assert any(r.code == "VMSS200" for r in load_rules(str(d)))
    f = d / "VMSS200-image-version-not-latest.yaml"
    f.write_text(f.read_text().replace("severity: error", "severity: warning"))
    assert next(r for r in load_rules(str(d)) if r.code == "VMSS200").severity == "warning"


def test_lint_imports_no_heavy_modules(tmp_path):
    """jsonschema, ruamel.yaml, jinja2 and the simulator stay out of `vmsslint lint` (cache warm)."""
    t = tmp_path / "t.json"
    t.write_text('{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",'
                 '"resources": []}')
    code = ("import sys, runpy; sys.argv=['vmsslint','lint',%r];\n"
            "try:\n    runpy.run_module('linter', run_name='__main__')\nexcept SystemExit: pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('jsonschema','ruamel','jinja2','referencing') or m.startswith('linter.sim')))" % str(t))
    env = {"VMSSLINT_CACHE_DIR": str(tmp_path / "c")}
    import os
    subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True)
    r = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True)
    assert r.stdout.strip().splitlines()[-1] == "[]"


def test_every_rule_file_loads_and_documents_itself():
    rules = compile_rules(rule_files(data_dir("rules")))
    assert len(rules) >= 12
    for r in rules:
        assert r.docs["what"].strip() and r.docs["why"].strip() and r.docs["fix"].strip()
        if r.function != "engine":
            assert r.requirements, f"{r.code} names no requirement"


@needs_shared
def test_requirement_ids_exist_in_requirements_md():
    text = (SHARED / "REQUIREMENTS.md").read_text()
    known = set(re.findall(r"\| ((?:REQ|ORCH)-[A-Z0-9-]+) \|", text))
    assert known, "REQUIREMENTS.md has no IDs?"
    for r in load_rules():
        for req in r.requirements:
            assert req in known, f"{r.code} names {req}, which REQUIREMENTS.md does not define"


def test_generated_rule_docs_are_current():
    """docs/rules.md is generated from the rule files; regenerate with `python -m linter.docs`."""
    from linter.docs import render_all
    current = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert current == render_all(compile_rules(rule_files(data_dir("rules")))), \
        "docs/rules.md is stale: run `python -m linter.docs`"


@needs_shared
def test_every_requirement_is_enforced_by_a_rule():
    """Every REQ-* of REQUIREMENTS.md is named by at least one rule."""
    text = (SHARED / "REQUIREMENTS.md").read_text()
    wanted = set(re.findall(r"\| (REQ-[A-Z0-9-]+) \|", text))
    named = {req for r in load_rules() for req in r.requirements}
    assert sorted(wanted - named) == []
