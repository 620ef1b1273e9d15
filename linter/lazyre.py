"""Regular expressions compiled on first use: most runs never need most of them, and compiling
costs start-up time that a pre-commit hook pays on every commit."""

from __future__ import annotations

import re


class LazyRegex:
    __slots__ = ("_args", "_rx")

    def __init__(self, pattern: str, flags: int = 0):
        self._args = (pattern, flags)
        self._rx = None

    def __getattr__(self, name):
        rx = self._rx
        if rx is None:
            rx = self._rx = re.compile(*self._args)
        return getattr(rx, name)
