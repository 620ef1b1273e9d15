"""Output formats: snapshots of every format on the examples, and what each consumer needs of it."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET

import pytest

from conftest import FIXTURES, REPO, assert_valid_sarif, lint, template, vmss, write
from linter import __version__
from linter.output import FORMATTERS, fingerprint

SNAPSHOTS = FIXTURES / "formats"
EXT = {"full": "txt", "concise": "txt", "text": "txt", "json": "json", "sarif": "sarif", "junit": "xml", "github": "txt", "azure": "txt"}


def render(fmt, report):
    from linter.rules import load_rules
    text = FORMATTERS[fmt](report, {"rules": load_rules(), "edition": "2026", "require_auto_upgrade": False,
                                    "clean_files": report.clean_files})
    from linter.output import _dir_uri
    return text.replace(__version__, "<version>").replace(_dir_uri(os.getcwd()), "file:///<cwd>/")


@pytest.fixture(scope="module")
def examples_report():
    cwd = os.getcwd()
    os.chdir(REPO)  # file names in the output are relative to the working directory
    try:
        from linter.engine import Engine, Settings
        return Engine(Settings()).lint_paths(["examples"])
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("fmt", sorted(FORMATTERS))
def test_format_snapshot(fmt, examples_report):
    got = render(fmt, examples_report)
    path = SNAPSHOTS / f"examples.{fmt}.{EXT[fmt]}"
    if os.environ.get("VMSSLINT_UPDATE_SNAPSHOTS"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8")


def test_sarif_structure(examples_report):
    doc = assert_valid_sarif(render("sarif", examples_report).replace("<version>", __version__))
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} >= {"VMSS200", "VMSS201", "VMSS300"}
    for r in rules:
        assert r["shortDescription"]["text"] and r["fullDescription"]["text"] and r["helpUri"].startswith("https://")
        assert r["defaultConfiguration"]["level"] in ("error", "warning", "note")
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        region = res["locations"][0]["physicalLocation"]["region"]
        assert {"startLine", "startColumn", "endLine", "endColumn"} <= set(region)
        assert re.fullmatch(r"[0-9a-f]{32}", res["partialFingerprints"]["vmsslint/v1"])


def test_fingerprints_survive_moved_lines(tmp_path):
    bad = {"properties.virtualMachineProfile.storageProfile.imageReference.version": "1.0"}
    t = template(vmss(**bad))
    write(tmp_path / "t.json", t)
    first = lint(tmp_path / "t.json")
    t["variables"] = {"padding": "x"}  # moves every line below
    text = json.dumps(t, indent=2).replace('"parameters": {}', '"parameters": {\n\n\n\n}')
    write(tmp_path / "t.json", text)
    second = lint(tmp_path / "t.json")
    [a], [b] = first.findings, second.findings
    assert a.line != b.line
    assert fingerprint(a) == fingerprint(b)


def test_junit_parses_with_a_real_parser(examples_report):
    root = ET.fromstring(render("junit", examples_report).encode("utf-8"))
    assert root.tag == "testsuites"
    cases = root.findall(".//testcase")
    failures = root.findall(".//failure")
    assert int(root.get("tests")) == len(cases) and int(root.get("failures")) == len(failures)
    assert len(failures) == len(examples_report.findings)
    assert any(c.find("failure") is None for c in cases)  # examples/ready passes


def test_github_and_azure_escape_their_delimiters(tmp_path):
    from linter.engine import Report
    from linter.findings import Finding
    from linter.source import SourceFile
    report = Report()
    src = SourceFile("dir,x/a:b.json", "{}\n")
    report.findings.append(Finding("VMSS200", "n", "warning", [], src, 0, 1, "/", "50% done; a]b\nnext"))
    gh = FORMATTERS["github"](report, {})
    assert gh == ("::warning file=dir%2Cx/a%3Ab.json,line=1,col=1,endLine=1,endColumn=2,title=VMSS200::"
                  "50%25 done; a]b\\u000anext\n")  # a newline in a message is escaped visibly (one line a finding)
    az = FORMATTERS["azure"](report, {})
    assert az == ("##vso[task.logissue type=warning;sourcepath=dir,x/a:b.json;linenumber=1;columnnumber=1;"
                  "code=VMSS200]50%AZP25 done%3B a%5Db\\u000anext\n")


def test_info_findings_are_skipped_in_junit_and_never_warnings_in_azure(tmp_path):
    report = lint(REPO / "tests" / "fixtures" / "rules" / "VMSS300" / "pass-partial-update-resize.json")
    assert [f.severity for f in report.findings] == ["info"]
    root = ET.fromstring(render("junit", report).split("\n", 1)[1])
    assert root.get("failures") == "0" and root.get("skipped") == "1"
    assert root.find(".//skipped") is not None and root.find(".//failure") is None
    azure = render("azure", report)
    assert "type=warning" not in azure and "##vso" not in azure and "VMSS010 info" in azure


def _multitool():
    import shutil
    return os.environ.get("VMSSLINT_SARIF_MULTITOOL") or shutil.which("sarif-multitool")


@pytest.mark.skipif(not _multitool(), reason="Microsoft's SARIF multitool is not installed "
                    "(npm install @microsoft/sarif-multitool; VMSSLINT_SARIF_MULTITOOL=path/to/sarif-multitool)")
def test_corpus_sarif_passes_microsofts_sarif_multitool(tmp_path):
    """Microsoft's own SARIF validator (sarif-sdk) reports no error and no warning on the corpus SARIF."""
    import subprocess

    from test_cli import run
    corpus = REPO.parent / "shared" / "corpus"
    if not corpus.is_dir():
        pytest.skip("../shared/corpus is missing")
    sarif = tmp_path / "corpus.sarif"
    r = run("lint", "--format", "sarif", "--exit-zero", "-o", str(sarif), ".", cwd=str(corpus))
    assert r.returncode == 0, r.stderr
    out = tmp_path / "validation.sarif"
    v = subprocess.run([_multitool(), "validate", str(sarif), "-o", str(out), "--level", "Error", "Warning"],
                       capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    assert v.returncode == 0, v.stdout + v.stderr
    results = json.loads(out.read_text(encoding="utf-8"))["runs"][0]["results"]
    assert [(x["ruleId"], x["message"]) for x in results] == []
    # and it does find errors: the same file with a relative path and no base is flagged (SARIF1004)
    doc = json.loads(sarif.read_text(encoding="utf-8"))
    loc = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    loc["uri"] = "file:///abs/path.json"
    sarif.write_text(json.dumps(doc), encoding="utf-8")
    out.unlink()
    subprocess.run([_multitool(), "validate", str(sarif), "-o", str(out), "--level", "Error", "Warning"],
                   capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    assert "SARIF1004" in {x["ruleId"] for x in json.loads(out.read_text(encoding="utf-8"))["runs"][0]["results"]}
