"""Helpers of the hostile-input tests and the fuzzer: run the command in-process, check each format's output."""

from __future__ import annotations

import io
import json
import re
import sys
import xml.etree.ElementTree as ET

FORMATS = ("text", "json", "sarif", "junit", "github", "azure")
# raw characters no consumer of a report may receive: C0 controls but tab and newline, DEL, C1 controls
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def cli(*args) -> tuple:
    """``vmsslint ARGS`` in this process: (exit status, stdout bytes, stderr bytes).

    Standard output and error are strict UTF-8 streams: text that cannot be encoded fails here as it
    would on a real pipe."""
    from linter.launch import main
    out, err = io.BytesIO(), io.BytesIO()
    so = io.TextIOWrapper(out, encoding="utf-8", errors="strict", write_through=True)
    se = io.TextIOWrapper(err, encoding="utf-8", errors="strict", write_through=True)
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = so, se
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        so.flush()
        se.flush()
        sys.stdout, sys.stderr = old
    return code, out.getvalue(), err.getvalue()


def check_output(fmt: str, data: bytes):
    """Assert ``data`` is what the consumer of ``fmt`` can take; returns the decoded text."""
    text = data.decode("utf-8")  # strict: valid UTF-8 or it raises
    bad = RAW_CONTROL.search(text)
    assert bad is None, f"{fmt}: raw control character {bad.group(0)!r} in the output"
    if fmt in ("json", "sarif"):
        doc = json.loads(text)
        if fmt == "sarif":
            from conftest import assert_valid_sarif
            assert_valid_sarif(text)
        else:
            assert isinstance(doc["findings"], list)
    elif fmt == "junit":
        ET.fromstring(data)
    elif fmt == "github":
        for line in text.splitlines():
            assert line.startswith("::"), line
    elif fmt == "azure":  # logging commands, and info findings as plain lines that cannot start one
        for line in text.splitlines():
            assert line.startswith("##vso[") or "##" not in line, line
    return text
