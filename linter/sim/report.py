"""Rendering rollouts: a text timeline, JSON in the REST shapes, and a self-contained HTML heatmap."""

from __future__ import annotations

import html
import json
import math

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
    if getattr(config, "assumed", None):
        signal += f" (assumed: {config.assumed})"
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


def all_completed(plans, stats=None) -> bool:
    """The exit status's question: did every simulated rollout complete (every --runs run too)?"""
    for plan in plans:
        r = plan.get("result")
        if plan.get("blockers") or not r or r.get("refused") or not r.get("runningStatus"):
            return False
        if r["runningStatus"]["code"] != "Completed":
            return False
        st = (stats or {}).get(plan["config"].name)
        if st and st["completed"] < 1:
            return False
    return True


def events_after_start(r) -> list:
    """What happened to the set during the rollout besides the batches: maintenance, recoveries, cancels."""
    out = []
    for ev in r["timeline"]:
        if r["start"] is None or ev["time"] < r["start"]:
            continue
        if ev["event"] == "health-change" and ev.get("reason") != "unhealthy before the upgrade":
            out.append({"time": ev["time"], "kind": ev["reason"] if not ev["healthy"] else "recovered",
                        "instances": ev["instances"], "healthy": ev["healthy"]})
        elif ev["event"] == "cancel-requested":
            out.append({"time": ev["time"], "kind": "cancel", "instances": [], "healthy": None})
    return out


def stop_sentence(r) -> str:
    """Where and why the orchestrator stopped, in one sentence."""
    code = r["runningStatus"]["code"]
    at = rel(r["end"] - r["start"])
    if code == "Completed":
        return f"Completed at {at}: every instance is on {r['target']} or was rolled back."
    if code == "Cancelled":
        return f"Cancelled at {at}: a cancel was requested; the running batch finished, no new batch started."
    why = {"precheck": "before the first batch (pre-check)",
           "recheck": "at the end of a batch: the whole-set re-check failed",
           "upgraded-unhealthy": "at the end of a batch: too many upgraded instances are unhealthy"}.get(
        r.get("stopReason"), "")
    err = r.get("error") or {}
    return f"Faulted at {at}, {why}. {err.get('code', '')}: {err.get('message', '')}".strip()


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
        out.append(f"  image: {r.get('publishedHow', 'a new image')}")
        if r.get("refused"):
            out.append(f"  refused: HTTP {r['refused']['status']} {r['refused']['code']}: {r['refused']['message']}")
            out.append("")
            continue
        if r["start"] is None:
            out.append(f"  not started: {r.get('notStarted') or 'no rollout started'}")
            out.append("")
            continue
        t0 = r["start"]
        out.append(f"  times are from the start of the rollout; the image was published at {rel(r['published'] - t0)}")
        lines = [(0, 0, f"  {rel(0)}  rollout to {r['target']} started by "
                        f"{r['history'][0]['properties']['startedBy'] if r['history'] else '?'}")]
        for b in r["_raw_batches"]:
            extra = ""
            if b.get("surge") and b.get("replacements"):
                extra += f"; maxSurge: new instances {_ids(b['replacements'].values())} first"
            if b["rolledBack"]:
                extra += f"; rolled back {_ids(b['rolledBack'])}"
            if b["failed"]:
                extra += f"; left failed {_ids(b['failed'])}"
            lines.append((b["start"] - t0, 1, f"  batch {b['index'] + 1:>3}  {rel(b['start'] - t0)} .. "
                                              f"{rel(b['end'] - t0)}  instances {_ids(b['instances'])}  "
                                              f"{b['outcome']}{extra}"))
        for ev in events_after_start(r):
            what = {"cancel": "cancel requested"}.get(ev["kind"]) or (
                f"{ev['kind']}: {len(ev['instances'])} instance(s) {'healthy again' if ev['healthy'] else 'unhealthy'}"
                f" ({_ids(ev['instances'])})")
            lines.append((ev["time"] - t0, 2, f"  {rel(ev['time'] - t0)}  {what}"))
        out += [line for _, _, line in sorted(lines, key=lambda x: (x[0], x[1]))]
        prog = r["progress"]
        out.append(f"  {rel(r['end'] - t0)}  {stop_sentence(r)}")
        out.append(f"  result: {prog['successfulInstanceCount']} on the new image, {len(r['rolledBack'])} rolled "
                   f"back, {len(r['failed'])} left failed, {prog['pendingInstanceCount']} not reached; "
                   f"{len(r['batches'])} batches in {rel(r['end'] - r['start'])[1:]}")
        if stats and cfg.name in stats:
            s = stats[cfg.name]
            d = s["durationSeconds"]
            odds = ", ".join(f"{k} {v / s['runs']:.1%}" for k, v in s.get("outcomes", {}).items())
            out.append(f"  {s['runs']} runs: completed {s['completed']:.1%}, stopped {s['stopped']:.1%}, "
                       f"with rollbacks {s['rolledBack']:.1%}; duration p50 {_dur(d['p50'])}, p90 {_dur(d['p90'])}, "
                       f"p99 {_dur(d['p99'])}" + (f" ({odds})" if odds else ""))
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
            entry.update({"image": {"version": r.get("target"), "source": r.get("publishedHow")},
                          "batches": [{k: b[k] for k in ("instances", "start", "end", "outcome", "rolledBack",
                                                         "failed", "replacements") if k in b} for b in r["batches"]],
                          "runningStatus": r["runningStatus"], "progress": r["progress"], "history": r["history"]})
            if r.get("notStarted"):
                entry["notStarted"] = r["notStarted"]
            if r.get("error"):
                entry["error"] = r["error"]
        if stats and cfg.name in stats:
            entry["statistics"] = stats[cfg.name]
        sets.append(entry)
    return json.dumps({"scaleSets": sets}, indent=2) + "\n"


# --- HTML ------------------------------------------------------------------------------------------

COLOURS = {"old": "#c9d3df", "unhealthy": "#6c757d", "maintenance": "#8e44ad", "upgrading": "#f2c14e",
           "surge": "#f7dc8f", "upgraded": "#2e9e4f", "rolledBack": "#e07b39", "failed": "#c0392b"}
LABELS = {"old": "previous image, serving", "unhealthy": "unhealthy before the rollout",
          "maintenance": "unhealthy: maintenance during the rollout", "upgrading": "being upgraded (down)",
          "surge": "maxSurge: new instance being created (old one still serving)",
          "upgraded": "new image, healthy", "rolledBack": "upgrade failed, rolled back to the previous image",
          "failed": "upgrade failed, left failed"}
LINE_NAMES = {"Completed": "green", "Faulted": "red", "Cancelled": "orange"}
OUTCOME_COLOURS = {"Completed": "#2e9e4f", "Faulted": "#c0392b", "Cancelled": "#e07b39", "NotStarted": "#6c757d",
                   "Refused": "#34495e"}

CSS = ("body{font:14px/1.4 system-ui,sans-serif;margin:16px 24px;color:#222}h1{font-size:20px;margin:0 0 8px}"
       "h2{font-size:17px;margin:28px 0 4px}h3{font-size:14px;margin:18px 0 4px}"
       ".legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:8px 0}.legend span{white-space:nowrap}"
       ".sw{display:inline-block;width:14px;height:14px;margin-right:5px;vertical-align:-2px;border-radius:2px}"
       ".ln{display:inline-block;width:16px;height:0;margin-right:5px;vertical-align:3px;border-top:3px solid}"
       "svg{display:block;width:100%;height:auto}svg text{font-family:system-ui,sans-serif}"
       ".muted{color:#555}.stop{padding:8px 12px;border-left:5px solid;background:#f8f9fa;margin:8px 0}"
       "pre{background:#f6f8fa;padding:8px;white-space:pre-wrap;font-size:12px}"
       ".charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}")


def html_report(plans, stats=None, title="vmsslint plan") -> str:
    """One self-contained page (no script, style or font fetched from anywhere), full width."""
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<meta name='viewport' content='width=device-width,initial-scale=1'><title>{html.escape(title)}</title>"
             f"<style>{CSS}</style></head><body>", f"<h1>{html.escape(title)}</h1>",
             "<div class='legend' id='legend'>"]
    for key, colour in COLOURS.items():
        parts.append(f"<span><i class='sw' style='background:{colour}'></i>{LABELS[key]}</span>")
    parts.append("<span><i class='ln' style='border-color:#8e44ad'></i>maintenance event</span>"
                 "<span><i class='ln' style='border-color:#555;border-top-style:dashed'></i>batch start (number)</span>"
                 "<span><i class='ln' style='border-color:#c0392b'></i>where the orchestrator stopped (red Faulted, "
                 "orange Cancelled, green Completed)</span></div>"
                 "<p class='muted'>Rows are instances, grouped by availability zone and update domain; time runs left "
                 "to right from the start of the rollout, with the same +h:mm:ss times as the text timeline below. "
                 "Hover a cell for the instance and its state.</p>")
    for plan in plans:
        cfg, r = plan["config"], plan.get("result")
        parts.append(f"<h2>{html.escape(cfg.name)}</h2>"
                     f"<p class='muted'>{html.escape(describe(cfg, r['instances'] if r else None))}</p>")
        if plan.get("blockers"):
            parts.append("<p><b>Not simulated: Azure would refuse this set.</b></p><ul>")
            parts += [f"<li>{html.escape(line)}</li>" for line in blocker_lines(plan)]
            parts.append("</ul>")
            continue
        parts.append(f"<p class='muted'>Image: {html.escape(r.get('publishedHow') or '')}</p>")
        if r.get("refused") or r["start"] is None:
            why = r["refused"]["message"] if r.get("refused") else r.get("notStarted") or "no rollout started"
            parts.append(f"<p class='stop' style='border-color:#6c757d'><b>No rollout.</b> {html.escape(why)}</p>")
            continue
        code = r["runningStatus"]["code"]
        colour = OUTCOME_COLOURS.get(code, "#333")
        parts.append(f"<p class='stop' id='stop-explained' style='border-color:{colour}'>"
                     f"<b>{html.escape(stop_sentence(r))}</b> The {LINE_NAMES.get(code, 'solid')} line in the "
                     "heatmap marks this point.</p>")
        parts.append(_heatmap(r))
        if stats and cfg.name in stats:
            parts.append(_runs_charts(stats[cfg.name]))
        parts.append(f"<h3>Timeline</h3><pre>{html.escape(text([plan], stats))}</pre>")
    parts.append("</body></html>")
    return "".join(parts)


def _ticks(span):
    """Tick step (seconds) giving 6-14 ticks over span."""
    for step in (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400):
        if span / step <= 14:
            return step
    return 86400 * max(1, int(span // (86400 * 12)))


def _heatmap(r) -> str:
    """Instances (rows, grouped by zone and update domain) against time from the rollout's start (columns)."""
    esc = html.escape
    start = r["start"]
    end = max(r["end"], start + 60)
    span = end - start
    span += max(60, span // 12)  # room to show the final states after the last batch
    rows = [i for i in r["layout"] if i.get("replaces") is None]  # a maxSurge replacement shares its old row
    rows.sort(key=lambda i: (i["zone"] or "", i["updateDomain"], i["id"]))
    n = len(rows)
    width, left, right, top = 1400, 170, 20, 72
    row = max(3.0, min(16.0, 640 / max(1, n)))  # every instance at least 3 units tall (1,000 instances: 3 px)
    gap = 8 if n > 1 else 0
    groups = []
    for inst in rows:
        key = (inst["zone"], inst["updateDomain"])
        if not groups or groups[-1][0] != key:
            groups.append((key, []))
        groups[-1][1].append(inst)
    body = n * row + gap * (len(groups) - 1)
    height = top + body + 44
    plot = width - left - right
    x = lambda t: left + (t - start) / span * plot  # noqa: E731

    batch_of, done_at, replaced_by = {}, {}, {}
    for b in r["_raw_batches"]:
        for iid in b["instances"]:
            batch_of[iid] = b
            done_at[iid] = b.get("done", {}).get(iid, b["end"])
        replaced_by.update(b.get("replacements") or {})
    health = {}
    unhealthy_before = set()
    row_of = {new: old for old, new in replaced_by.items()}  # a surge instance is drawn on its old one's row
    for ev in r["timeline"]:
        if ev["event"] != "health-change":
            continue
        for iid in ev["instances"]:
            iid = row_of.get(iid, iid)
            if ev["time"] <= start and not ev["healthy"]:
                unhealthy_before.add(iid)
            elif ev["time"] > start or (ev["time"] == start and ev.get("reason") != "unhealthy before the upgrade"):
                health.setdefault(iid, []).append((ev["time"], ev["healthy"]))
    events = events_after_start(r)

    svg = [f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height:.0f}' role='img' "
           f"aria-label='rollout heatmap of {n} instances' class='heatmap'>"]
    step = _ticks(span)
    axis_y = (top - 22, top + body + 18)
    for k in range(0, int(span // step) + 1):
        t = start + k * step
        tx = x(t)
        svg.append(f"<line x1='{tx:.1f}' x2='{tx:.1f}' y1='{top - 14}' y2='{top + body + 4:.0f}' stroke='#e3e6ea'/>")
        for ay in axis_y:
            svg.append(f"<text x='{tx:.1f}' y='{ay:.0f}' font-size='12' text-anchor='middle' fill='#444' "
                       f"class='tick'>{rel(k * step)}</text>")
    y = top
    for gi, (key, members) in enumerate(groups):
        zone, ud = key
        label = (f"zone {zone} · " if zone else "") + f"UD {ud}"
        gh = len(members) * row
        svg.append(f"<rect x='0' y='{y - 2:.1f}' width='{left - 6}' height='{gh + 4:.1f}' fill='"
                   f"{'#f1f3f5' if gi % 2 == 0 else '#ffffff'}'/>")
        svg.append(f"<text x='6' y='{y + min(gh, 14) - 2:.1f}' font-size='{12 if gh >= 12 else 10}' fill='#222' "
                   f"class='group-label'>{esc(label)} ({len(members)})</text>")
        for inst in members:
            iid = inst["id"]
            segs = _segments(iid, start, start + span, batch_of.get(iid), done_at.get(iid), health.get(iid, []),
                             iid in unhealthy_before, replaced_by.get(iid), r["final"])
            tip_id = f"instance {iid}" + (f" → {replaced_by[iid]} (maxSurge)" if iid in replaced_by else "")
            for a, z, state in segs:
                if z <= a:
                    continue
                svg.append(f"<rect x='{x(a):.1f}' y='{y:.1f}' width='{max(0.8, x(z) - x(a)):.1f}' "
                           f"height='{max(1.0, row - (0.6 if row >= 4 else 0.3)):.1f}' fill='{COLOURS[state]}'>"
                           f"<title>{esc(tip_id)}: {esc(LABELS[state])} {rel(a - start)} .. {rel(z - start)}"
                           f"</title></rect>")
            y += row
        y += gap
    bottom = top + body
    for b in r["_raw_batches"]:
        bx = x(b["start"])
        svg.append(f"<line x1='{bx:.1f}' x2='{bx:.1f}' y1='{top - 6}' y2='{bottom:.0f}' stroke='#555' "
                   f"stroke-dasharray='3,3' stroke-width='0.8'/>")
        if len(r["_raw_batches"]) <= 40 or b["index"] % 5 == 0:
            svg.append(f"<text x='{bx + 2:.1f}' y='{top - 4}' font-size='10' fill='#555'>{b['index'] + 1}</text>")
    for k, ev in enumerate(events):
        ex = x(ev["time"])
        colour = "#8e44ad" if ev["kind"] != "cancel" else "#e07b39"
        what = "cancel requested" if ev["kind"] == "cancel" else (
            f"{ev['kind']}: {len(ev['instances'])} instance(s) {'healthy again' if ev['healthy'] else 'unhealthy'}")
        svg.append(f"<g class='event-marker' data-kind='{esc(ev['kind'])}' data-time='{rel(ev['time'] - start)}' "
                   f"data-count='{len(ev['instances'])}' data-instances='{','.join(map(str, ev['instances']))}'>"
                   f"<line x1='{ex:.1f}' x2='{ex:.1f}' y1='{top - 30}' y2='{bottom + 4:.0f}' stroke='{colour}' "
                   f"stroke-width='2'/><text x='{ex + (-4 if ex > left + plot * 0.6 else 4):.1f}' "
                   f"y='{top - 34 - 12 * (k % 2)}' font-size='12' fill='{colour}' font-weight='600' "
                   f"text-anchor='{'end' if ex > left + plot * 0.6 else 'start'}'>{esc(what)} at "
                   f"{rel(ev['time'] - start)}</text>"
                   f"<title>{esc(what)} at {rel(ev['time'] - start)}: {esc(_ids(ev['instances']))}</title></g>")
    code = r["runningStatus"]["code"]
    sx = x(r["end"])
    colour = OUTCOME_COLOURS.get(code, "#333")
    label = f"{code} at {rel(r['end'] - start)}" + (
        f": {r['error']['code']}" if r.get("error") else "")
    anchor = "end" if sx > left + plot * 0.6 else "start"
    lx = sx - 6 if anchor == "end" else sx + 6
    svg.append(f"<g id='stop-marker' class='stop-marker' data-code='{esc(code)}' data-time='{rel(r['end'] - start)}' "
               f"data-reason='{esc(r.get('stopReason') or '')}'>"
               f"<line x1='{sx:.1f}' x2='{sx:.1f}' y1='{top - 14}' y2='{bottom + 4:.0f}' stroke='{colour}' "
               f"stroke-width='3'/><rect x='{(lx - 7 * len(label) if anchor == 'end' else lx - 2):.1f}' "
               f"y='{bottom + 22:.0f}' width='{7 * len(label) + 4}' height='18' fill='#fff' opacity='0.9'/>"
               f"<text x='{lx:.1f}' y='{bottom + 36:.0f}' font-size='13' font-weight='700' fill='{colour}' "
               f"text-anchor='{anchor}'>{esc(label)}</text><title>{esc(stop_sentence(r))}</title></g>")
    svg.append("</svg>")
    return "".join(svg)


def _segments(iid, t0, t_end, batch, done, health, sick_before, replacement, final):
    """(from, to, state) of one instance's row."""
    segs = []
    state = "unhealthy" if sick_before else "old"
    cur = t0
    limit = batch["start"] if batch else t_end
    for t, healthy in sorted(health):
        if t >= limit:
            break
        segs.append((cur, t, state))
        cur, state = t, ("old" if healthy else "maintenance")
    segs.append((cur, limit, state))
    if batch is None:
        return segs
    if iid in batch["rolledBack"]:
        after = "rolledBack"
    elif iid in batch["failed"] or (replacement is not None and replacement in batch["failed"]):
        after = "failed"
    else:
        after = "upgraded"
    segs.append((batch["start"], done, "surge" if replacement is not None else "upgrading"))
    if replacement is not None and after == "upgraded" and batch["end"] > done:
        segs.append((done, batch["end"], "upgraded"))  # new instance healthy; the old one goes at the batch end
        done = batch["end"]
    later = [(t, h) for t, h in health if t >= done and after == "upgraded"]
    cur = done
    for t, healthy in sorted(later):
        segs.append((cur, t, after))
        cur, after = t, ("upgraded" if healthy else "maintenance")
    segs.append((cur, t_end, after))
    return segs


def _runs_charts(s) -> str:
    """--runs: a histogram of rollout durations and the odds of each outcome, as SVG."""
    esc = html.escape
    runs = s["runs"]
    out = [f"<h3>{runs} seeded runs</h3><div class='charts'>"]
    hist = s.get("histogram") or {}
    counts = hist.get("counts") or []
    w, h, left, bottom = 640, 260, 50, 40
    out.append(f"<figure id='duration-histogram'><svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {w} {h}' "
               f"role='img' aria-label='histogram of rollout durations'>")
    if counts:
        peak = max(counts)
        bw = (w - left - 10) / len(counts)
        by = hist.get("byOutcome") or {"Completed": counts}
        for k in range(len(counts)):
            lo = hist["start"] + k * hist["width"]
            base = h - bottom
            for code in ("Completed", "Cancelled", "Faulted"):
                c = by.get(code, [0] * len(counts))[k]
                if not c:
                    continue
                bh = (h - bottom - 20) * c / peak
                base -= bh
                out.append(f"<rect x='{left + k * bw + 1:.1f}' y='{base:.1f}' width='{max(1, bw - 2):.1f}' "
                           f"height='{bh:.1f}' fill='{OUTCOME_COLOURS[code]}'><title>{c} runs {code}, "
                           f"{_dur(lo)} .. {_dur(lo + hist['width'])}</title></rect>")
        every = max(1, math.ceil(len(counts) / 6))
        for k in range(0, len(counts) + 1, every):
            tx = left + k * bw
            out.append(f"<text x='{tx:.1f}' y='{h - bottom + 16}' font-size='11' text-anchor='middle'>"
                       f"{_dur(hist['start'] + k * hist['width'])}</text>")
        out.append(f"<text x='{left - 6}' y='24' font-size='11' text-anchor='end'>{peak}</text>"
                   f"<text x='{left - 6}' y='{h - bottom}' font-size='11' text-anchor='end'>0</text>"
                   f"<line x1='{left}' x2='{w - 10}' y1='{h - bottom}' y2='{h - bottom}' stroke='#333'/>"
                   f"<text x='{(w + left) / 2:.0f}' y='{h - 6}' font-size='12' text-anchor='middle'>"
                   f"rollout duration (start to end), runs per {_dur(hist['width'])}; colour: how the run ended"
                   f"</text>")
    else:
        out.append("<text x='20' y='40' font-size='13'>no run started a rollout</text>")
    out.append("</svg><figcaption class='muted'>Durations of the runs that started: p50 "
               f"{_dur(s['durationSeconds']['p50'])}, p90 {_dur(s['durationSeconds']['p90'])}, p99 "
               f"{_dur(s['durationSeconds']['p99'])}.</figcaption></figure>")
    outcomes = s.get("outcomes") or {}
    out.append(f"<figure id='outcome-odds'><svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {w} {h}' role='img' "
               f"aria-label='odds of each outcome'>")
    names = ["Completed", "Faulted", "Cancelled", "NotStarted", "Refused"]
    bars = [(k, outcomes.get(k, 0)) for k in names if outcomes.get(k, 0)] + [
        ("with rollbacks", round(s["rolledBack"] * runs))]
    for k, (name, c) in enumerate(bars):
        y0 = 20 + k * 36
        frac = c / runs
        colour = OUTCOME_COLOURS.get(name, "#e07b39")
        out.append(f"<text x='120' y='{y0 + 18}' font-size='13' text-anchor='end'>{esc(name)}</text>"
                   f"<rect x='130' y='{y0}' width='{(w - 220) * frac:.1f}' height='26' fill='{colour}'>"
                   f"<title>{c} of {runs} runs</title></rect>"
                   f"<rect x='130' y='{y0}' width='{w - 220}' height='26' fill='none' stroke='#ccc'/>"
                   f"<text x='{w - 84}' y='{y0 + 18}' font-size='13'>{frac:.1%}</text>")
    out.append("</svg><figcaption class='muted'>Share of runs ending each way (with rollbacks: runs in which at "
               "least one instance was rolled back).</figcaption></figure></div>")
    return "".join(out)
