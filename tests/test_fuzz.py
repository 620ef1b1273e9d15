"""A fuzzer in the suite (issue 11): generated templates (hypothesis) and mutated real templates
(../shared/corpus), every output format, bounded in time and memory.

For every input and every format (and ``--diff``): the exit status is 0, 1 or 2; nothing is printed
as a traceback; the output is valid for its consumer (JSON parses, SARIF validates, JUnit parses as
XML, text and CI commands are UTF-8 without raw control characters); the planted password and SAS
signature are never printed; each run ends within PER_RUN_SECONDS under a memory ceiling.
Runs in-process (a per-run interval timer, RLIMIT_AS for the test's duration) so that hundreds of
inputs fit in CI's minute.  Deterministic: hypothesis is derandomized, the mutations are seeded.
How many inputs were tried is reported as a FuzzStats warning (shown in pytest's warnings summary).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import time
import traceback
import warnings

import pytest

from conftest import SHARED, template, vmss
from hostile import FORMATS, check_output, cli

# An internal error (VMSS000) anywhere, the evaluator included, fails the suite: the numbers and dates
# Azure would refuse (int(float('1e999')), dateTimeFromEpoch(99999999999999), 'P99999999999Y', ...) are
# findings at their expression.  The failing input is kept and named in the assertion.

PER_RUN_SECONDS = 10
MEMORY_HEADROOM = 1536 * 1024 * 1024  # bytes of address space a run may add to the test process
HYPOTHESIS_EXAMPLES = 200
MUTATIONS = 300
BUDGET_SECONDS = 28  # each half stops early (and says so) past this, whatever the machine's speed

PASSWORD = "Fuzz-Pw-Hunter2!"
SIG = "FUZZSIGSECRET0123"
SAS = f"https://acct.blob.core.windows.net/c/setup.sh?sv=2022-11-02&se=2031-01-01&sig={SIG}"
MODES = FORMATS + ("diff",)


class FuzzTimeout(BaseException):
    """Raised by the interval timer: a BaseException, so that no ``except Exception`` swallows it."""


class FuzzStats(UserWarning):
    pass


class Harness:
    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.inputs = 0
        self.runs = 0
        self.internal_frames = []

    def record_internal(self, exc):
        frames = traceback.extract_tb(exc.__traceback__)
        ours = [f for f in frames if os.sep + "linter" + os.sep in f.filename]
        self.internal_frames.append(ours[-1] if ours else (frames[-1] if frames else None))

    def check(self, data: bytes, name: str, secrets=True):
        """Lint ``data`` as ``name`` in every mode; assert every property."""
        self.inputs += 1
        path = self.tmp / name
        path.write_bytes(data)
        planted = secrets and (PASSWORD.encode() in data and f"&sig={SIG}".encode() in data)
        for mode in MODES:
            args = ["lint", "--diff"] if mode == "diff" else ["lint", "--format", mode]
            self.internal_frames.clear()
            start = time.monotonic()
            signal.setitimer(signal.ITIMER_REAL, PER_RUN_SECONDS)
            try:
                code, out, err = cli(*args, path)
            except FuzzTimeout as exc:
                self.record_internal(exc)
                self._fail(path, f"{mode}: more than {PER_RUN_SECONDS} s", self.internal_frames)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            self.runs += 1
            elapsed = time.monotonic() - start
            assert b"Traceback" not in err, (path, mode, err.decode("utf-8", "replace")[-2000:])
            if code == 3:  # a VMSS000 finding (SARIF lists the rule VMSS000 in every report: not a sign)
                self._fail(path, f"internal error: {_vmss000(out, err)}", self.internal_frames)
            assert code in (0, 1, 2), (path, mode, code)
            text = check_output("text" if mode == "diff" else mode, out.replace(b"\r\n", b"\n"))
            err.decode("utf-8")
            if planted:
                shown = text + err.decode("utf-8")
                assert PASSWORD not in shown and SIG not in shown, (path, mode)
            assert elapsed < PER_RUN_SECONDS, (path, mode, elapsed)

    def _fail(self, path, what, frames):
        keep = self.tmp / "crashes"
        keep.mkdir(exist_ok=True)
        kept = keep / path.name
        kept.write_bytes(path.read_bytes())
        where = f" at {frames[-1].filename.split(os.sep + 'linter' + os.sep)[-1]}:{frames[-1].lineno}" \
            if frames and frames[-1] is not None else ""
        raise AssertionError(f"{kept}: {what}{where}")


def _vmss000(out: bytes, err: bytes) -> str:
    m = re.search(rb"internal error (?:while linting this file|in rule [^(]*\([^)]*\) on this resource) \(([^)]*)\)"
                  rb"|vmsslint's (\w+\(\) failed \([^)]*\))", out)
    if m:
        return (m.group(1) or m.group(2)).decode("utf-8", "replace")[:200]
    return err.decode("utf-8", "replace")[-300:]


@pytest.fixture
def harness(tmp_path, monkeypatch):
    """A bounded run: an interval timer per run, an address-space ceiling for the test's duration, and
    the internal errors' tracebacks kept (to tell an evaluator crash from one of ours)."""
    resource = pytest.importorskip("resource")
    h = Harness(tmp_path)

    def alarm(signum, frame):
        raise FuzzTimeout()
    old_handler = signal.signal(signal.SIGALRM, alarm)
    from linter.engine import Engine
    real = Engine._internal_error

    def internal_error(self, report, path, exc):
        h.record_internal(exc)
        return real(self, report, path, exc)
    monkeypatch.setattr(Engine, "_internal_error", internal_error)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    ceiling = _vm_size() + MEMORY_HEADROOM
    if hard == resource.RLIM_INFINITY or ceiling < hard:
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))
    try:
        yield h
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        signal.signal(signal.SIGALRM, old_handler)


def _vm_size() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 4 * 1024 * 1024 * 1024


def _report(kind, h, started, stopped_early=False):
    msg = (f"{kind}: {h.inputs} inputs, {h.runs} runs ({len(MODES)} modes each) in {time.monotonic() - started:.1f} s"
           + ("; stopped at the time budget" if stopped_early else ""))
    print(msg)
    warnings.warn(FuzzStats(msg))


# --- generated templates --------------------------------------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

HOSTILE_TEXT = st.text(alphabet=st.sampled_from(
    list("abc'\"[](),.-{}:%;/\\ ") + ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\ud800", "\udcff", "\u2028",
                                     "\u202e", "\ufffe", "é", "中", "\U0001f600", "\t", "\n", "\r"]), max_size=30)
NUMBERS = st.one_of(st.integers(-1000, 1000), st.sampled_from([2 ** 31, 2 ** 63 - 1, -2 ** 63, 2 ** 64, 10 ** 30]),
                    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([1e308, -0.0, 1e-320]))
FUNCTIONS = ["concat", "string", "int", "float", "length", "toLower", "toUpper", "substring", "replace", "split",
             "join", "first", "last", "union", "intersection", "createArray", "createObject", "if", "equals", "not",
             "and", "or", "add", "sub", "mul", "div", "mod", "min", "max", "range", "take", "skip", "contains",
             "empty", "coalesce", "base64", "base64ToString", "uri", "uriComponent", "guid", "uniqueString", "format",
             "padLeft", "trim", "dateTimeAdd", "dateTimeFromEpoch", "utcNow", "parameters", "variables",
             "resourceGroup", "subscription", "json", "array", "bool", "indexOf", "startsWith", "items",
             "reference", "resourceId", "listKeys", "copyIndex", "greater", "less", "null", "true", "false"]


def _arg(draw_from):
    return st.one_of(
        st.integers(-20, 300).map(str),
        st.sampled_from(["2147483648", "9223372036854775807", "-9223372036854775808", "1.5"]),
        HOSTILE_TEXT.map(lambda s: "'" + s.replace("'", "''") + "'"),
        draw_from)


EXPR = st.deferred(lambda: st.builds(lambda f, args, prop: f"{f}({', '.join(args)}){prop}",
                                     st.sampled_from(FUNCTIONS), st.lists(_arg(EXPR), max_size=3),
                                     st.sampled_from(["", "", ".name", "[0]", ".location"])))
# numbers and dates at the edges of what ARM accepts, in calls of the right arity (ARM integers are 64-bit);
# sizes stay small where a huge one only measures the evaluation budget (range, padLeft: the lead's part)
EDGE_INT = st.sampled_from(["0", "-1", "2147483648", "9223372036854775807", "-9223372036854775808",
                            "99999999999999", "1" + "0" * 30, "1" + "0" * 400])
EDGE_FLOAT = st.sampled_from(["'1e999'", "'-1e999'", "'nan'", "'inf'", "'1.5'", "'-0'", "'1e-400'", "'x'"])
EDGE_DURATION = st.sampled_from(["'P99999999999Y'", "'PT99999999999999H'", "'P1Y'", "'-P1D'", "'PT'", "'P'"])
SMALL = st.integers(-5, 2000).map(str)
EDGE_EXPR = st.one_of(
    st.builds("int(float({}))".format, EDGE_FLOAT), st.builds("float({})".format, EDGE_FLOAT),
    st.builds("string(float({}))".format, EDGE_FLOAT), st.builds("int({})".format, EDGE_INT),
    st.builds("dateTimeFromEpoch({})".format, EDGE_INT),
    st.builds("dateTimeAdd('2020-01-01T00:00:00Z', {})".format, EDGE_DURATION),
    st.builds("dateTimeToEpoch(dateTimeAdd('9999-12-31T00:00:00Z', {}))".format, EDGE_DURATION),
    st.builds("{}({}, {})".format, st.sampled_from(["add", "sub", "mul", "div", "mod", "min", "max"]), EDGE_INT,
              st.one_of(EDGE_INT, st.sampled_from(["0", "3"]))),
    st.builds("substring('abcdef', {}, {})".format, EDGE_INT, SMALL),
    st.builds("take(createArray(1, 2, 3), {})".format, EDGE_INT), st.builds("skip('abc', {})".format, EDGE_INT),
    st.builds("range({}, {})".format, EDGE_INT, SMALL), st.builds("padLeft('a', {}, 'b')".format, SMALL),
    st.builds("format('{{0:{}}}', {})".format, st.sampled_from(["N2", "D5", "X", "E3", "P", ",999", "N9999"]),
              st.one_of(EDGE_INT, st.just("'a'"))),
    st.builds("copyIndex({})".format, EDGE_INT), st.builds("base64ToString('{}')".format, st.sampled_from(
        ["////", "=", "AA==", "gA=="])), st.builds("json('{}')".format, st.sampled_from(
            ["1" + "0" * 5000, "[" * 2000, "{\"a\":", "1e999", "\\ud800"])),
)
VALUES = st.recursive(
    st.one_of(HOSTILE_TEXT, NUMBERS, st.booleans(), st.none(), EXPR.map(lambda e: f"[{e}]"),
              EDGE_EXPR.map(lambda e: f"[{e}]"),
              st.just(SAS), st.just("1.0")),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(HOSTILE_TEXT, inner, max_size=3)),
    max_leaves=8)
PATHS = ["name", "location", "apiVersion", "sku.capacity", "sku.name", "zones", "tags",
         "properties.upgradePolicy.mode",
         "properties.upgradePolicy.automaticOSUpgradePolicy.enableAutomaticOSUpgrade",
         "properties.upgradePolicy.rollingUpgradePolicy",
         "properties.upgradePolicy.rollingUpgradePolicy.pauseTimeBetweenBatches",
         "properties.virtualMachineProfile.storageProfile.imageReference.version",
         "properties.virtualMachineProfile.storageProfile.imageReference.offer",
         "properties.virtualMachineProfile.storageProfile.imageReference.id",
         "properties.virtualMachineProfile.osProfile.windowsConfiguration",
         "properties.virtualMachineProfile.extensionProfile",
         "properties.virtualMachineProfile.networkProfile.healthProbe.id",
         "properties.orchestrationMode", "properties.overprovision", "copy", "condition", "dependsOn"]


@st.composite
def templates(draw):
    literal = draw(st.booleans())
    res = vmss(name=draw(st.one_of(HOSTILE_TEXT, st.just(SAS), HOSTILE_TEXT.map(lambda s: s + SAS))), **{
        "properties.virtualMachineProfile.osProfile.adminPassword":
            PASSWORD if literal else "[parameters('adminPassword')]",
        "properties.virtualMachineProfile.storageProfile.imageReference.version": "[parameters('imageVersion')]"})
    res["properties"]["virtualMachineProfile"]["extensionProfile"] = {"extensions": [{
        "name": "setup", "properties": {"publisher": "Microsoft.Azure.Extensions", "type": "CustomScript",
                                        "typeHandlerVersion": "2.1", "settings": {"fileUris": [SAS]}}}]}
    res["tags"] = {f"e{i}": f"[{e}]" for i, e in enumerate(draw(st.lists(EDGE_EXPR, max_size=2)))}
    for path in draw(st.lists(st.sampled_from(PATHS), min_size=1, max_size=4, unique=True)):
        node = res
        parts = path.split(".")
        for p in parts[:-1]:
            nxt = node.get(p) if isinstance(node, dict) else None
            if not isinstance(nxt, dict):
                nxt = node[p] = {}
            node = nxt
        node[parts[-1]] = draw(VALUES)
    # a fixable pinned version next to a password: --diff shows the password's lines as context
    params = {"imageVersion": {"type": "string", "defaultValue": draw(st.one_of(st.just("1.0"), VALUES))},
              "adminPassword": {"type": draw(st.sampled_from(["string", "securestring"])), "defaultValue": PASSWORD}}
    params.update(draw(st.dictionaries(st.sampled_from(["p", "count", "x"]), st.fixed_dictionaries(
        {"type": st.sampled_from(["string", "int", "array", "object", "securestring", "bool"]),
         "defaultValue": VALUES}), max_size=2)))
    variables = draw(st.dictionaries(st.sampled_from(["v", "w"]), VALUES, max_size=2))
    outputs = draw(st.dictionaries(st.sampled_from(["o"]), st.fixed_dictionaries(
        {"type": st.just("string"), "value": VALUES}), max_size=1))
    doc = template(res, parameters=params, variables=variables, outputs=outputs)
    text = json.dumps(doc, indent=draw(st.sampled_from([None, 2])), ensure_ascii=draw(st.booleans()),
                      allow_nan=False)
    return text.encode("utf-8", "surrogatepass")


def test_fuzz_generated_templates(harness):
    started = time.monotonic()
    over = []

    @settings(max_examples=HYPOTHESIS_EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), print_blob=True)
    @given(templates())
    def one(data):
        if time.monotonic() - started > BUDGET_SECONDS:
            over.append(1)
            return
        harness.check(data, "t.json")

    one()
    _report("hypothesis", harness, started, bool(over))
    assert harness.inputs >= 20


# --- mutated real templates ---------------------------------------------------------------------------

SNIPPETS = [b"\x00", b"\x1b[2J", b"\\u001b[2J", b"\\ud800", b"\"\\udcff\"", b"\xff\xfe", b"\xef\xbb\xbf",
            b"9" * 5000, b"-" + b"9" * 400, b"1e999", b"[" * 3000, b"{" * 200, b"/*", b"//", b"\r", "\u202e".encode(),
            b"\xe2\x80\xae", b'"[concat(\'a\', \'b\')]"', b'"[[x]"', b",", b"}", b"]", b":", b'"', b"'",
            b'"name": "' + SAS.encode() + b'",', b"\t", b"\x85", b"NaN", b"-Infinity"]


def _mutate(rng: random.Random, data: bytes) -> bytes:
    kind = rng.randrange(9)
    n = len(data)
    pos = rng.randrange(n + 1) if n else 0
    if kind == 0:
        return data[:pos]
    if kind == 1 and n:
        i = rng.randrange(n)
        return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1:]
    if kind == 2:
        return data[:pos] + rng.choice(SNIPPETS) + data[pos:]
    if kind == 3:  # a string value replaced by a hostile one
        strings = [m.span(1) for m in re.finditer(rb':\s*"([^"\\\n]{0,80})"', data)]
        if strings:
            a, b = rng.choice(strings)
            return data[:a] + rng.choice([b"\\u001b[2J\\u0007", b"\\ud800x", b"\\u0000", b"a\\nb\\r",
                                          SAS.encode(), b"\\u202egnp.exe", b"%AZP25;]::"]) + data[b:]
        return data
    if kind == 4:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return data
        codec = rng.choice(["utf-16-le", "utf-16-be", "utf-8"])
        bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff", "utf-8": b"\xef\xbb\xbf"}[codec]
        return bom * rng.choice([1, 2]) + text.encode(codec, "surrogatepass")
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    if kind == 5:
        lines.insert(i, lines[i])
    elif kind == 6:
        del lines[i]
    elif kind == 7:
        lines[i] = lines[i].replace(b"\n", b"\r\n") + b"\r"
    else:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


def _plant(data: bytes) -> bytes:
    """The planted secrets: a password and a SAS URL in the template, where reports could show them."""
    data = re.sub(rb'("adminPassword"\s*:\s*)"[^"\n]*"', b'\\1"' + PASSWORD.encode() + b'"', data, count=1)
    if PASSWORD.encode() not in data:
        data = re.sub(rb'("adminUsername"\s*:\s*"[^"\n]*")', b'\\1, "adminPassword": "' + PASSWORD.encode() + b'"',
                      data, count=1)
    return re.sub(rb'("name"\s*:\s*)"[^"\n]*"', b'\\1"' + SAS.encode() + b'"', data, count=1)


@pytest.mark.skipif(not (SHARED / "corpus").is_dir(),
                    reason="../shared/corpus (real ARM templates) is not beside this checkout; it exists on the "
                           "developers' machines and in CI only")
def test_fuzz_mutated_corpus(harness):
    rng = random.Random(11)
    files = sorted(p for p in (SHARED / "corpus").rglob("*.json") if p.stat().st_size < 40_000)
    assert files
    started = time.monotonic()
    stopped = False
    for i in range(MUTATIONS):
        if time.monotonic() - started > BUDGET_SECONDS:
            stopped = True
            break
        src = rng.choice(files)
        data = _plant(src.read_bytes())
        for _ in range(rng.choice([1, 1, 2, 3])):
            data = _mutate(rng, data)
        harness.check(data, f"m{i % 2}.json")
    _report("mutation", harness, started, stopped)
    assert harness.inputs >= 20
