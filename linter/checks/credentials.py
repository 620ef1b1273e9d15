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
from linter.checks.api import lookup
from linter.checks.secrets import non_secure_source, origin, secret_reason
from linter.checks.vmss import facts
from linter.jsonc import ci_get, ci_key
from linter.lazyre import LazyRegex

_URL = LazyRegex(r"https?://[^\s\"'<>`]+", re.I)
_SECRET_KEY = LazyRegex(r"(?i)(password|passwd|pwd|secret|accountkey|storagekey|sastoken|sas_token|"
                         r"connectionstring|apikey|api_key|privatekey|token|credential)")
_PUBLIC_KEY = LazyRegex(r"^\s*(ssh-(rsa|dss|ed25519)|ecdsa-sha2-|sk-ssh-|GEN-SSH-PUB-KEY)")
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


def _secret_settings(value, loc, path, key="", depth=0, res=None):
    """(path, loc, why) of secrets found in a plain value (settings, customData, a tag)."""
    if depth > 32:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _secret_settings(v, loc_of(value, k) or loc, f"{path}.{k}", k, depth + 1, res)
        return
    if isinstance(value, list):
        for i, v in enumerate(value):
            yield from _secret_settings(v, loc_of(value, i) or loc, f"{path}[{i}]", key, depth + 1, res)
        return
    if res is not None:
        why = secret_reason(res, value, loc)  # a secure parameter, list*() or Key Vault, traced to its origin
        if why:
            yield path, loc, why
            return
    if isinstance(value, Unknown):
        if value.secret:
            yield path, loc, "a key or secret returned by a list*() function"
    elif isinstance(value, (str, Partial)):
        text = value if isinstance(value, str) else "".join(p for p in value.parts if isinstance(p, str))
        if any(True for _ in sas_tokens(text)):
            yield path, loc, "a SAS token (sig=)"
        elif isinstance(value, str) and key and _SECRET_KEY.search(key) and not _SECRET_NAME_OK.search(key) \
                and not value.startswith("PrivateSettingsRef:") and len(value) >= 8:
            yield path, loc, f"a value under the secret-looking name '{key}'"


@check("secret-in-settings", {"properties": {}}, variants=("default", "custom-data", "tag"))
def secret_in_settings(ctx, target, options):
    """Secrets belong in protectedSettings (encrypted), never in an extension's plain settings, the
    set's customData or its tags."""
    res = target.resource
    for ext in facts(ctx, res).extensions:
        k = ci_key(ext.props, "settings")
        if k is None:
            continue
        for path, loc, why in _secret_settings(ext.props[k], loc_of(ext.props, k), "settings", res=res):
            yield fail(loc, extension=ext.name, path=path, why=why)
    data = lookup(res, "properties.virtualMachineProfile.osProfile.customData")
    if data.state != "missing":
        why = secret_reason(res, data.value, data.loc)
        if why:
            yield fail(data.loc, "custom-data", why=why)
    tags = lookup(res, "tags")
    if isinstance(tags.value, dict):
        for name, value in tags.value.items():
            why = secret_reason(res, value, loc_of(tags.value, name) or tags.loc)
            if why:
                yield fail(loc_of(tags.value, name) or tags.loc, "tag", tag=name, why=why)


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


@check("no-literal-password", {"properties": {}},
       variants=("default", "non-secure-parameter", "object-member", "parameter-file"))
def no_literal_password(ctx, target, options):
    """osProfile.adminPassword must come from a secureString parameter or Key Vault, never a literal:
    not written in the template, not from a plain parameter (or a member of a plain object), not
    written as a literal in a parameter file."""
    res = target.resource
    raw, loc = _raw(res, "properties.virtualMachineProfile.osProfile.adminPassword")
    if raw is None:
        return
    if isinstance(raw, str) and not is_expression(raw):
        yield fail(loc, length=len(raw))
        return
    source = non_secure_source(res, raw)
    if source is not None:
        name, ptype, member = source
        if member:
            yield fail(loc, "object-member", parameter=name, type=ptype, member=member.lstrip("."))
        else:
            yield fail(loc, "non-secure-parameter", parameter=name, type=ptype)
    value = lookup(res, "properties.virtualMachineProfile.osProfile.adminPassword")
    o = origin(res, value.loc)
    if o.kind == "parameter-file" and isinstance(value.value, str) and value.value and \
            not _PUBLIC_KEY.match(value.value):  # templates that pass an SSH public key as adminPasswordOrKey
        yield fail(value.loc, "parameter-file", parameter=o.name, file=o.file, length=len(value.value))


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
