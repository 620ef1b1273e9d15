"""Findings: what a rule reports, where, and how it is shown without leaking secrets."""

from __future__ import annotations

from linter.jsonc import JArray, JObject, pointer
from linter.lazyre import LazyRegex

SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


class Finding:
    __slots__ = ("code", "name", "severity", "requirements", "_file", "line", "column", "end_line",
                 "end_column", "_resources", "_path", "_message", "unverifiable", "fix", "src", "_help")

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
        self.resources = [resource] if resource else []
        self.path = path
        self.message = message  # what is wrong, one sentence
        self.help = help or ""  # how to fix it
        self.unverifiable = unverifiable
        self.fix = fix

    # Every text a report shows goes through :func:`display` when it is set: secrets masked,
    # control characters and lone surrogates visibly escaped, whatever the output format.
    file = property(lambda self: self._file, lambda self, v: setattr(self, "_file", display(v)))
    path = property(lambda self: self._path, lambda self, v: setattr(self, "_path", display(v)))
    message = property(lambda self: self._message, lambda self, v: setattr(self, "_message", display(v)))
    help = property(lambda self: self._help, lambda self, v: setattr(self, "_help", display(v)))

    @property
    def resources(self) -> list:
        """Every resource concerned, by evaluated name (a shared parameter can concern several sets)."""
        return self._resources

    @resources.setter
    def resources(self, names):
        self._resources = [resource_text(n) for n in names]

    @property
    def resource(self) -> str:
        """The resources for display: up to five names, then how many more."""
        return resource_list(self._resources)

    def add_resource(self, name: str):
        name = resource_text(name)
        if name and name not in self._resources:
            self._resources.append(name)

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
    from linter.arm.values import shorten
    shown = [shorten(n, 120) for n in names[:limit]]
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


# --- secrets and unprintable text -------------------------------------------------------------

_SAS_SIG = LazyRegex(r"(?i)((?:^|[?&;\s\"'])sig=)([^&\s\"']+)")
_KEYLIKE = LazyRegex(r"(?i)((?:AccountKey|SharedAccessKey|password|pwd)=)([^;&\s\"']+)")
# "adminPassword": "value" — a JSON member whose name says it holds a secret (a line of --diff, a message
# quoting the template); an ARM expression ("[parameters('x')]") is not a secret and stays readable.
_SECRET_WORDS = (r"password|passwd|pwd|secret|accountkey|sharedaccesskey|connectionstring|apikey|api_key|token|"
                 r"privatekey|private_key|clientsecret|sastoken|saskey")
_SECRET_MEMBER = LazyRegex(
    r"""(?i)("[^"\n]*(?:""" + _SECRET_WORDS + r""")[^"\n]*"\s*:\s*")((?:[^"\\\n]|\\.)*)(")""")
_SECRET_NAME = LazyRegex(r"(?i)" + _SECRET_WORDS)


def secret_name(name) -> bool:
    """Whether a property or parameter name says it holds a secret (adminPassword, clientSecret, ...)."""
    return isinstance(name, str) and _SECRET_NAME.search(name) is not None


def mask(text: str) -> str:
    """Hide SAS signatures, key/password assignments and the values of secret-named JSON members.

    Every output goes through it (:func:`display`): findings' messages, resources, paths and files,
    ``--diff`` lines, and the plan and eval reports can call it too.
    """
    if not isinstance(text, str):
        return text
    if "=" in text:
        text = _SAS_SIG.sub(lambda m: m.group(1) + "***", text)
        text = _KEYLIKE.sub(lambda m: m.group(1) + "***", text)
    if '"' in text and ":" in text:
        text = _SECRET_MEMBER.sub(_mask_member, text)
    return text


def _mask_member(m) -> str:
    value = m.group(2)
    if not value or (value.startswith("[") and not value.startswith("[[") and value.endswith("]")):
        return m.group(0)
    return m.group(1) + "***" + m.group(3)


# Characters no report shows raw: C0 controls but tab, DEL, C1 controls, lone surrogates (a non-UTF-8
# file name decoded with surrogateescape, "\ud800" in a template), non-characters U+FFFE/U+FFFF,
# line/paragraph separators and the bidirectional overrides ("Trojan source").
_UNPRINTABLE = LazyRegex("[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u2028\u2029"
                         "\u202a-\u202e\u2066-\u2069]")


def _escape_char(m) -> str:
    c = ord(m.group(0))
    if 0xDC80 <= c <= 0xDCFF:  # a byte of a non-UTF-8 file name (os.fsdecode's surrogateescape)
        return f"\\x{c - 0xDC00:02x}"
    return f"\\u{c:04x}"  # as linter.arm.values.visible writes them


def clean(text: str) -> str:
    """``text`` with every unprintable character escaped visibly: ESC is shown as ``\\u001b``, a lone
    surrogate as ``\\ud800``, a non-UTF-8 byte of a file name as ``\\xff``; the result is always valid
    UTF-8, XML 1.0 character data, and safe on a terminal and in CI logging commands."""
    if not isinstance(text, str):
        return text
    return _UNPRINTABLE.sub(_escape_char, text)


def resource_text(name) -> str:
    """A resource's name as findings show it (:func:`display`: secrets masked, unprintable characters
    escaped)."""
    return display(name) if isinstance(name, str) else name


def display(text) -> str:
    """What a report may show of ``text``: secrets masked, unprintable characters escaped."""
    if not isinstance(text, str):
        return text
    return clean(mask(text))
