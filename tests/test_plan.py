"""vmsslint plan: from a template to a simulated rollout — text, JSON, HTML, odds, determinism."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile

import pytest

from conftest import REPO
from test_cli import run


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    d = tmp_path_factory.mktemp("plan")
    r = run("generate", "--image", "Canonical:0001-com-ubuntu-server-jammy:22_04-LTS-Gen2", "--health", "probe",
            "--instances", "10", "-o", str(d / "web"))
    assert r.returncode == 0, r.stderr
    r = run("generate", "--image", "MicrosoftWindowsServer:WindowsServer:2022-Datacenter", "--service-fabric",
            "--instances", "15", "--zones", "1,2,3", "-o", str(d / "sf"))
    assert r.returncode == 0, r.stderr
    return d


def plan_json(*args):
    r = run("plan", "--format", "json", *args)
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout), r


def test_ten_instances_in_five_batches_of_two(generated):
    doc, r = plan_json(str(generated / "web" / "azuredeploy.json"))
    [s] = doc["scaleSets"]
    assert r.returncode == 0 and s["name"] == "vmss"
    assert [len(b["instances"]) for b in s["batches"]] == [2] * 5
    assert s["runningStatus"]["code"] == "Completed"
    [h] = s["history"]
    assert h["properties"]["startedBy"] == "Platform"
    assert h["properties"]["targetImageReference"]["offer"] == "0001-com-ubuntu-server-jammy"
    assert h["type"] == "Microsoft.Compute/virtualMachineScaleSets/rollingUpgrades"


def test_failure_injection_from_the_command_line(generated):
    t = str(generated / "web" / "azuredeploy.json")
    doc, _ = plan_json(t, "--unhealthy-before", "3")
    assert doc["scaleSets"][0]["runningStatus"]["code"] == "Faulted" and doc["scaleSets"][0]["batches"] == []
    doc, _ = plan_json(t, "--fail-instances", "0,5")
    s = doc["scaleSets"][0]
    assert s["runningStatus"]["code"] == "Faulted" and s["batches"][0]["rolledBack"] == [0, 5]
    doc, _ = plan_json(t, "--maintenance", "6m:3")
    assert doc["scaleSets"][0]["error"]["code"] == "MaxUnhealthyInstancePercentExceededInRollingUpgrade"
    doc, _ = plan_json(t, "--instances", "5", "--trigger", "user", "--fail-instances", "2")
    s = doc["scaleSets"][0]
    assert [len(b["instances"]) for b in s["batches"]][:3] == [1, 1, 1]
    assert s["history"][0]["properties"]["startedBy"] == "User"
    assert any(b["failed"] == [2] for b in s["batches"])  # a manual trigger does not roll back


def test_service_fabric_plan_goes_by_update_domain(generated):
    doc, _ = plan_json(str(generated / "sf" / "azuredeploy.json"))
    s = doc["scaleSets"][0]
    assert s["runningStatus"]["code"] == "Completed"
    assert sum(len(b["instances"]) for b in s["batches"]) == 15 and len(s["batches"]) == 5


def test_lint_blockers_come_first():
    doc, r = plan_json(str(REPO / "examples" / "needs-work" / "azuredeploy.json"))
    [s] = doc["scaleSets"]
    assert r.returncode == 1 and s["batches"] == [] and {b["code"] for b in s["blocked"]} == {
        "VMSS200", "VMSS201", "VMSS300"}


def test_same_inputs_and_seed_give_identical_output(generated):
    t = str(generated / "web" / "azuredeploy.json")
    args = ["--fail-rate", "0.1", "--seed", "42", "--runs", "50"]
    assert run("plan", *args, t).stdout == run("plan", *args, t).stdout
    assert run("plan", "--format", "json", *args, t).stdout == run("plan", "--format", "json", *args, t).stdout


def test_runs_give_the_same_answer_on_any_number_of_workers(generated):
    from linter.sim import plan as planmod
    [cfg], _ = planmod.sets_from_template(str(generated / "web" / "azuredeploy.json"))
    sc = planmod.Scenario(seed=11, fail_rate=0.08, events=[{"at": 600, "action": "maintenance", "count": 1}])
    one = planmod.monte_carlo(cfg, sc, 300, workers=1)
    two = planmod.monte_carlo(cfg, sc, 300, workers=2)
    three = planmod.monte_carlo(cfg, sc, 300, workers=3)
    assert one == two == three
    assert 0 < one["completed"] < 1 and sum(one["outcomes"].values()) == 300
    assert sum(one["histogram"]["counts"]) == 300 - one["outcomes"].get("NotStarted", 0)
    by = one["histogram"]["byOutcome"]
    assert [sum(col) for col in zip(*by.values())] == one["histogram"]["counts"]
    assert {k: sum(v) for k, v in by.items()} == {k: v for k, v in one["outcomes"].items() if k in by}
    assert one["histogram"]["width"] in (60, 120, 300, 600) and one["histogram"]["start"] % 60 == 0
    t = str(generated / "web" / "azuredeploy.json")
    args = ["--fail-rate", "0.1", "--runs", "150", "--format", "json"]
    assert run("plan", "--jobs", "1", *args, t).stdout == run("plan", "--jobs", "2", *args, t).stdout


def test_progress_bar_only_on_a_terminal(generated):
    import os
    import pty
    import sys
    t = str(generated / "web" / "azuredeploy.json")
    r = run("plan", "--runs", "120", t)
    assert r.returncode == 0 and r.stderr == ""  # CI logs without a tty: no bar
    master, slave = pty.openpty()
    proc = subprocess.run([sys.executable, "-m", "linter", "plan", "--runs", "120", t], stdout=subprocess.PIPE,
                          stderr=slave, timeout=120, env=dict(os.environ, PYTHONPATH=str(REPO)))
    os.close(slave)
    seen = b""
    try:
        while True:
            chunk = os.read(master, 4096)
            if not chunk:
                break
            seen += chunk
    except OSError:
        pass
    os.close(master)
    assert proc.returncode == 0 and b"vmss: 120 runs [" in seen and b"100%" in seen
    assert b"100%" not in proc.stdout


def test_runs_report_odds(generated):
    doc, _ = plan_json(str(generated / "web" / "azuredeploy.json"), "--fail-rate", "0.15", "--runs", "200")
    st = doc["scaleSets"][0]["statistics"]
    assert st["runs"] == 200
    assert 0 < st["completed"] < 1 and 0 < st["stopped"] < 1 and st["completed"] + st["stopped"] == 1
    assert st["durationSeconds"]["p50"] <= st["durationSeconds"]["p90"] <= st["durationSeconds"]["p99"]


def test_scenario_file(generated, tmp_path):
    sc = tmp_path / "s.yaml"
    sc.write_text("seed: 3\ninstances: 20\nevents:\n  - {at: 12m, action: maintenance, count: 5}\n")
    doc, _ = plan_json(str(generated / "web" / "azuredeploy.json"), "--scenario", str(sc))
    s = doc["scaleSets"][0]
    assert sum(len(b["instances"]) for b in s["batches"]) < 20 and s["runningStatus"]["code"] == "Faulted"
    sc.write_text("events:\n  - {at: 12m, action: explode}\n")
    r = run("plan", "--scenario", str(sc), str(generated / "web" / "azuredeploy.json"))
    assert r.returncode == 2 and "'events.0.action' is 'explode'" in r.stderr


def test_text_timeline(generated):
    r = run("plan", "--fail-instances", "3", str(generated / "web" / "azuredeploy.json"))
    assert r.returncode == 0
    assert "rollout to 1.0.1 started by Platform" in r.stdout
    assert "PartiallyFailed; rolled back 3" in r.stdout and "Completed" in r.stdout


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _browser(page, *extra, timeout=120):
    browser = chromium()
    if browser is None:
        pytest.skip("no Chromium here (Debian's chromium package; .ci/run installs it when it can)")
    profile = tempfile.mkdtemp()
    return subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *extra, page.as_uri()],
                          capture_output=True, text=True, timeout=timeout)


def test_html_report_is_self_contained_and_renders_in_a_real_browser(generated, tmp_path):
    page = tmp_path / "plan.html"
    t = str(generated / "web" / "azuredeploy.json")
    r = run("plan", "--fail-instances", "3", "--maintenance", "6m:3", "--runs", "30", "--html", str(page), t)
    assert r.returncode == 1  # the re-check stops it: not completed
    text = page.read_text()
    assert "<svg" in text and "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in text and "<script" not in text and "<link" not in text and "@import" not in text
    shot = tmp_path / "shot.png"
    r = _browser(page, "--window-size=1000,800", f"--screenshot={shot}")
    assert shot.exists(), r.stderr[-2000:]
    console_errors = [ln for ln in r.stderr.splitlines() if "CONSOLE" in ln and "ERROR" in ln.upper()]
    assert console_errors == []
    assert _distinct_colours(shot.read_bytes()) > 4, "the screenshot is blank"

    # the DOM as the browser built it: the stop marker and the injected maintenance event are drawn where
    # the text timeline says they happened, with the same time labels
    dom = _browser(page, "--dump-dom").stdout
    import re
    timeline = run("plan", "--fail-instances", "3", "--maintenance", "6m:3", t).stdout
    stop = re.search(r"<g id=\"stop-marker\" class=\"stop-marker\" data-code=\"(\w+)\" data-time=\"([^\"]+)\" "
                     r"data-reason=\"([^\"]*)\"", dom)
    assert stop, dom[:3000]
    assert stop.group(1) == "Faulted" and stop.group(3) == "recheck"
    assert f"{stop.group(2)}  Faulted at {stop.group(2)}, at the end of a batch" in timeline
    ev = re.search(r"<g class=\"event-marker\" data-kind=\"maintenance\" data-time=\"([^\"]+)\" "
                   r"data-count=\"(\d+)\" data-instances=\"([\d,]+)\"", dom)
    assert ev and ev.group(1) == "+6m00s" and ev.group(2) == "3"
    assert f"+6m00s  maintenance: 3 instance(s) unhealthy ({ev.group(3)})" in timeline
    ticks = re.findall(r'class="tick">([^<]+)<', dom)
    assert "+0m00s" in ticks and "+10m00s" in ticks  # the axis speaks the text timeline's times
    assert 'id="stop-explained"' in dom and 'id="legend"' in dom
    assert 'id="duration-histogram"' in dom and 'id="outcome-odds"' in dom
    labels = re.findall(r'class="group-label">([^<]+)<', dom)
    assert labels[:2] == ["UD 0 (2)", "UD 1 (2)"]


def test_heatmap_shows_every_instance_of_a_thousand(tmp_path, generated):
    """At 1,000 instances each instance has its own row at least 3 units tall in a 1,400-unit wide drawing
    (the page is as wide as the window), grouped by zone and update domain with labels."""
    import re
    page = tmp_path / "big.html"
    r = run("plan", "--instances", "1000", "--fail-rate", "0.03", "--html", str(page),
            str(generated / "sf" / "azuredeploy.json"))
    assert r.returncode in (0, 1), r.stderr
    text = page.read_text()
    assert "svg{display:block;width:100%" in text
    width = int(re.search(r"viewBox='0 0 (\d+) ", text).group(1))
    rows = {}
    for y, h, iid in re.findall(r"<rect x='[\d.]+' y='([\d.]+)' width='[\d.]+' height='([\d.]+)' fill='#\w+'>"
                                r"<title>instance (\d+)", text):
        rows.setdefault(int(iid), set()).add((float(y), float(h)))
    assert sorted(rows) == list(range(1000))
    assert all(len(v) == 1 for v in rows.values())  # one row per instance
    ys = sorted(y for v in rows.values() for y, _ in v)
    assert min(b - a for a, b in zip(ys, ys[1:])) >= 3.0 and width <= 1400
    labels = re.findall(r"class='group-label'>([^<]+)<", text)
    assert labels[0] == "zone 1 · UD 0 (67)" and len(labels) == 15


def _distinct_colours(png: bytes) -> int:
    """Count distinct pixel colours of a PNG with only the standard library (zlib)."""
    import struct
    import zlib
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, width = 8, [], None
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", data[:10])
        elif kind == b"IDAT":
            chunks.append(data)
        pos += 12 + length
    raw = zlib.decompress(b"".join(chunks))
    bpp = {2: 3, 6: 4}[ctype]
    stride = width * bpp + 1
    colours = set()
    prev = bytearray(stride - 1)
    for y in range(0, len(raw) // stride):
        line = bytearray(raw[y * stride + 1:(y + 1) * stride])
        f = raw[y * stride]
        for i in range(len(line)):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        if y % 7 == 0:
            for x in range(0, len(line), bpp * 5):
                colours.add(bytes(line[x:x + 3]))
        if len(colours) > 50:
            break
    return len(colours)


@pytest.mark.skipif(not (REPO.parent / "shared" / "corpus").exists(), reason="../shared/corpus is not here")
def test_plan_runs_on_every_corpus_template_without_a_traceback(tmp_path):
    """Every scale set of the real corpus is planned or reported as refused; nothing crashes."""
    from linter.loader import TEMPLATE, read
    from linter.sim import plan as planmod
    from linter.sim import report
    corpus = REPO.parent / "shared" / "corpus"
    planned = refused = 0
    for path in sorted(corpus.rglob("*.json")):
        if read(str(path)).kind != TEMPLATE:
            continue
        configs, _ = planmod.sets_from_template(str(path))
        plans = []
        for cfg in configs:
            entry = {"config": cfg, "blockers": cfg.blockers}
            if cfg.blockers:
                refused += 1
            else:
                entry["result"] = planmod.simulate(cfg, planmod.Scenario(seed=1, fail_rate=0.05))
                planned += 1
            plans.append(entry)
        report.text(plans)
        json.loads(report.to_json(plans))
        report.html_report(plans)
    assert planned > 0 and refused > 0


def test_seven_sets_sharing_a_pinned_version_are_all_named_and_all_blocked():
    """One finding at the shared parameter names all seven sets (no "+2 more" parsed back) and plan
    refuses every one of them, not only the first five."""
    t = str(REPO / "tests" / "fixtures" / "multiset" / "seven-sets.json")
    r = run("lint", "--format", "json", t)
    [f] = [f for f in json.loads(r.stdout)["findings"] if f["code"] == "VMSS200"]
    names = [f"web{i}" for i in range(1, 8)]
    assert f["resources"] == names and f["line"] == 10  # the parameter's defaultValue
    doc, r = plan_json(t)
    assert r.returncode == 1 and [s["name"] for s in doc["scaleSets"]] == names
    for s in doc["scaleSets"]:
        assert s["batches"] == [] and [b["code"] for b in s["blocked"]] == ["VMSS200"], s["name"]


def test_plan_simulates_sets_azure_would_deploy(tmp_path):
    """A secret in a parameter default is a lint error, but Azure deploys the set: plan simulates it."""
    src = json.loads((REPO / "tests" / "fixtures" / "multiset" / "seven-sets.json").read_text())
    src["parameters"]["imageVersion"]["defaultValue"] = "latest"
    src["parameters"]["adminPassword"] = {"type": "secureString", "defaultValue": "Pa55w0rd-in-the-template"}
    src["resources"] = src["resources"][:1]
    p = tmp_path / "t.json"
    p.write_text(json.dumps(src))
    lint = run("lint", "--format", "json", str(p))
    assert "VMSS506" in {f["code"] for f in json.loads(lint.stdout)["findings"] if f["severity"] == "error"}
    doc, r = plan_json(str(p))
    [s] = doc["scaleSets"]
    assert "blocked" not in s and s["runningStatus"]["code"] == "Completed"


def test_an_unknown_health_signal_is_an_assumption_said_as_such():
    """A partial update leaves the health signal to the deployed set: plan says what it assumed."""
    r = run("plan", str(REPO / "tests" / "fixtures" / "rules" / "VMSS300" / "pass-partial-update-resize.json"))
    first = r.stdout.splitlines()[0]
    assert "assumed: the template does not write the health signal" in first, r.stdout
