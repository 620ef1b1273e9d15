"""The ``full`` report format (ruff's): each finding with the lines of its file, the span underlined.

A finding whose value came from a parameter file, a parameter's default or a variable is shown at
that place and also where the template uses it (``:::`` lines).  Columns are counted the way a
terminal shows them: a tab moves to the next multiple of 4, wide characters take two cells, a CRLF
line ending is not part of the line; a line too long for the terminal is trimmed around the span.

Also here: the ``--statistics`` table and the ``--show-fixes`` listing.
"""

from __future__ import annotations

import os
import re
import unicodedata

TAB = 4
#: Display cells of source text shown per line; longer lines are trimmed around the span.
MAX_WIDTH = 100

_RED, _YELLOW, _CYAN, _BLUE = "\033[31m", "\033[33m", "\033[36m", "\033[34m"
_BOLD, _RESET = "\033[1m", "\033[0m"
_SEV = {"error": _RED, "warning": _YELLOW, "info": _CYAN}


# --- where a value is used ------------------------------------------------------------------------

def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def origin_of(finding):
    """("parameters" | "variables", name) when the finding points into a parameter or variable, else None."""
    parts = [_unescape(p) for p in (finding.path or "").split("/")[1:]]
    if len(parts) >= 2 and parts[0].lower() in ("parameters", "variables"):
        return parts[0].lower(), parts[1]
    return None


def use_sites(root, kind: str, name: str, rule=None, limit: int = 3):
    """Where template ``root`` uses ``parameters('name')`` / ``variables('name')``: [(src, start, end)].

    Uses inside ``resources`` come first, those at the property the rule checks before the others.
    """
    from linter.jsonc import JArray, JObject
    if not isinstance(root, JObject):
        return []
    pattern = re.compile(r"\b" + kind + r"\(\s*'" + re.escape(name) + r"'\s*\)", re.IGNORECASE)
    prop = rule.given[0].split(".")[-1].lower() if rule is not None and rule.given else None
    found = []

    def walk(node, in_resources):
        if isinstance(node, JObject):
            items = [(k, v, node.vpos.get(k)) for k, v in node.items()]
        elif isinstance(node, JArray):
            items = [(i, v, node.vpos[i] if i < len(node.vpos) else None) for i, v in enumerate(node)]
        else:
            return
        for key, value, pos in items:
            if isinstance(value, str):
                if pos is not None and value.startswith("[") and pattern.search(value):
                    at_prop = isinstance(key, str) and key.lower() == prop
                    found.append((0 if in_resources else 1, 0 if at_prop else 1, pos[0], node.src, pos[1]))
            else:
                walk(value, in_resources or (node is root and isinstance(key, str) and key.lower() == "resources"))

    walk(root, False)
    found.sort(key=lambda t: t[:3])
    return [(src, start, end) for _, _, start, src, end in found[:limit]]


def related_sites(finding, report, rules_by_code, _cache=None):
    """Where the value of ``finding`` is used, when it came from a parameter or a variable: [(src, start, end)]."""
    from linter import loader
    origin = origin_of(finding)
    if origin is None or finding.src is None:
        return []
    kind, name = origin
    cache = _cache if _cache is not None else {}
    templates = []
    for entry in getattr(report, "inputs", []):
        if finding.file == entry["template"] or finding.file in entry["parameters"]:
            templates.append(entry["template"])
    out = []
    for display in templates:
        if display not in cache:
            path = display
            if not os.path.isfile(path):  # the working directory changed since: it is beside its files
                path = os.path.join(os.path.dirname(finding.src.path), os.path.basename(display))
            lf = loader.read(path)
            cache[display] = lf.root if not lf.error else None
        root = cache[display]
        if root is None:
            continue
        for site in use_sites(root, kind, name, rules_by_code.get(finding.code)):
            if site[0].display != finding.file or site[0].position(site[1]) != (finding.line, finding.column):
                out.append(site)
    return out[:3]


# --- secrets never shown ---------------------------------------------------------------------------

#: SAS signatures and key/password assignments, and JSON members whose name says secret — the words of
#: findings.mask, one list — their values starred out character for character, so that columns stay right.
def _secret_patterns():
    from linter.findings import _SECRET_WORDS
    return (
        re.compile(r"(?i)((?:^|[?&;\s\"'])sig=)([^&\s\"']+)"),
        re.compile(r"(?i)((?:AccountKey|SharedAccessKey|password|pwd)=)([^;&\s\"']+)"),
        re.compile(r"(?i)(\"[\w-]*(?:" + _SECRET_WORDS + r")[\w-]*\"\s*:\s*\")((?:[^\"\\\[]|\\.)(?:[^\"\\]|\\.)*)"),
    )


_SECRET_PATTERNS: tuple = ()
#: Rules about credentials: the value they underline is itself the secret (unless it is a URL, whose
#: signature the patterns above hide, or an expression).
_SECRET_RULES = ("VMSS504", "VMSS505", "VMSS506")


def redact(text: str, span=None) -> str:
    """``text`` with secrets replaced by ``*`` of the same length; ``span`` = (from, to) columns of a secret value."""
    global _SECRET_PATTERNS
    if not _SECRET_PATTERNS:
        _SECRET_PATTERNS = _secret_patterns()
    for rx in _SECRET_PATTERNS:
        text = rx.sub(lambda m: m.group(1) + "*" * len(m.group(2)), text)
    if span is not None:
        a, b = span
        inner = text[a:b]
        if inner.startswith('"') and inner.endswith('"') and len(inner) >= 2:
            body = inner[1:-1]
            if not body.startswith("[") and "://" not in body:
                text = text[:a + 1] + "*" * len(body) + text[b - 1:]
    return text


# --- drawing a span -------------------------------------------------------------------------------

def _cells(ch: str, col: int) -> int:
    if ch == "\t":
        return TAB - col % TAB
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def _line_text(src, line: int) -> str:
    starts = src._line_starts()
    begin = starts[line - 1]
    end = starts[line] if line < len(starts) else len(src.text)
    return src.text[begin:end].rstrip("\r\n")


def render_line(text: str, col_from: int, col_to: int, width: int = MAX_WIDTH):
    """(shown text, caret offset, caret length) for characters [col_from, col_to) of ``text`` (0-based).

    Tabs become spaces; a line wider than ``width`` cells is cut to a window around the span, with
    ``…`` where text was left out.
    """
    shown, widths, cols = [], [], []
    cell = 0
    for ch in text:
        cols.append(cell)
        w = _cells(ch, cell)
        shown.append(" " * w if ch == "\t" else ch)
        widths.append(w)
        cell += w
    cols.append(cell)
    col_from = max(0, min(col_from, len(text)))
    col_to = max(col_from + 1, min(col_to, len(text) + 1))
    start_cell = cols[col_from]
    end_cell = cols[col_to] if col_to <= len(text) else cell + 1
    if cell <= width:
        return "".join(shown), start_cell, max(1, end_cell - start_cell)
    # trim around the span: some context before it, as much of the span as fits
    span = min(end_cell - start_cell, width - 10)
    left = max(0, min(start_cell - (width - span) // 3, cell - width))
    right = left + width
    window = "".join(p for p, w, c in zip(shown, widths, cols) if c >= left and c + w <= right)
    prefix = "…" if left > 0 else ""
    suffix = "…" if right < cell else ""
    return prefix + window + suffix, start_cell - left + len(prefix), max(1, span)


def _snippet(src, start: int, end: int, label: str, mark: str, colour: bool, style: str, gutter: int,
             secret: bool = False):
    line, col = src.position(start)
    end_line, end_col = src.position(max(start, end))
    text = _line_text(src, line)
    to = end_col - 1 if end_line == line else len(text)
    text = redact(text, (col - 1, to) if secret else None)
    shown, at, length = render_line(text, col - 1, to)
    pad = " " * gutter
    bar = f"{_BLUE}|{_RESET}" if colour else "|"
    num = f"{line:>{gutter}}"
    if colour:
        num = f"{_BLUE}{num}{_RESET}"
    carets = mark * length
    if colour:
        carets = f"{style}{carets}{_RESET}"
    return [f"{pad} {bar}", f"{num} {bar} {shown}".rstrip(), f"{pad} {bar} {' ' * at}{carets} {label}".rstrip(),
            f"{pad} {bar}"]


def _help(f, rule) -> str:
    from linter.fixes import Fix, NoFix
    fix = f.fix
    if isinstance(fix, Fix):
        where = fix.edits[0][0].display if fix.edits else f.file
        text = fix.description + (f" (in {where})" if where != f.file else "")
        return text + (" — an unsafe fix: --fix --unsafe-fixes applies it" if fix.applicability == "unsafe" else "")
    advice = f.help or (_first_sentence(rule.docs.get("fix", "")) if rule is not None else "")
    if isinstance(fix, NoFix):
        return (advice + " " if advice else "") + f"(no automatic fix: {fix.reason})"
    return advice


def _first_sentence(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    m = re.search(r"(?<=[.!?])\s", text)
    if m:
        text = text[:m.start()]
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def safe_fix(f) -> bool:
    from linter.fixes import Fix
    return isinstance(f.fix, Fix) and f.fix.applicability == "safe"


def format_full(report, options) -> str:
    from linter.output import summary_line
    colour = options.get("colour", False)
    rules = {r.code: r for r in options.get("rules") or []}
    cache: dict = {}
    blocks = []
    for f in report.sorted():
        rule = rules.get(f.code)
        sev = f"{_SEV[f.severity]}{f.severity}{_RESET}" if colour else f.severity
        code = f"{_BOLD}{f.code}{_RESET}" if colour else f.code
        loc = f"{f.file}:{f.line}:{f.column}:"
        if colour:
            loc = f"{_BOLD}{loc}{_RESET}"
        star = (f" {_CYAN}[*]{_RESET}" if colour else " [*]") if safe_fix(f) else ""
        res = f" [{f.resource}]" if f.resource else ""
        out = [f"{loc} {code}{star} {sev}: {f.message}{res}"]
        gutter = 1
        if f.src is not None and f.src.text:
            start = _offset(f.src, f.line, f.column)
            sites = related_sites(f, report, rules, cache)
            gutter = max(len(str(src.position(s)[0])) for src, s, _ in [(f.src, start, 0)] + sites)
            out += _snippet(f.src, start, _offset(f.src, f.end_line, f.end_column), f.code, "^", colour,
                            _SEV[f.severity], gutter, secret=f.code in _SECRET_RULES)
            for src, s, e in sites:
                line, col = src.position(s)
                out.append(f"{' ' * gutter}::: {src.display}:{line}:{col}")
                out += _snippet(src, s, e, "the value is used here", "-", colour, _BLUE, gutter)[1:]
        advice = _help(f, rule)
        if advice:
            eq = f"{_BOLD}help{_RESET}" if colour else "help"
            out.append(f"{' ' * gutter} = {eq}: {advice}")
        blocks.append("\n".join(out))
    text = "\n\n".join(blocks)
    if not options.get("quiet"):
        text += ("\n\n" if text else "") + summary_line(report)
    return text + ("\n" if text else "")


def _offset(src, line: int, column: int) -> int:
    starts = src._line_starts()
    return starts[line - 1] + column - 1 if line - 1 < len(starts) else len(src.text)


# --- --statistics and --show-fixes ----------------------------------------------------------------

def format_statistics(report, options) -> str:
    """ruff's table: count, code, ``[*]`` when a safe fix can fix them all, name."""
    counts: dict = {}
    for f in report.findings:
        n, fixable, name = counts.get(f.code, (0, True, f.name))
        counts[f.code] = (n + 1, fixable and safe_fix(f), name)
    rows = sorted(counts.items(), key=lambda kv: (-kv[1][0], kv[0]))
    return "".join(f"{n:5d}  {code}  {'[*]' if fixable else '   '} {name}\n" for code, (n, fixable, name) in rows)


def format_fixes(report, fixed, options, unsafe=False) -> str:
    """What --fix changed (with --fix), or what it would change: one line a fix, by file."""
    from linter.fixes import Fix
    if fixed is not None:
        if not fixed:
            return "\nNo fixes applied.\n"
        lines = [f"\nFixed {len(fixed)} finding{'s' if len(fixed) != 1 else ''}:"]
        for f in sorted(fixed, key=lambda x: x.sort_key()):
            lines.append(f"  {f.file}:{f.line}:{f.column}: {f.code} {f.fix.description}")
        return "\n".join(lines) + "\n"
    safe = [f for f in report.sorted() if isinstance(f.fix, Fix) and f.fix.applicability == "safe"]
    risky = [f for f in report.sorted() if isinstance(f.fix, Fix) and f.fix.applicability == "unsafe"]
    if not safe and not risky:
        return "\nNo fixes available.\n"
    lines = []
    for title, items in ((f"--fix would apply {len(safe)} fix{'es' if len(safe) != 1 else ''}:", safe),
                         (f"--fix --unsafe-fixes would also apply {len(risky)}:", risky)):
        if not items:
            continue
        lines += ["", title]
        for f in items:
            where = f.fix.edits[0][0].display if f.fix.edits else f.file
            lines.append(f"  {f.file}:{f.line}:{f.column}: {f.code} {f.fix.description}"
                         + (f" (edits {where})" if where != f.file else ""))
    return "\n".join(lines) + "\n"
