"""Baselines: record today's findings, later report only new ones.

A finding is known by its fingerprint — rule, file, resource and JSON path, never a line number
(see :func:`linter.output.fingerprint`) — so editing elsewhere in a file does not resurrect
findings that were accepted.  Fingerprints are counted: two identical findings need two entries.
"""

from __future__ import annotations

import collections
import json

from linter import __version__

FORMAT = "vmsslint-baseline/1"


def dump(findings) -> str:
    from linter.output import fingerprint
    entries = sorted(({"fingerprint": fingerprint(f), "code": f.code, "file": f.file.replace("\\", "/"),
                       "resource": f.resource, "path": f.path} for f in findings),
                     key=lambda e: (e["file"], e["code"], e["path"], e["fingerprint"]))
    return json.dumps({"format": FORMAT, "vmsslint": __version__, "findings": entries}, indent=2) + "\n"


#: A baseline of a large estate is a few MB; 64 MB is far beyond any.
MAX_BYTES = 64 * 1024 * 1024


def load(path: str) -> collections.Counter:
    from linter.fileio import ReadError, read_text
    try:
        doc = json.loads(read_text(path, MAX_BYTES))
    except ReadError as exc:
        raise ValueError(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise ValueError("nested far deeper than a baseline is; not a vmsslint baseline") from None
    except ValueError as exc:  # an integer beyond Python's digit limit
        raise ValueError(f"not a usable JSON value: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("findings"), list):
        raise ValueError(f"not a vmsslint baseline (expected \"format\": \"{FORMAT}\"); write one with --write-baseline")
    out: collections.Counter = collections.Counter()
    for i, entry in enumerate(doc["findings"]):
        fp = entry.get("fingerprint") if isinstance(entry, dict) else None
        if not isinstance(fp, str):
            raise ValueError(f"findings[{i}]: \"fingerprint\" must be a string, not "
                             f"{type(fp).__name__ if fp is not None else 'missing'}")
        out[fp] += 1
    return out


def subtract(findings, known: collections.Counter):
    """(findings not in the baseline, how many were in it)."""
    from linter.output import fingerprint
    left = collections.Counter(known)
    out = []
    hidden = 0
    for f in findings:
        fp = fingerprint(f)
        if left[fp] > 0:
            left[fp] -= 1
            hidden += 1
        else:
            out.append(f)
    return out, hidden
