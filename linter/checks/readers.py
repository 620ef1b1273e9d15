"""How Azure reads a JSON value where it expects a boolean or a number (its deserializer is lenient)."""

from __future__ import annotations


def as_bool(value):
    """A boolean as Azure reads it: true/false, or the strings "true"/"false" (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def as_number(value):
    """An integer as Azure's JSON reader takes it: 5, or the string "5"; anything else unchanged."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


def lower(value):
    return value.lower() if isinstance(value, str) else None
