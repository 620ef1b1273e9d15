"""azurerm resources onto the scale set model the rules read (ARM's REST shape).

Each mapped resource becomes an ARM-shaped :class:`EObject` whose every member's Loc is the place
in the ``.tf``/``.tfvars`` (or plan JSON) that gave the value; a value the configuration does not
write but the provider sends anyway (Windows ``automatic_updates_enabled``: true) is given at the
block that leaves it out.  The same code maps HCL bodies (:class:`HclObj`) and the ``after`` values
of a plan (:class:`JsonObj`).
"""

from __future__ import annotations

import json

from linter.arm.template import MISSING, EArray, EObject, loc_of
from linter.arm.values import Partial, Unknown
from linter.terraform.expr import JSONText, TFError, is_unknown
from linter.arm.functions import why_unknown as _why

VMSS = "Microsoft.Compute/virtualMachineScaleSets"
VMSS_TYPES = ("azurerm_linux_virtual_machine_scale_set", "azurerm_windows_virtual_machine_scale_set",
              "azurerm_orchestrated_virtual_machine_scale_set", "azurerm_virtual_machine_scale_set")
MAPPED = VMSS_TYPES + ("azurerm_virtual_machine_scale_set_extension", "azurerm_lb", "azurerm_lb_probe",
                       "azurerm_lb_backend_address_pool", "azurerm_lb_rule", "azurerm_shared_image",
                       "azurerm_shared_image_version", "azurerm_service_fabric_cluster")


# --- views over a resource's attributes ------------------------------------------------------------

class HclObj:
    """A block of a ``.tf`` file with the frame it is evaluated in (count/each/dynamic iterators)."""

    def __init__(self, module, block, frame):
        self.module, self.block, self.frame = module, block, frame
        self.loc = (block.shadow, None)

    def has(self, name):
        return name in self.block.attributes

    def attr(self, name):
        return self.module.attr(self.block, name, self.frame)

    def blocks(self, name):
        out = [HclObj(self.module, b, self.frame) for b in self.block.blocks_of(name)]
        for d in self.block.blocks_of("dynamic"):
            if not d.labels or d.labels[0] != name:
                continue
            content = d.blocks_of("content")
            if not content:
                continue
            iterator = name
            if "iterator" in d.attributes:
                it = d.attributes["iterator"].expr
                try:
                    from linter.terraform.expr import parts
                    leaf = it
                    while leaf.data == "expr_term":
                        leaf = parts(leaf)[0]
                    iterator = str(leaf.children[0])
                except (AttributeError, IndexError):
                    pass
            coll = self.module.attr_value(d, "for_each", self.frame)
            if is_unknown(coll) or coll is MISSING:
                why = f"dynamic \"{name}\" blocks run over an unknown collection" + \
                      (f": {_why(coll)}" if coll is not MISSING else "")
                item = EObject()
                item.update({"key": Unknown(why), "value": Unknown(why)})
                out.append(HclObj(self.module, content[0], self.frame.child({iterator: (item, None)})))
                continue
            items = coll.items() if isinstance(coll, dict) else enumerate(coll if isinstance(coll, list) else [])
            for k, v in items:
                item = EObject()
                item.update({"key": k, "value": v})
                item.locs["value"] = loc_of(coll, k)
                out.append(HclObj(self.module, content[0], self.frame.child({iterator: (item, None)})))
        return out


class JsonObj:
    """An object of a plan's ``change.after`` with its ``after_unknown`` marks."""

    def __init__(self, obj, unknown, container_loc, what):
        self.obj = obj if isinstance(obj, dict) else {}
        self.unknown = unknown if isinstance(unknown, dict) else {}
        self.loc = container_loc
        self.what = what

    def has(self, name):
        return name in self.obj or self.unknown.get(name) is True

    def attr(self, name):
        if self.unknown.get(name) is True:
            return Unknown(f"{self.what}.{name} is known only after apply (after_unknown)",
                           f"{self.what}.{name}"), (self.obj, name) if name in self.obj else self.loc
        if name not in self.obj:
            return MISSING, self.loc
        v = self.obj[name]
        if v is None:
            return MISSING, self.loc
        marks = self.unknown.get(name)
        if marks:
            v = _mark_unknown(v, marks, f"{self.what}.{name}")
        return v, (self.obj, name)

    def blocks(self, name):
        if self.unknown.get(name) is True:
            why = f"the {name} blocks are known only after apply"
            return [JsonObj({}, {k: True for k in ("name", "publisher", "type", "settings")}, self.loc, why)]
        items = self.obj.get(name)
        marks = self.unknown.get(name) if isinstance(self.unknown.get(name), list) else []
        if isinstance(items, dict):
            items = [items]
        out = []
        for i, item in enumerate(items if isinstance(items, list) else []):
            out.append(JsonObj(item, marks[i] if i < len(marks) else {}, (items, i), f"{self.what}.{name}[{i}]"))
        return out


def _mark_unknown(v, marks, what):
    if marks is True:
        return Unknown(f"{what} is known only after apply (after_unknown)", what)
    if isinstance(v, dict) and isinstance(marks, dict):
        out = EObject((v, None) if hasattr(v, "kpos") else None)
        for k, x in v.items():
            out[k] = _mark_unknown(x, marks.get(k), f"{what}.{k}")
            out.locs[k] = (v, k) if hasattr(v, "kpos") else None
        return out
    if isinstance(v, list) and isinstance(marks, list):
        out = EArray((v, None) if hasattr(v, "vpos") else None)
        for i, x in enumerate(v):
            out.append(_mark_unknown(x, marks[i] if i < len(marks) else None, f"{what}[{i}]"))
            out.locs.append((v, i) if hasattr(v, "vpos") else None)
        return out
    return v


# --- building ---------------------------------------------------------------------------------------

class Mapped:
    """One ARM-shaped resource made from an azurerm resource instance."""

    def __init__(self, arm_type, name, body, address, tf_type, words, defaults, raw_password=None):
        self.arm_type, self.name, self.body = arm_type, name, body
        self.address, self.tf_type = address, tf_type
        self.words = words  # ARM term -> Terraform attribute, for messages
        self.defaults = defaults  # Terraform attributes whose value is the provider's default
        self.raw_password = raw_password  # (is literal, loc) of admin_password


def put(obj, key, vl):
    v, loc = vl
    if v is MISSING:
        return
    obj[key] = v
    obj.locs[key] = loc


def boolish(vl):
    """Terraform converts "true"/"false" strings for bool attributes; so does this."""
    v, loc = vl
    if isinstance(v, str) and not isinstance(v, Partial) and v.lower() in ("true", "false"):
        return v.lower() == "true", loc
    return v, loc


def invert(vl):
    v, loc = boolish(vl)
    if isinstance(v, bool):
        return (not v), loc
    return v, loc


def attach(value, loc, depth=0):
    """Plain JSON (from a decoded settings string) as EObject/EArray whose members point at ``loc``."""
    if depth > 64:
        return value
    if isinstance(value, dict) and not isinstance(value, EObject):
        out = EObject(loc)
        for k, v in value.items():
            out[k] = attach(v, loc, depth + 1)
            out.locs[k] = loc_of(value, k) if hasattr(value, "kpos") else loc
        return out
    if isinstance(value, list) and not isinstance(value, EArray):
        out = EArray(loc)
        for i, v in enumerate(value):
            out.append(attach(v, loc, depth + 1))
            out.locs.append(loc_of(value, i) if hasattr(value, "vpos") else loc)
        return out
    return value


def settings(vl):
    """An extension's ``settings`` / ``protected_settings``: a JSON string (jsonencode or heredoc)."""
    v, loc = vl
    if v is MISSING or v is None:
        return MISSING, loc
    if isinstance(v, JSONText) and v.source is not None:
        return v.source, loc
    if isinstance(v, str) and not isinstance(v, Partial):
        if not v.strip():
            return MISSING, loc
        try:
            return attach(json.loads(v), loc), loc
        except ValueError:
            return Unknown("the settings are not JSON"), loc
    if isinstance(v, dict):  # a plan's after value keeps the JSON string; an object is taken as is
        return v, loc
    return (v if is_unknown(v) else Unknown("the settings are not a JSON string")), loc


def _arm_name(obj):
    v, loc = obj.attr("name")
    return (v if v is not MISSING else Unknown("the name is not written")), loc


def map_resource(tf_type, obj, address):
    try:
        if tf_type in VMSS_TYPES:
            return _map_vmss(tf_type, obj, address)
        fn = _OTHERS.get(tf_type)
        return fn(obj, address) if fn else None
    except TFError:
        return None


def _map_vmss(tf_type, o, address):
    legacy = tf_type == "azurerm_virtual_machine_scale_set"
    orchestrated = tf_type == "azurerm_orchestrated_virtual_machine_scale_set"
    here = o.loc
    words = {}
    defaults = set()
    body = EObject(here)
    body["type"] = VMSS
    body.locs["type"] = here
    name = _arm_name(o)
    put(body, "name", name)
    put(body, "location", o.attr("location"))
    props = EObject(here)
    # sku
    sku = EObject(here)
    if legacy:
        for b in o.blocks("sku")[:1]:
            put(sku, "name", b.attr("name"))
            put(sku, "capacity", b.attr("capacity"))
        words["sku.capacity"] = "sku.capacity"
    else:
        put(sku, "name", o.attr("sku_name" if orchestrated else "sku"))
        put(sku, "capacity", o.attr("instances"))
        words["sku.capacity"] = "instances"
    body["sku"] = sku
    body.locs["sku"] = here
    props["orchestrationMode"] = "Flexible" if orchestrated else "Uniform"
    props.locs["orchestrationMode"] = here
    put(props, "singlePlacementGroup", boolish(o.attr("single_placement_group")))
    words["singlePlacementGroup"] = "single_placement_group"
    # upgrade policy
    up = EObject(here)
    if legacy:
        put(up, "mode", o.attr("upgrade_policy_mode"))
        words["mode"] = "upgrade_policy_mode"
        auto = boolish(o.attr("automatic_os_upgrade"))
        if auto[0] is not MISSING:
            aop = EObject(here)
            put(aop, "enableAutomaticOSUpgrade", auto)
            up["automaticOSUpgradePolicy"] = aop
            up.locs["automaticOSUpgradePolicy"] = here
        words["auto"] = "automatic_os_upgrade"
        rolling_blocks = o.blocks("rolling_upgrade_policy")
    else:
        put(up, "mode", o.attr("upgrade_mode"))
        words["mode"] = "upgrade_mode"
        words["auto"] = "automatic_os_upgrade_policy.enable_automatic_os_upgrade"
        words["rollback"] = "automatic_os_upgrade_policy.disable_automatic_rollback"
        for b in o.blocks("automatic_os_upgrade_policy")[:1]:
            aop = EObject(b.loc)
            if b.has("automatic_os_upgrade_enabled"):
                put(aop, "enableAutomaticOSUpgrade", boolish(b.attr("automatic_os_upgrade_enabled")))
                words["auto"] = "automatic_os_upgrade_policy.automatic_os_upgrade_enabled"
            else:
                put(aop, "enableAutomaticOSUpgrade", boolish(b.attr("enable_automatic_os_upgrade")))
            if b.has("automatic_rollback_enabled"):
                put(aop, "disableAutomaticRollback", invert(b.attr("automatic_rollback_enabled")))
                words["rollback"] = "automatic_os_upgrade_policy.automatic_rollback_enabled"
            else:
                put(aop, "disableAutomaticRollback", boolish(b.attr("disable_automatic_rollback")))
            up["automaticOSUpgradePolicy"] = aop
            up.locs["automaticOSUpgradePolicy"] = b.loc
        rolling_blocks = o.blocks("rolling_upgrade_policy")
    for b in rolling_blocks[:1]:
        rp = EObject(b.loc)
        for tf_name, arm in (("max_batch_instance_percent", "maxBatchInstancePercent"),
                             ("max_unhealthy_instance_percent", "maxUnhealthyInstancePercent"),
                             ("max_unhealthy_upgraded_instance_percent", "maxUnhealthyUpgradedInstancePercent"),
                             ("pause_time_between_batches", "pauseTimeBetweenBatches"),
                             ("cross_zone_upgrades_enabled", "enableCrossZoneUpgrade"),
                             ("prioritize_unhealthy_instances_enabled", "prioritizeUnhealthyInstances"),
                             ("maximum_surge_instances_enabled", "maxSurge")):
            vl = b.attr(tf_name)
            put(rp, arm, boolish(vl) if arm in ("enableCrossZoneUpgrade", "prioritizeUnhealthyInstances", "maxSurge")
                else vl)
            words[arm] = tf_name
        up["rollingUpgradePolicy"] = rp
        up.locs["rollingUpgradePolicy"] = b.loc
    words["rollingUpgradePolicy"] = "rolling_upgrade_policy"
    props["upgradePolicy"] = up
    props.locs["upgradePolicy"] = here
    vmp = EObject(here)
    # OS profile
    osp = EObject(here)
    raw_password = None
    os_kind = "windows" if tf_type == "azurerm_windows_virtual_machine_scale_set" else \
        "linux" if tf_type == "azurerm_linux_virtual_machine_scale_set" else None
    if legacy:
        for b in o.blocks("os_profile")[:1]:
            put(osp, "adminPassword", b.attr("admin_password"))
            raw_password = _literal(b, "admin_password")
        words["adminPassword"] = "os_profile.admin_password"
        win = o.blocks("os_profile_windows_config")
        if win:
            wc = EObject(win[0].loc)
            vl = boolish(win[0].attr("enable_automatic_upgrades"))
            if vl[0] is MISSING:
                vl = (False, win[0].loc)  # the provider sends false when it is not written
                defaults.add("enableAutomaticUpdates")
            put(wc, "enableAutomaticUpdates", vl)
            osp["windowsConfiguration"] = wc
            osp.locs["windowsConfiguration"] = win[0].loc
            os_kind = "windows"
        words["enableAutomaticUpdates"] = "os_profile_windows_config.enable_automatic_upgrades"
        lin = o.blocks("os_profile_linux_config")
        if lin:
            osp["linuxConfiguration"] = EObject(lin[0].loc)
            osp.locs["linuxConfiguration"] = lin[0].loc
            os_kind = os_kind or "linux"
    elif orchestrated:
        for b in o.blocks("os_profile")[:1]:
            for kind, block_name in (("windows", "windows_configuration"), ("linux", "linux_configuration")):
                for c in b.blocks(block_name)[:1]:
                    conf = EObject(c.loc)
                    put(osp, "adminPassword", c.attr("admin_password"))
                    raw_password = _literal(c, "admin_password")
                    if kind == "windows":
                        _windows_updates(c, conf, words, defaults, "os_profile.windows_configuration.")
                    _patch(c, conf, words, f"os_profile.{block_name}.")
                    osp[kind + "Configuration"] = conf
                    osp.locs[kind + "Configuration"] = c.loc
                    os_kind = kind
        words["adminPassword"] = f"os_profile.{os_kind or 'linux'}_configuration.admin_password"
    else:
        put(osp, "adminPassword", o.attr("admin_password"))
        raw_password = _literal(o, "admin_password")
        words["adminPassword"] = "admin_password"
        conf = EObject(here)
        if os_kind == "windows":
            _windows_updates(o, conf, words, defaults, "")
        _patch(o, conf, words, "")
        osp[os_kind + "Configuration"] = conf
        osp.locs[os_kind + "Configuration"] = here
    vmp["osProfile"] = osp
    vmp.locs["osProfile"] = here
    # image
    sp = EObject(here)
    if legacy:
        imgs = o.blocks("storage_profile_image_reference")
        words["imageReference"] = "storage_profile_image_reference"
        if imgs:
            sp["imageReference"] = _image(imgs[0], imgs[0].loc, "id")
            sp.locs["imageReference"] = imgs[0].loc
        for d in o.blocks("storage_profile_os_disk")[:1]:
            od = EObject(d.loc)
            put(od, "osType", d.attr("os_type"))
            vhd = d.attr("image")
            if vhd[0] is not MISSING:
                img = EObject(d.loc)
                put(img, "uri", vhd)
                od["image"] = img
                od.locs["image"] = d.loc
            sp["osDisk"] = od
            sp.locs["osDisk"] = d.loc
        words["osDisk.image.uri"] = "storage_profile_os_disk.image"
    else:
        refs = o.blocks("source_image_reference")
        words["imageReference"] = "source_image_reference"
        if refs:
            sp["imageReference"] = _image(refs[0], refs[0].loc, None)
            sp.locs["imageReference"] = refs[0].loc
        elif o.has("source_image_id"):
            img = EObject(here)
            put(img, "id", o.attr("source_image_id"))
            sp["imageReference"] = img
            sp.locs["imageReference"] = here
            words["imageReference.id"] = "source_image_id"
        if os_kind:
            od = EObject(here)
            od["osType"] = "Windows" if os_kind == "windows" else "Linux"
            od.locs["osType"] = here
            sp["osDisk"] = od
            sp.locs["osDisk"] = here
    vmp["storageProfile"] = sp
    vmp.locs["storageProfile"] = here
    # network
    net = EObject(here)
    probe = o.attr("health_probe_id")
    if probe[0] is not MISSING:
        hp = EObject(probe[1])
        put(hp, "id", probe)
        net["healthProbe"] = hp
        net.locs["healthProbe"] = probe[1]
    words["healthProbe.id"] = "health_probe_id"
    nics = EArray(here)
    nic_blocks = o.blocks("network_profile" if legacy else "network_interface")
    for nb in nic_blocks:
        nic = EObject(nb.loc)
        put(nic, "name", nb.attr("name"))
        nprops = EObject(nb.loc)
        ipcs = EArray(nb.loc)
        for ib in nb.blocks("ip_configuration"):
            ipc = EObject(ib.loc)
            put(ipc, "name", ib.attr("name"))
            iprops = EObject(ib.loc)
            pools, ploc = ib.attr("load_balancer_backend_address_pool_ids")
            if pools is not MISSING:
                arr = EArray(ploc)
                if isinstance(pools, list):
                    for i, pid in enumerate(pools):
                        ref = EObject(loc_of(pools, i) or ploc)
                        ref["id"] = pid
                        ref.locs["id"] = loc_of(pools, i) or ploc
                        arr.append(ref)
                        arr.locs.append(loc_of(pools, i) or ploc)
                    iprops["loadBalancerBackendAddressPools"] = arr
                else:
                    ref = EObject(ploc)
                    ref["id"] = pools if is_unknown(pools) else Unknown("the backend pool ids are not a list")
                    ref.locs["id"] = ploc
                    arr.append(ref)
                    arr.locs.append(ploc)
                    iprops["loadBalancerBackendAddressPools"] = arr
                iprops.locs["loadBalancerBackendAddressPools"] = ploc
            ipc["properties"] = iprops
            ipc.locs["properties"] = ib.loc
            ipcs.append(ipc)
            ipcs.locs.append(ib.loc)
        nprops["ipConfigurations"] = ipcs
        nprops.locs["ipConfigurations"] = nb.loc
        nic["properties"] = nprops
        nic.locs["properties"] = nb.loc
        nics.append(nic)
        nics.locs.append(nb.loc)
    net["networkInterfaceConfigurations"] = nics
    net.locs["networkInterfaceConfigurations"] = here
    words["networkInterfaceConfigurations"] = ("network_profile" if legacy else "network_interface") + \
        ".ip_configuration.load_balancer_backend_address_pool_ids"
    vmp["networkProfile"] = net
    vmp.locs["networkProfile"] = here
    # extensions
    exts = EArray(here)
    for eb in o.blocks("extension"):
        exts.append(extension_body(eb, orchestrated))
        exts.locs.append(eb.loc)
    if exts:
        ep = EObject(here)
        ep["extensions"] = exts
        ep.locs["extensions"] = here
        vmp["extensionProfile"] = ep
        vmp.locs["extensionProfile"] = here
    props["virtualMachineProfile"] = vmp
    props.locs["virtualMachineProfile"] = here
    body["properties"] = props
    body.locs["properties"] = here
    return Mapped(VMSS, name[0], body, address, tf_type, words, defaults, raw_password)


def _literal(obj, name):
    """(is the attribute a literal string?, loc) — for VMSS505."""
    if not obj.has(name):
        return None
    if isinstance(obj, HclObj):
        node = obj.block.attributes[name].expr
        while node.data == "expr_term" and len(node.children) == 1:
            node = node.children[0]
        if node.data == "string" and not any(getattr(c.children[0], "data", None) == "interpolation"
                                             for c in node.children if getattr(c, "data", None) == "string_part"):
            return True, (obj.block.shadow, name)
        return False, (obj.block.shadow, name)
    return None  # a plan holds the value, not how it was written


def provider_major(o):
    """The azurerm major version the configuration asks for (required_providers), or None."""
    module = getattr(o, "module", None)
    if module is None:
        return None
    cached = getattr(module, "_azurerm_major", False)
    if cached is not False:
        return cached
    import re
    major = None
    for f in module.files:
        for b in f.root.blocks if f.root is not None else []:
            if b.type != "terraform":
                continue
            for rp in b.blocks_of("required_providers"):
                a = rp.attributes.get("azurerm")
                if a is None:
                    continue
                text = f.src.text[a.value_span[0]:a.value_span[1]]
                m = re.search(r"version\s*=\s*\"[^\"]*?(\d+)", text or "")
                if m:
                    major = int(m.group(1))
    module._azurerm_major = major
    return major


def _gen5(o, words):
    """Does this resource speak azurerm 5.x names (written, or asked for by required_providers)?"""
    if any(v.endswith(("_enabled",)) and ("automatic_os_upgrade_enabled" in v or "automatic_rollback_enabled" in v)
           for v in words.values()):
        return True
    major = provider_major(o)
    return major is not None and major >= 5


def _windows_updates(o, conf, words, defaults, prefix):
    if o.has("automatic_updates_enabled"):
        put(conf, "enableAutomaticUpdates", boolish(o.attr("automatic_updates_enabled")))
        words["enableAutomaticUpdates"] = prefix + "automatic_updates_enabled"
    elif o.has("enable_automatic_updates"):
        put(conf, "enableAutomaticUpdates", boolish(o.attr("enable_automatic_updates")))
        words["enableAutomaticUpdates"] = prefix + "enable_automatic_updates"
    else:
        conf["enableAutomaticUpdates"] = True  # the provider's default
        conf.locs["enableAutomaticUpdates"] = o.loc
        defaults.add("enableAutomaticUpdates")
        words.setdefault("enableAutomaticUpdates", prefix + ("automatic_updates_enabled" if _gen5(o, words)
                                                             else "enable_automatic_updates"))


def _patch(o, conf, words, prefix):
    pm = o.attr("patch_mode")
    if pm[0] is not MISSING:
        ps = EObject(pm[1])
        put(ps, "patchMode", pm)
        conf["patchSettings"] = ps
        conf.locs["patchSettings"] = pm[1]
    words["patchMode"] = prefix + "patch_mode"


def _image(b, loc, id_attr):
    img = EObject(loc)
    if id_attr and b.has(id_attr):
        put(img, "id", b.attr(id_attr))
    for k in ("publisher", "offer", "sku", "version"):
        put(img, k, b.attr(k))
    return img


def extension_body(b, orchestrated=False):
    ext = EObject(b.loc)
    put(ext, "name", b.attr("name"))
    p = EObject(b.loc)
    put(p, "publisher", b.attr("publisher"))
    put(p, "type", b.attr("type"))
    put(p, "typeHandlerVersion", b.attr("type_handler_version"))
    put(p, "settings", settings(b.attr("settings")))
    put(p, "protectedSettings", settings(b.attr("protected_settings")))
    after = b.attr("extensions_to_provision_after_vm_creation" if orchestrated and
                   b.has("extensions_to_provision_after_vm_creation") else "provision_after_extensions")
    put(p, "provisionAfterExtensions", after)
    ext["properties"] = p
    ext.locs["properties"] = b.loc
    return ext


def _child_name(parent_id, obj, parent_type_segments):
    """``parent/child`` name of a child resource from its parent's id and its own name."""
    from linter.arm import resourceid
    name, _ = _arm_name(obj)
    parsed = resourceid.parse(parent_id) if not isinstance(parent_id, Unknown) else None
    if parsed is None or parsed[0] != parent_type_segments:
        key = parent_id.key if isinstance(parent_id, Unknown) else None
        parent_name = Unknown("the parent is not known", key) if key else Unknown("the parent is not known")
    else:
        parent_name = parsed[1][-1]
        if isinstance(parent_name, str) or parent_name is None:
            pass
        else:
            parent_name = Unknown("the parent's name is unknown")
    return Partial.join([parent_name if parent_name is not None else "", "/", name])


def _map_extension(o, address):
    sid, _ = o.attr("virtual_machine_scale_set_id")
    name = _child_name(sid, o, "microsoft.compute/virtualmachinescalesets")
    body = EObject(o.loc)
    body["type"] = VMSS + "/extensions"
    body.locs["type"] = o.loc
    inner = extension_body(o)
    body["name"] = name
    body.locs["name"] = o.attr("name")[1]
    body["properties"] = inner["properties"]
    body.locs["properties"] = o.loc
    return Mapped(VMSS + "/extensions", name, body, address, "azurerm_virtual_machine_scale_set_extension",
                  {}, set())


def _map_lb(o, address):
    body = EObject(o.loc)
    name = _arm_name(o)
    put(body, "name", name)
    sku = EObject(o.loc)
    v, loc = o.attr("sku")
    if v is MISSING:
        v = Unknown("the load balancer's sku is not written: the provider's default applies, which depends on "
                    "the azurerm version (Basic in 3.x, Standard in 4.x)")
    sku["name"] = v
    sku.locs["name"] = loc
    body["sku"] = sku
    body.locs["sku"] = o.loc
    body["properties"] = EObject(o.loc)
    body.locs["properties"] = o.loc
    return Mapped("Microsoft.Network/loadBalancers", name[0], body, address, "azurerm_lb", {"sku.name": "sku"}, set())


def _lb_child(kind, segment, props_map):
    def mapper(o, address):
        lbid, _ = o.attr("loadbalancer_id")
        name = _child_name(lbid, o, "microsoft.network/loadbalancers")
        body = EObject(o.loc)
        put(body, "name", (name, o.attr("name")[1]))
        props = EObject(o.loc)
        for tf_name, arm in props_map:
            put(props, arm, o.attr(tf_name))
        body["properties"] = props
        body.locs["properties"] = o.loc
        return Mapped(f"Microsoft.Network/loadBalancers/{segment}", name, body, address, f"azurerm_lb_{kind}",
                      dict((arm, tf) for tf, arm in props_map), set())
    return mapper


def _map_lb_rule(o, address):
    """A load-balancing rule: recorded on its load balancer's loadBalancingRules (see :func:`attach_rules`)."""
    lbid, _ = o.attr("loadbalancer_id")
    body = EObject(o.loc)
    put(body, "name", o.attr("name"))
    props = EObject(o.loc)
    pid = o.attr("probe_id")
    if pid[0] is not MISSING:
        pr = EObject(pid[1])
        put(pr, "id", pid)
        props["probe"] = pr
        props.locs["probe"] = pid[1]
    body["properties"] = props
    body.locs["properties"] = o.loc
    m = Mapped("vmsslint/lbRule", lbid, body, address, "azurerm_lb_rule", {}, set())
    return m


def _map_shared_image(o, address):
    gallery, _ = o.attr("gallery_name")
    name, nloc = _arm_name(o)
    full = Partial.join([gallery if gallery is not MISSING else Unknown("gallery"), "/", name])
    body = EObject(o.loc)
    put(body, "name", (full, nloc))
    put(body, "location", o.attr("location"))
    body["properties"] = EObject(o.loc)
    body.locs["properties"] = o.loc
    return Mapped("Microsoft.Compute/galleries/images", full, body, address, "azurerm_shared_image", {}, set())


def _map_image_version(o, address):
    gallery, _ = o.attr("gallery_name")
    image, _ = o.attr("image_name")
    name, nloc = _arm_name(o)
    full = Partial.join([gallery if gallery is not MISSING else Unknown("gallery"), "/",
                         image if image is not MISSING else Unknown("image"), "/", name])
    body = EObject(o.loc)
    put(body, "name", (full, nloc))
    put(body, "location", o.attr("location"))
    props = EObject(o.loc)
    pp = EObject(o.loc)
    put(pp, "excludeFromLatest", boolish(o.attr("exclude_from_latest")))
    regions = EArray(o.loc)
    for rb in o.blocks("target_region"):
        r = EObject(rb.loc)
        put(r, "name", rb.attr("name"))
        put(r, "excludeFromLatest", boolish(rb.attr("exclude_from_latest_enabled")
                                            if rb.has("exclude_from_latest_enabled") else
                                            rb.attr("exclude_from_latest")))
        regions.append(r)
        regions.locs.append(rb.loc)
    pp["targetRegions"] = regions
    pp.locs["targetRegions"] = regions.locs[0] if regions.locs else o.loc
    props["publishingProfile"] = pp
    props.locs["publishingProfile"] = o.loc
    body["properties"] = props
    body.locs["properties"] = o.loc
    return Mapped("Microsoft.Compute/galleries/images/versions", full, body, address,
                  "azurerm_shared_image_version", {"targetRegions": "target_region",
                                                   "excludeFromLatest": "exclude_from_latest"}, set())


def _map_sf_cluster(o, address):
    body = EObject(o.loc)
    name = _arm_name(o)
    put(body, "name", name)
    props = EObject(o.loc)
    nts = EArray(o.loc)
    for nb in o.blocks("node_type"):
        nt = EObject(nb.loc)
        put(nt, "name", nb.attr("name"))
        put(nt, "durabilityLevel", nb.attr("durability_level"))
        put(nt, "isStateless", boolish(nb.attr("is_stateless")))
        nts.append(nt)
        nts.locs.append(nb.loc)
    props["nodeTypes"] = nts
    props.locs["nodeTypes"] = o.loc
    body["properties"] = props
    body.locs["properties"] = o.loc
    return Mapped("Microsoft.ServiceFabric/clusters", name[0], body, address, "azurerm_service_fabric_cluster",
                  {"durabilityLevel": "durability_level"}, set())


_OTHERS = {
    "azurerm_virtual_machine_scale_set_extension": _map_extension,
    "azurerm_lb": _map_lb,
    "azurerm_lb_probe": _lb_child("probe", "probes", (("protocol", "protocol"), ("port", "port"),
                                                      ("request_path", "requestPath"),
                                                      ("interval_in_seconds", "intervalInSeconds"),
                                                      ("number_of_probes", "numberOfProbes"),
                                                      ("probe_threshold", "probeThreshold"))),
    "azurerm_lb_backend_address_pool": _lb_child("backend_address_pool", "backendAddressPools", ()),
    "azurerm_lb_rule": _map_lb_rule,
    "azurerm_shared_image": _map_shared_image,
    "azurerm_shared_image_version": _map_image_version,
    "azurerm_service_fabric_cluster": _map_sf_cluster,
}
