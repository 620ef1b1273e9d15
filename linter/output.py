"""Formatters: a plain name → function table.  Each takes (report, settings) and returns text."""

from __future__ import annotations

import json

from linter import __version__

_COLOURS = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m"}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def summary_line(report) -> str:
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in report.findings:
        counts[f.severity] += 1
    total = len(report.findings)
    where = f"{report.templates} template{'s' if report.templates != 1 else ''}"
    if not total:
        return f"No findings in {where}."
    parts = [f"{counts['error']} error{'s' if counts['error'] != 1 else ''}",
             f"{counts['warning']} warning{'s' if counts['warning'] != 1 else ''}",
             f"{counts['info']} info"]
    return f"Found {total} finding{'s' if total != 1 else ''} ({', '.join(parts)}) in {where}."


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
    if options.get("statistics"):
        lines += [""] + statistics(report)
    if not options.get("quiet"):
        if lines:
            lines.append("")
        lines.append(summary_line(report))
    return "\n".join(lines) + ("\n" if lines else "")


def statistics(report) -> list[str]:
    counts: dict = {}
    for f in report.findings:
        key = (f.code, f.name, f.severity)
        counts[key] = counts.get(key, 0) + 1
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0]))
    return [f"{n:5d}  {code}  {sev:<7}  {name}" for (code, name, sev), n in rows]


def format_json(report, options) -> str:
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in report.findings:
        counts[f.severity] += 1
    doc = {
        "tool": {"name": "vmsslint", "version": __version__},
        "settings": {"docsEdition": options.get("edition"), "requireAutoUpgrade": options.get("require_auto_upgrade")},
        "findings": [f.to_json() for f in report.sorted()],
        "summary": {"templates": report.templates, "files": report.files, **counts},
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


FORMATTERS = {
    "text": format_text,
    "json": format_json,
}
