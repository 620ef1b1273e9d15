"""The real third-party corpus in ../shared/corpus: no crash, no internal error, no unreviewed error."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import SHARED, lint, needs_shared

CORPUS = SHARED / "corpus"
REVIEWED = os.path.join(os.path.dirname(__file__), "corpus_errors.txt")


def reviewed():
    out = set()
    with open(REVIEWED, encoding="utf-8") as fh:
        for line in fh:
            if line.strip() and not line.startswith("#"):
                f, code, ln, _ = [x.strip() for x in line.split("|", 3)]
                out.add((f, code, int(ln)))
    return out


def errors(report):
    return {(os.path.relpath(f.src.path, CORPUS), f.code, f.line) for f in report.findings if f.severity == "error"}


@needs_shared
def test_every_error_on_the_corpus_was_reviewed():
    report = lint(CORPUS)
    assert report.templates > 100
    assert errors(report) == reviewed()


@needs_shared
@pytest.mark.parametrize("settings", [{"require_auto_upgrade": True}, {"edition": "2020"},
                                      {"edition": "2020", "require_auto_upgrade": True}])
def test_corpus_lints_without_internal_errors(settings):
    report = lint(CORPUS, **settings)
    assert not [f for f in report.findings if f.code == "VMSS000"]
    assert report.templates > 100


@needs_shared
def test_unresolvable_values_on_the_corpus_are_info_only():
    report = lint(CORPUS, require_auto_upgrade=True)
    unverifiable = [f for f in report.findings if f.unverifiable or f.code == "VMSS010"]
    assert unverifiable and all(f.severity == "info" for f in unverifiable)
    assert all("Cannot verify" in f.message for f in unverifiable if f.unverifiable)


@needs_shared
def test_command_line_over_the_corpus():
    r = subprocess.run([sys.executable, "-m", "linter", "lint", str(CORPUS)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 1  # the reviewed errors above
    assert "Traceback" not in r.stderr and "VMSS000" not in r.stdout
