"""``vmsslint generate --from``: the template you have, made ready for automatic OS image upgrades.

The template (and its parameter files) is linted as with ``--require-auto-upgrade``; for every scale
set, the changes the requirements need are written as small text edits at the exact place the value
comes from — the template, a variable, a parameter's default or the parameter file — and the files
are linted again, until nothing more can be changed.  Every other byte stays: comments, layout, key
order, line endings, encoding and BOM.  New members are written in the layout of the object they
join.  What cannot be decided is listed with the reason and the finding that stays.

Values that only the user knows (the health endpoint, the image) are taken from the options; a
value computed by an expression is never rewritten; a secret is never written or printed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile

from linter.arm.expr import is_expression
from linter.jsonc import JArray, JObject, ci_get, ci_key

VMSS = "microsoft.compute/virtualmachinescalesets"
LB = "microsoft.network/loadbalancers"
CLUSTER = "microsoft.servicefabric/clusters"
ROLLING = {"maxBatchInstancePercent": 20, "maxUnhealthyInstancePercent": 20,
           "maxUnhealthyUpgradedInstancePercent": 20, "pauseTimeBetweenBatches": "PT0S"}
HEALTH_PROBE_NAME = "vmsslintHealth"
#: codes whose rule fix (the fixes machinery) --from applies, and the requirement each serves
FIXED_BY_RULE = {"VMSS101": "REQ-ENABLE", "VMSS110": "REQ-API", "VMSS200": "REQ-VERSION", "VMSS400": "REQ-WINDOWS-AU",
                 "VMSS401": "REQ-WINDOWS-AU", "VMSS601": "REQ-SF-EXT-VERSION", "VMSS701": "REQ-MODE-AUTOMATIC",
                 "VMSS702": "REQ-MODE-AUTOMATIC", "VMSS720": "REQ-ROLLBACK", "VMSS740": "REQ-FLEX-MAXSURGE"}
MAX_PASSES = 8


class ReadyError(Exception):
    """A choice or an input that stops --from before anything is written."""


class NoScaleSet(ReadyError):
    """The template defines no scale set."""


class NeedHealth(ReadyError):
    """A set needs a health extension and its settings were not given."""


class Change:
    __slots__ = ("key", "start", "end", "req", "what", "set_name", "line", "end_line")

    def __init__(self, key, start, end, req, what, set_name):
        self.key, self.start, self.end = key, start, end
        self.req, self.what, self.set_name = req, what, set_name
        self.line = self.end_line = 0


class Left:
    __slots__ = ("set_name", "code", "severity", "req", "reason", "file", "line", "message")

    def __init__(self, set_name, code, severity, req, reason, file, line, message=""):
        self.set_name, self.code, self.severity, self.req = set_name, code, severity, req
        self.reason, self.file, self.line, self.message = reason, file, line, message


class Result:
    def __init__(self):
        self.files = {}  # original path -> (new bytes) for each file that changed
        self.names = {}  # original path -> output file name
        self.changes: list[Change] = []
        self.left: list[Left] = []
        self.sets: list[str] = []
        self.ready: list[str] = []
        self.texts = {}  # original path -> (old text, new text)

    def report(self) -> str:
        out = []
        for c in self.changes:
            lines = f"{c.line}" if c.line == c.end_line else f"{c.line}-{c.end_line}"
            out.append(f"changed {self.names[c.key]}:{lines}  {c.req}  {c.set_name}: {c.what}")
        for x in self.left:
            out.append(f"left    {x.file}:{x.line}  {x.code} {x.severity}  {x.req}  {x.set_name}: {x.reason}")
            if x.message:
                out.append(f"          the finding that stays: {_shorten(x.message, 200)}")
        out.append(f"{len(self.ready)} of {len(self.sets)} scale set{'s' if len(self.sets) != 1 else ''} ready; "
                   f"{len(self.changes)} change{'s' if len(self.changes) != 1 else ''}, "
                   f"{len(self.left)} finding{'s' if len(self.left) != 1 else ''} left for a decision")
        return "\n".join(out) + "\n"

    def diff(self) -> str:
        from linter.fixes import diff_texts
        return "".join(diff_texts(self.names[key], old, new) for key, (old, new) in self.texts.items() if old != new)


def _shorten(text, limit):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


class Options:
    def __init__(self, edition="2026", api_version=None, health=None, health_protocol=None, health_port=None,
                 health_path=None, health_mode="rich", image=None, extra_images=(), ask=None, os_family=None):
        self.edition = str(edition)
        self.api_version = api_version
        self.api_explicit = api_version is not None
        self.health = health or "extension"
        self.health_protocol = health_protocol
        self.health_port = health_port
        self.health_path = health_path
        self.health_mode = health_mode
        self.image = image
        self.extra_images = list(extra_images)
        self.ask = ask  # ask(set_name) -> (protocol, port, path), on a terminal
        self.os_family = os_family  # the OS family of sets whose image does not tell it (--os)


# --- files -------------------------------------------------------------------------------------------

class _File:
    def __init__(self, path):
        from linter.source import LoadError, decode
        with open(path, "rb") as fh:
            data = fh.read()
        try:
            self.text, self.encoding = decode(data)
        except LoadError as exc:
            raise ReadyError(f"{path}: {exc.message}") from None
        self.path = path
        self.bom = b""
        if self.encoding == "utf-16":
            self.bom = data[:2]
        self.original = self.text

    def encode(self, text=None) -> bytes:
        text = self.text if text is None else text
        if self.encoding == "utf-16":
            return self.bom + text.encode("utf-16-be" if self.bom == b"\xfe\xff" else "utf-16-le")
        return text.encode(self.encoding)


# --- edits --------------------------------------------------------------------------------------------

def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _indent_of(text, offset):
    start = text.rfind("\n", 0, offset) + 1
    i = start
    while i < len(text) and text[i] in " \t":
        i += 1
    return text[start:i]


def _indent_unit(text):
    """The file's indentation step: a tab, or the smallest run of spaces that indents a line."""
    sizes = []
    for line in text.splitlines()[:400]:
        if line.startswith("\t"):
            return "\t"
        n = len(line) - len(line.lstrip(" "))
        if 0 < n:
            sizes.append(n)
    return " " * (min(sizes) if sizes else 2)


def _format(value, indent, unit, nl):
    """``value`` as JSON in the file's layout, its first line after the key, the rest at ``indent``."""
    if isinstance(value, dict) and value:
        inner = indent + unit
        items = [f"{inner}{_dumps(k)}: {_format(v, inner, unit, nl)}" for k, v in value.items()]
        return "{" + nl + ("," + nl).join(items) + nl + indent + "}"
    if isinstance(value, list) and value:
        inner = indent + unit
        items = [f"{inner}{_format(v, inner, unit, nl)}" for v in value]
        return "[" + nl + ("," + nl).join(items) + nl + indent + "]"
    return _dumps(value)


def _after_last(text, pos, end):
    """Offset after a trailing comma following ``pos`` (JSONC), else None."""
    i = pos
    while i < end:
        ch = text[i]
        if ch in " \t\r\n":
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = end if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = end if j < 0 else j + 2
        elif ch == ",":
            return i + 1
        else:
            return None
    return None


def insert_members(obj: JObject, members):
    """(start, end, text) adding ``members`` [(name, value)] at the end of ``obj``, in its layout."""
    text = obj.src.text
    nl = "\r\n" if obj.src.crlf else "\n"
    unit = _indent_unit(text)
    if not obj:
        inner = text[obj.start + 1:obj.end - 1]
        if "\n" not in inner:
            body = ", ".join(f"{_dumps(k)}: {_dumps(v)}" for k, v in members)
            return obj.start + 1, obj.end - 1, f" {body} " if not inner.strip() else None
        indent = _indent_of(text, obj.start) + unit
        body = ("," + nl).join(f"{indent}{_dumps(k)}: {_format(v, indent, unit, nl)}" for k, v in members)
        return obj.start + 1, obj.start + 1, nl + body
    keys = list(obj.kpos)
    first_k = obj.kpos[keys[0]][0]
    vend = obj.vpos[keys[-1]][1]
    multiline = "\n" in text[obj.start:first_k] or "\n" in text[vend:obj.end]
    trailing = _after_last(text, vend, obj.end - 1)
    at, lead = (trailing, "") if trailing is not None else (vend, ",")
    if multiline:
        indent = _indent_of(text, obj.kpos[keys[-1]][0])
        body = ("," + nl).join(f"{indent}{_dumps(k)}: {_format(v, indent, unit, nl)}" for k, v in members)
        return at, at, lead + nl + body + ("," if trailing is not None else "")
    body = ", ".join(f"{_dumps(k)}: {_dumps(v)}" for k, v in members)
    return at, at, lead + " " + body + ("," if trailing is not None else "")


def append_items(arr: JArray, values):
    """(start, end, text) appending ``values`` to ``arr`` in its layout."""
    text = arr.src.text
    nl = "\r\n" if arr.src.crlf else "\n"
    unit = _indent_unit(text)
    if not arr:
        inner = text[arr.start + 1:arr.end - 1]
        indent = _indent_of(text, arr.start)
        if inner.strip():
            return None
        body = ("," + nl).join(f"{indent + unit}{_format(v, indent + unit, unit, nl)}" for v in values)
        return arr.start + 1, arr.end - 1, nl + body + nl + indent
    vend = arr.vpos[-1][1]
    first = arr.vpos[0][0]
    multiline = "\n" in text[arr.start:first]
    trailing = _after_last(text, vend, arr.end - 1)
    at, lead = (trailing, "") if trailing is not None else (vend, ",")
    if multiline:
        indent = _indent_of(text, arr.vpos[-1][0])
        body = ("," + nl).join(f"{indent}{_format(v, indent, unit, nl)}" for v in values)
        return at, at, lead + nl + body + ("," if trailing is not None else "")
    indent = _indent_of(text, arr.vpos[-1][0])
    body = ", ".join(_format(v, indent, unit, nl) for v in values)
    return at, at, lead + " " + body + ("," if trailing is not None else "")


# --- the planner --------------------------------------------------------------------------------------

class _Pass:
    """One round of edits over the current texts."""

    def __init__(self, run, dep, ctx, report):
        self.run, self.dep, self.ctx, self.report = run, dep, ctx, report
        self.edits = []  # (key, start, end, text, req, what, set_name)
        self.inserts = {}  # id(obj) -> (obj, [(name, value)], req, what, set_name)
        self.notes = {}  # (set_name, code) -> reason

    def key(self, src):
        return self.run.by_temp.get(os.path.abspath(src.path))

    def add_members(self, obj, members, req, what, set_name):
        entry = self.inserts.get(id(obj))
        if entry is None:
            self.inserts[id(obj)] = (obj, list(members), [(req, what)], set_name)
        else:
            names = {k.lower() for k, _ in entry[1]}
            entry[1].extend(m for m in members if m[0].lower() not in names)
            entry[2].append((req, what))

    def set_value(self, loc, value, req, what, set_name, code=None):
        """Write ``value`` where ``loc`` is written; returns None or the reason it cannot."""
        if loc is None:
            return "the value has no place in a file"
        container, k = loc
        if not isinstance(container, (JObject, JArray)) or k is None or self.key(container.src) is None:
            return "the value is not written in a file --from edits"
        raw = container[k]
        if isinstance(raw, str) and is_expression(raw):
            return f"the value is computed by the expression {raw[:80]}; edit it by hand"
        if isinstance(raw, (dict, list)):
            return "the value is an object or array; edit it by hand"
        why = self.run.allowed_problem(container, k, value)
        if why:
            return why
        if raw == value and type(raw) is type(value):
            return None
        start, end = container.vpos[k]
        self.edits.append((self.key(container.src), start, end, _dumps(value), req, what, set_name))
        return None

    def note(self, set_name, code, reason):
        self.notes.setdefault((set_name, code), reason)

    def finish(self):
        for obj, members, labels, set_name in self.inserts.values():
            key = self.key(obj.src)
            if key is None:
                continue
            e = insert_members(obj, members)
            if e is None:
                continue
            self.edits.append((key, e[0], e[1], e[2], labels, None, set_name))
        return self.edits


def _raw_obj(value):
    """The parsed object (in a file) an evaluated object comes from, or None."""
    from linter.arm.template import own_loc
    loc = own_loc(value)
    if loc is None:
        return None
    c, k = loc
    obj = c if k is None else (c[k] if isinstance(c, (JObject, JArray)) else None)
    return obj if isinstance(obj, (JObject, JArray)) else None


def plan_set(p: _Pass, res, codes, opts: Options):
    from linter.arm.template import MISSING
    from linter.checks.vmss import facts, get, lower
    f = facts(p.ctx, res)
    name = f"scale set '{res.display_name()}'"
    ev = res.evaluated()
    sf = bool(f.sf_extensions)
    want_mode = "Automatic" if sf else "Rolling"
    # REQ-ENABLE, REQ-MODE-*, REQ-ROLLING-POLICY
    if f.upgrade_policy is MISSING:
        props = _raw_obj(f.props)
        value = {"mode": want_mode}
        if not sf:
            value["rollingUpgradePolicy"] = dict(ROLLING)
        value["automaticOSUpgradePolicy"] = {"enableAutomaticOSUpgrade": True}
        if isinstance(props, JObject):
            p.add_members(props, [("upgradePolicy", value)], "REQ-ENABLE",
                          f"upgradePolicy: mode {want_mode}" + ("" if sf else " with a rolling upgrade policy") +
                          ", automatic OS image upgrade on", name)
        else:
            p.note(name, "VMSS100", "the set's properties are computed by an expression; add upgradePolicy by hand")
    else:
        up = _raw_obj(f.upgrade_policy)
        if not isinstance(up, JObject):
            p.note(name, "VMSS100", "upgradePolicy is computed by an expression; turn the feature on by hand")
        else:
            mode, mode_loc = get(ev, "properties.upgradePolicy.mode")
            if mode is MISSING:
                p.add_members(up, [("mode", want_mode)], "REQ-MODE-MANUAL" if not sf else "REQ-MODE-AUTOMATIC",
                              f"upgradePolicy.mode {want_mode} (absent means Manual)", name)
                mode = want_mode
            elif lower(mode) == "manual":
                why = p.set_value(mode_loc, want_mode, "REQ-MODE-MANUAL", f"upgradePolicy.mode Manual -> {want_mode}",
                                  name)
                if why:
                    p.note(name, "VMSS700", why)
                else:
                    mode = want_mode
            if lower(mode) == "rolling":
                rp, _ = get(ev, "properties.upgradePolicy.rollingUpgradePolicy")
                if rp is MISSING:
                    p.add_members(up, [("rollingUpgradePolicy", dict(ROLLING))], "REQ-ROLLING-POLICY",
                                  "rollingUpgradePolicy (20% batches, 20% unhealthy, no pause)", name)
            legacy_key = ci_key(up, "automaticOSUpgrade") if f.legacy else None
            if f.auto is not True and legacy_key is not None and p.key(up.src) is not None:
                # the preview property: replaced by the policy object every current apiVersion knows
                start, end = up.kpos[legacy_key][0], up.vpos[legacy_key][1]
                p.edits[:] = [e for e in p.edits if not (e[0] == p.key(up.src) and start <= e[1] and e[2] <= end)]
                p.edits.append((p.key(up.src), start, end,
                                '"automaticOSUpgradePolicy": ' + _dumps({"enableAutomaticOSUpgrade": True}),
                                "REQ-ENABLE", "automaticOSUpgrade (preview) -> automaticOSUpgradePolicy."
                                              "enableAutomaticOSUpgrade true", name))
            elif f.auto is not True and f.legacy:
                p.note(name, "VMSS100", "the preview property automaticOSUpgrade is not written in upgradePolicy "
                                        "itself; replace it by automaticOSUpgradePolicy by hand")
            elif f.auto is not True:
                ap, _ = get(ev, "properties.upgradePolicy.automaticOSUpgradePolicy")
                if ap is MISSING:
                    p.add_members(up, [("automaticOSUpgradePolicy", {"enableAutomaticOSUpgrade": True})],
                                  "REQ-ENABLE", "automaticOSUpgradePolicy.enableAutomaticOSUpgrade true", name)
                else:
                    apo = _raw_obj(ap)
                    if f.auto_value is MISSING and isinstance(apo, JObject):
                        p.add_members(apo, [("enableAutomaticOSUpgrade", True)], "REQ-ENABLE",
                                      "enableAutomaticOSUpgrade true", name)
                    elif f.auto_value is not MISSING and "VMSS101" not in codes:
                        why = p.set_value(f.auto_loc, True, "REQ-ENABLE", "enableAutomaticOSUpgrade true", name)
                        if why:
                            p.note(name, "VMSS100", why)
                    elif not isinstance(apo, JObject):
                        p.note(name, "VMSS100", "automaticOSUpgradePolicy is computed by an expression")
    # --api-version given: a set below it is raised to it (too old ones are raised by VMSS110's fix)
    if opts.api_explicit and "VMSS110" not in codes:
        k = ci_key(res.raw, "apiVersion")
        raw = res.raw.get(k) if k else None
        if isinstance(raw, str) and not is_expression(raw) and raw < opts.api_version:
            p.set_value((res.raw, k), opts.api_version, "REQ-API", f"apiVersion {opts.api_version} (--api-version)",
                        name)
    # REQ-HEALTH
    if "VMSS300" in codes:
        _plan_health(p, res, f, ev, name, opts)
    # REQ-WINDOWS-AU: no windowsConfiguration at all
    if "VMSS401" in codes and f.os == "windows":
        osp, _ = get(ev, "properties.virtualMachineProfile.osProfile")
        wc, _ = get(ev, "properties.virtualMachineProfile.osProfile.windowsConfiguration")
        osp_raw = _raw_obj(osp) if osp is not MISSING else None
        if wc is MISSING and isinstance(osp_raw, JObject):
            p.add_members(osp_raw, [("windowsConfiguration", {"enableAutomaticUpdates": False})], "REQ-WINDOWS-AU",
                          "windowsConfiguration.enableAutomaticUpdates false", name)
    # REQ-IMAGE-CUSTOM: a pinned gallery version
    if "VMSS202" in codes and f.image_kind == "gallery":
        rid, rid_loc = get(ev, "properties.virtualMachineProfile.storageProfile.imageReference.id")
        _plan_unpin(p, rid_loc, name)
    # REQ-IMAGE-PLATFORM
    if "VMSS201" in codes:
        _plan_image(p, res, f, ev, name, opts)
    # REQ-SF-DURABILITY: Bronze -> Silver on the extension and the node type
    if "VMSS600" in codes or "VMSS602" in codes:
        _plan_durability(p, res, f, ev, name)


def _plan_health(p, res, f, ev, name, opts):
    from linter.arm.template import MISSING
    from linter.checks.vmss import get
    if opts.health == "probe":
        why = _plan_probe(p, res, f, ev, name, opts)
        if why:
            p.note(name, "VMSS300", why)
        return
    os_family = f.os if isinstance(f.os, str) else opts.os_family
    if os_family not in ("linux", "windows"):
        p.note(name, "VMSS300", "the OS family is not known, so neither ApplicationHealthLinux nor "
                                "ApplicationHealthWindows can be chosen: pass --os linux or --os windows")
        return
    protocol, port, path = opts.health_protocol, opts.health_port, opts.health_path
    if protocol is None or port is None or (protocol != "tcp" and path is None):
        if opts.ask is None:
            raise NeedHealth(f"{name} has no health signal: pass --health-protocol, --health-port and "
                             f"--health-path for the Application Health extension (or --health probe)")
        protocol, port, path = opts.ask(name)
        opts.health_protocol, opts.health_port, opts.health_path = protocol, port, path
    settings = {"protocol": protocol, "port": int(port)}
    if protocol != "tcp":
        settings["requestPath"] = path
    settings.update({"intervalInSeconds": 5, "numberOfProbes": 1})
    if opts.health_mode == "rich":
        settings["gracePeriod"] = 600
    ext = {"name": "ApplicationHealth", "properties": {
        "publisher": "Microsoft.ManagedServices",
        "type": "ApplicationHealthWindows" if os_family == "windows" else "ApplicationHealthLinux",
        "typeHandlerVersion": "2.0" if opts.health_mode == "rich" else "1.0",
        "autoUpgradeMinorVersion": True, "settings": settings}}
    what = (f"the Application Health extension ({protocol}, port {port}"
            + (f", {path}" if protocol != "tcp" else "") + ")")
    exts, _ = get(ev, "properties.virtualMachineProfile.extensionProfile.extensions")
    if exts is not MISSING:
        arr = _raw_obj(exts)
        if not isinstance(arr, JArray):
            p.note(name, "VMSS300", "the extension list is computed by an expression; add the health extension by hand")
            return
        e = append_items(arr, [ext])
        if e is None:
            p.note(name, "VMSS300", "the extension list could not be edited")
            return
        p.edits.append((p.key(arr.src), e[0], e[1], e[2], "REQ-HEALTH", what, name))
        return
    ep, _ = get(ev, "properties.virtualMachineProfile.extensionProfile")
    if ep is not MISSING:
        obj = _raw_obj(ep)
        if isinstance(obj, JObject):
            p.add_members(obj, [("extensions", [ext])], "REQ-HEALTH", what, name)
            return
    vmp, _ = get(ev, "properties.virtualMachineProfile")
    obj = _raw_obj(vmp) if vmp is not MISSING else None
    if not isinstance(obj, JObject):
        p.note(name, "VMSS300", "virtualMachineProfile is not written in the template; add the health extension "
                                "by hand")
        return
    p.add_members(obj, [("extensionProfile", {"extensions": [ext]})], "REQ-HEALTH", what, name)


def _plan_probe(p, res, f, ev, name, opts):
    """A dedicated health probe on the set's own load balancer; returns the reason it cannot, or None."""
    from linter.arm import resourceid
    from linter.arm.template import MISSING
    from linter.checks.vmss import get
    from linter.arm.values import Unknown
    nics, _ = get(ev, "properties.virtualMachineProfile.networkProfile.networkInterfaceConfigurations")
    lb_keys = set()
    for nic in nics if isinstance(nics, list) else []:
        ipcs, _ = get(nic, "properties.ipConfigurations")
        for ipc in ipcs if isinstance(ipcs, list) else []:
            refs, _ = get(ipc, "properties.loadBalancerBackendAddressPools")
            for ref in refs if isinstance(refs, list) else []:
                rid = ci_get(ref, "id") if isinstance(ref, dict) else None
                parsed = resourceid.parse(rid) if rid is not None and not isinstance(rid, Unknown) else None
                if parsed and parsed[0] == "microsoft.network/loadbalancers/backendaddresspools":
                    key = resourceid.name_key(parsed[1][0])
                    if key is not None:
                        lb_keys.add(key)
    if not lb_keys:
        return "--health probe: the set joins no load balancer's backend pool this template defines"
    lbs = [r for r in p.ctx.resources(LB) if not r.existing and resourceid.name_key(r.name) in lb_keys]
    if len(lbs) != 1:
        return "--health probe: the set's load balancer is not defined in this template (or there are several)"
    lb = lbs[0]
    sku, _ = get(lb.evaluated(), "sku.name")
    if not (isinstance(sku, str) and sku.lower() == "standard"):
        return "--health probe: the set's load balancer is not a Standard load balancer (REQ-PROBE-STANDARD)"
    props = ci_get(lb.raw, "properties")
    if not isinstance(props, JObject):
        return "--health probe: the load balancer's properties are computed by an expression"
    protocol = (opts.health_protocol or "tcp")
    port = opts.health_port
    if port is None:
        return "--health probe needs --health-port (and --health-protocol, --health-path)"
    pp = {"protocol": {"tcp": "Tcp", "http": "Http", "https": "Https"}[protocol], "port": int(port)}
    if protocol != "tcp":
        pp["requestPath"] = opts.health_path or "/"
    pp.update({"intervalInSeconds": 5, "numberOfProbes": 2, "probeThreshold": 2})
    probe = {"name": HEALTH_PROBE_NAME, "properties": pp}
    raw_name = ci_get(lb.raw, "name")
    if isinstance(raw_name, str) and is_expression(raw_name):
        arg = raw_name[1:-1].strip()
    else:
        arg = "'" + str(raw_name).replace("'", "''") + "'"
    probe_id = f"[resourceId('Microsoft.Network/loadBalancers/probes', {arg}, '{HEALTH_PROBE_NAME}')]"
    netp, _ = get(ev, "properties.virtualMachineProfile.networkProfile")
    net = _raw_obj(netp) if netp is not MISSING else None
    if not isinstance(net, JObject):
        return "--health probe: the set's networkProfile is computed by an expression"
    probes = ci_get(props, "probes")
    lbname = lb.display_name()
    if isinstance(probes, JArray):
        if any(isinstance(x, dict) and ci_get(x, "name") == HEALTH_PROBE_NAME for x in probes):
            pass
        else:
            e = append_items(probes, [probe])
            if e is None:
                return "--health probe: the load balancer's probe list could not be edited"
            p.edits.append((p.key(probes.src), e[0], e[1], e[2], "REQ-PROBE-DEDICATED",
                            f"probe {HEALTH_PROBE_NAME} on load balancer '{lbname}'", name))
    elif probes is None:
        p.add_members(props, [("probes", [probe])], "REQ-PROBE-DEDICATED",
                      f"probe {HEALTH_PROBE_NAME} on load balancer '{lbname}'", name)
    else:
        return "--health probe: the load balancer's probes are computed by an expression"
    p.add_members(net, [("healthProbe", {"id": probe_id})], "REQ-HEALTH",
                  f"networkProfile.healthProbe -> {HEALTH_PROBE_NAME}", name)
    return None


_PINNED = re.compile(r"/versions/[^/'\"]+$", re.I)
_RID_VERSIONS = re.compile(r"resourceId\(\s*(.*?)'Microsoft\.Compute/galleries/images/versions'\s*,(.*),([^,]+)"
                           r"\)\s*\]$",
                           re.I | re.S)


def _plan_unpin(p, loc, name):
    if loc is None:
        return
    container, k = loc
    if not isinstance(container, (JObject, JArray)) or p.key(container.src) is None:
        return
    raw = container[k]
    if not isinstance(raw, str):
        return
    if is_expression(raw):
        m = _RID_VERSIONS.search(raw)
        if not m:
            p.note(name, "VMSS202", "the gallery image id is computed by an expression; drop its /versions/ part "
                                    "by hand")
            return
        new = raw[:m.start()] + f"resourceId({m.group(1)}'Microsoft.Compute/galleries/images',{m.group(2)})]"
    else:
        if not _PINNED.search(raw):
            return
        new = _PINNED.sub("", raw)
    start, end = container.vpos[k]
    p.edits.append((p.key(container.src), start, end, _dumps(new), "REQ-IMAGE-CUSTOM",
                    "gallery image id without a pinned version (the newest version is used)", name))


def _generation(sku: str, offer: str) -> str:
    s = f"{offer}:{sku}".lower()
    if "arm64" in s:
        return "arm64"
    if "gen2" in s or "-g2" in s or s.endswith("-g2"):
        return "gen2"
    return "gen1"


def _plan_image(p, res, f, ev, name, opts):
    from linter.checks.vmss import get
    from linter.generate import WINDOWS_PUBLISHERS, support_matrix
    if opts.image is None:
        p.note(name, "VMSS201", "choosing another image changes what runs on the set: pass --image URN or --image auto")
        return
    if ci_key(res.raw, "plan") is not None:
        p.note(name, "VMSS201", "a marketplace image with a plan is never replaced")
        return
    img = f.image
    if not isinstance(img, dict):
        return
    images = support_matrix(opts.edition)[0] + [u for u in opts.extra_images if u.count(":") == 2]
    if opts.image == "auto":
        pub, offer, sku = (ci_get(img, k) for k in ("publisher", "offer", "sku"))
        if not all(isinstance(x, str) for x in (pub, offer, sku)):
            p.note(name, "VMSS201", "the image is known only at deployment; choose one with --image URN")
            return
        windows = pub.lower() in WINDOWS_PUBLISHERS
        gen = _generation(sku, offer)
        same = [u for u in images if (u.split(":")[0].lower() in WINDOWS_PUBLISHERS) == windows
                and _generation(u.split(":")[2], u.split(":")[1]) == gen]
        pubs = [u for u in same if u.split(":")[0].lower() == pub.lower()]
        choice = (pubs or same or [None])[-1]
        if choice is None:
            p.note(name, "VMSS201", f"no supported image of the same OS family and generation ({gen})")
            return
    else:
        choice = opts.image
    cpub, coffer, csku = choice.split(":")
    mark = len(p.edits)
    for key, value in (("publisher", cpub), ("offer", coffer), ("sku", csku)):
        _, loc = get(ev, f"properties.virtualMachineProfile.storageProfile.imageReference.{key}")
        why = p.set_value(loc, value, "REQ-IMAGE-PLATFORM", f"image {key} {value} (image {choice})", name)
        if why:
            del p.edits[mark:]  # all three or none: never half an image
            p.note(name, "VMSS201", f"cannot write image {choice}: {why}")
            return


def _plan_durability(p, res, f, ev, name):
    from linter.arm.template import MISSING, loc_of
    from linter.checks.servicefabric import _setting, node_type
    from linter.checks.vmss import as_number, get, lower
    cap, _ = get(ev, "sku.capacity")
    cap = as_number(cap)
    for ext in f.sf_extensions:
        value, loc = _setting(ext, "durabilityLevel")
        nt = node_type(p.ctx, ext)
        if not isinstance(nt, tuple):
            p.note(name, "VMSS600", "the cluster's node type for this set is not in this template; its durability "
                                    "must change with the extension's")
            continue
        node, _ = nt
        count = as_number(ci_get(node, "vmInstanceCount"))
        if not isinstance(cap, int) or cap < 5 or not isinstance(count, int) or count < 5:
            p.note(name, "VMSS600", f"Silver durability needs at least 5 instances; the set has {cap} and the node "
                                    f"type {count}: raise them first (it costs more VMs)")
            continue
        if value is MISSING:
            p.note(name, "VMSS600", "durabilityLevel is not in the extension's settings")
            continue
        if lower(value) == "bronze":
            why = p.set_value(loc, "Silver", "REQ-SF-DURABILITY", "Service Fabric extension durabilityLevel Silver",
                              name)
            if why:
                p.note(name, "VMSS600", why)
        nkey = ci_key(node, "durabilityLevel")
        if nkey is not None and lower(node[nkey]) == "bronze":
            why = p.set_value(loc_of(node, nkey), "Silver", "REQ-SF-MATCH", "cluster node type durabilityLevel Silver",
                              name)
            if why:
                p.note(name, "VMSS602", why)


# --- the run ------------------------------------------------------------------------------------------

class _Run:
    def __init__(self, template, params, opts):
        from linter import loader
        self.opts = opts
        if not params:
            params = loader.companion_parameter_files(template)
        self.order = [template] + list(params)
        self.files = {p: _File(p) for p in self.order}
        self.template = template
        self.params = list(params)
        names = {}
        for p in self.order:
            base = os.path.basename(p)
            if base in names:
                raise ReadyError(f"{p} and {names[base]} have the same file name; --from writes each under its own "
                                 f"name")
            names[base] = p
        self.names = {p: os.path.basename(p) for p in self.order}
        self.tmp = tempfile.mkdtemp(prefix="vmsslint-from-")
        self.by_temp = {os.path.abspath(os.path.join(self.tmp, self.names[p])): p for p in self.order}
        self.changes: list[Change] = []
        self.troot = None

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def lint(self):
        from linter import loader
        from linter.engine import Context, Engine, Report, Settings
        for p in self.order:
            with open(os.path.join(self.tmp, self.names[p]), "wb") as fh:
                fh.write(self.files[p].encode())
        settings = Settings(edition=self.opts.edition, require_auto_upgrade=True, extra_images=self.opts.extra_images,
                            auto_parameters=False)
        engine = Engine(settings)
        report = Report()
        plfs = [loader.read(os.path.join(self.tmp, self.names[p])) for p in self.params]
        dep = engine.lint_file(os.path.join(self.tmp, self.names[self.template]), plfs, report)
        from linter.jsonc import parse
        from linter.source import SourceFile
        try:
            self.troot, _ = parse(SourceFile(self.template, self.files[self.template].text))
        except Exception:  # noqa: BLE001 - broken JSON: the lint says why
            self.troot = None
        return dep, (Context(dep, settings) if dep is not None else None), report

    def allowed_problem(self, container, key, value):
        """A new value must be in its parameter's allowedValues."""
        param = None
        if isinstance(key, str) and key.lower() == "defaultvalue" and isinstance(container, JObject):
            param = container
        elif isinstance(key, str) and key.lower() == "value" and container.src is not None and \
                self.by_temp.get(os.path.abspath(container.src.path)) in self.params and container.pkey:
            tparams = ci_get(self.troot, "parameters") if isinstance(self.troot, dict) else None
            param = ci_get(tparams, container.pkey) if isinstance(tparams, dict) else None
        allowed = ci_get(param, "allowedValues") if isinstance(param, dict) else None
        if isinstance(allowed, list) and value not in allowed:
            return (f"the parameter's allowedValues ({', '.join(map(_dumps, allowed))}) do not include "
                    f"{_dumps(value)}; change them together by hand")
        return None

    def apply(self, edits):
        """Apply non-overlapping edits; returns how many were applied."""
        by_key = {}
        for e in edits:
            if e[0] is None:
                continue
            lst = by_key.setdefault(e[0], [])
            if any(x[1:4] == e[1:4] for x in lst):
                continue
            if any((e[1] < x[2] and x[1] < e[2]) or (e[1] == x[1] and (e[1] == e[2] or x[1] == x[2]))
                   for x in lst):
                continue
            lst.append(e)
        n = 0
        for key, lst in by_key.items():
            text = self.files[key].text
            for e in sorted(lst, key=lambda e: (e[1], e[2]), reverse=True):
                _, start, end, new, req, what, set_name = e
                text = text[:start] + new + text[end:]
                delta = len(new) - (end - start)
                for c in self.changes:
                    if c.key != key:
                        continue
                    if c.start >= end:
                        c.start += delta
                        c.end += delta
                    elif c.end > start:
                        c.end = max(c.start, c.end + delta)
                for r, w in (req if isinstance(req, list) else [(req, what)]):
                    self.changes.append(Change(key, start, start + len(new), r, w, set_name))
                n += 1
            self.files[key].text = text
        return n


def make_ready(template: str, params=(), opts: Options | None = None) -> Result:
    opts = opts or Options()
    if opts.api_version is None:
        from linter.generate import support_matrix
        opts.api_version = support_matrix(opts.edition)[1][-1]
    run = _Run(template, list(params), opts)
    try:
        return _make_ready(run, opts)
    finally:
        run.close()


def _make_ready(run, opts):
    from linter.fixes import Fix, NoFix
    from linter.jsonc import JSONSyntaxError, parse
    from linter.source import SourceFile
    result = Result()
    notes = {}
    for _ in range(MAX_PASSES):
        dep, ctx, report = run.lint()
        if dep is None:
            broken = [f for f in report.findings if f.severity == "error"]
            raise ReadyError(f"{run.template}: not a template --from can read"
                             + (f" ({broken[0].file}:{broken[0].line}:{broken[0].column}: {broken[0].message})"
                                if broken else ""))
        p = _Pass(run, dep, ctx, report)
        codes_by_set = {}
        for f in report.findings:
            for n in f.resources:
                codes_by_set.setdefault(n, set()).add(f.code)
        # the rules' own fixes, at the place each value is written
        for f in report.findings:
            if f.code not in FIXED_BY_RULE:
                continue
            label = f"scale set '{f.resource}'"
            if isinstance(f.fix, Fix):
                for src, start, end, text in f.fix.edits:
                    if f.code == "VMSS110":
                        text = _dumps(opts.api_version)
                    what = (f"apiVersion {opts.api_version}" if f.code == "VMSS110" else
                            f"{f.code} {f.name}: {f.fix.description}")
                    p.edits.append((p.key(src), start, end, text, FIXED_BY_RULE[f.code], what, label))
            elif isinstance(f.fix, NoFix):
                p.note(label, f.code, f.fix.reason)
        for res in dep.resources:
            if res.type_lower == VMSS and not res.existing:
                plan_set(p, res, codes_by_set.get(res.display_name(), set()), opts)
        for k, v in p.notes.items():
            notes.setdefault(k, v)
        edits = [e for e in p.finish() if e[0] is not None]
        before = {k: f.text for k, f in run.files.items()}
        if not run.apply(edits):
            break
        for key, f in run.files.items():
            if f.text == before[key]:
                continue
            try:
                parse(SourceFile(key, f.text))
            except JSONSyntaxError as exc:  # pragma: no cover - an edit bug: never write a broken file
                raise ReadyError(f"{key}: an edit broke the JSON ({exc.message}); nothing written") from None
    # the end state
    from linter.rules import load_rules
    rules = {r.code: r for r in load_rules()}
    for res in dep.resources:
        if res.type_lower == VMSS and not res.existing:
            if res.display_name() not in result.sets:
                result.sets.append(res.display_name())
    blocked = set()
    for f in sorted(report.findings, key=lambda f: f.sort_key()):
        if f.severity == "info":
            continue
        label = f"scale set '{f.resource}'" if f.resource else "template"
        reason = next((notes[(f"scale set '{n}'", f.code)] for n in f.resources
                       if (f"scale set '{n}'", f.code) in notes), None)
        if reason is None and isinstance(f.fix, NoFix):
            reason = f.fix.reason
        if reason is None:
            reason = (rules[f.code].fix or {}).get("description") if f.code in rules else None
        reason = reason or f.message
        key = run.by_temp.get(os.path.abspath(f.src.path)) if f.src is not None else None
        result.left.append(Left(f.resource or "-", f.code, f.severity, ", ".join(f.requirements) or "-",
                                reason, run.names.get(key, f.file), f.line, f.message))
        blocked.update(f.resources)
    if not result.sets:
        raise NoScaleSet(f"{run.template}: no scale set (Microsoft.Compute/virtualMachineScaleSets) to make ready")
    result.ready = [s for s in result.sets if s not in blocked]
    result.names = dict(run.names)
    for key, fobj in run.files.items():
        result.texts[key] = (fobj.original, fobj.text)
        if fobj.text != fobj.original or key == run.template:
            result.files[key] = fobj.encode()
    for c in run.changes:
        src = SourceFile(c.key, run.files[c.key].text)
        c.line = src.position(c.start)[0]
        c.end_line = src.position(max(c.start, c.end - 1))[0] if c.end > c.start else c.line
    result.changes = sorted(run.changes, key=lambda c: (run.order.index(c.key), c.start))
    return result


def write(result: Result, directory: str, force: bool) -> list:
    """Write the changed files (all or none) under their own names in ``directory``."""
    from linter.fileio import write_atomic
    os.makedirs(directory, exist_ok=True)
    paths = {key: os.path.join(directory, result.names[key]) for key in result.files}
    existing = [p for p in paths.values() if os.path.exists(p)]
    if existing and not force:
        raise ReadyError(f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; "
                         f"use --force to overwrite")
    for key, path in paths.items():
        write_atomic(path, result.files[key])
    return list(paths.values())


def cli(template, params, output_dir, force, no_input, show_diff, extra_images, options) -> int:
    """``vmsslint generate --from``: prints the report (and the diff); returns the exit code."""
    import sys

    import click

    from linter import generate
    edition = options.get("docs_edition") or "2026"
    image = options.get("image")
    if image and image != "auto":
        images = generate.support_matrix(edition)[0] + list(extra_images)
        found = [u for u in images if u.lower() == image.lower()]
        if not found:
            raise ReadyError(f"--image {image} is not a supported image in the {edition} documentation (nor in "
                             f"extra-images); `vmsslint generate --list-images` lists them, or use --image auto")
        image = found[0]
    apis = generate.support_matrix(edition)[1]
    api = options.get("api_version")
    if api and api not in apis:
        raise ReadyError(f"--api-version {api}: automatic OS image upgrades need one of {', '.join(apis)}")
    protocol = options.get("health_protocol")
    path = options.get("health_path")
    if path is not None and not path.startswith("/"):
        raise ReadyError(f"--health-path {path!r} must start with '/'")
    interactive = not no_input and sys.stdin.isatty()
    opts = Options(edition=edition, api_version=api, health=options.get("health"), health_protocol=protocol,
                   health_port=options.get("health_port"), health_path=path,
                   health_mode=options.get("health_mode") or "rich", image=image, extra_images=extra_images,
                   ask=generate.ask_health if interactive else None, os_family=options.get("os_family"))
    result = make_ready(template, params, opts)
    if show_diff:
        click.echo(result.diff(), nl=False)
        click.echo(result.report(), nl=False, err=True)
    else:
        written = write(result, output_dir, force)
        click.echo(result.report(), nl=False)
        for path in written:
            click.echo(f"wrote {path}")
        click.echo(f"next: vmsslint lint --require-auto-upgrade {os.path.join(output_dir, result.names[template])}")
    return 1 if result.left else 0
