"""A position-keeping JSON reader that accepts what Azure Resource Manager accepts.

ARM reads templates with JSON.NET, which allows ``//`` and ``/* */`` comments, raw newlines
inside strings (multi-line strings) and a trailing comma.  This reader accepts the same, and
builds ordinary ``dict``/``list`` values whose containers (:class:`JObject`, :class:`JArray`)
remember where each member sits in the source: the start and end offset of every key and
value.  A scalar's position is asked of its container.

Duplicate keys — also keys differing only in case, which ARM treats as the same property — are
collected as diagnostics, not errors: the last one wins, as in JSON.NET.

The reader is iterative (no recursion), bounded in depth, and reports the first syntax error
with its offset, so that the caller can print ``file:line:col``.
"""

from __future__ import annotations

import re
from json.decoder import scanstring

from linter.source import SourceFile

#: ARM templates nest a few dozen levels at most; far deeper is hostile input.
MAX_DEPTH = 128


class JSONSyntaxError(Exception):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.message = message
        self.offset = offset


class JObject(dict):
    """A JSON object read from a file. ``kpos``/``vpos`` map each key to its (start, end) offsets."""

    __slots__ = ("src", "start", "end", "parent", "pkey", "kpos", "vpos")

    def __init__(self, src, start):
        super().__init__()
        self.src = src
        self.start = start
        self.end = start
        self.parent = None
        self.pkey = None
        self.kpos = {}
        self.vpos = {}


class JArray(list):
    """A JSON array read from a file. ``vpos[i]`` is the (start, end) of item ``i``."""

    __slots__ = ("src", "start", "end", "parent", "pkey", "vpos")

    def __init__(self, src, start):
        super().__init__()
        self.src = src
        self.start = start
        self.end = start
        self.parent = None
        self.pkey = None
        self.vpos = []


class Duplicate:
    """A key written twice in one object (``first`` is the offset of its earlier spelling)."""

    __slots__ = ("obj", "key", "first_key", "offset", "end", "first_offset")

    def __init__(self, obj, key, first_key, offset, end, first_offset):
        self.obj, self.key, self.first_key = obj, key, first_key
        self.offset, self.end, self.first_offset = offset, end, first_offset


_WS = r'(?:[ \t\n\r\u00a0\ufeff]+|//[^\n]*|/\*[^*]*\*+(?:[^/*][^*]*\*+)*/)*'
_TOKEN = re.compile(
    _WS
    + r'(?:(")(?:[^"\\]*(?:\\.[^"\\]*)*)"'  # 1: string
    + r'|([{}\[\],:])'  # 2: punctuation
    + r'|(-?(?:\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![\w.])'  # 3: number
    + r'|(true|false|null)\b'  # 4: literal
    + r'|(/\*|"|\S[\w.+-]*)?)',  # 5: error (or end of text when empty)
    re.S,
)

_LITERALS = {"true": True, "false": False, "null": None}

# parser states
_VALUE, _VALUE_OR_CLOSE, _KEY_OR_CLOSE, _COLON, _COMMA_OR_CLOSE, _DONE = range(6)


_INT64 = 1 << 63  # ARM integers are 64-bit (JSON.NET reads larger ones as BigInteger, which ARM refuses)


def parse(src: SourceFile):
    """Parse ``src.text``; returns ``(value, duplicates)`` or raises :class:`JSONSyntaxError`."""
    text = src.text
    n = len(text)
    match = _TOKEN.match
    stack: list = []  # frames: [container, key, key_start, key_end, lower->key map]
    dups: list = []
    state = _VALUE
    root = None
    pos = 0
    while True:
        m = match(text, pos)
        pos = m.end()
        if m.group(1) is not None:  # a string
            start = m.start(1)
            raw = text[start + 1:pos - 1]
            if "\\" in raw:
                try:
                    value = scanstring(text, start + 1, False)[0]
                except ValueError as exc:
                    raise JSONSyntaxError(f"invalid escape in string: {exc.args[0].split(':')[0]}",
                                          start) from None
            else:
                value = raw
            if state == _KEY_OR_CLOSE:
                frame = stack[-1]
                frame[1], frame[2], frame[3] = value, start, pos
                state = _COLON
                continue
            if state != _VALUE and state != _VALUE_OR_CLOSE:
                raise JSONSyntaxError(_expected(state, stack, "a string"), start)
        elif m.group(2) is not None:
            ch = m.group(2)
            start = pos - 1
            if ch == "{" or ch == "[":
                if state != _VALUE and state != _VALUE_OR_CLOSE:
                    raise JSONSyntaxError(_expected(state, stack, f"'{ch}'"), start)
                if len(stack) >= MAX_DEPTH:
                    raise JSONSyntaxError(
                        f"nesting deeper than {MAX_DEPTH} levels; no ARM template needs that", start)
                if ch == "{":
                    stack.append([JObject(src, start), None, 0, 0, {}])
                    state = _KEY_OR_CLOSE
                else:
                    stack.append([JArray(src, start), None, 0, 0, None])
                    state = _VALUE_OR_CLOSE
                continue
            if ch == "}" or ch == "]":
                if not stack:
                    raise JSONSyntaxError(f"unexpected '{ch}'", start)
                frame = stack[-1]
                container = frame[0]
                is_obj = frame[4] is not None
                if (ch == "}") != is_obj:
                    opener = "{" if is_obj else "["
                    line, col = src.position(container.start)
                    raise JSONSyntaxError(
                        f"'{ch}' does not close the '{opener}' opened at {line}:{col}", start)
                if state not in (_COMMA_OR_CLOSE, _KEY_OR_CLOSE, _VALUE_OR_CLOSE):
                    raise JSONSyntaxError(_expected(state, stack, f"'{ch}'"), start)
                stack.pop()
                container.end = pos
                value = container
                start = container.start
            elif ch == ",":
                if state != _COMMA_OR_CLOSE:
                    raise JSONSyntaxError(_expected(state, stack, "','"), start)
                state = _KEY_OR_CLOSE if stack[-1][4] is not None else _VALUE_OR_CLOSE
                continue
            else:  # ':'
                if state != _COLON:
                    raise JSONSyntaxError(_expected(state, stack, "':'"), start)
                state = _VALUE
                continue
        elif m.group(3) is not None:
            tok = m.group(3)
            start = m.start(3)
            if state != _VALUE and state != _VALUE_OR_CLOSE:
                raise JSONSyntaxError(_expected(state, stack, f"'{tok}'"), start)
            if "." in tok or "e" in tok or "E" in tok:
                value = float(tok)
            elif len(tok) > 20 or not -_INT64 <= int(tok) < _INT64:
                raise JSONSyntaxError(f"integer {tok[:24]}{'...' if len(tok) > 24 else ''} ({len(tok.lstrip('-'))} "
                                      f"digits) is out of range: ARM integers are 64-bit", start)
            else:
                value = int(tok)
        elif m.group(4) is not None:
            tok = m.group(4)
            start = m.start(4)
            if state != _VALUE and state != _VALUE_OR_CLOSE:
                raise JSONSyntaxError(_expected(state, stack, f"'{tok}'"), start)
            value = _LITERALS[tok]
        else:
            bad = m.group(5)
            if bad is None:
                if pos < n:  # only an unterminated comment can stop the whitespace scan early
                    raise JSONSyntaxError("unexpected character", pos)
                if state == _DONE:
                    return root, dups
                if not stack:
                    raise JSONSyntaxError("the file is empty: no JSON value in it", pos)
                frame = stack[-1]
                line, col = src.position(frame[0].start)
                opener = "{" if frame[4] is not None else "["
                raise JSONSyntaxError(
                    f"unexpected end of file: the '{opener}' opened at {line}:{col} is not closed", n)
            start = m.start(5)
            if bad == "/*":
                raise JSONSyntaxError("unterminated /* comment", start)
            if bad == '"':
                raise JSONSyntaxError("unterminated string", start)
            if state == _DONE:
                raise JSONSyntaxError(f"unexpected '{_short(bad)}' after the end of the JSON value", start)
            if bad[:1] == "'":
                raise JSONSyntaxError("strings must be in double quotes", start)
            raise JSONSyntaxError(_expected(state, stack, f"'{_short(bad)}'"), start)

        # a complete value: attach it to its parent
        if not stack:
            if state == _DONE:
                raise JSONSyntaxError("unexpected value after the end of the JSON value", start)
            root = value
            state = _DONE
            continue
        frame = stack[-1]
        parent = frame[0]
        if frame[4] is not None:
            key = frame[1]
            low = key.lower()
            seen = frame[4].get(low)
            if seen is not None:
                dups.append(Duplicate(parent, key, seen, frame[2], frame[3], parent.kpos[seen][0]))
                if seen != key:
                    # differing only in case: ARM sees one property; keep the later spelling
                    del parent[seen]
                    del parent.kpos[seen]
                    del parent.vpos[seen]
            frame[4][low] = key
            parent[key] = value
            parent.kpos[key] = (frame[2], frame[3])
            parent.vpos[key] = (start, pos)
        else:
            key = len(parent)
            parent.append(value)
            parent.vpos.append((start, pos))
        if type(value) is JObject or type(value) is JArray:
            value.parent = parent
            value.pkey = key
        state = _COMMA_OR_CLOSE


def _short(tok: str) -> str:
    return tok if len(tok) <= 20 else tok[:17] + "..."


def _expected(state: int, stack: list, found: str) -> str:
    if state == _COLON:
        return f"expected ':' after the property name, found {found}"
    if state == _KEY_OR_CLOSE:
        return f"expected a property name in double quotes or '}}', found {found}"
    if state == _COMMA_OR_CLOSE:
        closer = "}" if stack and stack[-1][4] is not None else "]"
        return f"expected ',' or '{closer}', found {found} (a missing comma?)"
    if state == _DONE:
        return f"unexpected {found} after the end of the JSON value"
    return f"expected a value, found {found}"


# --- helpers used everywhere -------------------------------------------------------------

def ci_key(obj: dict, name: str):
    """The key of ``obj`` that ARM would match for ``name`` (case-insensitive), or None."""
    if name in obj:
        return name
    low = name.lower()
    for k in obj:
        if k.lower() == low:
            return k
    return None


def ci_get(obj, name: str, default=None):
    if not isinstance(obj, dict):
        return default
    k = ci_key(obj, name)
    return default if k is None else obj[k]


def pointer(container, key=None) -> str:
    """JSON pointer (RFC 6901) of ``container[key]`` (or of ``container``) within its file."""
    parts = []
    if key is not None:
        parts.append(key)
    node = container
    while node is not None and node.parent is not None:
        parts.append(node.pkey)
        node = node.parent
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in reversed(parts))
