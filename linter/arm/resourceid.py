"""Reading resource ids that may be only partly known, and finding the resources they name.

``/subscriptions/{?}/resourceGroups/{?}/providers/Microsoft.Network/loadBalancers/lb/probes/p``
has an unknown subscription and resource group but a known type and names: :func:`parse` returns
``("microsoft.network/loadbalancers/probes", ["lb", "p"])`` with names in canonical form (an
unknown piece inside a name keeps its canonical key, so that two names computed alike compare equal).
"""

from __future__ import annotations

from linter.arm.values import Partial, canon

INCOMPARABLE = object()


def segments(value):
    """'/'-separated segments of a str or Partial; a segment holding an unknown without key is INCOMPARABLE."""
    if isinstance(value, str):
        return value.strip("/").split("/")
    if not isinstance(value, Partial):
        return None
    segs: list = [""]
    for part in value.parts:
        if isinstance(part, str):
            pieces = part.split("/")
            for j, piece in enumerate(pieces):
                if j > 0:
                    segs.append("")
                if segs[-1] is not INCOMPARABLE:
                    segs[-1] += piece
        else:
            c = canon(part)
            segs[-1] = INCOMPARABLE if c is None or segs[-1] is INCOMPARABLE else segs[-1] + c
    if segs and segs[0] == "":
        segs = segs[1:]
    if segs and segs[-1] == "":
        segs = segs[:-1]
    return segs


def parse(value):
    """(lower-case type, [name segments]) of the last provider in a resource id; None if not an id."""
    segs = segments(value)
    if not segs:
        return None
    idx = None
    for i, s in enumerate(segs):
        if isinstance(s, str) and s.lower() == "providers":
            idx = i
    if idx is None or idx + 2 >= len(segs):
        return None
    ns = segs[idx + 1]
    rest = segs[idx + 2:]
    if not isinstance(ns, str) or any(r is INCOMPARABLE for r in rest[0::2]):
        return None
    types = [ns] + [t for t in rest[0::2]]
    names = rest[1::2]
    if len(names) != len(types) - 1:
        return None
    return "/".join(types).lower(), names


def name_key(name):
    """Canonical lower-case text of a resource name for comparison, or None when incomparable."""
    if name is INCOMPARABLE:
        return None
    c = canon(name) if not isinstance(name, str) else name
    return None if c is None else c.lower()


def find(ctx, type_lower: str, names):
    """Resources of the template whose type and full name match; ('unknown', why) when undecidable."""
    keys = [name_key(n) for n in names]
    if any(k is None for k in keys):
        return "unknown"
    wanted = "/".join(keys)
    out = []
    for r in ctx.resources(type_lower):
        k = name_key(r.name)
        if k is None:
            continue
        if k == wanted:
            out.append(r)
    return out


def normal_region(value):
    """Region names as Azure compares them: 'West Europe' == 'westeurope'."""
    if isinstance(value, str):
        return value.replace(" ", "").lower()
    return None
