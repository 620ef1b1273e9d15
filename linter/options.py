"""The ``lint`` command's options, declared once.

:mod:`linter.cli` builds the click command from this table; :mod:`linter.launch` parses the same
table without importing click, so that ``vmsslint lint`` in a pre-commit hook starts as fast as
Python itself allows.  The fast parser accepts only command lines that are entirely valid; anything
else (``--help``, a typo, a missing file) goes to click, which owns every usage message.
"""

from __future__ import annotations

import os

EDITIONS = ("2020", "2026")
FORMATS = ("full", "concise", "text", "json", "sarif", "junit", "github", "azure")
COLORS = ("auto", "always", "never")
LEVELS = ("error", "warning", "info")


class Opt:
    __slots__ = ("dest", "flags", "metavar", "flag", "multiple", "choices", "default", "path", "help")

    def __init__(self, dest, *flags, metavar=None, flag=False, multiple=False, choices=None, default=None,
                 path=None, help=""):
        self.dest, self.flags, self.metavar, self.flag = dest, flags, metavar, flag
        self.multiple, self.choices, self.default, self.path, self.help = multiple, choices, default, path, help


LINT_OPTIONS = (
    Opt("parameters", "-p", "--parameters", metavar="FILE", multiple=True, path="file",
        help="Parameter file (repeatable; later files win). Default: NAME.parameters.json or "
             "azuredeploy.parameters.json beside the template."),
    Opt("var_file", "--var-file", metavar="FILE", multiple=True, path="file",
        help="Terraform: a .tfvars file giving variable values (repeatable; after terraform.tfvars and "
             "*.auto.tfvars)."),
    Opt("var", "--var", metavar="NAME=VALUE", multiple=True,
        help="Terraform: a variable's value, as terraform -var gives it (repeatable; wins over files)."),
    Opt("readiness", "--readiness", flag=True,
        help="Instead of findings, print how many scale sets are ready for automatic OS upgrades and the "
             "top blockers (checked as with --require-auto-upgrade)."),
    Opt("stdin_filename", "--stdin-filename", metavar="FILE",
        help="The name of the template read from standard input (path -): shown in findings, and where its "
             "parameter file is looked for."),
    Opt("docs_edition", "--docs-edition", choices=EDITIONS,
        help="Which edition of Microsoft's documentation to check against (default: 2026)."),
    Opt("require_auto_upgrade", "--require-auto-upgrade", flag=True,
        help="Policy: every scale set must turn automatic OS upgrade on; check all sets as if they did."),
    Opt("select", "--select", metavar="CODES", multiple=True,
        help="Only these rule codes or prefixes (comma-separated, repeatable); replaces the configuration's."),
    Opt("ignore", "--ignore", metavar="CODES", multiple=True,
        help="Skip these rule codes or prefixes (comma-separated, repeatable); adds to the configuration's."),
    Opt("fmt", "--output-format", "--format", choices=FORMATS,
        help="Report format (default: full on a terminal, concise otherwise; text is concise)."),
    Opt("output", "-o", "--output", metavar="FILE", path="output", help="Write the report to FILE (atomically)."),
    Opt("fail_level", "--fail-level", choices=LEVELS,
        help="Exit 1 when a finding is at or above this severity (default: error)."),
    Opt("exit_zero", "--exit-zero", flag=True, help="Exit 0 even when there are findings."),
    Opt("location", "--location", metavar="REGION", help="The resource group's location (resourceGroup().location)."),
    Opt("subscription_id", "--subscription-id", metavar="ID",
        help="The deployment's subscription: makes subscription().subscriptionId, resource ids and "
             "uniqueString(resourceGroup().id) known."),
    Opt("resource_group", "--resource-group", metavar="NAME", help="The deployment's resource group name."),
    Opt("deployment_name", "--deployment-name", metavar="NAME", help="The deployment's name (deployment().name)."),
    Opt("tenant_id", "--tenant-id", metavar="ID", help="The tenant (tenant().tenantId, subscription().tenantId)."),
    Opt("eval_timeout", "--eval-timeout", metavar="SECONDS",
        help="Stop evaluating a template after this long (default: 5); the rest is reported as not evaluated."),
    Opt("now", "--now", metavar="DATE", help="Fix the clock (YYYY-MM-DD) for reproducible credential checks."),
    Opt("credential_horizon", "--credential-horizon", metavar="DAYS",
        help="Warn about SAS tokens that expire within DAYS days (default: 30)."),
    Opt("extra_image", "--extra-image", metavar="PUBLISHER:OFFER:SKU", multiple=True,
        help="Also accept this platform image as supported (repeatable), for images Microsoft listed later."),
    Opt("config", "--config", metavar="FILE", path="file",
        help="Use this configuration file (.vmsslint.yaml or pyproject.toml) instead of searching for one."),
    Opt("isolated", "--isolated", flag=True, help="Ignore configuration files."),
    Opt("baseline", "--baseline", metavar="FILE", path="file",
        help="Report only findings that are not in this baseline file."),
    Opt("write_baseline", "--write-baseline", metavar="FILE", path="output",
        help="Record today's findings in FILE, so that --baseline FILE reports only new ones."),
    Opt("fix", "--fix", flag=True, help="Apply safe fixes, then report what is left."),
    Opt("unsafe_fixes", "--unsafe-fixes", flag=True,
        help="With --fix or --diff, also apply fixes that change behaviour (a newer apiVersion, ...)."),
    Opt("diff", "--diff", flag=True, help="Show the fixes as a unified diff; change no file (exit 1 if any)."),
    Opt("show_fixes", "--show-fixes", flag=True, help="List what --fix (and --unsafe-fixes) would change."),
    Opt("statistics", "--statistics", flag=True, help="Print only a table of findings by rule (count, code, fixable, name)."),
    Opt("color", "--color", choices=COLORS, default="auto",
        help="Colour the report: auto (on a terminal, unless NO_COLOR), always or never."),
    Opt("show_settings", "--show-settings", flag=True,
        help="Print the configuration in force and where each value came from, then exit."),
    Opt("quiet", "-q", "--quiet", flag=True, help="Print findings only, no summary."),
    Opt("verbose", "-v", "--verbose", flag=True,
        help="Say which files were skipped and which parameter files were used; print the traceback of an "
             "internal error."),
    Opt("allow_linked_outside", "--allow-linked-outside", flag=True,
        help="Follow linked templates (relativePath) outside the linted template's own directory tree."),
)


def defaults() -> dict:
    return {o.dest: (() if o.multiple else (False if o.flag else o.default)) for o in LINT_OPTIONS}


def fast_parse(argv: list[str]):
    """Parse ``lint`` arguments exactly as click would, or return None to let click handle them."""
    by_flag = {f: o for o in LINT_OPTIONS for f in o.flags}
    values = defaults()
    multi: dict = {}
    paths: list[str] = []
    i = 0
    only_paths = False
    while i < len(argv):
        arg = argv[i]
        i += 1
        if only_paths or not arg.startswith("-") or arg == "-":
            paths.append(arg)
            continue
        if arg == "--":
            only_paths = True
            continue
        name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        opt = by_flag.get(name)
        if opt is None:
            return None
        if opt.flag:
            if eq:
                return None
            values[opt.dest] = True
            continue
        if eq:
            value = inline
        elif i < len(argv):
            value = argv[i]
            i += 1
        else:
            return None
        if opt.choices and value not in opt.choices:
            return None
        if opt.path == "file" and not os.path.isfile(value):
            return None
        if opt.path == "output" and (os.path.isdir(value) or not os.path.isdir(os.path.dirname(os.path.abspath(value)))):
            return None
        if opt.multiple:
            multi.setdefault(opt.dest, []).append(value)
        else:
            values[opt.dest] = value
    if not paths or not all(p == "-" or os.path.exists(p) for p in paths):
        return None
    for dest, vals in multi.items():
        values[dest] = tuple(vals)
    values["paths"] = tuple(paths)
    return values
