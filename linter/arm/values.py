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


class Unknown:
    __slots__ = ("why", "key", "secret")

    def __init__(self, why: str, key: str | None = None, secret: bool = False):
        self.why = why
        self.key = key
        self.secret = secret

    def member(self, name) -> "Unknown":
        key = None if self.key is None else f"{self.key}.{name}" if isinstance(name, str) else f"{self.key}[{name}]"
        return Unknown(self.why, key, self.secret)

    def __repr__(self):
        return f"Unknown({self.key or self.why!r})"

    def describe(self) -> str:
        return self.key or "a value known only at deployment"


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

    def map_text(self, fn):
        return Partial([fn(p) if isinstance(p, str) else Unknown(p.why, None if p.key is None else f"{fn.__name__}({p.key})", p.secret) for p in self.parts])

    def display(self) -> str:
        return "".join(p if isinstance(p, str) else "{" + p.describe() + "}" for p in self.parts)

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
        return None if value.key is None else "\x00" + value.key + "\x00"
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
    except _Incomparable:
        return None


class _Incomparable(Exception):
    pass


def _canon_default(obj):
    c = canon(obj)
    if c is None:
        raise _Incomparable()
    return c


def display_expression(value: Unknown) -> str:
    """The expression text of an unknown value, for people (no internal markers)."""
    return (value.key or value.why).replace("\x00", "")


def display(value, limit: int = 200) -> str:
    """A short human rendering of an evaluated value for messages."""
    if isinstance(value, Unknown):
        text = "{" + value.describe() + "}"
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
            text = json.dumps(value, default=lambda o: display(o), separators=(", ", ": "))
        except (TypeError, ValueError):
            text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text
