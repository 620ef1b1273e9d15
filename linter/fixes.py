"""Automatic fixes: small text edits at the exact spans a finding names.

A rule declares its fix in its file (``fix: {kind: safe|unsafe, set: VALUE}`` or ``set-from: PARAM``):
the value the finding's property must have.  The edit goes where the value came from — the
template, the variable, the parameter's default or the parameter file — and nothing else in the
file changes: comments, key order, indentation and line endings stay byte for byte.  An edit is
refused, with the reason, when the value is computed by an expression, or when the new value would
break the parameter's ``allowedValues``.

Files are written atomically after the edited text has been parsed again; encoding and BOM are kept.
"""

from __future__ import annotations

import json

from linter.arm.expr import is_expression
from linter.jsonc import JArray, JObject, ci_get


class Fix:
    __slots__ = ("edits", "description", "applicability")

    def __init__(self, edits, description, applicability):
        self.edits = edits  # [(SourceFile, start, end, text)]
        self.description = description
        self.applicability = applicability  # "safe" | "unsafe"


class NoFix:
    __slots__ = ("reason",)

    def __init__(self, reason):
        self.reason = reason


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def for_result(rule, result, loc, target_path=""):
    """The Fix (or NoFix) for a failing result of ``rule`` located at ``loc``; None when the rule has none."""
    spec = rule.fix or {}
    kind = spec.get("kind", "none")
    if kind == "none" or ("set" not in spec and "set-from" not in spec):
        return None
    if "set-from" in spec:
        if spec["set-from"] not in result.params:
            return None
        value = result.params[spec["set-from"]]
    else:
        value = spec["set"]
    if loc is None:
        return NoFix("the value has no place in a file")
    container, key = loc
    if result.key:
        # the property is missing: add it to the object the finding points at
        target = container if key is None else container.get(key) if isinstance(container, dict) else None
        prop = rule.given[0].split(".")[-1] if rule.given else None
        if not prop or prop.endswith("]") or target_path.split(".")[-1] != prop:
            return NoFix("the object that should hold the property is itself missing; add it by hand")
        if not isinstance(target, JObject):
            return NoFix("the object that should hold the property is not written in a file")
        edit = insert_member(target, prop, value)
        return Fix([edit], f"add \"{prop}\": {dumps(value)}", kind)
    if not isinstance(container, (JObject, JArray)) or key is None:
        return NoFix("the value is not written in a file")
    raw = container[key] if isinstance(container, JObject) else container[key]
    if isinstance(raw, str) and is_expression(raw):
        return NoFix("the value is computed by an expression; edit it by hand")
    if isinstance(raw, (dict, list)):
        return NoFix("the value is an object or array; edit it by hand")
    why = _allowed_values_problem(container, key, value)
    if why:
        return NoFix(why)
    start, end = container.vpos[key]
    return Fix([(container.src, start, end, dumps(value))], f"write {dumps(value)}", kind)


def _allowed_values_problem(container, key, value):
    """Editing a parameter's defaultValue must respect its allowedValues."""
    if not (isinstance(container, JObject) and isinstance(key, str) and key.lower() == "defaultvalue"):
        return None
    allowed = ci_get(container, "allowedValues")
    if isinstance(allowed, list) and value not in allowed:
        return (f"the parameter's allowedValues ({', '.join(map(dumps, allowed))}) do not include "
                f"{dumps(value)}; change them together by hand")
    return None


def insert_member(obj: JObject, prop: str, value):
    """An edit adding ``"prop": value`` as the last member of ``obj``, in the object's own layout."""
    src = obj.src
    text = src.text
    newline = "\r\n" if src.crlf else "\n"
    member = f"{dumps(prop)}: {dumps(value)}"
    if not obj:
        inner = text[obj.start + 1:obj.end - 1]
        if "\n" not in inner:
            if not inner.strip():
                return (src, obj.start + 1, obj.end - 1, f" {member} ")
            # only comments inside, e.g. { /* keep this comment */ }: the member goes after them
            at = obj.start + 1 + len(inner.rstrip())
            return (src, at, at, f" {member}")
        indent = _indent_of(text, obj.start) + "  "
        return (src, obj.start + 1, obj.start + 1, f"{newline}{indent}{member}")
    last = list(obj.kpos)[-1]
    kstart = obj.kpos[last][0]
    vend = obj.vpos[last][1]
    between = text[obj.vpos[list(obj.kpos)[0]][1]:obj.end] if len(obj) else ""
    multiline = "\n" in text[obj.start:obj.kpos[list(obj.kpos)[0]][0]] or "\n" in between
    if multiline:
        indent = _indent_of(text, kstart)
        return (src, vend, vend, f",{newline}{indent}{member}")
    return (src, vend, vend, f", {member}")


def _indent_of(text: str, offset: int) -> str:
    line_start = text.rfind("\n", 0, offset) + 1
    i = line_start
    while i < len(text) and text[i] in " \t":
        i += 1
    return text[line_start:i]


def apply(findings, unsafe=False):
    """Edited texts by file: {SourceFile: new text}, plus the findings fixed; overlapping edits are skipped."""
    by_src: dict = {}
    fixed = []
    for f in findings:
        fix = f.fix
        if not isinstance(fix, Fix) or (fix.applicability == "unsafe" and not unsafe):
            continue
        by_src.setdefault(id(fix.edits[0][0]), (fix.edits[0][0], []))[1].append((f, fix))
    out = {}
    for src, items in by_src.values():
        edits = []
        taken = []
        for f, fix in items:
            if any(e[1:] == fix.edits[0][1:] for e in edits):  # the same edit for several findings
                fixed.append(f)
                continue
            spans = [(s, e) for _, s, e, _ in fix.edits]
            if any(s1 == s2 or (s1 < e2 and s2 < e1) for s1, e1 in spans for s2, e2 in taken):
                continue  # overlaps an edit already chosen: the next run fixes it
            edits.extend(fix.edits)
            taken.extend(spans)
            fixed.append(f)
        text = src.text
        for _, start, end, new in sorted(edits, key=lambda e: (e[1], e[2]), reverse=True):
            text = text[:start] + new + text[end:]
        out[src] = text
    return out, fixed


def write(src, text: str) -> None:
    """Check the edited text still parses, then write it atomically in the file's own encoding."""
    from linter.jsonc import JSONSyntaxError, parse
    from linter.source import SourceFile
    try:
        parse(SourceFile(src.path, text))
    except JSONSyntaxError as exc:  # pragma: no cover - an edit bug; never write a broken file
        raise RuntimeError(f"{src.path}: the fixed text does not parse ({exc.message}); nothing written") from None
    from linter.fileio import write_atomic
    codec = src.encoding if src.encoding != "utf-8-sig" else "utf-8"
    write_atomic(src.path, getattr(src, "bom", b"") + text.encode(codec, errors="surrogatepass"))


def diff(src, text: str) -> str:
    """A unified diff for a person to read; SAS signatures and passwords in it are masked."""
    return diff_texts(src.display, src.text, text)


def diff_texts(name: str, old: str, new: str) -> str:
    """A unified diff of ``name`` from ``old`` to ``new``; secrets masked, control characters escaped."""
    import difflib

    from linter.findings import display
    name = name.replace("\\", "/").lstrip("/")
    out = []
    old, new = mask_secret_values(old), mask_secret_values(new)
    for line in difflib.unified_diff(_lines(old), _lines(new), fromfile=f"a/{name}", tofile=f"b/{name}"):
        # one function masks secrets and escapes control characters in every output, a diff's lines too
        body = line.rstrip("\r\n")
        line = display(body) + line[len(body):]
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _lines(text: str) -> list:
    """Lines split at LF only (CRLF kept), unlike str.splitlines, which also splits at \\x0c, U+2028, ..."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def mask_secret_values(text: str) -> str:
    """``text`` (JSON) with the secrets it holds replaced by ``***``: string values of members named like
    a secret (adminPassword, clientSecret, ...), and the ``defaultValue`` (template) or ``value``
    (parameter file) of a parameter that is secure or named like a secret, wherever they are on their
    own line.  Expressions (``[parameters('x')]``) stay readable.  Unparseable text is returned as is
    (:func:`linter.findings.mask` still masks what it recognises line by line)."""
    from linter.findings import secret_name
    from linter.jsonc import JSONSyntaxError, parse
    from linter.source import SourceFile
    try:
        root, _ = parse(SourceFile("", text))
    except (JSONSyntaxError, RecursionError, ValueError):
        return text
    spans = []
    stack = [(root, False)]
    while stack:
        node, secure = stack.pop()
        if isinstance(node, JObject):
            typ = node.get("type") if isinstance(node.get("type"), str) else ""
            here = secure or typ.lower() in ("securestring", "secureobject")
            for key, value in node.items():
                named = secret_name(key)
                if isinstance(value, str) and (named or (here and key.lower() in ("defaultvalue", "value"))):
                    if value and not (value.startswith("[") and not value.startswith("[[") and value.endswith("]")):
                        spans.append(node.vpos[key])
                elif isinstance(value, (JObject, JArray)):
                    # a parameter named like a secret: its defaultValue / value are secret too
                    stack.append((value, named and isinstance(value, JObject)))
        elif isinstance(node, JArray):
            stack.extend((v, False) for v in node if isinstance(v, (JObject, JArray)))
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + '"***"' + text[end:]
    return text
