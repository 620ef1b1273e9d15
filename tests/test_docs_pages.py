"""The rule pages under docs/rules/ (the targets of SARIF helpUri and of the language server's code links)."""

from __future__ import annotations

import json

from conftest import REPO, lint, template, vmss
from linter.docs import RULES_URL, rule_pages, rule_url
from linter.output import FORMATTERS
from linter.rules import compile_rules, data_dir, load_rules, rule_files

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib


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


def _blocks(lang):
    import re
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```" + lang + r"\n(.*?)```", readme, re.S)


def test_readme_editor_and_schema_snippets_are_well_formed():
    import jsonschema
    from ruamel.yaml import YAML
    assert any('"glspc.server.command": "vmsslint"' in b and json.loads(b)["glspc.server.commandArguments"] == ["server"]
               for b in _blocks("json") if "glspc" in b)
    helix = [tomllib.loads(b) for b in _blocks("toml") if "language-server.vmsslint" in b]
    assert helix and helix[0]["language-server"]["vmsslint"] == {"command": "vmsslint", "args": ["server"]}
    assert any('cmd = { "vmsslint", "server" }' in b for b in _blocks("lua"))
    schema = json.loads((REPO / "schemas" / "config.schema.json").read_text(encoding="utf-8"))
    taplo = [tomllib.loads(b) for b in _blocks("toml") if "[[rule]]" in b]
    assert taplo and taplo[0]["rule"][0]["keys"] == ["tool.vmsslint"]
    for block in _blocks("yaml"):
        if "yaml-language-server: $schema=" in block:
            url = block.split("$schema=", 1)[1].split()[0]
            assert url.endswith("/schemas/config.schema.json")
            jsonschema.validate(YAML(typ="safe").load(block), schema)
    pyproject = [tomllib.loads(b) for b in _blocks("toml") if "[tool.vmsslint]" in b]
    assert pyproject
    for doc in pyproject:
        jsonschema.validate(doc["tool"]["vmsslint"], schema)


def test_project_urls_license_and_links_agree():
    from linter.docs import REPOSITORY_URL
    meta = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["urls"]["Repository"] == REPOSITORY_URL
    assert meta["license"] == {"text": "MIT"}
    assert (REPO / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert set(meta["optional-dependencies"]["lsp"]) <= set(meta["optional-dependencies"]["test"])


def test_shell_completion_as_documented():
    import os
    import subprocess
    import sys
    env = {**os.environ, "PYTHONPATH": str(REPO), "_VMSSLINT_COMPLETE": "bash_complete",
           "COMP_WORDS": "vmsslint lint --output-format ", "COMP_CWORD": "3"}
    r = subprocess.run([sys.executable, "-m", "linter"], capture_output=True, text=True, env=env, timeout=60)
    assert {"plain,full", "plain,concise", "plain,sarif"} <= set(r.stdout.split())
    env.update(_VMSSLINT_COMPLETE="bash_source")
    r = subprocess.run([sys.executable, "-m", "linter"], capture_output=True, text=True, env=env, timeout=60)
    assert "_vmsslint_completion" in r.stdout and "complete -o nosort -F _vmsslint_completion vmsslint" in r.stdout
    assert '_VMSSLINT_COMPLETE=bash_source vmsslint' in (REPO / "README.md").read_text(encoding="utf-8")
