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


def load(path: str) -> collections.Counter:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except OSError as exc:
        raise ValueError(f"cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("findings"), list):
        raise ValueError(f"not a vmsslint baseline (expected \"format\": \"{FORMAT}\"); write one with --write-baseline")
    return collections.Counter(e.get("fingerprint") for e in doc["findings"] if isinstance(e, dict))


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
