"""Where a value came from, and whether that makes it a secret.

The evaluator remembers where each value was written (``template.loc_of``): a value from a parameter
file points into that file, a parameter's default points at its ``defaultValue``, and a value built
by an expression points at the expression.  A secret is known by its origin:

- a ``secureString``/``secureObject`` parameter (its default, its parameter-file value, or an
  expression that reads it — also through variables);
- ``listKeys()``, ``listAccountSas()``, ``listSecrets()``... (unknown values marked secret);
- a Key Vault reference in the parameter file (an unknown value marked secret).

The evaluator (``linter/arm/``) marks only the last two on the value itself; the first is read
here from the origin, so the checks need nothing else from it.
"""

from __future__ import annotations

import re

from linter.arm.values import Partial, Unknown, is_secret
from linter.jsonc import JArray, JObject, ci_get

SECURE_TYPES = ("securestring", "secureobject")
_PARAM = re.compile(r"parameters\s*\(\s*'([^']+)'\s*\)((?:\s*(?:\.\s*[A-Za-z_$][\w$]*|\[\s*'[^']*'\s*\]))*)",
                    re.I)
_VAR = re.compile(r"variables\s*\(\s*'([^']+)'\s*\)", re.I)
_LIST = re.compile(r"\b(list\w*)\s*\(", re.I)


class Origin:
    """Where a value was written: ``kind`` is ``parameter-file`` (the value of parameter ``name`` in a
    parameter file), ``default`` (parameter ``name``'s defaultValue), ``literal`` (written in the
    template), ``expression`` (built by an expression) or ``unknown``."""

    __slots__ = ("kind", "name", "file")

    def __init__(self, kind, name=None, file=None):
        self.kind, self.name, self.file = kind, name, file


def _chain(container):
    """The keys from the document root down to ``container``."""
    keys = []
    node = container
    while node is not None and node.parent is not None:
        keys.append(node.pkey)
        node = node.parent
    keys.reverse()
    return keys


def origin(resource, loc) -> Origin:
    """Where the value at ``loc`` (a Loc from ``loc_of``/``lookup``) was written."""
    if not loc:
        return Origin("unknown")
    container, key = loc
    if not isinstance(container, (JObject, JArray)):
        return Origin("unknown")
    keys = _chain(container) + ([key] if key is not None else [])
    template_src = getattr(resource.raw, "src", None)
    raw = container.get(key) if isinstance(container, JObject) and key is not None else (
        container[key] if isinstance(container, JArray) and isinstance(key, int) and 0 <= key < len(container)
        else container)
    lowered = [k.lower() if isinstance(k, str) else k for k in keys]
    if container.src is not template_src:
        # a parameter file: parameters.NAME.value...
        if len(keys) >= 3 and lowered[0] == "parameters" and lowered[2] == "value":
            return Origin("parameter-file", keys[1], container.src.display)
        return Origin("unknown")
    for i in range(len(lowered) - 2, -1, -1):
        if lowered[i] == "parameters" and i + 2 < len(lowered) and lowered[i + 2] == "defaultvalue":
            return Origin("default", keys[i + 1])
    if isinstance(raw, str) and raw.startswith("[") and not raw.startswith("[["):
        return Origin("expression")
    return Origin("literal")


def parameter_type(resource, name) -> str:
    return resource.scope.parameter_type(name) if name else ""


def secret_reason(resource, value, loc, _depth=0):
    """Why the value at ``loc`` is a secret (a short phrase naming its source), or None."""
    o = origin(resource, loc)
    if o.kind in ("parameter-file", "default") and parameter_type(resource, o.name) in SECURE_TYPES:
        return f"the secure parameter '{o.name}'"
    if o.kind == "expression":
        container, key = loc
        why = expression_secret(resource, container[key])
        if why:
            return why
    if isinstance(value, (Unknown, Partial)) and is_secret(value):
        return ("a Key Vault secret" if o.kind == "parameter-file"
                else "a key or secret known only at deployment")
    return None


def expression_secret(resource, text, _depth=0, _seen=None):
    """Why an expression's result carries a secret: it reads a secure parameter or calls list*()."""
    if not isinstance(text, str) or _depth > 8:
        return None
    m = _LIST.search(text)
    if m and m.group(1).lower() != "list":  # list*() of keys and SAS tokens; not a user function named list
        return f"a {m.group(1)}() result"
    for m in _PARAM.finditer(text):
        if parameter_type(resource, m.group(1)) in SECURE_TYPES:
            return f"the secure parameter '{m.group(1)}'"
        try:
            value, _ = resource.scope.parameter_with_loc(m.group(1))
        except Exception:  # an undeclared parameter is the evaluator's finding (VMSS004)
            continue
        if is_secret(value):  # a Key Vault reference in the parameter file
            return f"the Key Vault secret of parameter '{m.group(1)}'"
    seen = _seen if _seen is not None else set()
    for m in _VAR.finditer(text):
        name = m.group(1).lower()
        if name in seen:
            continue
        seen.add(name)
        raw = ci_get(resource.scope.vars, m.group(1))
        for s in _strings(raw):
            why = expression_secret(resource, s, _depth + 1, seen)
            if why:
                return why
    return None


def _strings(value, depth=0):
    if depth > 32:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, depth + 1)


def non_secure_source(resource, raw_expression):
    """For ``[parameters('p')...]``: (parameter, type, member path) when it reads a parameter that is
    not secure — a plain string, or a member of a plain ``object`` — else None."""
    if not isinstance(raw_expression, str):
        return None
    m = _PARAM.fullmatch(raw_expression.strip()[1:-1].strip()) if raw_expression.strip().startswith("[") else None
    if not m:  # only the whole expression: in if(equals(parameters('authType'), ...), ...) it is not the value
        return None
    ptype = parameter_type(resource, m.group(1))
    if not ptype or ptype in SECURE_TYPES:
        return None
    member = re.sub(r"\s+", "", m.group(2) or "")
    return m.group(1), ptype, member

