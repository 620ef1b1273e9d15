"""Terraform's built-in functions that configurations of scale sets use, evaluated offline.

A function whose result depends on the machine, the clock or a file outside the configuration
(``timestamp``, ``uuid``, ``file``, ``templatefile``) gives an :class:`Unknown`; so does a known
function vmsslint does not implement.  Unknown arguments give an unknown result (except in
``try``/``can``/``coalesce``, which look at them).
"""

from __future__ import annotations

import json

from linter.arm.template import EArray, EObject
from linter.arm.values import Unknown
from linter.terraform.expr import JSONText, TFError, _deep_unknown, _number, _to_text, _type, is_unknown
from linter.arm.functions import why_unknown as _why

FUNCTIONS: dict = {}


def fn(name, lazy=False, unknown_ok=False, passes_loc=False):
    def deco(f):
        f.lazy, f.unknown_ok, f.passes_loc = lazy, unknown_ok, passes_loc
        FUNCTIONS[name] = f
        return f
    return deco


def _plain(v):
    """A value as plain Python (for json, comparisons)."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


# --- lazy ones -----------------------------------------------------------------------------------

@fn("try", lazy=True)
def _try(ev, nodes, frame, here):
    for node in nodes:
        try:
            v, loc = ev.eval(node, frame, here)
        except TFError:
            continue
        if is_unknown(v):
            return Unknown(f"try() cannot tell whether an argument fails: {_why(v)}"), here
        return v, loc
    raise TFError("try(): no argument could be evaluated")


@fn("can", lazy=True)
def _can(ev, nodes, frame, here):
    if len(nodes) != 1:
        raise TFError("can() takes one argument")
    try:
        v = ev.value(nodes[0], frame, here)
    except TFError:
        return False, here
    if is_unknown(v):
        return Unknown(f"can() of an unknown value: {_why(v)}"), here
    return True, here


@fn("coalesce", passes_loc=True)
def _coalesce(args, locs, here):
    for v, loc in zip(args, locs):
        if is_unknown(v):
            return Unknown(f"coalesce() of an unknown value: {_why(v)}"), here
        if v is not None and v != "":
            return v, loc or here
    raise TFError("coalesce(): no non-null, non-empty argument")


@fn("lookup", passes_loc=True)
def _lookup(args, locs, here):
    if len(args) not in (2, 3):
        raise TFError("lookup() takes 2 or 3 arguments")
    m, key = args[0], args[1]
    if is_unknown(m) or is_unknown(key):
        return Unknown(f"lookup() in an unknown map: {_why(m if is_unknown(m) else key)}"), here
    if not isinstance(m, dict):
        raise TFError(f"lookup() needs a map, not {_type(m)}")
    key = _to_text(key)
    if key in m:
        from linter.arm.template import loc_of
        return m[key], loc_of(m, key) or here
    if len(args) == 3:
        return args[2], locs[2] or here
    raise TFError(f"lookup(): the map has no key \"{key}\" and no default is given")


@fn("sensitive", passes_loc=True)
def _sensitive(args, locs, here):
    return args[0], locs[0] or here


FUNCTIONS["nonsensitive"] = _sensitive


@fn("one", passes_loc=True)
def _one(args, locs, here):
    v = args[0]
    if is_unknown(v):
        return Unknown(f"one() of an unknown list: {_why(v)}"), here
    if v is None or v == []:
        return None, here
    if isinstance(v, list) and len(v) == 1:
        from linter.arm.template import loc_of
        return v[0], loc_of(v, 0) or here
    raise TFError("one() needs a list of zero or one element")


@fn("element", passes_loc=True)
def _element(args, locs, here):
    lst, idx = args
    if is_unknown(lst) or is_unknown(idx):
        return Unknown("element() of an unknown list or index"), here
    if not isinstance(lst, list) or not lst:
        raise TFError("element() needs a non-empty list")
    i = int(_number(idx)) % len(lst)
    from linter.arm.template import loc_of
    return lst[i], loc_of(lst, i) or here


# --- plain ones ------------------------------------------------------------------------------------

@fn("format")
def _format(spec, *args):
    out = []
    i = 0
    n = len(spec)
    ai = 0
    while i < n:
        ch = spec[i]
        if ch != "%":
            out.append(ch)
            i += 1
            continue
        if i + 1 < n and spec[i + 1] == "%":
            out.append("%")
            i += 2
            continue
        j = i + 1
        while j < n and spec[j] in "-+ #0123456789.[]":
            j += 1
        if j >= n:
            raise TFError("format(): unfinished verb")
        verb = spec[j]
        flags = spec[i + 1:j]
        if ai >= len(args):
            raise TFError("format(): not enough arguments")
        a = args[ai]
        ai += 1
        if verb in "sv":
            text = a if isinstance(a, str) else (json.dumps(_plain(a)) if isinstance(a, (dict, list)) else _to_text(a))
        elif verb == "d":
            text = str(int(_number(a)))
        elif verb in "fFeEgG":
            text = ("%" + flags + verb) % float(_number(a))
        elif verb == "q":
            text = json.dumps(_to_text(a))
        elif verb == "t":
            text = "true" if a is True else "false"
        else:
            raise TFError(f"format(): unsupported verb %{verb}")
        if verb in "svdq" and flags:
            width = "".join(c for c in flags if c.isdigit())
            if width and int(width) > 10_000:
                raise TFError(f"format(): width {width} is more than vmsslint pads (10000)")
            if width:
                text = text.rjust(int(width)) if "-" not in flags else text.ljust(int(width))
        out.append(text)
        i = j + 1
    return "".join(out)


@fn("formatlist")
def _formatlist(spec, *args):
    lists = [a for a in args if isinstance(a, list)]
    n = len(lists[0]) if lists else 1
    out = EArray()
    for i in range(n):
        out.append(_format(spec, *[a[i] if isinstance(a, list) else a for a in args]))
        out.locs.append(None)
    return out


@fn("concat")
def _concat(*lists):
    out = EArray()
    for lst in lists:
        if not isinstance(lst, list):
            raise TFError(f"concat() needs lists, not {_type(lst)}")
        from linter.arm.template import loc_of
        for i, v in enumerate(lst):
            out.append(v)
            out.locs.append(loc_of(lst, i))
    return out


@fn("merge")
def _merge(*maps):
    from linter.arm.template import loc_of
    out = EObject()
    for m in maps:
        if m is None:
            continue
        if not isinstance(m, dict):
            raise TFError(f"merge() needs maps or objects, not {_type(m)}")
        for k, v in m.items():
            out[k] = v
            out.locs[k] = loc_of(m, k)
    return out


@fn("jsonencode", unknown_ok=True)
def _jsonencode(v):
    if is_unknown(v):
        return v
    text = JSONText(json.dumps(_plain(v), separators=(",", ":"), default=lambda o: None))
    text.source = v
    return text


@fn("jsondecode")
def _jsondecode(s):
    if not isinstance(s, str):
        raise TFError("jsondecode() needs a string")
    if isinstance(s, JSONText) and s.source is not None:
        return s.source
    try:
        return json.loads(s)
    except ValueError as exc:
        raise TFError(f"jsondecode(): not JSON ({exc.args[0].split(':')[0]})") from None


for _name, _f in {
    "lower": lambda s: _to_text(s).lower(),
    "upper": lambda s: _to_text(s).upper(),
    "title": lambda s: _to_text(s).title(),
    "trimspace": lambda s: _to_text(s).strip(),
    "chomp": lambda s: _to_text(s).rstrip("\r\n"),
    "trim": lambda s, c: _to_text(s).strip(c),
    "trimprefix": lambda s, p: s[len(p):] if s.startswith(p) else s,
    "trimsuffix": lambda s, p: s[:-len(p)] if p and s.endswith(p) else s,
    "startswith": lambda s, p: s.startswith(p),
    "endswith": lambda s, p: s.endswith(p),
    "strcontains": lambda s, p: p in s,
    "tostring": lambda v: None if v is None else _to_text(v),
    "tonumber": lambda v: None if v is None else _number(v),
    "abs": lambda v: abs(_number(v)),
    "ceil": lambda v: -int(-_number(v) // 1),
    "floor": lambda v: int(_number(v) // 1),
    "signum": lambda v: (_number(v) > 0) - (_number(v) < 0),
    "min": lambda *v: min(_number(x) for x in v),
    "max": lambda *v: max(_number(x) for x in v),
    "length": lambda v: len(v) if isinstance(v, (str, list, dict)) else (_ for _ in ()).throw(
        TFError(f"length() of {_type(v)}")),
    "keys": lambda m: _arr(sorted(m.keys())),
    "values": lambda m: _arr([m[k] for k in sorted(m.keys())]),
    "contains": lambda lst, v: any(x == v for x in lst),
    "join": lambda sep, *lists: sep.join(_to_text(x) for lst in lists for x in lst),
    "split": lambda sep, s: _arr(s.split(sep)),
    "replace": lambda s, a, b: _replace(s, a, b),
    "substr": lambda s, off, n: s[int(off):] if int(n) < 0 else s[int(off):int(off) + int(n)],
    "flatten": lambda v: _arr(_flatten(v)),
    "distinct": lambda v: _arr(_distinct(v)),
    "compact": lambda v: _arr([x for x in v if x not in (None, "")]),
    "reverse": lambda v: _arr(list(reversed(v))),
    "sort": lambda v: _arr(sorted(_to_text(x) for x in v)),
    "range": lambda *a: _range(*a),
    "zipmap": lambda k, v: _obj(dict(zip([_to_text(x) for x in k], v))),
    "index": lambda lst, v: next((i for i, x in enumerate(lst) if x == v), None) if v in lst else
    (_ for _ in ()).throw(TFError("index(): the value is not in the list")),
    "coalescelist": lambda *lists: next((x for x in lists if x), _arr([])),
    "tobool": lambda v: v if isinstance(v, bool) or v is None else {"true": True, "false": False}.get(v, None),
    "tolist": lambda v: v,
    "toset": lambda v: _arr(_distinct(v)),
    "tomap": lambda v: v,
    "base64encode": lambda s: __import__("base64").b64encode(_to_text(s).encode()).decode(),
    "base64decode": lambda s: __import__("base64").b64decode(s).decode("utf-8", "replace"),
    "slice": lambda lst, a, b: _arr(lst[int(a):int(b)]),
    "setunion": lambda *s: _arr(_distinct([x for lst in s for x in lst])),
    "regex": lambda p, s: _regex(p, s),
    "lookup_not_used": None,
}.items():
    if _f is not None:
        FUNCTIONS[_name] = _f
        _f.lazy = _f.unknown_ok = _f.passes_loc = False


def _range(*a):
    r = range(*[int(_number(x)) for x in a])
    if len(r) > 100_000:
        from linter.terraform.expr import TFLimit
        raise TFLimit(f"range() of {len(r)} numbers is more than vmsslint evaluates (100000)")
    return _arr(list(r))


def _replace(s, a, b):
    if len(a) > 1 and a.startswith("/") and a.endswith("/"):
        import re
        return re.sub(a[1:-1], b.replace("$", "\\"), s)
    return s.replace(a, b)


def _regex(p, s):
    import re
    m = re.search(p, s)
    if m is None:
        raise TFError("regex(): no match")
    if m.groupdict():
        return _obj(m.groupdict())
    if m.groups():
        return _arr(list(m.groups()))
    return m.group(0)


def _arr(items):
    out = EArray()
    out.extend(items)
    out.locs.extend([None] * len(items))
    return out


def _obj(d):
    out = EObject()
    out.update(d)
    return out


def _flatten(v):
    out = []
    for x in v:
        if isinstance(x, list):
            out.extend(_flatten(x))
        else:
            out.append(x)
    return out


def _distinct(v):
    out = []
    for x in v:
        if x not in out:
            out.append(x)
    return out


# --- what only the machine running Terraform knows -----------------------------------------------

def _outside(name, why):
    def f(*args):
        return Unknown(f"{name}() {why}")
    f.lazy = False
    f.unknown_ok = True
    f.passes_loc = False
    FUNCTIONS[name] = f


for _name in ("file", "filebase64", "templatefile", "fileexists", "fileset", "filemd5", "filesha256",
              "filebase64sha256", "abspath", "pathexpand"):
    _outside(_name, "reads files on the machine running Terraform")
for _name in ("timestamp", "uuid", "bcrypt", "plantimestamp"):
    _outside(_name, "is computed when Terraform runs")
for _name in ("md5", "sha1", "sha256", "sha512", "base64sha256", "base64sha512", "uuidv5", "cidrsubnet",
              "cidrhost", "cidrnetmask", "cidrsubnets", "timeadd", "formatdate", "urlencode", "textencodebase64",
              "textdecodebase64", "yamlencode", "yamldecode", "csvdecode", "setproduct", "setintersection",
              "setsubtract", "matchkeys", "transpose", "chunklist", "alltrue", "anytrue", "sum", "parseint",
              "regexall", "strrev", "indent", "base64gzip", "type", "ephemeralasnull", "issensitive",
              "templatestring", "endswith_not_used", "pow", "log"):
    if _name not in FUNCTIONS:
        _outside(_name, "is not evaluated by vmsslint")


def deep_unknown(v):
    return _deep_unknown(v)
