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


#: The engine rule each kind of evaluation diagnostic (linter.arm.template.KINDS) becomes.
DIAGNOSTIC_CODES = {"syntax": "VMSS003", "evaluation": "VMSS004", "limit": "VMSS005", "linked": "VMSS006",
                    "internal": "VMSS000"}


class Settings:
    """Everything that changes what the lint reports."""

    def __init__(self, edition="2026", require_auto_upgrade=False, select=None, ignore=None,
                 parameters=None, location=None, now=None, extra_images=(), credential_horizon_days=30,
                 auto_parameters=True, severity=None, per_file_ignores=(), exclude=(), root=None, explicit=()):
        self.edition = str(edition)
        self.require_auto_upgrade = require_auto_upgrade
        self.select = list(select or [])
        self.ignore = list(ignore or [])
        self.parameters = list(parameters or [])
        self.location = location
        self._now = now
        self.extra_images = list(extra_images)
        self.credential_horizon_days = credential_horizon_days
        self.auto_parameters = auto_parameters
        self.severity = dict(severity or {})  # per-rule severity overrides
        self.per_file_ignores = [(pattern, [c.upper() for c in codes]) for pattern, codes in per_file_ignores]
        self.exclude = list(exclude)
        self.root = root or os.getcwd()  # globs of the configuration are relative to it
        self.explicit = set(explicit)  # settings given on the command line: template metadata cannot change them

    def for_template(self, meta: dict):
        """These settings with a template's ``metadata.vmsslint`` applied (the command line still wins)."""
        out = object.__new__(Settings)
        out.__dict__.update(self.__dict__)
        if "docs-edition" in meta and "edition" not in self.explicit:
            out.edition = str(meta["docs-edition"])
        if "require-auto-upgrade" in meta and "require_auto_upgrade" not in self.explicit:
            out.require_auto_upgrade = meta["require-auto-upgrade"] is True
        return out

    def key(self):
        return (self.edition, self.require_auto_upgrade, tuple(self.select), tuple(self.ignore))

    def ignored_in(self, path: str) -> set:
        """Codes (prefixes) ignored for ``path`` by per-file-ignores."""
        if not self.per_file_ignores:
            return set()
        import fnmatch
        rel = os.path.relpath(os.path.abspath(path), self.root).replace(os.sep, "/")
        out = set()
        for pattern, codes in self.per_file_ignores:
            if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(os.path.basename(path), pattern):
                out.update(codes)
        return out

    def excluded(self, path: str) -> bool:
        if not self.exclude:
            return False
        import fnmatch
        rel = os.path.relpath(os.path.abspath(path), self.root).replace(os.sep, "/")
        return any(fnmatch.fnmatch(rel, g) or fnmatch.fnmatch(rel, g.rstrip("/") + "/*") for g in self.exclude)

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
        self.inputs: list[dict] = []  # each template linted and the parameter files that gave its values
        self.templates = 0
        self.files = 0
        self.baselined = 0  # findings hidden by --baseline
        self.fixed = 0  # findings fixed by --fix
        self.tracebacks: list[str] = []  # internal errors, printed with -v

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
        self._indexes: dict = {}
        self._linked_cache: dict = {}

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
        for path in iter_json_files(paths, report):
            if self.settings.excluded(path):
                report.notes.append(f"{path}: excluded by the configuration")
                continue
            report.files += 1
            before = len(report.findings)
            try:
                self.lint_file(path, param_files, report)
            except Exception as exc:  # a bug of ours must not hide the other files' findings
                del report.findings[before:]
                self._internal_error(report, path, exc)
                report.tracebacks.append(_traceback(exc))
        for finish in report.__dict__.pop("finishers", []):  # inputs linted together: exports (linter/terraform)
            finish()
        self._finalize(report)
        return report

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
                             f"({type(exc).__name__}: {visible(str(exc))[:200]}); that rule did not check it, "
                             f"the other rules did — please report this with the file attached (-v shows the "
                             f"traceback)")

    def _internal_error(self, report, path, exc):
        from linter.source import SourceFile
        rule = self.by_code.get("VMSS000")
        report.findings.append(Finding(
            "VMSS000", rule.name if rule else "internal-error", "error", [], SourceFile(path, "", None), 0, 0, "",
            f"internal error while linting this file ({type(exc).__name__}: {exc}); the file was not checked — "
            f"please report this with the file attached"))

    def lint_file(self, path, param_files, report):
        """Lint one file into ``report``; returns the evaluated deployment of a template, else None."""
        if path.lower().endswith((".tf", ".tfvars")):  # Terraform: linter/terraform
            from linter.terraform import lint_input
            return lint_input(self, path, report)
        lf = loader.read(path)
        if lf.error:
            self._broken(report, lf)
            return
        if lf.kind == loader.PARAMETERS:
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
        report.inputs.append({"template": lf.src.display,
                              "parameters": [p.src.display for p in params if p.src is not None]})
        options = Options(location=settings.location, **getattr(settings, "context", {}))
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
            for rule in rules:
                before = len(out)
                try:
                    state = self._preconditions(ctx, rule, res)
                    if state is False:
                        continue
                    if isinstance(state, tuple):
                        cond, why = state
                        unknown_conditions.setdefault((cond, why), []).append(rule.code)
                        continue
                    self._run_rule(ctx, rule, res, out, seen, supp)
                except Exception as exc:  # one rule's bug: one VMSS000 for it; the other rules still report
                    del out[before:]
                    self._rule_error(out, rule, res, exc)
                    report.tracebacks.append(_traceback(exc))
            by_why: dict = {}
            for (cond, why), codes in unknown_conditions.items():
                conds, all_codes = by_why.setdefault(why, ([], []))
                conds.append(CONDITIONS[cond][1])
                all_codes.extend(c for c in codes if c not in all_codes)
            for why, (conds, codes) in by_why.items():
                if not supp.suppressed(res.raw, "VMSS010"):
                    self._engine_finding(out, "VMSS010", (res.raw, None), res,
                                         f"cannot tell whether {', or whether '.join(conds)}: {why}; not checked: "
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

    def _run_rule(self, ctx, rule, res, out, seen, supp):
        func = CHECKS[rule.function][0]
        if rule.given:
            targets = [t for path in rule.given for t in resolve(res, path)]
        else:
            targets = [Target(res, res.evaluated(), (res.raw, None), "")]
        for target in targets:
            for result in func(ctx, target, rule.options):
                if supp.suppressed(res.raw, rule.code):
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
                    fix = result.fix
                    if fix is None and rule.fix.get("kind", "none") != "none":
                        from linter import fixes
                        fix = fixes.for_result(rule, result, loc, target.path)
                    f = Finding(rule.code, rule.name, rule.severity, rule.requirements, src, start, end, ptr,
                                message, res.display_name(), fix=fix)
                seen[dedup] = f
                out.append(f)

    # -- engine findings
    def _engine_finding(self, out, code, loc, res, message, severity=None, at=None):
        """A finding of an engine rule at ``loc`` (or at a precomputed ``at`` = (src, start, end, pointer))."""
        if not self.settings.selected(code):
            return
        rule = self.by_code.get(code)
        src, start, end, ptr = at or span(loc)
        f = Finding(code, rule.name if rule else code.lower(), severity or (rule.severity if rule else "error"),
                    rule.requirements if rule else [], src, start, end, ptr, message,
                    res.display_name() if res is not None else "")
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
                f"duplicate key '{d.key}': {same} is already at line {line}, column {col}; Azure keeps only the "
                f"last one", at=(lf.src, d.offset, d.end, pointer(d.obj)))


class Suppressions:
    """``metadata.vmsslint`` of a template (settings, file-wide ``ignore``) and of its resources.

    ``"metadata": {"vmsslint": {"ignore": {"VMSS200": "why"}}}`` on a resource suppresses that rule
    there; on the template itself, everywhere in the file.  A reason is required.  A suppression that
    suppresses nothing is reported (VMSS007), and so is one that cannot work (VMSS008).
    """

    FILE = "file"

    def __init__(self, engine, lf):
        self.engine = engine
        self.entries: dict = {}  # (scope id, code) -> [loc, used, resource type or None]
        self.problems: list = []  # (loc, message)
        self.settings: dict = {}
        self.raw_ids: dict = {}
        if lf is not None and isinstance(lf.root, dict):
            meta = _vmsslint_meta(lf.root)
            if meta is not None:
                self._read(meta, self.FILE, None, template=True)

    def _read(self, meta, scope, rtype, template=False):
        container, obj = meta
        if not isinstance(obj, dict):
            self.problems.append(((container, "vmsslint"), "metadata.vmsslint must be an object"))
            return
        for key, value in obj.items():
            if template and key.lower() in ("docs-edition", "require-auto-upgrade"):
                ok = (str(value) in ("2020", "2026")) if key.lower() == "docs-edition" else isinstance(value, bool)
                if ok:
                    self.settings[key.lower()] = value
                else:
                    self.problems.append(((obj, key), f"metadata.vmsslint.{key} cannot be {value!r}"))
                continue
            if key.lower() != "ignore":
                allowed = "docs-edition, require-auto-upgrade, ignore" if template else "ignore"
                self.problems.append(((obj, key), f"metadata.vmsslint has no setting '{key}' (here: {allowed})"))
                continue
            if not isinstance(value, dict):
                self.problems.append(((obj, key), 'metadata.vmsslint.ignore must map rule codes to reasons: '
                                                  '{"VMSS200": "why"}'))
                continue
            for code, reason in value.items():
                loc = (value, code)
                if code.upper() not in self.engine.by_code:
                    from linter.config import suggest_code
                    near = suggest_code(code, list(self.engine.by_code))
                    self.problems.append((loc, f"'{code}' is not a rule code" + (f"; did you mean {near}?" if near else "")))
                elif not isinstance(reason, str) or not reason.strip():
                    self.problems.append((loc, f"suppression of {code.upper()} has no reason; write why it does not "
                                               f"apply here, e.g. \"{code.upper()}\": \"image pinned until 2027 rollout\""))
                else:
                    self.entries[(scope, code.upper())] = [loc, False, rtype]

    def collect(self, deployment):
        for res in deployment.resources:
            self.raw_ids[id(res.raw)] = res.raw
            meta = _vmsslint_meta(res.raw)
            if meta is not None and not any(k[0] == id(res.raw) for k in self.entries):
                self._read(meta, id(res.raw), res.type_lower)

    def owner(self, container):
        """The resource (raw object) a parsed container belongs to, or None."""
        node = container
        while node is not None:
            if id(node) in self.raw_ids:
                return node
            node = getattr(node, "parent", None)
        return None

    def suppressed(self, raw, code) -> bool:
        for scope in ((id(raw),) if raw is not None else ()) + (self.FILE,):
            entry = self.entries.get((scope, code))
            if entry is not None:
                entry[1] = True
                return True
        return False

    def report_problems(self, out, index, settings):
        for loc, message in self.problems:
            self.engine._engine_finding(out, "VMSS008", loc, None, message)
        for (scope, code), (loc, used, rtype) in self.entries.items():
            if used:
                continue
            rule = self.engine.by_code[code]
            if not settings.selected(code) or settings.edition not in rule.editions:
                continue  # the rule did not run: cannot tell whether the suppression is needed
            if rule.function != "engine" and rtype is not None and rule not in index.get(rtype, []):
                continue
            where = "this resource" if scope != self.FILE else "this template"
            self.engine._engine_finding(out, "VMSS007", loc, None,
                                        f"{code} reports nothing in {where}; remove the unused suppression")


def _vmsslint_meta(obj):
    from linter.jsonc import ci_get, ci_key
    meta = ci_get(obj, "metadata")
    if not isinstance(meta, dict):
        return None
    k = ci_key(meta, "vmsslint")
    return None if k is None else (meta, meta[k])


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
        else:
            yield path


def worst(findings) -> int:
    return max((SEVERITY_RANK[f.severity] for f in findings), default=-1)
