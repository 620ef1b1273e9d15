"""What scale-set rules need to know about a set, and the checks only scale sets have.

:func:`facts` reads a ``Microsoft.Compute/virtualMachineScaleSets`` resource once: whether
automatic OS image upgrade is on, the image and its kind, the OS family, the extensions (from
``extensionProfile`` and from child ``virtualMachineScaleSets/extensions`` resources), the health
probe.  Conditions and checks below use it.
"""

from __future__ import annotations

from linter.arm.template import MISSING, loc_of, own_loc
from linter.arm.values import Partial, Unknown, canon
from linter.checks.api import (PARTIAL_UPDATE_WHY, check, condition, fail, is_partial_update, lookup, settle,
                               unverifiable, why_unknown)
from linter.checks.readers import as_bool, as_number, lower  # noqa: F401  (re-exported for older imports)
from linter.jsonc import ci_get, ci_key

VMSS_EXT = "microsoft.compute/virtualmachinescalesets/extensions"
HEALTH_PUBLISHER = "microsoft.managedservices"
HEALTH_TYPES = ("applicationhealthlinux", "applicationhealthwindows")
SF_PUBLISHER = "microsoft.azure.servicefabric"
SF_TYPES = ("servicefabricnode", "servicefabriclinuxnode")
WINDOWS_PUBLISHERS = ("microsoftwindowsserver", "microsoftsqlserver", "microsoftwindowsdesktop", "microsoftvisualstudio")


def get(obj, path: str):
    """(value, loc) at a dotted path of an evaluated value that is not a resource's root (a load
    balancer rule, a NIC configuration); MISSING when absent.  A resource's own properties are read
    with :func:`linter.checks.api.lookup`, which knows partial updates."""
    return tuple(lookup(None, path, start=obj))


class Extension:
    __slots__ = ("name", "publisher", "type", "version", "props", "loc", "resource", "child")

    def __init__(self, name, props, loc, resource, child=False):
        self.name = name
        self.props = props if isinstance(props, dict) else {}
        self.publisher = ci_get(self.props, "publisher")
        self.type = ci_get(self.props, "type")
        self.version = ci_get(self.props, "typeHandlerVersion")
        self.loc = loc
        self.resource = resource
        self.child = child

    def is_kind(self, publisher, types) -> bool:
        return lower(self.publisher) == publisher and lower(self.type) in types

    def maybe_kind(self, publisher, types) -> bool:
        """True when an unknown publisher or type leaves open that the extension is of this kind."""
        pub_unknown = isinstance(self.publisher, (Unknown, Partial))
        type_unknown = isinstance(self.type, (Unknown, Partial))
        if not (pub_unknown or type_unknown):
            return False
        return (pub_unknown or lower(self.publisher) == publisher) and (type_unknown or lower(self.type) in types)


class Facts:
    """Derived facts of one scale set (computed once per resource)."""

    def __init__(self, ctx, res):
        self.res = res
        self.partial = is_partial_update(res)  # an update of an existing set: what it does not write is unknown
        ev = res.evaluated()
        self.props, self.props_loc = lookup(self.res, "properties")
        # automatic OS image upgrade
        value, loc = lookup(self.res, "properties.upgradePolicy.automaticOSUpgradePolicy.enableAutomaticOSUpgrade")
        self.legacy = False
        if value is MISSING:
            legacy, lloc = lookup(self.res, "properties.upgradePolicy.automaticOSUpgrade")
            if legacy is not MISSING:
                value, loc, self.legacy = legacy, lloc, True
        self.auto_value, self.auto_loc = value, loc
        if value is MISSING:
            self.auto = False
        elif isinstance(value, (Unknown, Partial)):
            self.auto = value if isinstance(value, Unknown) else Unknown(why_unknown(value))
        else:
            self.auto = as_bool(value) is True
        self.upgrade_policy, self.upgrade_policy_loc = lookup(self.res, "properties.upgradePolicy")
        # image
        self.image, self.image_loc = lookup(self.res, "properties.virtualMachineProfile.storageProfile.imageReference")
        self.image_kind = self._image_kind(ev)
        # OS family
        self.os = self._os(ev, ctx)
        # extensions
        self.extensions = self._extensions(ctx, ev)
        self.probe, self.probe_loc = lookup(self.res, "properties.virtualMachineProfile.networkProfile.healthProbe.id")
        self.health_extensions = [e for e in self.extensions if e.is_kind(HEALTH_PUBLISHER, HEALTH_TYPES)]
        self.sf_extensions = [e for e in self.extensions if e.is_kind(SF_PUBLISHER, SF_TYPES)]
        orch, _ = lookup(self.res, "properties.orchestrationMode")
        self.flexible = isinstance(orch, str) and orch.lower() == "flexible"

    def unknown(self, why):
        """An unknown fact: in a partial update, because Azure keeps what the template does not write."""
        return Unknown(PARTIAL_UPDATE_WHY if self.partial else why)

    def _image_kind(self, ev):
        img = self.image
        if img is MISSING:
            vhd, _ = lookup(self.res, "properties.virtualMachineProfile.storageProfile.osDisk.image.uri")
            return "vhd" if vhd is not MISSING else "none"
        if isinstance(img, Unknown):
            return "unknown"
        if not isinstance(img, dict):
            return "unknown"
        for key, kind in (("sharedGalleryImageId", "shared-gallery"), ("communityGalleryImageId", "community-gallery")):
            if ci_key(img, key) is not None:
                return kind
        rid = ci_get(img, "id")
        if rid is not None:
            c = canon(rid)
            if c is None:
                return "unknown"
            low = c.lower()
            if "/microsoft.compute/galleries/" in low:
                return "gallery"
            if "/microsoft.compute/images/" in low:
                return "managed"
            return "unknown"
        if ci_key(img, "publisher") is not None or ci_key(img, "offer") is not None:
            return "platform"
        return "unknown"

    def _os_of_defined_image(self, ctx):
        """The OS type of the set's image when the template defines it: a gallery image definition's
        ``osType``, or a managed image's ``storageProfile.osDisk.osType``; None otherwise."""
        from linter.arm import resourceid
        parsed = resourceid.parse(ci_get(self.image, "id")) if isinstance(self.image, dict) else None
        if not parsed:
            return None
        rtype, names = parsed
        if rtype in ("microsoft.compute/galleries/images", "microsoft.compute/galleries/images/versions"):
            found, path = resourceid.find(ctx, "microsoft.compute/galleries/images", names[:2]), "properties.osType"
        elif rtype == "microsoft.compute/images":
            found, path = resourceid.find(ctx, "microsoft.compute/images", names[:1]), \
                "properties.storageProfile.osDisk.osType"
        else:
            return None
        if not isinstance(found, list) or len(found) != 1:
            return None
        ostype = lookup(found[0], path).value
        return ostype.lower() if isinstance(ostype, str) and ostype.lower() in ("windows", "linux") else None

    def _os(self, ev, ctx=None):
        osp, _ = lookup(self.res, "properties.virtualMachineProfile.osProfile")
        if isinstance(osp, dict):
            if ci_key(osp, "windowsConfiguration") is not None:
                return "windows"
            if ci_key(osp, "linuxConfiguration") is not None:
                return "linux"
        ostype, _ = lookup(self.res, "properties.virtualMachineProfile.storageProfile.osDisk.osType")
        if isinstance(ostype, str) and ostype.lower() in ("windows", "linux"):
            return ostype.lower()
        if self.image_kind == "platform":
            pub = ci_get(self.image, "publisher")
            offer = ci_get(self.image, "offer")
            if isinstance(pub, str):
                if pub.lower() in WINDOWS_PUBLISHERS or (isinstance(offer, str) and "windows" in offer.lower()):
                    return "windows"
                return "linux"
        if ctx is not None and self.image_kind in ("gallery", "managed"):
            defined = self._os_of_defined_image(ctx)
            if defined:
                return defined
        return self.unknown("the OS family of the image is not known")

    def _extensions(self, ctx, ev):
        out = []
        exts, eloc = lookup(self.res, "properties.virtualMachineProfile.extensionProfile.extensions")
        if isinstance(exts, list):
            for i, e in enumerate(exts):
                if isinstance(e, dict):
                    props = ci_get(e, "properties", {})
                    out.append(Extension(ci_get(e, "name"), props, loc_of(exts, i) or eloc, self.res))
        for child in ctx.children_of(self.res, VMSS_EXT):
            cev = child.evaluated()
            props = ci_get(cev, "properties", {})
            name = child.name
            c = canon(name)
            short = c.split("/")[-1] if c else name
            out.append(Extension(short, props, own_loc(cev), child, child=True))
        return out


def facts(ctx, res) -> Facts:
    f = getattr(res, "_facts", None)
    if f is None:
        f = Facts(ctx, res)
        res._facts = f
    return f


# --- conditions -----------------------------------------------------------------------------------

@condition("auto-upgrade-on", "automatic OS image upgrade is on (always true with --require-auto-upgrade)")
def _auto_upgrade_on(ctx, res):
    if ctx.require_auto_upgrade:
        return True
    return facts(ctx, res).auto


@condition("service-fabric", "the set runs a Service Fabric node extension")
def _service_fabric(ctx, res):
    f = facts(ctx, res)
    if f.sf_extensions:
        return True
    if any(e.maybe_kind(SF_PUBLISHER, SF_TYPES) for e in f.extensions):
        return Unknown("an extension's publisher or type is unknown")
    return False


@condition("not-service-fabric", "the set runs no Service Fabric node extension")
def _not_service_fabric(ctx, res):
    r = _service_fabric(ctx, res)
    return r if isinstance(r, Unknown) else not r


@condition("platform-image", "the image is a platform (marketplace) image: publisher, offer, sku")
def _platform_image(ctx, res):
    kind = facts(ctx, res).image_kind
    return facts(ctx, res).unknown("the image reference is unknown") if kind == "unknown" else kind == "platform"


@condition("windows", "the set runs Windows")
def _windows(ctx, res):
    os_ = facts(ctx, res).os
    return os_ if isinstance(os_, Unknown) else os_ == "windows"


@condition("linux", "the set runs Linux")
def _linux(ctx, res):
    os_ = facts(ctx, res).os
    return os_ if isinstance(os_, Unknown) else os_ == "linux"


# --- checks ---------------------------------------------------------------------------------------

@check("auto-upgrade-enabled", {"properties": {}}, variants=("default", "missing"))
def auto_upgrade_enabled(ctx, target, options):
    """Automatic OS image upgrade must be turned on (a policy: only with --require-auto-upgrade)."""
    f = facts(ctx, target.resource)
    if f.auto_value is MISSING:
        yield fail(f.upgrade_policy_loc if f.upgrade_policy is not MISSING else f.props_loc, "missing", key=True)
    elif isinstance(f.auto, Unknown):
        yield unverifiable(f.auto_loc, f.auto.why)
    elif not f.auto:
        yield fail(f.auto_loc, value=f.auto_value)


def _api_date(v: str):
    return v[:10]


@check("api-version-at-least", {"properties": {"minimum": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                                               "known": {"type": "array", "items": {"type": "string"}}},
                                "required": ["minimum", "known"]},
       variants=("default", "unknown-version"))
def api_version_at_least(ctx, target, options):
    """The apiVersion must be ``minimum`` or later; a version not in ``known`` is reported as unknown."""
    v, early = settle(target)
    if early is not None:
        yield from early
        return
    if not isinstance(v, str):
        yield fail(target.loc, "unknown-version", value=v)
        return
    if _api_date(v) < options["minimum"]:
        yield fail(target.loc, value=v, minimum=options["minimum"], newest=options["known"][-1])
    elif v not in options["known"]:
        yield fail(target.loc, "unknown-version", value=v, newest=options["known"][-1])


def _image_rows(options, edition, extra=()):
    rows = {}
    for urn in list(options["editions"].get(edition, [])) + list(extra):
        rows[urn.lower()] = urn
    return rows


_URN = {"type": "string", "pattern": "^[^:]+:[^:]+:[^:]+$"}


def _suggestion(ctx, options, os_):
    """The listed image(s) to suggest under the edition in force, for the set's OS when known."""
    by_os = options.get("suggest", {}).get(ctx.edition, {})
    if isinstance(os_, str) and os_ in by_os:
        return by_os[os_]
    return " or ".join(by_os[k] for k in ("linux", "windows") if k in by_os) or "a listed image"


@check("supported-platform-image",
       {"properties": {"editions": {"type": "object", "additionalProperties": {"type": "array", "items": _URN}},
                       "suggest": {"type": "object", "description": "per edition, the image to suggest by OS",
                                   "additionalProperties": {"type": "object", "additionalProperties": False,
                                                            "properties": {"linux": _URN, "windows": _URN}}}},
        "required": ["editions"]},
       variants=("default", "formerly", "later"))
def supported_platform_image(ctx, target, options):
    """publisher:offer:sku must be a row of the supported-image table of the edition in force (plus
    rows the configuration adds); compared case-insensitively."""
    f = facts(ctx, target.resource)
    img = f.image
    parts = []
    for key in ("publisher", "offer", "sku"):
        v = ci_get(img, key)
        if isinstance(v, (Unknown, Partial)):
            yield unverifiable(loc_of(img, ci_key(img, key)) or f.image_loc, why_unknown(v))
            return
        parts.append(v if isinstance(v, str) else "")
    urn = ":".join(parts)
    current = _image_rows(options, ctx.edition, ctx.extra_images)
    if urn.lower() in current:
        return
    others = [e for e in sorted(options["editions"]) if e != ctx.edition and urn.lower() in _image_rows(options, e)]
    sku_loc = loc_of(img, ci_key(img, "sku")) if ci_key(img, "sku") else f.image_loc
    suggestion = _suggestion(ctx, options, f.os)
    if others and others[0] < ctx.edition:
        yield fail(sku_loc, "formerly", urn=urn, edition=ctx.edition, listed=others[0], suggestion=suggestion)
    elif others:
        yield fail(sku_loc, "later", urn=urn, edition=ctx.edition, listed=others[0], suggestion=suggestion)
    else:
        yield fail(sku_loc, urn=urn, edition=ctx.edition, suggestion=suggestion)


def _null_probe(res):
    """(loc of the null value, [(parameter, loc in the parameter file)]) when healthProbe or its id is
    written but evaluates to null; None otherwise."""
    from linter.checks.secrets import _PARAM, origin
    for path in ("properties.virtualMachineProfile.networkProfile.healthProbe",
                 "properties.virtualMachineProfile.networkProfile.healthProbe.id"):
        found = lookup(res, path)
        if found.state == "present" and found.value is None:
            container, key = found.loc if found.loc else (None, None)
            raw = container.get(key) if hasattr(container, "get") and key is not None else None
            causes = []
            for m in _PARAM.finditer(raw if isinstance(raw, str) else ""):
                try:
                    value, ploc = res.scope.parameter_with_loc(m.group(1))
                except Exception:  # an undeclared parameter is the evaluator's finding (VMSS004)
                    continue
                if ploc and origin(res, ploc).kind == "parameter-file" and value in ("", None, [], {}):
                    causes.append((m.group(1), ploc))
            return found.loc, path.rsplit(".", 1)[-1], causes
    return None


@check("health-signal", {"properties": {}}, variants=("default", "null", "null-parameter"))
def health_signal(ctx, target, options):
    """The set must have a load balancer health probe or the Application Health extension."""
    f = facts(ctx, target.resource)
    if f.partial and isinstance(f.probe, Unknown) and not f.health_extensions:
        yield unverifiable(f.probe_loc, why_unknown(f.probe))
        return
    if isinstance(f.probe, Unknown) and not f.health_extensions:
        hp = lookup(target.resource, "properties.virtualMachineProfile.networkProfile.healthProbe")
        if isinstance(hp.value, Unknown):  # the whole healthProbe is unknown: it may be null
            yield unverifiable(hp.loc, hp.why)
            return
    if f.probe is not MISSING and f.probe is not None:
        return
    if f.health_extensions:
        return
    maybe = [e for e in f.extensions if e.maybe_kind(HEALTH_PUBLISHER, HEALTH_TYPES)]
    if maybe:
        yield unverifiable(maybe[0].loc, "an extension's publisher or type is not known before deployment")
        return
    null = _null_probe(target.resource)
    if null is not None:
        loc, prop, causes = null
        yield fail(loc, "null", property=prop)
        for name, ploc in causes:
            yield fail(ploc, "null-parameter", parameter=name, property=prop)
        return
    _, net_loc = lookup(target.resource, "properties.virtualMachineProfile.networkProfile")
    yield fail(net_loc or f.props_loc, key=True)


_HEALTH_KEYS = ("protocol", "port", "requestPath", "intervalInSeconds", "numberOfProbes", "gracePeriod")


@check("health-extension-settings",
       {"properties": {"protocols": {"type": "array", "items": {"type": "string"}},
                       "interval": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
                       "probes": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
                       "grace-period": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
                       "max-settle-seconds": {"type": "integer"},
                       "versions": {"type": "array", "items": {"type": "string"}}},
        "required": ["protocols", "interval", "probes", "grace-period", "max-settle-seconds", "versions"]})
def health_extension_settings(ctx, target, options):
    """Application Health extension settings as its own settings schema defines them."""
    for ext in facts(ctx, target.resource).health_extensions:
        def problem(loc, text, key=False, name=ext.name):
            return fail(loc, key=key, extension=name, problem=text)

        version = ext.version
        vloc = loc_of(ext.props, ci_key(ext.props, "typeHandlerVersion")) or ext.loc
        if isinstance(version, str) and version not in options["versions"] and \
                version.split(".")[0] + ".0" not in options["versions"]:
            yield problem(vloc, f"typeHandlerVersion '{version}' is not one of {', '.join(options['versions'])} "
                                f"(1.0 binary health states, 2.0 rich health states)")
        sk = ci_key(ext.props, "settings")
        settings = ext.props.get(sk) if sk else MISSING
        sloc = loc_of(ext.props, sk) if sk else ext.loc
        if isinstance(settings, Unknown):
            yield unverifiable(sloc, settings.why)
            continue
        if not isinstance(settings, dict):
            yield problem(sloc, "has no settings: write at least protocol and port (tcp) or requestPath (http/https)",
                          key=True)
            continue
        vals = {}
        for k, v in settings.items():
            if v is None:
                continue  # a null setting is not sent: the extension's default applies
            v = as_number(v)
            known = next((x for x in _HEALTH_KEYS if x.lower() == k.lower()), None)
            if known is None:
                import difflib
                near = difflib.get_close_matches(k, _HEALTH_KEYS, n=1, cutoff=0.6)
                hint = f"did you mean '{near[0]}'?" if near else f"known: {', '.join(_HEALTH_KEYS)}"
                yield problem(loc_of(settings, k), f"unknown setting '{k}' ({hint})", key=True)
                continue
            vals[known] = (v, loc_of(settings, k))
        if any(isinstance(v, (Unknown, Partial)) for v, _ in vals.values()):
            bad = next(loc for v, loc in vals.values() if isinstance(v, (Unknown, Partial)))
            yield unverifiable(bad, why_unknown(next(v for v, _ in vals.values() if isinstance(v, (Unknown, Partial)))))
            continue
        protocol, ploc = vals.get("protocol", (MISSING, sloc))
        proto = lower(protocol)
        if protocol is MISSING:
            yield problem(sloc, "protocol is required (tcp, http or https)", key=True)
        elif proto not in options["protocols"]:
            yield problem(ploc, f"protocol '{protocol}' is not one of {', '.join(options['protocols'])}")
        port, port_loc = vals.get("port", (MISSING, sloc))
        if port is MISSING:
            if proto == "tcp":
                yield problem(sloc, "port is required with protocol tcp", key=True)
        elif isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            yield problem(port_loc, f"port {port!r} is not an integer from 1 to 65535")
        path, path_loc = vals.get("requestPath", (MISSING, sloc))
        if proto in ("http", "https") and path is MISSING:
            yield problem(sloc, f"requestPath is required with protocol {proto}", key=True)
        if proto == "tcp" and path is not MISSING:
            yield problem(path_loc, "requestPath is not allowed with protocol tcp", key=True)
        interval, iloc = vals.get("intervalInSeconds", (5, None))
        probes, nloc = vals.get("numberOfProbes", (1, None))
        ok = True
        for name, v, loc, (lo, hi) in (("intervalInSeconds", interval, iloc, options["interval"]),
                                       ("numberOfProbes", probes, nloc, options["probes"])):
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                ok = False
                yield problem(loc, f"{name} {v!r} is not an integer from {lo} to {hi}")
        if ok and interval * probes > options["max-settle-seconds"]:
            yield problem(iloc or nloc or sloc, f"intervalInSeconds x numberOfProbes is {interval * probes} s; the "
                                                f"extension allows at most {options['max-settle-seconds']} s")
        grace, gloc = vals.get("gracePeriod", (MISSING, None))
        lo, hi = options["grace-period"]
        if grace is not MISSING and (isinstance(grace, bool) or not isinstance(grace, int) or not lo <= grace <= hi):
            yield problem(gloc, f"gracePeriod {grace!r} is not an integer from {lo} to {hi}")
