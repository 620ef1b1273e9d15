"""The ``vmsslint`` command line.

Exit codes: 0 — nothing at or above the fail level; 1 — findings at or above it; 2 — usage error
(unknown option, missing file, unknown rule code, broken configuration or rule file).
Heavy modules (jsonschema, jinja2, the simulator) are imported only by the commands that use them.
"""

from __future__ import annotations

import sys

import click

from linter import __version__
from linter.options import LINT_OPTIONS


class UsageError(click.UsageError):
    exit_code = 2


class ConfigError(click.ClickException):
    """A broken rule or configuration file: exit 2, without the usage text."""

    exit_code = 2


def _click_option(opt):
    kwargs = {"help": opt.help, "multiple": opt.multiple}
    if opt.flag:
        kwargs["is_flag"] = True
    else:
        if opt.choices:
            kwargs["type"] = click.Choice(opt.choices)
            kwargs["show_default"] = True
        elif opt.path == "file":
            kwargs["type"] = click.Path(exists=True, dir_okay=False)
        elif opt.path == "output":
            kwargs["type"] = click.Path(dir_okay=False, writable=True)
        if opt.default is not None:
            kwargs["default"] = opt.default
        if opt.metavar:
            kwargs["metavar"] = opt.metavar
    return click.option(*opt.flags, opt.dest, **kwargs)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="vmsslint")
def cli():
    """Lint, generate and plan Azure VM scale set templates for automatic OS image upgrades."""


def _lint(**params):
    """Check ARM templates (files or directories) for automatic OS image upgrades."""
    from linter import lintcmd
    try:
        prepared = lintcmd.prepare(params)
    except lintcmd.ConfigError as exc:
        raise ConfigError(str(exc)) from None
    except lintcmd.CommandError as exc:
        raise UsageError(str(exc)) from None
    sys.exit(lintcmd.run(params, prepared))


for _opt in reversed(LINT_OPTIONS):
    _lint = _click_option(_opt)(_lint)
lint = cli.command("lint")(click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))(_lint))


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
        click.echo(f"{r.code}  {r.name:<38} {r.severity:<7}  {reqs}")


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
