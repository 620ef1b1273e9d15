"""The rule pages under docs/rules/ (the targets of SARIF helpUri and of the language server's code links)."""

from __future__ import annotations

import json

from conftest import REPO, lint, template, vmss
from linter.docs import RULES_URL, rule_pages, rule_url
from linter.output import FORMATTERS
from linter.rules import compile_rules, data_dir, load_rules, rule_files


def test_rule_pages_are_current():
    """docs/rules/VMSSnnn.md are generated from the rule files; regenerate with `python -m linter.docs`."""
    want = rule_pages(compile_rules(rule_files(data_dir("rules"))))
    pages = REPO / "docs" / "rules"
    have = {p.name: p.read_text(encoding="utf-8") for p in pages.glob("*.md")}
    assert sorted(have) == sorted(want), "docs/rules/ is stale: run `python -m linter.docs`"
    for name, text in want.items():
        assert have[name] == text, f"docs/rules/{name} is stale: run `python -m linter.docs`"


def test_every_rule_has_a_page_with_its_documentation():
    for r in load_rules():
        page = (REPO / "docs" / "rules" / f"{r.code}.md").read_text(encoding="utf-8")
        assert page.splitlines()[2] == f"# {r.code} {r.name}"
        assert "## What" in page and "## How to fix" in page


def test_sarif_help_uri_points_at_the_rule_page(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(template(vmss(**{
        "properties.virtualMachineProfile.storageProfile.imageReference.version": "1.0"}))))
    doc = json.loads(FORMATTERS["sarif"](lint(path), {"rules": load_rules()}))
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rules and all(r["helpUri"] == RULES_URL + r["id"] + ".md" for r in rules)
    for r in rules:  # each link names a page that exists in the repository
        assert (REPO / "docs" / "rules" / rule_url(r["id"]).rsplit("/", 1)[1]).is_file()
