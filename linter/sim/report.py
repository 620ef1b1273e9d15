"""Rendering rollouts: a text timeline, JSON in the REST shapes, and a self-contained HTML heatmap."""

from __future__ import annotations

import html
import json

from linter.sim.backend import HOUR, MINUTE


def rel(seconds) -> str:
    if seconds is None:
        return "?"
    sign = "-" if seconds < 0 else "+"
    s = abs(int(seconds))
    h, rem = divmod(s, HOUR)
    m, sec = divmod(rem, MINUTE)
    return f"{sign}{h}h{m:02d}m{sec:02d}s" if h else f"{sign}{m}m{sec:02d}s"


def _ids(ids, limit=12):
    ids = list(ids)
    text = ",".join(str(i) for i in ids[:limit])
    return text + (f",… ({len(ids)} instances)" if len(ids) > limit else "")


def blocker_lines(plan) -> list:
    """The findings that make Azure refuse a set, one line each."""
    return [f"{f.file}:{f.line}:{f.column}: {f.code} {f.message}" for f in plan.get("blockers") or []]


def describe(config, instances=None) -> str:
    p = config.policy
    signal = {"probe": "load balancer health probe", "extension": "Application Health extension",
              "none": "no health signal (power state and extensions)"}[config.health_signal]
    parts = [f"{instances or config.capacity} instances", signal]
    if config.zones:
        parts.append(f"zones {','.join(config.zones)}" + (" (cross-zone batches)" if p.cross_zone else ""))
    if config.service_fabric:
        parts.append("Service Fabric (one update domain at a time)")
    parts.append(f"batches ≤ {p.max_batch}%, stop above {p.max_unhealthy_upgraded}% unhealthy upgraded, "
                 f"pause {p.pause}s")
    if config.disable_rollback:
        parts.append("automatic rollback disabled")
    return "; ".join(parts)


def text(plans, stats=None) -> str:
    out = []
    for plan in plans:
        cfg, r = plan["config"], plan.get("result")
        out.append(f"{cfg.name}: {describe(cfg, r['instances'] if r else None)}")
        if not cfg.capacity_known:
            out.append("  note: the capacity is not known before deployment; simulated with "
                       f"{r['instances'] if r else cfg.capacity} instances (--instances N to choose)")
        if plan.get("blockers"):
            out.append("  not simulated: Azure would refuse this set:")
            out += [f"    {line}" for line in blocker_lines(plan)]
            out.append("")
            continue
        if r.get("refused"):
            out.append(f"  refused: HTTP {r['refused']['status']} {r['refused']['code']}: {r['refused']['message']}")
            out.append("")
            continue
        if r["start"] is None:
            out.append("  no rollout started")
            out.append("")
            continue
        t0 = 0
        out.append(f"  {rel(r['start'] - t0)}  rollout to 1.0.1 started by "
                   f"{r['history'][0]['properties']['startedBy'] if r['history'] else '?'}")
        for b in r["_raw_batches"]:
            extra = ""
            if b["rolledBack"]:
                extra += f"; rolled back {_ids(b['rolledBack'])}"
            if b["failed"]:
                extra += f"; left failed {_ids(b['failed'])}"
            out.append(f"  batch {b['index'] + 1:>3}  {rel(b['start'])} .. {rel(b['end'])}  "
                       f"instances {_ids(b['instances'])}  {b['outcome']}{extra}")
        code = r["runningStatus"]["code"]
        why = f" ({r['error']['code']}: {r['error']['message']})" if r.get("error") else ""
        prog = r["progress"]
        out.append(f"  {rel(r['end'])}  {code}{why}")
        out.append(f"  result: {prog['successfulInstanceCount']} on the new image, {len(r['rolledBack'])} rolled "
                   f"back, {len(r['failed'])} left failed, {prog['pendingInstanceCount']} not reached; "
                   f"{len(r['batches'])} batches in {rel(r['end'] - r['start'])[1:]}")
        if stats and cfg.name in stats:
            s = stats[cfg.name]
            d = s["durationSeconds"]
            out.append(f"  {s['runs']} runs: completed {s['completed']:.1%}, stopped {s['stopped']:.1%}, "
                       f"with rollbacks {s['rolledBack']:.1%}; duration p50 {_dur(d['p50'])}, p90 {_dur(d['p90'])}, "
                       f"p99 {_dur(d['p99'])}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _dur(s):
    return "-" if s is None else rel(s)[1:]


def to_json(plans, stats=None) -> str:
    sets = []
    for plan in plans:
        cfg, r = plan["config"], plan.get("result")
        entry = {"name": cfg.name}
        if plan.get("blockers"):
            entry["blocked"] = [f.to_json() for f in plan["blockers"]]
            entry.update({"batches": [], "runningStatus": None, "history": []})
        elif r.get("refused"):
            entry.update({"refused": r["refused"], "batches": [], "runningStatus": None, "history": []})
        else:
            entry.update({"batches": [{k: b[k] for k in ("instances", "start", "end", "outcome", "rolledBack",
                                                         "failed")} for b in r["batches"]],
                          "runningStatus": r["runningStatus"], "progress": r["progress"], "history": r["history"]})
            if r.get("error"):
                entry["error"] = r["error"]
        if stats and cfg.name in stats:
            entry["statistics"] = stats[cfg.name]
        sets.append(entry)
    return json.dumps({"scaleSets": sets}, indent=2) + "\n"


# --- HTML ------------------------------------------------------------------------------------------

COLOURS = {"old": "#c9d3df", "upgrading": "#f2c14e", "upgraded": "#3aa655", "rolledBack": "#e07b39",
           "failed": "#c0392b", "unhealthy": "#6c757d"}
LABELS = {"old": "previous image", "upgrading": "upgrading / health wait", "upgraded": "new image, healthy",
          "rolledBack": "rolled back", "failed": "failed (kept)", "unhealthy": "unhealthy before"}


def html_report(plans, stats=None, title="vmsslint plan") -> str:
    """One self-contained page: no scripts or styles fetched from anywhere."""
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}"
             "h2{font-size:16px;margin-top:28px}.legend span{display:inline-block;margin-right:14px}"
             ".sw{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}"
             "svg text{font:11px system-ui,sans-serif}.muted{color:#666}pre{background:#f6f8fa;padding:8px}"
             "</style></head><body>", f"<h1>{html.escape(title)}</h1>", "<p class='legend'>"]
    for key, colour in COLOURS.items():
        parts.append(f"<span><i class='sw' style='background:{colour}'></i>{LABELS[key]}</span>")
    parts.append("</p>")
    for plan in plans:
        cfg, r = plan["config"], plan.get("result")
        parts.append(f"<h2>{html.escape(cfg.name)}</h2>"
                     f"<p class='muted'>{html.escape(describe(cfg, r['instances'] if r else None))}</p>")
        if plan.get("blockers"):
            parts.append("<p><b>Not simulated: Azure would refuse this set.</b></p><ul>")
            parts += [f"<li>{html.escape(line)}</li>" for line in blocker_lines(plan)]
            parts.append("</ul>")
            continue
        if r.get("refused") or r["start"] is None:
            parts.append("<p>No rollout.</p>")
            continue
        parts.append(_heatmap(r))
        parts.append(f"<pre>{html.escape(text([plan], stats))}</pre>")
    parts.append("</body></html>")
    return "".join(parts)


def _heatmap(r) -> str:
    """Instances (rows, grouped by zone and update domain) against time (columns), coloured by state."""
    layout = sorted(r["layout"], key=lambda i: (i["zone"] or "", i["updateDomain"], i["id"]))
    start = r["start"]
    end = max(r["end"], start + 1)
    end += max(60, (end - start) // 15)  # room to show the final states after the last batch
    span = end - start
    width, left, top = 900, 150, 24
    row = max(2, min(14, 600 // max(1, len(layout))))
    height = top + row * len(layout) + 30
    x = lambda t: left + (t - start) / span * (width - left - 10)  # noqa: E731
    when = {}
    for b in r["_raw_batches"]:
        for iid in b["instances"]:
            when[iid] = b
    unhealthy_before = {e for ev in r["timeline"] if ev["event"] == "health-change" and ev["time"] <= start
                        and not ev["healthy"] for e in ev["instances"]}
    svg = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
           f"aria-label='rollout heatmap'>"]
    group = None
    for n, inst in enumerate(layout):
        y = top + n * row
        key = (inst["zone"], inst["updateDomain"])
        if key != group:
            group = key
            label = (f"zone {inst['zone']} · " if inst["zone"] else "") + f"UD {inst['updateDomain']}"
            svg.append(f"<text x='4' y='{y + min(row, 11)}'>{html.escape(label)}</text>")
            svg.append(f"<line x1='{left}' x2='{width - 10}' y1='{y}' y2='{y}' stroke='#fff' stroke-width='1'/>")
        b = when.get(inst["id"])
        first = "unhealthy" if inst["id"] in unhealthy_before else "old"
        segs = []
        if b is None:
            segs.append((start, end, first))
        else:
            done = b.get("done", {}).get(inst["id"], b["end"])
            segs.append((start, b["start"], first))
            segs.append((b["start"], done, "upgrading"))
            final = r["final"].get(inst["id"], "upgraded")
            state = "rolledBack" if inst["id"] in b["rolledBack"] else "failed" if inst["id"] in b["failed"] else \
                ("upgraded" if final in ("upgraded", "healthy") else final)
            segs.append((done, end, state if state in COLOURS else "upgraded"))
        for a, z, state in segs:
            if z <= a:
                continue
            svg.append(f"<rect x='{x(a):.1f}' y='{y}' width='{max(0.5, x(z) - x(a)):.1f}' height='{row - 0.5:.1f}' "
                       f"fill='{COLOURS[state]}'><title>instance {inst['id']}: {LABELS[state]}</title></rect>")
    for b in r["_raw_batches"]:
        bx = x(b["start"])
        svg.append(f"<line x1='{bx:.1f}' x2='{bx:.1f}' y1='{top - 6}' y2='{height - 26}' stroke='#333' "
                   f"stroke-dasharray='2,2'/><text x='{bx + 2:.1f}' y='{top - 8}'>{b['index'] + 1}</text>")
    svg.append(f"<text x='{left}' y='{height - 8}'>{rel(0)}</text>"
               f"<text x='{width - 70}' y='{height - 8}'>{rel(span)}</text>")
    svg.append("</svg>")
    return "".join(svg)
