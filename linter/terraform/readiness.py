"""``vmsslint lint --readiness``: how many of the user's scale sets can turn automatic OS image
upgrades on, and what stands in the way — the report ``docs/corpus-readiness.md`` gives for the
corpus, for any input (templates, Terraform, plans, exports of deployed sets).

Every set is checked as with ``--require-auto-upgrade``; a set is *ready as-is* when its only
error is that the feature is off (VMSS100); every other error is a blocker.
"""

from __future__ import annotations

import collections
import json

from linter.engine import Context, Engine

VMSS = "microsoft.compute/virtualmachinescalesets"


class CountingEngine(Engine):
    """An engine that also records every scale set it checks and the errors found on it."""

    def lint_deployment(self, deployment, report, settings=None, supp=None):
        from linter.checks.vmss import facts
        sets = report.__dict__.setdefault("readiness_sets", {})
        n = report.__dict__.setdefault("readiness_inputs", [0])
        n[0] += 1
        ctx = Context(deployment, settings or self.settings)
        mine = {}
        for res in deployment.resources:
            if res.type_lower == VMSS and not res.existing:
                key = (n[0], len(sets))
                auto = facts(ctx, res).auto
                sets[key] = {"on": auto is True, "blockers": set()}
                src = getattr(res.raw, "src", None)
                mine.setdefault(res.display_name(), []).append((key, src.path if src is not None else None))
        before = len(report.findings)
        out = super().lint_deployment(deployment, report, settings, supp)
        for f in report.findings[before:]:
            if f.severity != "error" or f.unverifiable or f.code == "VMSS100" or not f.resource:
                continue
            for name in f.resources:
                cands = mine.get(name, [])
                exact = [k for k, path in cands if f.src is not None and path == f.src.path]
                for k in exact or [k for k, _ in cands]:
                    sets[k]["blockers"].add(f.code)
        return out


def readiness_text(report, rules, edition, fmt="text"):
    by_code = {r.code: r for r in rules}
    sets = getattr(report, "readiness_sets", {})
    ready = [k for k, s in sets.items() if not s["blockers"]]
    on = [k for k, s in sets.items() if s["on"]]
    blockers = collections.Counter(c for s in sets.values() for c in s["blockers"])
    unreadable = sorted({f.file for f in report.findings if f.code in ("VMSS000", "VMSS001")})
    if fmt == "json":
        return json.dumps({"inputs": report.templates, "scaleSets": len(sets), "enabled": len(on),
                           "readyAsIs": len(ready), "blocked": len(sets) - len(ready),
                           "blockers": [{"code": c, "name": by_code[c].name, "sets": n,
                                         "requirements": by_code[c].requirements}
                                        for c, n in blockers.most_common() if c in by_code],
                           "unreadable": unreadable}, indent=2) + "\n"
    lines = [f"Readiness for automatic OS image upgrades (documentation edition {edition}; every set checked as "
             f"with --require-auto-upgrade)", "",
             f"  inputs linted                                   {report.templates}",
             f"  scale sets                                      {len(sets)}",
             f"  sets that already turn automatic OS upgrade on  {len(on)}",
             f"  sets ready as-is (only need the feature on)     {len(ready)}",
             f"  sets with at least one blocker                  {len(sets) - len(ready)}", ""]
    if blockers:
        lines.append("Most common blockers (sets):")
        for code, n in blockers.most_common(10):
            r = by_code.get(code)
            lines.append(f"  {code} {r.name if r else '':40} {n:5}  {', '.join(r.requirements) if r else ''}")
        lines.append("")
    if unreadable:
        lines.append(f"Not read (see vmsslint lint): {', '.join(unreadable)}")
        lines.append("")
    if not report.templates:
        lines.append("Nothing was linted: no template, Terraform module, plan or export among the inputs.")
        lines.append("")
    return "\n".join(lines)
