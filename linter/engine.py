"""The lint engine: files in, findings out.

The pieces: :mod:`linter.settings` (what changes the report), :mod:`linter.context` (what check
functions see), :mod:`linter.suppressions` (``metadata.vmsslint``); this module runs the rules.

For each template: read it (and its parameter files), build the evaluated deployment, then run
every selected rule on every resource of the rule's type whose preconditions hold.  Problems
found while reading and evaluating become findings of the engine's own rules (VMSS001–VMSS010).
"""

from __future__ import annotations

import os

from linter import loader
from linter.arm.template import Options
from linter.arm.values import Unknown
from linter.checks import CHECKS, CONDITIONS, Target, resolve
from linter.checks.api import PARTIAL_UPDATE_WHY
from linter.context import Context  # noqa: F401  (re-exported: from linter.engine import Context)
from linter.findings import SEVERITY_RANK, Finding, key_span, span
from linter.jsonc import pointer
from linter.rules import Rule, load_rules
from linter.settings import Settings
from linter.suppressions import Suppressions  # noqa: F401  (re-exported)

SKIPPED_SOURCES = (".bicep",)  # sources vmsslint does not read: compile them to JSON first
SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache"}


#: The engine rule each kind of evaluation diagnostic (linter.arm.template.KINDS) becomes.
DIAGNOSTIC_CODES = {"syntax": "VMSS003", "evaluation": "VMSS004", "limit": "VMSS005", "linked": "VMSS006",
                    "internal": "VMSS000", "unsupported": "VMSS004", "parameter": "VMSS009"}


class Report:
    def __init__(self):
        self.findings: list[Finding] = []
        self.notes: list[str] = []  # said with -v: skipped files, parameter files used
        self.clean_files: list[str] = []  # templates checked without a finding (JUnit passes)
        self.inputs: list[dict] = []  # each template linted and the parameter files that gave its values
        self.templates = 0
        self.files = 0
        self.baselined = 0  # findings hidden by --baseline
        self.fixed = 0  # findings fixed by --fix
        self.tracebacks: list[str] = []  # internal errors, printed with -v
        self.finishers: list = []  # run once every file is read: inputs linted together (Terraform exports)
        self.skipped_sources: list[str] = []  # .bicep files seen and not read

    def sorted(self):
        return sorted(self.findings, key=Finding.sort_key)


class Engine:
    def __init__(self, settings: Settings, rules: list[Rule] | None = None):
        self.settings = settings
        self.all_rules = rules if rules is not None else load_rules()
        self.by_code = {r.code: r for r in self.all_rules}
        self._indexes: dict = {}
        self._linked_cache: dict = {}
        self._named_parameter_files: list = []  # parameter files named on the command line (pre-commit)
        self._linted: set = set()  # (template, parameter files) already linted in this run

    def rules_for(self, settings: Settings) -> dict:
        """Rules that run under ``settings``, by lower-case resource type."""
        index = self._indexes.get(settings.key())
        if index is None:
            index = {}
            for r in self.all_rules:
                if r.function == "engine" or not settings.selected(r.code) or settings.edition not in r.editions:
                    continue
                if r.enabled_by == "require-auto-upgrade" and not settings.require_auto_upgrade:
                    continue
                index.setdefault(r.type_lower, []).append(r)
            self._indexes[settings.key()] = index
        return index

    # -- files
    def lint_paths(self, paths: list[str]) -> Report:
        report = Report()
        param_files = [loader.read(p) for p in self.settings.parameters]
        for lf in param_files:
            if lf.error:
                self._broken(report, lf)
        named = set(paths)
        self._named_parameter_files: list = []  # parameter files named on the command line (pre-commit)
        self._linted: set = set()  # (template, parameter files) already linted in this run
        for path in iter_json_files(paths, report):
            if path.lower().endswith(SKIPPED_SOURCES) and path not in loader.STDIN:
                report.skipped_sources.append(path)
                continue
            if self.settings.excluded(path):
                report.notes.append(f"{path}: excluded by the configuration")
                continue
            report.files += 1
            self._lint_one(path, param_files, report, named=path in named)
        # a changed parameter file changes what its template deploys: lint the template with it
        for plf in self._named_parameter_files:
            templates = self.settings.templates_of(plf.path)
            if not templates:
                report.notes.append(f"{plf.src.display}: a parameter file whose template is not known "
                                    f"(NAME.parameters.json beside NAME.json, or parameter-files in the configuration)")
            for t in templates:
                if (os.path.abspath(t), (os.path.abspath(plf.path),)) not in self._linted:
                    report.notes.append(f"{t}: linted because its parameter file {plf.src.display} is among the files")
                    self._lint_one(t, [plf], report)
        for finish in report.finishers:  # inputs linted together: exports (linter/terraform)
            finish()
        self._finalize(report)
        return report

    def _lint_one(self, path, param_files, report, named=False):
        before = len(report.findings)
        try:
            self.lint_file(path, param_files, report, named=named)
        except Exception as exc:  # a bug of ours must not hide the other files' findings
            del report.findings[before:]
            self._internal_error(report, path, exc)
            report.tracebacks.append(_traceback(exc))

    def _finalize(self, report):
        """Configuration applied to the findings: per-file ignores, severity overrides."""
        kept = []
        for f in report.findings:
            ignored = self.settings.ignored_in(f.src.path) if f.src is not None else set()
            if any(f.code.startswith(c) for c in ignored):
                continue
            if f.code in self.settings.severity and not f.unverifiable:
                f.severity = self.settings.severity[f.code]
            kept.append(f)
        report.findings = kept

    def _rule_error(self, out, rule, res, exc):
        from linter.arm.values import visible
        self._engine_finding(out, "VMSS000", (res.raw, None), res,
                             f"internal error in rule {rule.code} ({rule.name}) on this resource "
                             f"({type(exc).__name__}: {visible(str(exc))[:200]}), so that rule did not check it "
                             f"(the other rules did)",
                             help="please report this with the file attached (-v shows the traceback)")

    def _internal_error(self, report, path, exc):
        from linter.source import SourceFile
        rule = self.by_code.get("VMSS000")
        report.findings.append(Finding(
            "VMSS000", rule.name if rule else "internal-error", "error", [], SourceFile(path, "", loader.display(path)),
            0, 0, "",
            f"internal error while linting this file ({type(exc).__name__}: {exc}), so the file was not checked",
            help="please report this with the file attached (-v shows the traceback)"))

    def lint_file(self, path, param_files, report, named=False):
        """Lint one file into ``report``; returns the evaluated deployment of a template, else None."""
        if path.lower().endswith((".tf", ".tfvars")):  # Terraform: linter/terraform
            from linter.terraform import lint_input
            return lint_input(self, path, report)
        lf = loader.read(path)
        if lf.error:
            self._broken(report, lf)
            return
        if lf.kind == loader.PARAMETERS:
            if named:
                self._named_parameter_files.append(lf)
            else:
                report.notes.append(f"{lf.src.display}: a parameter file, not linted as a template")
            return
        if lf.kind == loader.OTHER:  # a Terraform plan or an export of deployed sets: linter/terraform
            from linter.terraform import lint_input
            if lint_input(self, path, report, lf):
                return
        if lf.kind != loader.TEMPLATE:
            report.notes.append(f"{lf.src.display}: not an ARM deployment template (no deploymentTemplate "
                                f"$schema, no resources); skipped")
            return
        report.templates += 1
        self._duplicates(report, lf)
        supp = Suppressions(self, lf)
        settings = self.settings.for_template(supp.settings)
        params = list(param_files)
        if not params and self.settings.auto_parameters and (path not in loader.STDIN or loader.STDIN[path][1]):
            path = lf.src.path  # standard input: its parameter file is beside the name --stdin-filename gives
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
        self._linted.add((os.path.abspath(path), tuple(os.path.abspath(p.path) for p in params if p.path)))
        report.inputs.append({"template": lf.src.display,
                              "parameters": [p.src.display for p in params if p.src is not None]})
        options = Options(location=settings.location, **settings.context)
        deployment = loader.build(lf, params, options, self._linked_cache)
        before = len(report.findings)
        self.lint_deployment(deployment, report, settings, supp)
        if len(report.findings) == before:
            report.clean_files.append(lf.src.display)
        return deployment

    def lint_deployment(self, deployment, report, settings=None, supp=None):
        settings = settings or self.settings
        supp = supp or Suppressions(self, None)
        supp.collect(deployment)
        ctx = Context(deployment, settings)
        index = self.rules_for(settings)
        seen: dict = {}  # one finding per rule and place, also when several sets share a parameter
        out: list = []
        for res in deployment.resources:
            if res.existing:
                continue
            rules = index.get(res.type_lower)
            if not rules:
                continue
            unknown_conditions: dict = {}
            partial: list = []  # rules that met a value a partial update leaves to Azure
            for rule in rules:
                before = len(out)
                try:
                    state = self._preconditions(ctx, rule, res)
                    if state is False:
                        continue
                    if isinstance(state, tuple):
                        cond, why = state
                        if why == PARTIAL_UPDATE_WHY:  # an update of an existing set: said once, below
                            partial.append(rule.code)
                            continue
                        unknown_conditions.setdefault((cond, why), []).append(rule.code)
                        continue
                    self._run_rule(ctx, rule, res, out, seen, supp, partial)
                except Exception as exc:  # one rule's bug: one VMSS000 for it; the other rules still report
                    del out[before:]
                    self._rule_error(out, rule, res, exc)
                    report.tracebacks.append(_traceback(exc))
            if partial and not supp.suppressed(res.raw, "VMSS010"):
                self._engine_finding(out, "VMSS010", (res.raw, None), res,
                                     f"this template updates an existing scale set (it has no "
                                     f"properties.virtualMachineProfile) and Azure keeps the deployed values of "
                                     f"what it does not write, so {', '.join(sorted(set(partial)))} could not check it")
            by_why: dict = {}
            for (cond, why), codes in unknown_conditions.items():
                conds, all_codes = by_why.setdefault(why, ([], []))
                conds.append(CONDITIONS[cond][1])
                all_codes.extend(c for c in codes if c not in all_codes)
            for why, (conds, codes) in by_why.items():
                if not supp.suppressed(res.raw, "VMSS010"):
                    self._engine_finding(out, "VMSS010", (res.raw, None), res,
                                         f"cannot tell whether {', or whether '.join(conds)} ({why}), so these rules "
                                         f"did not run: "
                                         f"{', '.join(sorted(codes))}")
        for d in deployment.diagnostics:
            code = DIAGNOSTIC_CODES[d.kind]
            if d.loc is not None and not supp.suppressed(supp.owner(d.loc[0]), code):
                self._engine_finding(out, code, d.loc, None, d.message, d.severity)
        supp.report_problems(out, index, settings)
        report.findings.extend(out)

    def _preconditions(self, ctx, rule, res):
        for cond in rule.when:
            value = CONDITIONS[cond][0](ctx, res)
            if isinstance(value, Unknown):
                return (cond, value.why)
            if not value:
                return False
        return True

    def _run_rule(self, ctx, rule, res, out, seen, supp, partial=None):
        func = CHECKS[rule.function][0]
        if rule.given:
            targets = [t for path in rule.given for t in resolve(res, path)]
        else:
            targets = [Target(res, res.evaluated(), (res.raw, None), "")]
        for target in targets:
            self._report(ctx, rule, res, out, seen, supp, target, func(ctx, target, rule.options), partial)

    def _report(self, ctx, rule, res, out, seen, supp, target, results, partial=None):
        for result in results:
            if supp.suppressed(res.raw, rule.code):
                continue
            if partial is not None and result.status == "unverifiable" and result.why == PARTIAL_UPDATE_WHY:
                partial.append(rule.code)  # said once for the set (VMSS010)
                continue
            loc = result.loc or (res.raw, None)
            src, start, end, ptr = key_span(loc) if result.key else span(loc)
            dedup = (rule.code, id(src), start, result.variant, result.status)
            earlier = seen.get(dedup)
            if earlier is not None:  # one place, several sets (a shared parameter or variable)
                earlier.add_resource(res.display_name())
                continue
            if result.status == "unverifiable":
                message = f"{rule.summary} Cannot verify: {result.why}."
                f = Finding(rule.code, rule.name, "info", rule.requirements, src, start, end, ptr, message,
                            res.display_name(), unverifiable=True)
            else:
                params = dict(result.params)
                params.setdefault("resource", res.display_name())
                message = rule.format(result.variant, params)
                help_text = rule.format_help(result.variant, params)
                fix = result.fix
                if fix is None and rule.fix.get("kind", "none") != "none":
                    from linter import fixes
                    fix = fixes.for_result(rule, result, loc, target.path)
                f = Finding(rule.code, rule.name, rule.severity, rule.requirements, src, start, end, ptr,
                            message, res.display_name(), fix=fix, help=help_text)
            seen[dedup] = f
            out.append(f)

    # -- engine findings
    def _engine_finding(self, out, code, loc, res, message, severity=None, at=None, unverifiable=False, help=""):
        """A finding of an engine rule at ``loc`` (or at a precomputed ``at`` = (src, start, end, pointer))."""
        if not self.settings.selected(code):
            return
        rule = self.by_code.get(code)
        src, start, end, ptr = at or span(loc)
        f = Finding(code, rule.name if rule else code.lower(), severity or (rule.severity if rule else "error"),
                    rule.requirements if rule else [], src, start, end, ptr, message,
                    res.display_name() if res is not None else "", unverifiable=unverifiable, help=help)
        (out.findings if isinstance(out, Report) else out).append(f)

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
                f"duplicate key '{d.key}': {same} is already at line {line}, column {col}, and Azure keeps only the "
                f"last one", at=(lf.src, d.offset, d.end, pointer(d.obj)), help="remove one of the two")


def _traceback(exc) -> str:
    import traceback
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def iter_json_files(paths, report):
    """Files named on the command line, and ``*.json`` under named directories (sorted, deterministic)."""
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                for name in sorted(files):
                    if name.lower().endswith((".json", ".jsonc", ".tf")):
                        yield os.path.join(root, name)
                    elif name.lower().endswith(SKIPPED_SOURCES):
                        report.skipped_sources.append(os.path.join(root, name))
        else:
            yield path


def worst(findings) -> int:
    return max((SEVERITY_RANK[f.severity] for f in findings), default=-1)
