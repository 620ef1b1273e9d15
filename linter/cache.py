"""A small cache of validated data (rules, configuration) in the user's cache directory.

Entries are JSON, keyed by the names, sizes and modification times of the files they were made
from and vmsslint's version, and written atomically.  ``VMSSLINT_NO_CACHE=1`` turns it off;
``VMSSLINT_CACHE_DIR`` moves it.  A cache that cannot be written only makes start-up slower.
"""

from __future__ import annotations

import json
import os
import zlib

from linter import __version__


def cache_dir() -> str | None:
    if os.environ.get("VMSSLINT_NO_CACHE"):
        return None
    base = os.environ.get("VMSSLINT_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "vmsslint")
    return base


def stamp(files) -> str:
    parts = [__version__, "cache-format-2"]
    for f in files:
        try:
            st = os.stat(f)
        except OSError:
            parts.append(f"{os.path.abspath(f)}\0missing")
            continue
        parts.append(f"{os.path.abspath(f)}\0{st.st_size}\0{st.st_mtime_ns}")
    return "\n".join(parts)


MISS = object()


def _path(kind: str, key: str):
    cdir = cache_dir()
    return os.path.join(cdir, f"{kind}-{zlib.crc32(key.encode()):08x}.json") if cdir else None


def read(kind: str, key: str):
    """The cached value of ``kind`` for ``key``, or ``MISS``."""
    path = _path(kind, key)
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
            if isinstance(data, dict) and data.get("key") == key and "value" in data:
                return data["value"]
        except (OSError, ValueError):
            pass
    return MISS


def write(kind: str, key: str, value) -> None:
    path = _path(kind, key)
    if path:
        _write(path, {"key": key, "value": value})


def cached(kind: str, files, compute):
    """``compute()`` (JSON-able), or its cached value while ``files`` are unchanged."""
    key = stamp(files)
    value = read(kind, key)
    if value is MISS:
        value = compute()
        write(kind, key, value)
    return value


def _write(path: str, data) -> None:
    import tempfile
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".cache-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)
    except OSError:
        pass
