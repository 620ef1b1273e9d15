"""The template evaluated offline, as Azure Resource Manager would: what ``vmsslint eval`` shows.

:func:`evaluate_template` takes a template (parsed, as text, or as plain Python values), parameter
values and what the user knows of the deployment, and returns the JSON contract of ``vmsslint
eval``::

    {"parameters": {NAME: V}, "resources": [{"type", "apiVersion", "name", ...}],
     "outputs": {NAME: {"type": T, "value": V}}}

``T`` is spelled as Azure's deployment outputs spell it (``String``, ``Int``, ``Bool``, ``Array``,
``Object``, ``SecureString``, ``SecureObject``).  A value vmsslint cannot know is written
``{"$unknown": EXPRESSION}``; a string of which only parts are known ``{"$partial": TEXT}`` with
``[expression]`` for each unknown part; secure values are masked.
"""

from __future__ import annotations

import json

from linter.arm.values import Partial, Unknown, display_expression

OUTPUT_TYPES = {"string": "String", "int": "Int", "bool": "Bool", "array": "Array", "object": "Object",
                "securestring": "SecureString", "secureobject": "SecureObject"}
MASK = "********"


class Context:
    """What the user knows of the deployment (every field optional: unknown when not given)."""

    def __init__(self, subscription_id=None, resource_group=None, location=None, deployment_name=None,
                 tenant_id=None):
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        self.location = location
        self.deployment_name = deployment_name
        self.tenant_id = tenant_id


def to_json(value, secret=False):
    """An evaluated value in the eval JSON contract."""
    if secret:
        return MASK
    if isinstance(value, Unknown):
        if value.secret:
            return MASK
        return {"$unknown": display_expression(value)}
    if isinstance(value, Partial):
        if any(isinstance(p, Unknown) and p.secret for p in value.parts):
            return MASK
        return {"$partial": value.display()}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return value
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _load(template, path):
    from linter.jsonc import parse
    from linter.source import SourceFile
    if isinstance(template, (dict, list)):
        template = json.dumps(template, indent=1)
    if isinstance(template, str):
        src = SourceFile(path, template, path)
        root, _dups = parse(src)
        return root, src
    return template  # (root, src) already parsed


def evaluate_template(template, parameters=None, context: Context | None = None, path="<template>",
                      parameter_files=None) -> dict:
    """Evaluate ``template``; ``parameters`` maps names to plain values (they win over files)."""
    from linter.arm.template import Options, load_deployment, evaluate_value
    from linter.jsonc import ci_get, ci_key
    root, src = _load(template, path)
    values = dict(parameter_files or {})
    for name, value in (parameters or {}).items():
        values[name.lower()] = (value, None)
    ctx = context or Context()
    options = Options(location=ctx.location, subscription_id=ctx.subscription_id,
                      resource_group=ctx.resource_group, deployment_name=ctx.deployment_name,
                      tenant_id=ctx.tenant_id)
    dep = load_deployment(root, src, values, options, None)
    scope = dep.root_scope
    out_params = {}
    decls = ci_get(root, "parameters")
    if isinstance(decls, dict):
        for name in decls:
            value = scope.parameter(name)
            out_params[name] = to_json(value, scope.parameter_type(name).startswith("secure"))
    resources = []
    for res in dep.resources:
        if res.existing:
            continue
        body = res.evaluated()
        ak = ci_key(body, "apiVersion")
        item = {"type": res.type, "apiVersion": to_json(body[ak]) if ak is not None else None,
                "name": to_json(res.name)}
        for k, v in body.items():
            if k.lower() in ("type", "apiversion", "name", "copy", "condition", "dependson", "comments"):
                continue
            item[k] = to_json(v)
        resources.append(item)
    outputs = {}
    decl_outputs = ci_get(root, "outputs")
    if isinstance(decl_outputs, dict):
        for name, decl in decl_outputs.items():
            if not isinstance(decl, dict):
                continue
            t = ci_get(decl, "type", "")
            tname = OUTPUT_TYPES.get(t.lower(), t) if isinstance(t, str) else t
            cond_key = ci_key(decl, "condition")
            if cond_key is not None:
                cond = evaluate_value(decl[cond_key], (decl, cond_key), scope)[0]
                if cond is False:
                    continue
            if ci_key(decl, "copy") is not None:
                from linter.arm.template import expand_copy
                value = expand_copy(ci_get(decl, "copy"), (decl, ci_key(decl, "copy")), scope, None)[0]
            else:
                vk = ci_key(decl, "value")
                if vk is None:
                    continue
                value = evaluate_value(decl[vk], (decl, vk), scope)[0]
            secret = isinstance(tname, str) and tname.startswith("Secure")
            outputs[name] = {"type": tname, "value": to_json(value, secret)}
    return {"parameters": out_params, "resources": resources, "outputs": outputs,
            "diagnostics": [{"kind": d.kind, "message": d.message} for d in dep.diagnostics]}


def evaluate_outputs(template, parameters=None, context: Context | None = None) -> dict:
    """``{NAME: {"type": T, "value": V}}`` of a template's outputs (the docs' examples are tested this way)."""
    return evaluate_template(template, parameters, context)["outputs"]
