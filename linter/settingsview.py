"""``vmsslint lint --show-settings``: the configuration in force and where each value came from."""

from __future__ import annotations

import json

# (setting as written in the configuration file, option on the command line, Settings attribute, default)
_KEYS = (
    ("docs-edition", "docs_edition", "--docs-edition", "edition", "2026"),
    ("require-auto-upgrade", "require_auto_upgrade", "--require-auto-upgrade", "require_auto_upgrade", False),
    ("select", "select", "--select", "select", []),
    ("ignore", "ignore", "--ignore", "ignore", []),
    ("fail-level", "fail_level", "--fail-level", "fail_level", "error"),
    ("extra-images", "extra_image", "--extra-image", "extra_images", []),
    ("credential-horizon-days", "credential_horizon", "--credential-horizon", "credential_horizon_days", 30),
    ("location", "location", "--location", "location", None),
    ("severity", None, None, "severity", {}),
    ("per-file-ignores", None, None, "per_file_ignores", []),
    ("exclude", None, None, "exclude", []),
)


def render_settings(p: dict, settings) -> str:
    data = getattr(settings, "config_data", None) or {}
    path = getattr(settings, "config_path", None)
    out = []
    if p.get("isolated"):
        out.append("configuration file: none (--isolated)")
    else:
        out.append(f"configuration file: {path}" if path else
                   "configuration file: none found (.vmsslint.yaml or [tool.vmsslint] in pyproject.toml)")
    out.append("")
    for key, dest, flag, attr, default in _KEYS:
        value = getattr(settings, attr, default)
        if attr == "per_file_ignores":
            value = dict(value)
        given = p.get(dest) if dest else None
        if given not in (None, False, (), []):
            where = f"command line ({flag})" + (" and configuration file" if key in data and key in ("ignore", "extra-images") else "")
        elif key in data:
            where = f"configuration file ({path})"
        else:
            where = "default"
        out.append(f"{key} = {json.dumps(value)}  # {where}")
    # what the user knows of the deployment (lintcmd.deployment_context), and the Terraform/parameter-file maps
    from linter.lintcmd import CONTEXT_KEYS
    context = getattr(settings, "context", {})
    for dest, key in CONTEXT_KEYS + (("eval_seconds", "eval-timeout"),):
        given = p.get("eval_timeout" if dest == "eval_seconds" else dest)
        where = (f"command line (--{key})" if given else f"configuration file ({path})" if key in data
                 else "default (unknown until deployment)" if dest != "eval_seconds" else "default")
        out.append(f"{key} = {json.dumps(context.get(dest, 5.0 if dest == 'eval_seconds' else None))}  # {where}")
    if "parameter-files" in data:
        out.append(f"parameter-files = {json.dumps(data['parameter-files'])}  # configuration file ({path})")
    for label, dest in (("parameters", "parameters"), ("now", "now"), ("baseline", "baseline")):
        if p.get(dest):
            out.append(f"{label} = {json.dumps(list(p[dest]) if isinstance(p[dest], tuple) else p[dest])}"
                       f"  # command line (--{label})")
    out += ["", "A template's own metadata.vmsslint (docs-edition, require-auto-upgrade, ignore) applies on top of these,",
            "except for values given on the command line."]
    return "\n".join(out) + "\n"
