"""Values of the ARM template language that are not known before deployment.

* :class:`Unknown` — a value only Azure knows at deployment time (``subscription().subscriptionId``,
  ``reference()`` of an outside resource, ``newGuid()``, a Key Vault secret …).  It says *why* it is
  unknown and, when the value is deterministic within one deployment, carries a ``key``: a canonical
  text of the computation (``uniqueString(resourceGroup().id)``), so that two unknowns computed the
  same way are known to be equal even though their value is not.
* :class:`Partial` — a string of which some pieces are known: ``resourceId('Microsoft.Network/
  loadBalancers/probes', 'lb', 'p')`` is ``/subscriptions/⟨?⟩/resourceGroups/⟨?⟩/providers/
  Microsoft.Network/loadBalancers/lb/probes/p``.  Rules can still read the type and names.

Neither is ever turned into a pass or a fail: a rule that meets one reports *unverifiable*.
"""

from __future__ import annotations

import json
import re

#: Brackets an unknown's key inside canonical texts (equality only; never shown to people).
_MARK = "\x00"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


class Unknown:
    """``key`` is for equality only (it may hold internal markers); ``text`` is for people: the
    template's own expression that could not be known."""

    __slots__ = ("why", "key", "secret", "text")

    def __init__(self, why: str, key: str | None = None, secret: bool = False, text: str | None = None):
        self.why = why
        self.key = key
        self.secret = secret
        self.text = text

    def member(self, name) -> "Unknown":
        suffix = f".{name}" if isinstance(name, str) else f"[{name}]"
        key = None if self.key is None else self.key + suffix
        return Unknown(self.why, key, self.secret, None if self.text is None else self.text + suffix)

    def with_text(self, text: str) -> "Unknown":
        return self if self.text is not None else Unknown(self.why, self.key, self.secret, text)

    def __repr__(self):
        return f"Unknown({self.key or self.why!r})"

    def describe(self) -> str:
        """The expression text for people; never an internal marker."""
        if self.text is not None:
            return self.text
        if self.key is not None:
            return self.key.replace(_MARK, "")
        return "a value known only at deployment"


class Partial:
    """A string made of known text and :class:`Unknown` pieces (never two texts side by side)."""

    __slots__ = ("parts",)

    def __init__(self, parts):
        self.parts = tuple(parts)

    @staticmethod
    def join(pieces):
        """Concatenate strings, Partials and Unknowns; a plain ``str`` when everything is known."""
        out: list = []
        for piece in pieces:
            items = piece.parts if isinstance(piece, Partial) else (piece,)
            for it in items:
                if isinstance(it, str):
                    if not it:
                        continue
                    if out and isinstance(out[-1], str):
                        out[-1] = out[-1] + it
                        continue
                out.append(it)
        if not out:
            return ""
        if len(out) == 1 and isinstance(out[0], str):
            return out[0]
        return Partial(out)

    def known_prefix(self) -> str:
        return self.parts[0] if isinstance(self.parts[0], str) else ""

    def known_suffix(self) -> str:
        return self.parts[-1] if isinstance(self.parts[-1], str) else ""

    def unknowns(self):
        return [p for p in self.parts if isinstance(p, Unknown)]

    def map_text(self, fn, fname: str):
        return Partial([fn(p) if isinstance(p, str) else
                        Unknown(p.why, None if p.key is None else f"{fname}({p.key})", p.secret,
                                f"{fname}({p.describe()})")
                        for p in self.parts])

    def display(self) -> str:
        """Known text with ``[expression]`` for each unknown part: ``vmss-[uniqueString(...)]``."""
        return "".join(p if isinstance(p, str) else "[" + p.describe() + "]" for p in self.parts)

    def __repr__(self):
        return f"Partial({self.display()!r})"


def contains_unknown(value, _depth=0) -> bool:
    if isinstance(value, (Unknown, Partial)):
        return True
    if _depth > 64:
        return False
    if isinstance(value, dict):
        return any(contains_unknown(v, _depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v, _depth + 1) for v in value)
    return False


def is_secret(value, _depth=0) -> bool:
    """Whether ``value`` is or holds a secret (a secure parameter, listKeys(), a Key Vault reference)."""
    if isinstance(value, Unknown):
        return value.secret
    if isinstance(value, Partial):
        return any(p.secret for p in value.unknowns())
    if _depth > 64:
        return False
    if isinstance(value, dict):
        return any(is_secret(v, _depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(is_secret(v, _depth + 1) for v in value)
    return False


def first_unknown(value, _depth=0):
    if isinstance(value, Unknown):
        return value
    if isinstance(value, Partial):
        return value.unknowns()[0]
    if _depth > 64:
        return None
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        for v in value:
            u = first_unknown(v, _depth + 1)
            if u is not None:
                return u
    return None


def canon(value):
    """Canonical text of a value for equality between partially known values; None if incomparable."""
    if isinstance(value, str):
        return value
    if isinstance(value, Unknown):
        return None if value.key is None else _MARK + value.key + _MARK
    if isinstance(value, Partial):
        out = []
        for p in value.parts:
            c = canon(p)
            if c is None:
                return None
            out.append(c)
        return "".join(out)
    try:
        return json.dumps(value, sort_keys=True, default=_canon_default, separators=(",", ":"))
    except (_Incomparable, TypeError, ValueError, RecursionError):
        return None


class _Incomparable(Exception):
    pass


def _canon_default(obj):
    if not isinstance(obj, (Unknown, Partial)):
        raise _Incomparable()
    c = canon(obj)
    if c is None:
        raise _Incomparable()
    return c


def display_expression(value: Unknown) -> str:
    """The expression text of an unknown value, for people (no internal markers)."""
    return visible(value.describe() if (value.text or value.key) else value.why)


def visible(text: str) -> str:
    """Control characters, lone surrogates and line separators written as visible escapes."""
    if _CONTROL.search(text) is None:
        return text
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def shorten(text: str, limit: int) -> str:
    """``text`` shortened in the middle (``head...tail``) when longer than ``limit``."""
    if len(text) <= limit:
        return text
    keep = max(limit - 3, 2)
    head = (keep + 1) // 2
    return text[:head] + "..." + text[len(text) - (keep - head):]


def display(value, limit: int = 200) -> str:
    """A short human rendering of an evaluated value for messages (no control characters)."""
    if isinstance(value, Unknown):
        text = "[" + value.describe() + "]"
    elif isinstance(value, Partial):
        text = value.display()
    elif isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    else:
        try:
            text = json.dumps(value, default=lambda o: display(o, limit), separators=(", ", ": "),
                              ensure_ascii=False)
        except (TypeError, ValueError, RecursionError):
            text = "a value"
    return shorten(visible(text), limit)
