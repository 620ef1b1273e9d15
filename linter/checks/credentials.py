"""Credentials and external payloads: REQ-EXTERNAL, REQ-CREDENTIALS.

Offline, a SAS token still tells its expiry (``se=``), permissions (``sp=``) and whether it is
signed (``sig=``); a URL tells ``http://`` from ``https://``.  Signatures, keys and passwords are
never printed: messages show the parameter or property name, and :func:`linter.findings.mask`
hides any ``sig=`` that would slip through.
"""

from __future__ import annotations

import re

from linter.arm.expr import is_expression
from linter.arm.template import loc_of, own_loc
from linter.arm.values import Partial, Unknown
from linter.checks import check, fail
from linter.checks.vmss import facts
from linter.jsonc import ci_get, ci_key
from linter.lazyre import LazyRegex

_URL = LazyRegex(r"https?://[^\s\"'<>`]+", re.I)
_SECRET_KEY = LazyRegex(r"(?i)(password|passwd|pwd|secret|accountkey|storagekey|sastoken|sas_token|"
                         r"connectionstring|apikey|api_key|privatekey|token|credential)")
_SECRET_NAME_OK = LazyRegex(r"(?i)(name|path|uri|url|id|version|type|expiry|length|username|user)$")


def walk_strings(value, loc, depth=0):
    """(text, loc, partial?) for every string in an evaluated value; Partial strings give their known text."""
    if depth > 64:
        return
    if isinstance(value, str):
        yield value, loc
    elif isinstance(value, Partial):
        yield "".join(p if isinstance(p, str) else " " for p in value.parts), loc
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from walk_strings(v, loc_of(value, k) or loc, depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk_strings(v, loc_of(value, i) or loc, depth + 1)


def sas_tokens(text):
    """(url, query dict) of each URL in ``text`` that carries a SAS signature."""
    for m in _URL.finditer(text):
        url = m.group(0)
        if "?" not in url:
            continue
        query = url.split("?", 1)[1]
        params = {}
        for pair in query.split("&"):
            k, _, v = pair.partition("=")
            params[k.lower()] = v
        if "sig" in params:
            yield url, params


def parse_expiry(value: str):
    from urllib.parse import unquote

    from linter.arm.functions import parse_datetime
    v = unquote(value)
    if len(v) == 10:
        v += "T00:00:00Z"
    return parse_datetime(v)


def _set_values(ctx, res):
    """The set's evaluated model and its child extension resources, each with its loc."""
    ev = res.evaluated()
    yield ev, own_loc(ev)
    for e in facts(ctx, res).extensions:
        if e.child:
            yield e.props, e.loc


def _short_url(url):
    base = url.split("?", 1)[0]
    return base if len(base) <= 90 else base[:87] + "..."


@check("sas-expiry", {"properties": {"report": {"enum": ["expired", "expiring", "no-expiry"]}}, "required": ["report"]})
def sas_expiry(ctx, target, options):
    """SAS tokens in the set's model: expired (error), expiring within the horizon (warning), or no se= (warning)."""
    now = horizon = None  # the clock is read only when a token has an expiry
    for value, base in _set_values(ctx, target.resource):
        for text, loc in walk_strings(value, base):
            if "sig=" not in text.lower():
                continue
            for url, q in sas_tokens(text):
                se = q.get("se")
                if not se:
                    if options["report"] == "no-expiry":
                        yield fail(loc, url=_short_url(url))
                    continue
                expiry = parse_expiry(se)
                if expiry is None:
                    continue
                if now is None:
                    import datetime as dt
                    now = ctx.now
                    horizon = now + dt.timedelta(days=ctx.settings.credential_horizon_days)
                when = expiry.strftime("%Y-%m-%d %H:%M UTC")
                if expiry <= now:
                    if options["report"] == "expired":
                        yield fail(loc, url=_short_url(url), expiry=when, days=(now - expiry).days)
                elif expiry <= horizon and options["report"] == "expiring":
                    yield fail(loc, url=_short_url(url), expiry=when, days=(expiry - now).days,
                               horizon=ctx.settings.credential_horizon_days)


@check("https-payload", {"properties": {}})
def https_payload(ctx, target, options):
    """Extension payloads (fileUris, URLs in commandToExecute) must be fetched over https."""
    for ext in facts(ctx, target.resource).extensions:
        for section in ("settings", "protectedSettings"):
            s = ci_get(ext.props, section)
            if not isinstance(s, dict):
                continue
            for key in ("fileUris", "commandToExecute", "script", "uri", "url"):
                k = ci_key(s, key)
                if k is None:
                    continue
                for text, loc in walk_strings(s[k], loc_of(s, k)):
                    for m in _URL.finditer(text):
                        if m.group(0).lower().startswith("http://"):
                            yield fail(loc, url=_short_url(m.group(0)), extension=ext.name, property=k)


def _secret_settings(value, loc, path, key="", depth=0):
    """(path, loc, why) of secrets found in a plain ``settings`` value."""
    if depth > 32:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _secret_settings(v, loc_of(value, k) or loc, f"{path}.{k}", k, depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _secret_settings(v, loc_of(value, i) or loc, f"{path}[{i}]", key, depth + 1)
    elif isinstance(value, Unknown):
        if value.secret:
            yield path, loc, "a key or secret returned by a list*() function"
    elif isinstance(value, (str, Partial)):
        text = value if isinstance(value, str) else "".join(p for p in value.parts if isinstance(p, str))
        if any(True for _ in sas_tokens(text)):
            yield path, loc, "a SAS token (sig=)"
        elif isinstance(value, str) and key and _SECRET_KEY.search(key) and not _SECRET_NAME_OK.search(key) \
                and not value.startswith("PrivateSettingsRef:") and len(value) >= 8:
            yield path, loc, f"a value under the secret-looking name '{key}'"


@check("secret-in-settings", {"properties": {}})
def secret_in_settings(ctx, target, options):
    """Secrets belong in protectedSettings (encrypted), never in an extension's plain settings."""
    for ext in facts(ctx, target.resource).extensions:
        k = ci_key(ext.props, "settings")
        if k is None:
            continue
        for path, loc, why in _secret_settings(ext.props[k], loc_of(ext.props, k), "settings"):
            yield fail(loc, extension=ext.name, path=path, why=why)


def _raw(res, path):
    node = res.raw
    for part in path.split("."):
        if not isinstance(node, dict):
            return None, None
        k = ci_key(node, part)
        if k is None:
            return None, None
        parent, node = node, node[k]
    return node, (parent, k)


@check("no-literal-password", {"properties": {}}, variants=("default", "non-secure-parameter"))
def no_literal_password(ctx, target, options):
    """osProfile.adminPassword must come from a secureString parameter or Key Vault, never a literal."""
    raw, loc = _raw(target.resource, "properties.virtualMachineProfile.osProfile.adminPassword")
    if raw is None:
        return
    if isinstance(raw, str) and not is_expression(raw):
        yield fail(loc, length=len(raw))
        return
    if isinstance(raw, str):
        m = re.fullmatch(r"\[\s*parameters\(\s*'([^']+)'\s*\)\s*\]", raw)
        if m:
            scope = target.resource.scope
            ptype = scope.parameter_type(m.group(1))
            if ptype and ptype not in ("securestring", "secureobject"):
                yield fail(loc, "non-secure-parameter", parameter=m.group(1), type=ptype)


@check("secure-parameter-defaults", {"properties": {}}, variants=("default", "sas"))
def secure_parameter_defaults(ctx, target, options):
    """A password or SAS token must not sit in a parameter's defaultValue unless... it never should:
    defaults are readable by anyone who can read the template or the deployment."""
    scope = target.resource.scope
    params = scope.params
    for name, decl in params.items() if isinstance(params, dict) else []:
        if not isinstance(decl, dict):
            continue
        dk = ci_key(decl, "defaultValue")
        if dk is None:
            continue
        default = decl[dk]
        ptype = str(ci_get(decl, "type", "")).lower()
        loc = (decl, dk)
        if isinstance(default, str) and not is_expression(default) and default:
            if any(True for _ in sas_tokens(default)):
                yield fail(loc, "sas", parameter=name)
                continue
            if _SECRET_KEY.search(name) and not _SECRET_NAME_OK.search(name):
                secure = ptype in ("securestring", "secureobject")
                yield fail(loc, parameter=name, kind="secure parameter" if secure else f"{ptype or 'string'} parameter")
