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
            import difflib
            near = difflib.get_close_matches(code, known, n=1)
            hint = f"; did you mean {near[0]}?" if near else "; `vmsslint rules` lists them"
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


def prepare(p: dict):
    """Load rules and check everything the parser could not: returns (engine, settings) or raises."""
    from linter.engine import Engine, Settings
    from linter.rules import RuleError, load_rules
    try:
        rules = load_rules()
    except RuleError as exc:
        raise ConfigError(f"broken rule file: {exc}") from None
    known = sorted(r.code for r in rules)
    select, ignore = _split_codes(p["select"]), _split_codes(p["ignore"])
    _check_codes(select, known, "--select")
    _check_codes(ignore, known, "--ignore")
    try:
        horizon = int(p["credential_horizon"])
    except (TypeError, ValueError):
        raise CommandError(f"--credential-horizon: '{p['credential_horizon']}' is not a number of days") from None
    images = []
    for urn in p["extra_image"]:
        if urn.count(":") != 2 or not all(urn.split(":")):
            raise CommandError(f"--extra-image: '{urn}' is not PUBLISHER:OFFER:SKU (the az CLI's URN form without version)")
        images.append(urn)
    settings = Settings(edition=p["docs_edition"], require_auto_upgrade=p["require_auto_upgrade"],
                        select=[c for c in select if c != "ALL"], ignore=ignore, parameters=p["parameters"],
                        location=p["location"], now=parse_now(p["now"]), extra_images=images,
                        credential_horizon_days=horizon)
    return Engine(settings, rules), settings


def run(p: dict, prepared) -> int:
    """Lint, print or write the report; returns the exit code."""
    from linter.engine import worst
    from linter.findings import SEVERITY_RANK
    from linter.output import FORMATTERS
    engine, settings = prepared
    report = engine.lint_paths(list(p["paths"]))
    if p["verbose"]:
        for note in report.notes:
            sys.stderr.write(f"note: {note}\n")
    colour = (p["fmt"] == "text" and p["output"] is None and sys.stdout.isatty()
              and not os.environ.get("NO_COLOR"))
    text = FORMATTERS[p["fmt"]](report, {"colour": colour, "statistics": p["statistics"], "quiet": p["quiet"],
                                         "edition": settings.edition, "rules": engine.all_rules,
                                         "require_auto_upgrade": settings.require_auto_upgrade,
                                         "clean_files": report.clean_files})
    if p["output"]:
        from linter.fileio import write_atomic
        write_atomic(p["output"], text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    if p["exit_zero"]:
        return 0
    return 1 if worst(report.findings) >= SEVERITY_RANK[p["fail_level"]] else 0
