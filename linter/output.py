"""Formatters: a plain name → function table.  Each takes (report, settings) and returns text."""

from __future__ import annotations

import json
import os

from linter import __version__

_COLOURS = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m"}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def summary_line(report) -> str:
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in report.findings:
        counts[f.severity] += 1
    total = len(report.findings)
    where = f"{report.templates} template{'s' if report.templates != 1 else ''}"
    hidden = f" ({report.baselined} more in the baseline)" if getattr(report, "baselined", 0) else ""
    fixed = f"Fixed {report.fixed} finding{'s' if report.fixed != 1 else ''}. " if getattr(report, "fixed", 0) else ""
    none = ""
    if not report.templates:
        none = " No template, Terraform module, plan or export was linted" + (
            f" ({report.files} file{'s' if report.files != 1 else ''} read)" if report.files else "") + "."
        skipped = getattr(report, "skipped_sources", [])
        if skipped:
            first = os.path.relpath(skipped[0])
            shown = ", ".join(os.path.relpath(x) for x in skipped[:5]) + (f" and {len(skipped) - 5} more"
                                                                         if len(skipped) > 5 else "")
            none += (f" Skipped Bicep file{'s' if len(skipped) != 1 else ''} {shown}: compile one to JSON and lint "
                     f"that, e.g. az bicep build --file {first} --stdout | vmsslint lint - --stdin-filename "
                     f"{first[:-6]}.json")
    if not total:
        return f"{fixed}No findings in {where}{hidden}.{none}"
    parts = [f"{counts['error']} error{'s' if counts['error'] != 1 else ''}",
             f"{counts['warning']} warning{'s' if counts['warning'] != 1 else ''}",
             f"{counts['info']} info"]
    from linter.fixes import Fix
    safe = sum(1 for f in report.findings if isinstance(f.fix, Fix) and f.fix.applicability == "safe")
    unsafe = sum(1 for f in report.findings if isinstance(f.fix, Fix) and f.fix.applicability == "unsafe")
    hint = ""
    if safe or unsafe:
        hint = f" {safe} fixable with --fix" + (f" ({unsafe} more with --unsafe-fixes)" if unsafe else "") + "."
    return (f"{fixed}Found {total} finding{'s' if total != 1 else ''} ({', '.join(parts)}) in {where}{hidden}."
            + hint + none)


def format_text(report, options) -> str:
    colour = options.get("colour", False)
    lines = []
    last_file = None
    for f in report.sorted():
        if last_file is not None and f.file != last_file:
            lines.append("")
        last_file = f.file
        sev = f.severity
        if colour:
            sev = f"{_COLOURS[f.severity]}{f.severity}{_RESET}"
            loc = f"{_BOLD}{f.file}:{f.line}:{f.column}:{_RESET}"
            code = f"{_BOLD}{f.code}{_RESET}"
        else:
            loc, code = f"{f.file}:{f.line}:{f.column}:", f.code
        res = f" [{f.resource}]" if f.resource else ""
        lines.append(f"{loc} {code} {sev} {f.message}{res}")
    if not options.get("quiet"):
        if lines:
            lines.append("")
        lines.append(summary_line(report))
    return "\n".join(lines) + ("\n" if lines else "")


def format_json(report, options) -> str:
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in report.findings:
        counts[f.severity] += 1
    doc = {
        "tool": {"name": "vmsslint", "version": __version__},
        "settings": {"docsEdition": options.get("edition"), "requireAutoUpgrade": options.get("require_auto_upgrade")},
        "findings": [f.to_json() for f in report.sorted()],
        "templates": report.inputs,
        "summary": {"templates": report.templates, "files": report.files, **counts,
                    **({"baselined": report.baselined} if report.baselined else {})},
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def fingerprint(f) -> str:
    """Identity of a finding that survives edits elsewhere: rule, file, resource, JSON path (no line numbers)."""
    import hashlib
    key = "\0".join((f.code, f.file.replace("\\", "/"), f.resource, f.path, "" if f.path else f.message))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
ARTICLE = "https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-automatic-upgrade"


def format_sarif(report, options) -> str:
    """SARIF 2.1.0: one run, every rule in tool.driver.rules, results with regions and stable fingerprints."""
    from linter.docs import rule_url
    rules = sorted(options.get("rules") or [], key=lambda r: r.code)
    index = {r.code: i for i, r in enumerate(rules)}
    driver_rules = []
    for r in rules:
        driver_rules.append({
            "id": r.code,
            "name": _camel(r.name),
            "shortDescription": {"text": r.summary},
            "fullDescription": {"text": " ".join(r.docs["what"].split())},
            "help": {"text": " ".join((r.docs["why"] + " " + r.docs["fix"]).split())},
            "helpUri": rule_url(r.code),  # the rule's page, docs/rules/VMSSnnn.md
            "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity]},
            "properties": {"tags": list(r.requirements), "requirements": list(r.requirements)},
        })
    results = []
    for f in report.sorted():
        res = {
            "ruleId": f.code,
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f.message},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": _artifact(f.file),
                    "region": {"startLine": f.line, "startColumn": f.column,
                               "endLine": f.end_line, "endColumn": max(f.end_column, f.column + 1)
                               if f.end_line == f.line else f.end_column},
                },
            }],
            "partialFingerprints": {"vmsslint/v1": fingerprint(f)},
            "properties": {"requirements": f.requirements},
        }
        if f.code in index:
            res["ruleIndex"] = index[f.code]
        if f.resource or f.path:
            res["locations"][0]["logicalLocations"] = [{"name": f.resource or f.path,
                                                        "fullyQualifiedName": f.path or f.resource,
                                                        "kind": "resource"}]
        if f.unverifiable:
            res["properties"]["unverifiable"] = True
        if f.help:
            res["properties"]["help"] = f.help
        fixes = _sarif_fixes(f)
        if fixes:
            res["fixes"] = fixes
        results.append(res)
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "vmsslint", "version": __version__, "semanticVersion": __version__,
                                "informationUri": ARTICLE, "rules": driver_rules}},
            "columnKind": "unicodeCodePoints",
            # relative paths are relative to the working directory: SRCROOT says which
            "originalUriBaseIds": {"SRCROOT": {"uri": _dir_uri(os.getcwd())}},
            "results": results,
        }],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _camel(name: str) -> str:
    head, *rest = name.split("-")
    return head + "".join(w.capitalize() for w in rest)


def _dir_uri(path: str) -> str:
    import pathlib
    uri = pathlib.Path(os.path.abspath(path)).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _artifact(path: str) -> dict:
    """An artifactLocation: a relative path against SRCROOT (the working directory), else a file URI."""
    if os.path.isabs(path):
        import pathlib
        return {"uri": pathlib.Path(path).as_uri()}
    return {"uri": _uri(path), "uriBaseId": "SRCROOT"}


def _sarif_fixes(f) -> list:
    """A finding's fix as SARIF ``fixes`` (artifact changes with replaced regions)."""
    from linter.fixes import Fix
    fix = f.fix
    if not isinstance(fix, Fix) or not fix.edits:
        return []
    changes: dict = {}
    for src, start, end, text in fix.edits:
        (sl, sc), (el, ec) = src.position(start), src.position(end)
        changes.setdefault(src.display, []).append({
            "deletedRegion": {"startLine": sl, "startColumn": sc, "endLine": el, "endColumn": ec},
            "insertedContent": {"text": text}})
    return [{"description": {"text": fix.description or f.help or "vmsslint --fix"},
             "artifactChanges": [{"artifactLocation": _artifact(path), "replacements": reps}
                                 for path, reps in changes.items()]}]


def _uri(path: str) -> str:
    from urllib.parse import quote
    return quote(path.replace("\\", "/"))


def format_junit(report, options) -> str:
    """JUnit XML: a test suite per file, a failing test case per finding (a file with none passes)."""
    import xml.etree.ElementTree as ET
    by_file: dict = {}
    for f in report.sorted():
        by_file.setdefault(f.file, []).append(f)
    for name in options.get("clean_files", []):
        by_file.setdefault(name, [])
    root = ET.Element("testsuites", name="vmsslint", tests="0", failures="0")
    total = failures = 0
    for name in sorted(by_file):
        findings = by_file[name]
        infos = sum(1 for f in findings if f.severity == "info")
        suite = ET.SubElement(root, "testsuite", name=name, tests=str(max(1, len(findings))),
                              failures=str(len(findings) - infos), errors="0", skipped=str(infos))
        if not findings:
            ET.SubElement(suite, "testcase", name="vmsslint", classname=name)
            total += 1
        for f in findings:
            case = ET.SubElement(suite, "testcase", name=f"{f.code} {f.name} at {f.line}:{f.column}", classname=name)
            # an info finding (advice, or a value only Azure knows) is not a failed test: skipped
            failure = ET.SubElement(case, "skipped" if f.severity == "info" else "failure", message=f.message,
                                    type=f.severity)
            failure.text = (f"{f.file}:{f.line}:{f.column}: {f.code} {f.severity} {f.message}"
                            + (f" [{f.resource}]" if f.resource else "") + "\nrequirements: "
                            + (", ".join(f.requirements) or "-") + (f"\npath: {f.path}" if f.path else ""))
            total += 1
            failures += f.severity != "info"
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("skipped", str(sum(1 for f in report.findings if f.severity == "info")))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(report, options) -> str:
    """GitHub Actions workflow commands: annotations on the pull request's lines."""
    kind = {"error": "error", "warning": "warning", "info": "notice"}
    out = []
    for f in report.sorted():
        props = (f"file={_gh_prop(f.file)},line={f.line},col={f.column},endLine={f.end_line},"
                 f"endColumn={f.end_column},title={_gh_prop(f.code)}")
        res = f" [{f.resource}]" if f.resource else ""
        text = f.message + res + (f"\nhelp: {f.help}" if f.help else "")
        out.append(f"::{kind[f.severity]} {props}::{_gh_data(text)}")
    return "\n".join(out) + ("\n" if out else "")


def _azp(text: str) -> str:
    return (text.replace("%", "%AZP25").replace(";", "%3B").replace("]", "%5D")
            .replace("\r", "%0D").replace("\n", "%0A"))


def format_azure(report, options) -> str:
    """Azure Pipelines logging commands: errors and warnings as issues; an info finding is a plain log
    line (logissue has no info type, and a warning would turn the run "partially succeeded")."""
    out = []
    for f in report.sorted():
        level = "error" if f.severity == "error" else "warning"
        prefix = ""
        res = f" [{f.resource}]" if f.resource else ""
        if f.severity == "info":
            out.append(f"{f.file}:{f.line}:{f.column}: {f.code} info {f.message}{res}".replace("##", "#\u200b#")
                       .replace("\r", " ").replace("\n", " "))
            continue
        out.append(f"##vso[task.logissue type={level};sourcepath={_azp(f.file)};linenumber={f.line};"
                   f"columnnumber={f.column};code={f.code}]{_azp(prefix + f.message + res)}")
    return "\n".join(out) + ("\n" if out else "")


def format_full(report, options) -> str:
    from linter.fullformat import format_full as full
    return full(report, options)


FORMATTERS = {
    "full": format_full,
    "concise": format_text,
    "text": format_text,
    "json": format_json,
    "sarif": format_sarif,
    "junit": format_junit,
    "github": format_github,
    "azure": format_azure,
}
