"""``vmsslint lint``: what the command does, shared by the click command and the fast launcher."""

from __future__ import annotations

import os
import sys


class CommandError(Exception):
    """A usage problem found after parsing (an unknown rule code, a bad date): exit 2."""

    exit_code = 2


class ConfigError(CommandError):
    """A broken rule or configuration file: exit 2."""


def _split_codes(values) -> list[str]:
    out = []
    for v in values or ():
        out += [c.strip().upper() for c in v.split(",") if c.strip()]
    return out


def _check_codes(codes, known, option):
    for code in codes:
        if code == "ALL":
            continue
        if not any(k.startswith(code) for k in known):
            from linter.config import suggest_code
            near = suggest_code(code, known)
            hint = f"; did you mean {near}?" if near else "; `vmsslint rules` lists them"
            raise CommandError(f"{option}: no rule code starts with '{code}'{hint}")


def parse_now(value):
    if value is None:
        return None
    from linter.arm.functions import parse_datetime
    v = value.strip()
    if len(v) == 10:
        v += "T00:00:00Z"
    parsed = parse_datetime(v)
    if parsed is None:
        raise CommandError(f"--now: '{value}' is not a date (use YYYY-MM-DD or an ISO 8601 date-time)")
    return parsed


CONTEXT_KEYS = (("subscription_id", "subscription-id"), ("resource_group", "resource-group"),
                ("deployment_name", "deployment-name"), ("tenant_id", "tenant-id"))


def deployment_context(p: dict, cfg) -> dict:
    """What the user knows of the deployment (command line over configuration), and the evaluation deadline."""
    out = {}
    for dest, key in CONTEXT_KEYS:
        value = p.get(dest) or cfg.get(key)
        if value is not None:
            if not isinstance(value, str) or not value.strip() or any(c in value for c in "/?#\n"):
                raise CommandError(f"--{key}: '{value}' is not a valid {key.replace('-', ' ')}")
            out[dest] = value.strip()
    timeout = p.get("eval_timeout") or cfg.get("eval-timeout")
    if timeout is not None:
        try:
            seconds = float(timeout)
        except (TypeError, ValueError):
            seconds = -1.0
        if not 0 < seconds <= 3600:
            raise CommandError(f"--eval-timeout: '{timeout}' is not a number of seconds between 0 and 3600")
        out["eval_seconds"] = seconds
    return out


def prepare(p: dict):
    """Load rules and configuration, and check everything the parser could not: returns (engine, settings)."""
    from linter import config
    from linter.engine import Engine, Settings
    from linter.rules import RuleError, load_rules
    try:
        rules = load_rules()
    except RuleError as exc:
        raise ConfigError(f"broken rule file: {exc}") from None
    known = sorted(r.code for r in rules)
    try:
        cfg = config.Config() if p["isolated"] else config.load(p["config"] or config.find(list(p["paths"])))
        where = cfg.path or ""
        for key in ("select", "ignore"):
            config.check_codes(cfg.get(key, []), known, f"{where}: {key}")
        for pattern, codes in cfg.get("per-file-ignores", {}).items():
            config.check_codes(codes, known, f"{where}: per-file-ignores '{pattern}'")
        for code in cfg.get("severity", {}):
            if code.upper() not in known:
                config.check_codes([code], known, f"{where}: severity")
                raise config.ConfigFileError(f"{where}: severity: '{code}' is a prefix; name one rule code")
    except config.ConfigFileError as exc:
        raise ConfigError(str(exc)) from None
    if "-" in p["paths"] and (p["fix"] or p["diff"]):
        raise CommandError("--fix and --diff edit files; a template read from standard input (-) has no file to edit")
    select, ignore = _split_codes(p["select"]), _split_codes(p["ignore"])
    _check_codes(select, known, "--select")
    _check_codes(ignore, known, "--ignore")
    if not select:
        select = [c.upper() for c in cfg.get("select", [])]
    ignore = [c.upper() for c in cfg.get("ignore", [])] + ignore
    horizon = p["credential_horizon"] if p["credential_horizon"] is not None else cfg.get("credential-horizon-days", 30)
    try:
        horizon = int(horizon)
    except (TypeError, ValueError):
        raise CommandError(f"--credential-horizon: '{horizon}' is not a number of days") from None
    images = list(cfg.get("extra-images", []))
    for urn in p["extra_image"]:
        if urn.count(":") != 2 or not all(urn.split(":")):
            raise CommandError(f"--extra-image: '{urn}' is not PUBLISHER:OFFER:SKU (the az CLI's URN form without version)")
        images.append(urn)
    explicit = set()
    if p["docs_edition"]:
        explicit.add("edition")
    if p["require_auto_upgrade"]:
        explicit.add("require_auto_upgrade")
    settings = Settings(
        edition=p["docs_edition"] or cfg.get("docs-edition", "2026"),
        require_auto_upgrade=p["require_auto_upgrade"] or cfg.get("require-auto-upgrade", False),
        select=[c for c in select if c != "ALL"], ignore=ignore, parameters=p["parameters"],
        location=p["location"] or cfg.get("location"), now=parse_now(p["now"]), extra_images=images,
        credential_horizon_days=horizon, severity={k.upper(): v for k, v in cfg.get("severity", {}).items()},
        per_file_ignores=list(cfg.get("per-file-ignores", {}).items()), exclude=cfg.get("exclude", []),
        root=cfg.root, explicit=explicit, parameter_files=cfg.get("parameter-files", {}))
    settings.context = deployment_context(p, cfg)
    settings.fail_level = p["fail_level"] or cfg.get("fail-level", "error")
    settings.tf_var_files = list(p.get("var_file") or ())  # Terraform inputs: linter/terraform
    settings.tf_vars = list(p.get("var") or ())
    for pair in settings.tf_vars:
        if "=" not in pair or not pair.split("=", 1)[0].strip():
            raise CommandError(f"--var: '{pair}' is not NAME=VALUE")
    if p.get("readiness"):
        settings.require_auto_upgrade = True
        settings.explicit.add("require_auto_upgrade")
    settings.baseline = None
    if p["baseline"]:
        from linter import baseline
        try:
            settings.baseline = baseline.load(p["baseline"])
        except ValueError as exc:
            raise ConfigError(f"--baseline {p['baseline']}: {exc}") from None
    settings.config_path = cfg.path
    settings.config_data = cfg.data  # --show-settings says which values came from the file
    return Engine(settings, rules), settings


#: Exit status of a run that hit an internal error (VMSS000): not "findings" (1), not a usage error (2).
EXIT_INTERNAL = 3


def run_guarded(p: dict, prepared) -> int:
    """:func:`run`, with the exit code of a file that cannot be written (2) and of a bug of ours (3)
    instead of a traceback."""
    from linter.fileio import WriteError
    try:
        return run(p, prepared)
    except WriteError as exc:
        sys.stderr.write(f"vmsslint: error: {_shown(str(exc))}\n")
        return 2
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as exc:  # a bug of ours: say so, with its own exit status, not as "findings"
        if os.environ.get("VMSSLINT_DEBUG"):
            raise
        sys.stderr.write(f"vmsslint: internal error ({type(exc).__name__}: {_shown(str(exc))}); please report it "
                         f"(VMSSLINT_DEBUG=1 shows the traceback)\n")
        return EXIT_INTERNAL


def _shown(text: str) -> str:
    from linter.findings import display
    return display(text)


def _write_out(data: str) -> None:
    """The report on standard output, always as UTF-8 (whatever the locale says)."""
    out = sys.stdout
    buf = getattr(out, "buffer", None)
    if buf is None:
        out.write(data)
    else:
        out.flush()
        buf.write(data.encode("utf-8", errors="replace"))
        buf.flush()
    out.flush()


def run(p: dict, prepared) -> int:
    """Lint, print or write the report; returns the exit code (0, 1, or 3 after an internal error — the
    other files' findings are still reported)."""
    from linter import loader
    from linter.engine import worst
    from linter.findings import SEVERITY_RANK, display
    from linter.output import FORMATTERS
    engine, settings = prepared
    loader.ALLOW_LINKED_OUTSIDE = bool(p.get("allow_linked_outside"))
    paths = list(p["paths"]) or ["."]  # no path: the current directory, as ruff does
    unreadable = _unreadable_dirs(paths)
    if p.get("show_settings"):
        from linter.settingsview import render_settings
        sys.stdout.write(render_settings(p, settings))
        return 0
    if p.get("readiness"):  # sets ready for the feature and their blockers: linter/terraform/readiness.py
        from linter.terraform.readiness import CountingEngine
        engine = CountingEngine(settings, engine.all_rules)
    if "-" in paths:
        from linter.source import MAX_FILE_BYTES
        loader.STDIN["-"] = (sys.stdin.buffer.read(MAX_FILE_BYTES + 1), p.get("stdin_filename"))
    report = engine.lint_paths(paths)
    fixed = None
    if p["fix"] or p["diff"]:
        from linter import fixes
        edited, fixed = fixes.apply(report.findings, unsafe=p["unsafe_fixes"])
        if p["diff"]:
            text = "".join(fixes.diff(src, new) for src, new in edited.items() if new != src.text)
            _write_out(text)
            sys.stderr.write(f"{len(fixed)} fix{'es' if len(fixed) != 1 else ''} available"
                             f"{'' if p['unsafe_fixes'] else ' (more may be with --unsafe-fixes)'}; no file changed\n")
            return 1 if text else 0
        from linter.fileio import clean_stale
        for entry in report.inputs:  # temporary files a killed --fix left beside these files
            for name in [entry["template"], *entry["parameters"]]:
                clean_stale(name)
        changed = [src for src, new in edited.items() if new != src.text]
        for src in changed:
            fixes.write(src, edited[src])
        if changed:
            from linter.engine import Engine
            engine = Engine(settings, engine.all_rules)
            report = engine.lint_paths(paths)
        report.fixed = len(fixed)
        report.notes.append(f"fixed {len(fixed)} finding(s) in {len(changed)} file(s)")
    _report_unreadable(engine, report, unreadable)
    if not settings.selected("VMSS000"):
        report.findings = [f for f in report.findings if f.code != "VMSS000"]
    if p["write_baseline"]:
        from linter import baseline
        from linter.fileio import write_atomic
        write_atomic(p["write_baseline"], baseline.dump(report.findings))
        sys.stderr.write(f"baseline of {len(report.findings)} findings written to {p['write_baseline']}\n")
        return 0  # writing the baseline is the job: it succeeded
    if settings.baseline is not None:
        from linter import baseline
        report.findings, report.baselined = baseline.subtract(report.findings, settings.baseline)
    if settings.config_path:
        report.notes.insert(0, f"configuration from {settings.config_path}")
    # what reaches a report: file names and notes masked and escaped like the findings' texts
    report.notes = [display(n) for n in report.notes]
    report.clean_files = [display(n) for n in report.clean_files]
    report.inputs = [{**e, "template": display(e["template"]), "parameters": [display(x) for x in e["parameters"]]}
                     for e in report.inputs]
    if p["verbose"]:
        for note in report.notes:
            sys.stderr.write(f"note: {note}\n")
        for tb in report.tracebacks:
            sys.stderr.write(f"internal error:\n{tb}")
    if p.get("readiness"):
        from linter.terraform.readiness import readiness_text
        text = readiness_text(report, engine.all_rules, settings.edition, p["fmt"] or "text")
        if p["output"]:
            from linter.fileio import write_atomic
            write_atomic(p["output"], text)
        else:
            sys.stdout.write(text)
        return 0
    tty = p["output"] is None and sys.stdout.isatty()
    fmt = p["fmt"] or ("full" if tty else "concise")
    colour = {"always": True, "never": False}.get(p.get("color") or "auto",
                                                  tty and not os.environ.get("NO_COLOR"))
    colour = colour and fmt in ("text", "concise", "full")
    opts = {"colour": colour, "statistics": p["statistics"], "quiet": p["quiet"],
            "edition": settings.edition, "rules": engine.all_rules,
            "require_auto_upgrade": settings.require_auto_upgrade, "clean_files": report.clean_files}
    if p["statistics"] and fmt in ("text", "concise", "full"):
        from linter.fullformat import format_statistics
        text = format_statistics(report, opts)  # only the table, as ruff prints it
    else:
        text = FORMATTERS[fmt](report, opts)
    if p.get("show_fixes") and fmt in ("text", "concise", "full"):
        from linter.fullformat import format_fixes
        text += format_fixes(report, fixed, opts, unsafe=p["unsafe_fixes"])
    if p["output"]:
        from linter.fileio import write_atomic
        write_atomic(p["output"], text)
    else:
        _write_out(text)
    if any(f.code == "VMSS000" for f in report.findings):
        return EXIT_INTERNAL
    if p["exit_zero"]:
        return 0
    return 1 if worst(report.findings) >= SEVERITY_RANK[settings.fail_level] else 0


def _unreadable_dirs(paths) -> list:
    """Directories under the named ones that cannot be listed, as (path, reason): the lint walk would
    skip them without a word."""
    from linter.engine import SKIP_DIRS
    out = []
    for path in paths:
        if not os.path.isdir(path):
            continue
        seen = []

        def onerror(exc, seen=seen):
            seen.append((exc.filename or path, exc.strerror or str(exc)))

        for root, dirs, _files in os.walk(path, onerror=onerror):
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")]
        out += seen
    return out


def _report_unreadable(engine, report, unreadable):
    from linter.findings import Finding
    from linter.loader import _display
    from linter.source import SourceFile
    if not unreadable or not engine.settings.selected("VMSS001"):
        return
    rule = engine.by_code.get("VMSS001")
    for path, why in unreadable:
        report.findings.append(Finding("VMSS001", rule.name if rule else "invalid-json", "error", [],
                                       SourceFile(path, "", _display(path)), 0, 0, "",
                                       f"cannot read this directory: {why}; the files in it were not checked"))
