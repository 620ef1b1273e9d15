"""Findings: what a rule reports, where, and how it is shown without leaking secrets."""

from __future__ import annotations

from linter.jsonc import JArray, JObject, pointer
from linter.lazyre import LazyRegex

SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


class Finding:
    __slots__ = ("code", "name", "severity", "requirements", "file", "line", "column", "end_line",
                 "end_column", "resources", "path", "message", "unverifiable", "fix", "src", "help")

    def __init__(self, code, name, severity, requirements, src, start, end, path, message, resource="",
                 unverifiable=False, fix=None, help=""):
        self.code = code
        self.name = name
        self.severity = severity
        self.requirements = list(requirements)
        self.src = src
        self.file = src.display if src is not None else ""
        if src is not None:
            self.line, self.column = src.position(start)
            self.end_line, self.end_column = src.position(max(start, end))
        else:
            self.line = self.column = self.end_line = self.end_column = 1
        #: every resource concerned, by evaluated name (a shared parameter can concern several sets)
        self.resources = [resource] if resource else []
        self.path = path
        self.message = mask(message)  # what is wrong, one sentence
        self.help = mask(help) if help else ""  # how to fix it
        self.unverifiable = unverifiable
        self.fix = fix

    @property
    def resource(self) -> str:
        """The resources for display: up to five names, then how many more."""
        return resource_list(self.resources)

    def add_resource(self, name: str):
        if name and name not in self.resources:
            self.resources.append(name)

    def sort_key(self):
        return (self.file, self.line, self.column, self.code, self.message)

    def to_json(self) -> dict:
        out = {
            "code": self.code,
            "name": self.name,
            "severity": self.severity,
            "requirements": self.requirements,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "endLine": self.end_line,
            "endColumn": self.end_column,
            "resource": self.resource,
            "resources": list(self.resources),
            "path": self.path,
            "message": self.message,
        }
        if self.help:
            out["help"] = self.help
        if self.unverifiable:
            out["unverifiable"] = True
        if self.fix is not None:
            from linter.fixes import Fix
            out["fix"] = ({"applicability": self.fix.applicability, "description": self.fix.description}
                          if isinstance(self.fix, Fix) else {"applicability": "none", "reason": self.fix.reason})
        return out


def resource_list(names, limit: int = 5) -> str:
    from linter.arm.values import shorten, visible
    shown = [shorten(visible(n), 120) for n in names[:limit]]
    if len(names) > limit:
        shown.append(f"+{len(names) - limit} more")
    return ", ".join(shown)


def span(loc):
    """(src, start, end, JSON pointer) of a Loc; a container is anchored at its property name."""
    container, key = loc
    if key is None:
        parent = container.parent
        if isinstance(parent, JObject) and container.pkey in parent.kpos:
            start, end = parent.kpos[container.pkey]
            return container.src, start, end, pointer(container)
        return container.src, container.start, container.start + 1, pointer(container)
    if isinstance(container, JObject):
        pos = container.vpos.get(key)
    elif isinstance(container, JArray) and isinstance(key, int) and 0 <= key < len(container.vpos):
        pos = container.vpos[key]
    else:
        pos = None
    if pos is None:
        return container.src, container.start, container.start + 1, pointer(container)
    return container.src, pos[0], pos[1], pointer(container, key)


def key_span(loc):
    """Like :func:`span` but for the property name of ``container[key]``."""
    container, key = loc
    if key is not None and isinstance(container, JObject) and key in container.kpos:
        start, end = container.kpos[key]
        return container.src, start, end, pointer(container, key)
    return span(loc)


# --- secrets ----------------------------------------------------------------------------------

_SAS_SIG = LazyRegex(r"(?i)((?:^|[?&;\s\"'])sig=)([^&\s\"']+)")
_KEYLIKE = LazyRegex(r"(?i)((?:AccountKey|SharedAccessKey|password|pwd)=)([^;&\s\"']+)")


def mask(text: str) -> str:
    """Hide SAS signatures and key/password assignments in a message."""
    if "=" not in text:
        return text
    text = _SAS_SIG.sub(lambda m: m.group(1) + "***", text)
    return _KEYLIKE.sub(lambda m: m.group(1) + "***", text)
