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
    from linter.arm.template import Options, load_deployment
    root, src = _load(template, path)
    values = dict(parameter_files or {})
    for name, value in (parameters or {}).items():
        values[name.lower()] = (value, None)
    ctx = context or Context()
    options = Options(location=ctx.location, subscription_id=ctx.subscription_id,
                      resource_group=ctx.resource_group, deployment_name=ctx.deployment_name,
                      tenant_id=ctx.tenant_id)
    dep = load_deployment(root, src, values, options, None)
    result, _where = evaluate_deployment(dep, root)
    result["diagnostics"] = [{"kind": d.kind, "message": d.message} for d in dep.diagnostics]
    return result


_SKIPPED_MEMBERS = ("type", "apiversion", "name", "copy", "condition", "dependson", "comments")
_SECRET_NAMES = ("password", "secret", "accountkey", "sastoken", "connectionstring", "privatekey", "keydata")


def evaluate_deployment(dep, root):
    """The eval contract of a loaded deployment, secrets masked: (result, where each resource is declared).

    Masked: values of ``secureString``/``secureObject`` parameters and every value that came from them,
    Key Vault references and ``list*()`` results (secret unknowns), members whose name says they hold a
    password or key, and SAS signatures or key assignments inside strings.
    """
    from linter.arm.template import evaluate_value, expand_copy
    from linter.jsonc import ci_get, ci_key
    scope = dep.root_scope
    secure_locs = _Secrets()
    parameters = {}
    # (the set of places whose expression read a secure parameter is complete once everything is evaluated:
    # it is consulted lazily, through secure_locs.dep)
    secure_locs.dep = dep
    decls = ci_get(root, "parameters")
    if isinstance(decls, dict):
        for name in decls:
            secure = scope.parameter_type(name).startswith("secure")
            try:
                value, loc = scope.parameter_with_loc(name)
            except Exception as exc:  # an error of the template (bad default): shown, never a traceback
                value, loc = Unknown(str(exc), text=f"parameters('{name}')"), None
            if secure:
                secure_locs.add_value(value, loc)
            parameters[name] = to_json(value, secure)
    resources, where = [], []
    for res in dep.resources:
        if res.existing:
            continue
        src = res.raw.src
        where.append(f"{src.display}:{src.position(res.raw.start)[0]}" if src is not None else "")
        if res.type_lower == "microsoft.resources/deployments":
            ak = ci_key(res.raw, "apiVersion")
            api = evaluate_value(res.raw[ak], (res.raw, ak), res.scope)[0] if ak is not None else None
            resources.append({"type": res.type, "apiVersion": to_json(api), "name": to_json(res.name),
                              "note": "a nested or linked deployment: its resources are listed on their own"})
            continue
        body = res.evaluated()
        ak = ci_key(body, "apiVersion")
        item = {"type": res.type, "apiVersion": to_json(body[ak]) if ak is not None else None,
                "name": to_json(res.name)}
        for k, v in body.items():
            if k.lower() not in _SKIPPED_MEMBERS:
                item[k] = _masked(v, body.locs.get(k), secure_locs, k)
        resources.append(item)
    outputs = {}
    decl_outputs = ci_get(root, "outputs")
    if isinstance(decl_outputs, dict):
        for name, decl in decl_outputs.items():
            if not isinstance(decl, dict):
                continue
            t = ci_get(decl, "type", "")
            tname = OUTPUT_TYPES.get(t.lower(), t) if isinstance(t, str) else str(t)
            ck = ci_key(decl, "condition")
            if ck is not None and evaluate_value(decl[ck], (decl, ck), scope)[0] is False:
                continue
            vk = ci_key(decl, "value")
            if ci_key(decl, "copy") is not None:
                value, loc = expand_copy(ci_get(decl, "copy"), (decl, ci_key(decl, "copy")), scope, None)
            elif vk is not None:
                value, loc = evaluate_value(decl[vk], (decl, vk), scope)
            else:
                continue
            secret = tname.startswith("Secure")
            outputs[name] = {"type": tname, "value": MASK if secret else _masked(value, loc, secure_locs, name)}
    dep.secrets = secure_locs
    return {"parameters": parameters, "resources": resources, "outputs": outputs}, where


def masked_value(dep, value):
    """An evaluated value in eval's JSON contract, masked as :func:`evaluate_deployment` masks."""
    secrets = getattr(dep, "secrets", None)
    secrets = _Secrets() if secrets is None else secrets
    return _masked(value, None, secrets)


class _Secrets(set):
    """Where secure parameters' values were written (Locs), and the values themselves, so that a value
    built from one (``concat('--key ', parameters('storageKey'))``) is masked too."""

    def __init__(self):
        super().__init__()
        self.texts: list = []
        self.dep = None

    def __contains__(self, key):
        return set.__contains__(self, key) or (self.dep is not None and key in self.dep.secret_locs)

    def add_value(self, value, loc):
        if loc is not None:
            self.add((id(loc[0]), loc[1]))
        stack = [value]
        while stack:
            v = stack.pop()
            if isinstance(v, str) and len(v) >= 4:
                self.texts.append(v)
            elif isinstance(v, dict):
                stack.extend(v.values())
            elif isinstance(v, list):
                stack.extend(v)

    def scrub(self, text: str) -> str:
        for secret in self.texts:
            if secret in text:
                text = text.replace(secret, MASK)
        return text


def _masked(value, loc, secure_locs, name=""):
    """``to_json`` of an evaluated value, with every secret masked."""
    from linter.findings import mask
    if loc is not None and (id(loc[0]), loc[1]) in secure_locs:
        return MASK
    if isinstance(name, str) and any(s in name.lower() for s in _SECRET_NAMES) and isinstance(value, str) and value:
        return MASK
    if isinstance(value, dict):
        locs = getattr(value, "locs", {})
        return {str(k): _masked(v, locs.get(k), secure_locs, k) for k, v in value.items()}
    if isinstance(value, list):
        locs = getattr(value, "locs", [])
        return [_masked(v, locs[i] if i < len(locs) else None, secure_locs) for i, v in enumerate(value)]
    if isinstance(value, str):
        return mask(secure_locs.scrub(value))
    return to_json(value)


def evaluate_outputs(template, parameters=None, context: Context | None = None) -> dict:
    """``{NAME: {"type": T, "value": V}}`` of a template's outputs (the docs' examples are tested this way)."""
    return evaluate_template(template, parameters, context)["outputs"]
