"""The ``vmsslint`` command line.

Exit codes: 0 — nothing at or above the fail level; 1 — findings at or above it; 2 — usage error
(unknown option, missing file, unknown rule code, broken configuration or rule file).
Heavy modules (jsonschema, jinja2, the simulator) are imported only by the commands that use them.
"""

from __future__ import annotations

import os
import sys

import click

from linter import __version__

EDITIONS = ("2020", "2026")
FORMATS = ("text", "json")
LEVELS = ("error", "warning", "info")


class UsageError(click.UsageError):
    exit_code = 2


class ConfigError(click.ClickException):
    """A broken rule or configuration file: exit 2, without the usage text."""

    exit_code = 2


def _split_codes(values) -> list[str]:
    out = []
    for v in values or ():
        out += [c.strip().upper() for c in v.split(",") if c.strip()]
    return out


def _check_codes(codes, known, option):
    import difflib
    for code in codes:
        if code == "ALL":
            continue
        if not any(k.startswith(code) for k in known):
            near = difflib.get_close_matches(code, known, n=1)
            hint = f"; did you mean {near[0]}?" if near else "; `vmsslint rules` lists them"
            raise UsageError(f"{option}: no rule code starts with '{code}'{hint}")


def _parse_now(value):
    if value is None:
        return None
    from linter.arm.functions import parse_datetime
    v = value.strip()
    if len(v) == 10:
        v += "T00:00:00Z"
    parsed = parse_datetime(v)
    if parsed is None:
        raise UsageError(f"--now: '{value}' is not a date (use YYYY-MM-DD or an ISO 8601 date-time)")
    return parsed


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="vmsslint")
def cli():
    """Lint, generate and plan Azure VM scale set templates for automatic OS image upgrades."""


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("-p", "--parameters", "parameters", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Parameter file (repeatable; later files win). Default: NAME.parameters.json or "
                   "azuredeploy.parameters.json beside the template.")
@click.option("--docs-edition", type=click.Choice(EDITIONS), default="2026", show_default=True,
              help="Which edition of Microsoft's documentation to check against.")
@click.option("--require-auto-upgrade", is_flag=True,
              help="Policy: every scale set must turn automatic OS upgrade on; check all sets as if they did.")
@click.option("--select", multiple=True, metavar="CODES", help="Only these rule codes or prefixes (comma-separated).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rule codes or prefixes (comma-separated).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the report to FILE.")
@click.option("--fail-level", type=click.Choice(LEVELS), default="error", show_default=True,
              help="Exit 1 when a finding is at or above this severity.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--location", metavar="REGION", help="The resource group's location (resourceGroup().location).")
@click.option("--now", metavar="DATE", help="Fix the clock (YYYY-MM-DD) for reproducible credential checks.")
@click.option("--statistics", is_flag=True, help="Count findings by rule.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
@click.option("-v", "--verbose", is_flag=True, help="Say which files were skipped and which parameter files were used.")
def lint(paths, parameters, docs_edition, require_auto_upgrade, select, ignore, fmt, output, fail_level,
         exit_zero, location, now, statistics, quiet, verbose):
    """Check ARM templates (files or directories) for automatic OS image upgrades."""
    from linter.engine import Engine, Settings, worst
    from linter.findings import SEVERITY_RANK
    from linter.rules import RuleError, load_rules

    try:
        rules = load_rules()
    except RuleError as exc:
        raise ConfigError(f"broken rule file: {exc}") from None
    known = sorted(r.code for r in rules)
    select, ignore = _split_codes(select), _split_codes(ignore)
    _check_codes(select, known, "--select")
    _check_codes(ignore, known, "--ignore")
    settings = Settings(edition=docs_edition, require_auto_upgrade=require_auto_upgrade,
                        select=[c for c in select if c != "ALL"], ignore=ignore, parameters=parameters,
                        location=location, now=_parse_now(now))
    engine = Engine(settings, rules)
    report = engine.lint_paths(list(paths))
    from linter.output import FORMATTERS
    colour = fmt == "text" and output is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    text = FORMATTERS[fmt](report, {"colour": colour, "statistics": statistics, "quiet": quiet,
                                    "edition": docs_edition, "require_auto_upgrade": require_auto_upgrade})
    if verbose:
        for note in report.notes:
            click.echo(f"note: {note}", err=True)
    if output:
        write_atomic(output, text)
    else:
        click.echo(text, nl=False)
    if exit_zero:
        sys.exit(0)
    sys.exit(1 if worst(report.findings) >= SEVERITY_RANK[fail_level] else 0)


def write_atomic(path: str, text: str) -> None:
    """Write a whole file or nothing: a temporary file in the same directory, then a rename."""
    import tempfile
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


@cli.command("rules")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
def rules_cmd(fmt):
    """List every rule: code, name, severity, requirements."""
    from linter.rules import RuleError, load_rules
    try:
        rules = load_rules()
    except RuleError as exc:
        raise ConfigError(f"broken rule file: {exc}") from None
    if fmt == "json":
        import json
        click.echo(json.dumps([{"code": r.code, "name": r.name, "severity": r.severity, "summary": r.summary,
                                "requirements": r.requirements, "editions": r.editions, "fix": r.fix["kind"]}
                               for r in rules], indent=2))
        return
    for r in rules:
        reqs = ", ".join(r.requirements) or "-"
        click.echo(f"{r.code}  {r.name:<34} {r.severity:<7}  {reqs}")


@cli.command("rule")
@click.argument("code")
def rule_cmd(code):
    """Explain one rule (by code or name)."""
    from linter.docs import render_rule
    from linter.rules import RuleError, load_rules
    try:
        rules = load_rules()
    except RuleError as exc:
        raise ConfigError(f"broken rule file: {exc}") from None
    wanted = code.strip()
    for r in rules:
        if r.code == wanted.upper() or r.name == wanted.lower():
            click.echo(render_rule(r), nl=False)
            return
    import difflib
    names = [r.code for r in rules] + [r.name for r in rules]
    near = difflib.get_close_matches(wanted, names, n=1)
    raise UsageError(f"no rule '{code}'" + (f"; did you mean {near[0]}?" if near else "; `vmsslint rules` lists them"))


def main(argv=None):
    try:
        cli.main(args=argv, prog_name="vmsslint", standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
