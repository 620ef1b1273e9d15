"""The lint engine: files in, findings out.

For each template: read it (and its parameter files), build the evaluated deployment, then run
every selected rule on every resource of the rule's type whose preconditions hold.  Problems
found while reading and evaluating become findings of the engine's own rules (VMSS001–VMSS010).
"""

from __future__ import annotations

import os

from linter import loader
from linter.arm.template import Options
from linter.arm.values import Unknown, canon
from linter.checks import CHECKS, CONDITIONS, Target, resolve
from linter.findings import SEVERITY_RANK, Finding, key_span, span
from linter.jsonc import pointer
from linter.rules import Rule, load_rules

SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache"}


class Settings:
    """Everything that changes what the lint reports."""

    def __init__(self, edition="2026", require_auto_upgrade=False, select=None, ignore=None,
                 parameters=None, location=None, now=None, extra_images=(), credential_horizon_days=30,
                 auto_parameters=True):
        self.edition = edition
        self.require_auto_upgrade = require_auto_upgrade
        self.select = list(select or [])
        self.ignore = list(ignore or [])
        self.parameters = list(parameters or [])
        self.location = location
        self._now = now
        self.extra_images = list(extra_images)
        self.credential_horizon_days = credential_horizon_days
        self.auto_parameters = auto_parameters

    @property
    def now(self):
        """The clock credential checks use: --now, or the current time (read only when needed)."""
        if self._now is None:
            import datetime
            self._now = datetime.datetime.now(datetime.timezone.utc)
        return self._now

    def selected(self, code: str) -> bool:
        if self.select and not any(code.startswith(p) for p in self.select):
            return False
        return not any(code.startswith(p) for p in self.ignore)


class Report:
    def __init__(self):
        self.findings: list[Finding] = []
        self.notes: list[str] = []  # said with -v: skipped files, parameter files used
        self.clean_files: list[str] = []  # templates checked without a finding (JUnit passes)
        self.templates = 0
        self.files = 0

    def sorted(self):
        return sorted(self.findings, key=Finding.sort_key)


class Context:
    """What check functions see besides the resource: the deployment and the settings."""

    @property
    def now(self):
        return self.settings.now

    def __init__(self, deployment, settings: Settings):
        self.deployment = deployment
        self.settings = settings
        self.edition = settings.edition
        self.require_auto_upgrade = settings.require_auto_upgrade
        self.extra_images = [":".join(x) if isinstance(x, (list, tuple)) else x for x in settings.extra_images]
        self._by_type: dict = {}
        for r in deployment.resources:
            self._by_type.setdefault(r.type_lower, []).append(r)

    def resources(self, type_lower: str):
        return self._by_type.get(type_lower, [])

    def children_of(self, parent, type_lower: str):
        """Child resources of ``parent``: nested in it, or top-level and named ``parent/child``."""
        out = [c for c in parent.children if c.type_lower == type_lower]
        pname = canon(parent.name)
        if pname is None:
            return out
        prefix = pname.lower() + "/"
        for r in self.resources(type_lower):
            if r.parent is None:
                c = canon(r.name)
                if c is not None and c.lower().startswith(prefix) and r not in out:
                    out.append(r)
        return out


class Engine:
    def __init__(self, settings: Settings, rules: list[Rule] | None = None):
        self.settings = settings
        self.all_rules = rules if rules is not None else load_rules()
        self.by_code = {r.code: r for r in self.all_rules}
        self.rules_by_type: dict = {}
        for r in self.all_rules:
            if r.function == "engine" or not settings.selected(r.code):
                continue
            if settings.edition not in r.editions:
                continue
            if r.enabled_by == "require-auto-upgrade" and not settings.require_auto_upgrade:
                continue
            self.rules_by_type.setdefault(r.type_lower, []).append(r)
        self._linked_cache: dict = {}

    # -- files
    def lint_paths(self, paths: list[str]) -> Report:
        report = Report()
        param_files = [loader.read(p) for p in self.settings.parameters]
        for lf in param_files:
            if lf.error:
                self._broken(report, lf)
        for path in iter_json_files(paths, report):
            report.files += 1
            before = len(report.findings)
            try:
                self.lint_file(path, param_files, report)
            except Exception as exc:  # a bug of ours must not hide the other files' findings
                del report.findings[before:]
                self._internal_error(report, path, exc)
        return report

    def _internal_error(self, report, path, exc):
        from linter.source import SourceFile
        rule = self.by_code.get("VMSS000")
        report.findings.append(Finding(
            "VMSS000", rule.name if rule else "internal-error", "error", [], SourceFile(path, "", None), 0, 0, "",
            f"internal error while linting this file ({type(exc).__name__}: {exc}); the file was not checked — "
            f"please report this with the file attached"))

    def lint_file(self, path, param_files, report):
        """Lint one file into ``report``; returns the evaluated deployment of a template, else None."""
        lf = loader.read(path)
        if lf.error:
            self._broken(report, lf)
            return
        if lf.kind == loader.PARAMETERS:
            report.notes.append(f"{lf.src.display}: a parameter file, not linted as a template")
            return
        if lf.kind != loader.TEMPLATE:
            report.notes.append(f"{lf.src.display}: not an ARM deployment template (no deploymentTemplate "
                                f"$schema, no resources); skipped")
            return
        report.templates += 1
        self._duplicates(report, lf)
        params = list(param_files)
        if not params and self.settings.auto_parameters:
            for p in loader.companion_parameter_files(path):
                plf = loader.read(p)
                if plf.error:
                    self._broken(report, plf)
                    continue
                params.append(plf)
                report.notes.append(f"{lf.src.display}: parameter values from {plf.src.display}")
        elif params:
            report.notes.append(f"{lf.src.display}: parameter values from "
                                f"{', '.join(p.src.display for p in params if p.src)}")
        for p in params:
            if not p.error:
                self._duplicates(report, p)
        options = Options(location=self.settings.location)
        deployment = loader.build(lf, params, options, self._linked_cache)
        before = len(report.findings)
        self.lint_deployment(deployment, report)
        if len(report.findings) == before:
            report.clean_files.append(lf.src.display)
        return deployment

    def lint_deployment(self, deployment, report):
        ctx = Context(deployment, self.settings)
        seen: dict = {}  # one finding per rule and place, also when several sets share a parameter
        for res in deployment.resources:
            if res.existing:
                continue
            rules = self.rules_by_type.get(res.type_lower)
            if not rules:
                continue
            unknown_conditions: dict = {}
            for rule in rules:
                state = self._preconditions(ctx, rule, res)
                if state is False:
                    continue
                if isinstance(state, tuple):
                    cond, why = state
                    unknown_conditions.setdefault((cond, why), []).append(rule.code)
                    continue
                self._run_rule(ctx, rule, res, report, seen)
            for (cond, why), codes in unknown_conditions.items():
                self._engine_finding(report, "VMSS010", (res.raw, None), res,
                                     f"cannot tell whether {CONDITIONS[cond][1]}: {why}; not checked: "
                                     f"{', '.join(codes)}")
        for d in deployment.diagnostics:
            if d.loc is not None:
                self._engine_finding(report, d.code, d.loc, None, d.message, d.severity)

    def _preconditions(self, ctx, rule, res):
        for cond in rule.when:
            value = CONDITIONS[cond][0](ctx, res)
            if isinstance(value, Unknown):
                return (cond, value.why)
            if not value:
                return False
        return True

    def _run_rule(self, ctx, rule, res, report, seen):
        func = CHECKS[rule.function][0]
        if rule.given:
            targets = [t for path in rule.given for t in resolve(res, path)]
        else:
            targets = [Target(res, res.evaluated(), (res.raw, None), "")]
        for target in targets:
            for result in func(ctx, target, rule.options):
                loc = result.loc or (res.raw, None)
                src, start, end, ptr = key_span(loc) if result.key else span(loc)
                dedup = (rule.code, id(src), start, result.variant, result.status)
                earlier = seen.get(dedup)
                if earlier is not None:  # one place, several sets (a shared parameter or variable)
                    _add_resource_name(earlier, res.display_name())
                    continue
                if result.status == "unverifiable":
                    message = f"{rule.summary} Cannot verify: {result.why}."
                    f = Finding(rule.code, rule.name, "info", rule.requirements, src, start, end, ptr, message,
                                res.display_name(), unverifiable=True)
                else:
                    params = dict(result.params)
                    params.setdefault("resource", res.display_name())
                    message = rule.format(result.variant, params)
                    f = Finding(rule.code, rule.name, rule.severity, rule.requirements, src, start, end, ptr,
                                message, res.display_name(), fix=result.fix)
                seen[dedup] = f
                report.findings.append(f)

    # -- engine findings
    def _engine_finding(self, report, code, loc, res, message, severity=None, at=None):
        """A finding of an engine rule at ``loc`` (or at a precomputed ``at`` = (src, start, end, pointer))."""
        if not self.settings.selected(code):
            return
        rule = self.by_code.get(code)
        src, start, end, ptr = at or span(loc)
        f = Finding(code, rule.name if rule else code.lower(), severity or (rule.severity if rule else "error"),
                    rule.requirements if rule else [], src, start, end, ptr, message,
                    res.display_name() if res is not None else "")
        report.findings.append(f)

    def _broken(self, report, lf):
        if not self.settings.selected("VMSS001"):
            return
        rule = self.by_code.get("VMSS001")
        end = lf.error_offset + 1
        f = Finding("VMSS001", rule.name if rule else "invalid-json", "error", [], lf.src, lf.error_offset, end, "",
                    f"cannot read this file: {lf.error}")
        report.findings.append(f)

    def _duplicates(self, report, lf):
        for d in lf.duplicates:
            line, col = lf.src.position(d.first_offset)
            same = "the same key" if d.key == d.first_key else f"'{d.first_key}', which ARM treats as the same key"
            self._engine_finding(
                report, "VMSS002", None, None,
                f"duplicate key '{d.key}': {same} is already at line {line}, column {col}; Azure keeps only the "
                f"last one", at=(lf.src, d.offset, d.end, pointer(d.obj)))


def _add_resource_name(finding, name, limit=5):
    names = finding.resource.split(", ") if finding.resource else []
    if name in names or (names and names[-1].startswith("+")):
        if names and names[-1].startswith("+") and name not in names:
            names[-1] = f"+{int(names[-1][1:].split()[0]) + 1} more"
            finding.resource = ", ".join(names)
        return
    names.append(name if len(names) < limit else "+1 more")
    finding.resource = ", ".join(names)


def iter_json_files(paths, report):
    """Files named on the command line, and ``*.json`` under named directories (sorted, deterministic)."""
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                for name in sorted(files):
                    if name.lower().endswith((".json", ".jsonc")):
                        yield os.path.join(root, name)
        else:
            yield path


def worst(findings) -> int:
    return max((SEVERITY_RANK[f.severity] for f in findings), default=-1)
