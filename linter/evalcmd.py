"""``vmsslint eval``: the template evaluated offline, as the linter sees it.

Text output lists the resources that will be deployed (after copy loops and conditions), each with the
file and line it was declared at, their evaluated bodies, and the outputs.  ``--format json`` writes the
contract of :mod:`linter.arm.evaluate`.  Secrets are masked: values of ``secureString``/``secureObject``
parameters, values that came from them, Key Vault references, ``list*()`` results, and members whose
name says they hold a password or key.
"""

from __future__ import annotations

import json

from linter.arm.evaluate import Context, evaluate_deployment
from linter.arm.values import Unknown, visible


class EvalCommandError(Exception):
    """A template or parameter that cannot be read: exit 2 with this message."""


def parse_parameter(text: str):
    """``NAME=VALUE`` as the az CLI takes it: VALUE as JSON when it parses, else as a string."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise EvalCommandError(f"--parameter {text!r}: write NAME=VALUE")
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value
    return name.strip(), parsed


def evaluate_file(template_path, parameter_paths=(), parameters=(), context: Context | None = None,
                  auto_parameters=True):
    """Read and evaluate a template file: (result dict, deployment, notes)."""
    from linter import loader
    from linter.arm.template import Options, load_deployment
    if template_path.lower().endswith((".tf", ".tfvars", ".bicep")):
        raise EvalCommandError(f"{template_path}: `vmsslint eval` evaluates ARM JSON templates; lint Terraform with "
                               f"`vmsslint lint`, and compile Bicep first (az bicep build --file F --stdout)")
    lf = loader.read(template_path)
    if lf.error:
        line, col = lf.src.position(lf.error_offset) if lf.src is not None and lf.src.text else (1, 1)
        raise EvalCommandError(f"{template_path}:{line}:{col}: cannot read this file: {lf.error}")
    if lf.kind != loader.TEMPLATE:
        raise EvalCommandError(f"{template_path}: not an ARM deployment template (no deploymentTemplate $schema, "
                               f"no resources)")
    notes = []
    files = [loader.read(p) for p in parameter_paths]
    if not files and auto_parameters:
        files = [loader.read(p) for p in loader.companion_parameter_files(template_path)]
    for pf in files:
        if pf.error:
            line, col = pf.src.position(pf.error_offset) if pf.src is not None and pf.src.text else (1, 1)
            raise EvalCommandError(f"{pf.path}:{line}:{col}: cannot read this parameter file: {pf.error}")
        notes.append(f"parameter values from {pf.src.display}")
    values, problems = loader.parameter_values(files)
    for pf, why in problems:
        raise EvalCommandError(f"{pf.path}: {why}")
    for name, value in parameters:
        values[name.lower()] = (value, None)
    ctx = context or Context()
    options = Options(location=ctx.location, subscription_id=ctx.subscription_id, resource_group=ctx.resource_group,
                      deployment_name=ctx.deployment_name, tenant_id=ctx.tenant_id)
    dep = load_deployment(lf.root, lf.src, values, options, _linked_loader())
    result, where = evaluate_deployment(dep, lf.root)
    result["problems"] = problems_of(dep)
    return result, dep, where, notes


def problems_of(dep) -> list:
    """What evaluation found wrong or could not do, as findings would say it: code, message, place."""
    from linter.engine import DIAGNOSTIC_CODES
    from linter.findings import span
    out = []
    for d in dep.diagnostics:
        item = {"code": DIAGNOSTIC_CODES[d.kind], "severity": d.severity or ("info" if d.kind == "unsupported"
                                                                              else "error"),
                "message": visible(d.message)}
        if d.loc is not None and getattr(d.loc[0], "src", None) is not None:
            src, start, _end, ptr = span(d.loc)
            item["file"], (item["line"], item["column"]), item["path"] = src.display, src.position(start), ptr
        out.append(item)
    return out


def _linked_loader():
    from linter import loader
    cache: dict = {}

    def load(path):
        import os
        key = os.path.abspath(path)
        if key not in cache:
            cache[key] = loader.read(path)
        lf = cache[key]
        if lf.error:
            raise OSError(lf.error)
        return lf.root, lf.src
    return load


def evaluate_expression(dep, text: str):
    """``--expr "[...]"``: one expression in the template's scope."""
    from linter.arm.template import evaluate_value
    text = text.strip()
    if text.startswith("[[") or (text.startswith("[") and not text.endswith("]")) or text in ("[]", ""):
        raise EvalCommandError(f"--expr {text!r} is not an expression: write it as in a template, "
                               f"\"[concat('a', 'b')]\" (the brackets may be left out)")
    if not text.startswith("["):
        text = f"[{text}]"
    before, reads = len(dep.diagnostics), dep.secret_reads
    value, _ = evaluate_value(text, None, dep.root_scope)
    problems = [d.message for d in dep.diagnostics[before:]]
    if dep.secret_reads != reads:  # computed from a secure parameter: shown masked, whatever it became
        from linter.arm.evaluate import MASK
        value = Unknown("computed from a secure parameter", secret=True, text=MASK)
    return value, problems


def render_text(result, where, notes, dep) -> str:
    lines = []
    for note in notes:
        lines.append(f"# {note}")
    lines.append(f"resources ({len(result['resources'])}):")
    for item, at in zip(result["resources"], where):
        api = item.get("apiVersion")
        lines.append(f"  {_plain(item['type'])} {_plain(item['name'])}"
                     + (f" (apiVersion {_plain(api)})" if api is not None else "") + (f"  {at}" if at else ""))
        body = {k: v for k, v in item.items() if k not in ("type", "name", "apiVersion")}
        for text in _pretty(body).splitlines():
            lines.append("    " + text)
    if result["outputs"]:
        lines.append(f"outputs ({len(result['outputs'])}):")
        for name, out in result["outputs"].items():
            lines.append(f"  {visible(name)} ({out['type']}) = {_plain(out['value'])}")
    if dep.diagnostics:
        from linter.engine import DIAGNOSTIC_CODES
        lines.append(f"problems ({len(dep.diagnostics)}):")
        for d in dep.diagnostics:
            where = ""
            if d.loc is not None and getattr(d.loc[0], "src", None) is not None:
                from linter.findings import span
                src, start, _end, _ptr = span(d.loc)
                line, col = src.position(start)
                where = f"{src.display}:{line}:{col}: "
            lines.append(f"  {where}{DIAGNOSTIC_CODES[d.kind]} {visible(d.message)}")
    return "\n".join(lines) + "\n"


def _plain(value) -> str:
    """A JSON-contract value for people: ``[expr]`` for unknowns, JSON for the rest."""
    if isinstance(value, dict) and set(value) == {"$unknown"}:
        return "[" + visible(value["$unknown"]) + "]"
    if isinstance(value, dict) and set(value) == {"$partial"}:
        return visible(value["$partial"])
    if isinstance(value, str):
        return visible(value)
    return visible(json.dumps(_simplify(value), ensure_ascii=False))


def _simplify(v):
    """Unknown and partly known values inside containers as people read them (``[expr]`` text)."""
    if isinstance(v, dict) and set(v) in ({"$unknown"}, {"$partial"}):
        return _plain(v)
    if isinstance(v, dict):
        return {k: _simplify(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_simplify(x) for x in v]
    return v


def _pretty(value) -> str:
    return visible(json.dumps(_simplify(value), indent=2, ensure_ascii=False))


def render_value(shown) -> str:
    """A value already in the JSON contract (``masked_value``), for people."""
    if isinstance(shown, str) or (isinstance(shown, dict) and set(shown) in ({"$unknown"}, {"$partial"})):
        return _plain(shown)
    return _pretty(shown)
