"""Rule messages in Terraform's words.

The rules are ARM's and stay unchanged; :class:`TfRule` wraps one for Terraform inputs: its
message for a scale set names the azurerm attribute the user writes (the generation they write:
``enable_automatic_os_upgrade`` or ``automatic_os_upgrade_enabled``), says when a value is the
provider's default, and offers no automatic fix (fixes edit JSON).  Messages without a Terraform
wording of their own get ARM property names replaced by the attribute names.
"""

from __future__ import annotations

from linter.rules import Rule

#: address -> Mapped resource of the deployment being linted (its words and defaults)
REGISTRY: dict = {}

# (code, variant) -> message; {w:NAME} is the resource's Terraform attribute for the ARM term NAME.
MESSAGES = {
    ("VMSS100", "default"): "automatic OS image upgrade is off ({w:auto} is {value}); your policy requires it: "
                            "set {w:auto} = true",
    ("VMSS100", "missing"): "automatic OS image upgrade is not turned on; your policy requires it: {add_auto}",
    ("VMSS200", "default"): "{w:imageReference}.version is \"{value}\"; a pinned version never moves, and Azure "
                            "rejects automatic OS upgrades unless the platform image's version is \"latest\": "
                            "write version = \"latest\"",
    ("VMSS200", "missing"): "{w:imageReference} has no version; write version = \"latest\" so that Azure accepts "
                            "automatic OS upgrades",
    ("VMSS300", "default"): "the scale set has no application health signal: set health_probe_id (an "
                            "azurerm_lb_probe) or add the Application Health extension (an extension block or an "
                            "azurerm_virtual_machine_scale_set_extension with publisher Microsoft.ManagedServices, "
                            "type ApplicationHealthLinux or ApplicationHealthWindows); Azure rejects automatic OS "
                            "upgrades without one, and the provider checks it only for upgrade_mode = \"Rolling\"",
    ("VMSS301", "default"): "the set has both health_probe_id and the Application Health extension '{extension}'; "
                            "Azure rejects automatic OS upgrades \"because both a health probe and a health extension "
                            "were provided\": keep one",
    ("VMSS302", "default"): "health_probe_id names probe '{probe}' of load balancer '{lb}', which has no such probe "
                            "(its probes: {probes}); add the azurerm_lb_probe or correct the reference",
    ("VMSS302", "not-probe"): "health_probe_id ({value}) is not a load balancer probe id; reference an "
                              "azurerm_lb_probe's id",
    ("VMSS303", "default"): "the health probe '{probe}' belongs to load balancer '{lb}', but no ip_configuration of "
                            "the set is in a backend pool of '{lb}', so the probe never looks at these instances: add "
                            "an azurerm_lb_backend_address_pool of it to {w:networkInterfaceConfigurations}",
    ("VMSS306", "default"): "single_placement_group is false{note}, but the probe's load balancer '{lb}' is {sku} "
                            "SKU; Azure rejects it (VMScaleSetCannotReferenceLoadbalancerWhenLargeScaleOrCrossAZ): "
                            "write sku = \"Standard\" on the azurerm_lb",
    ("VMSS400", "default"): "{w:enableAutomaticUpdates} is true{default_note}; Azure rejects it next to automatic OS "
                            "image upgrade (\"enableAutomaticUpdates cannot be set to true ... starting from "
                            "APIversion {since}\"): write {w:enableAutomaticUpdates} = false",
    ("VMSS402", "default"): "{w:patchMode} is {value}: automatic VM guest patching and automatic OS image upgrades "
                            "cannot both be on; use patch_mode = \"ImageDefault\" (Linux) or \"AutomaticByOS\"/"
                            "\"Manual\" (Windows), or turn image upgrades off",
    ("VMSS505", "default"): "{w:adminPassword} is written in the configuration (a literal of {length} characters); "
                            "anyone who reads the code or the state has it: pass it from a sensitive variable or "
                            "read it from Key Vault (azurerm_key_vault_secret)",
    ("VMSS506", "default"): "variable '{parameter}' has a literal default that looks like a secret; a default is "
                            "readable by anyone who reads the configuration: remove it and pass the value at apply "
                            "time (TF_VAR_{parameter}) or read it from Key Vault",
    ("VMSS506", "sas"): "variable '{parameter}' has a SAS URL as its default; the token is readable by anyone who "
                        "reads the configuration: remove the default and pass it at apply time, or use a managed "
                        "identity",
    ("VMSS605", "default"): "{w:sku.capacity} is {value}, but {durability} durability needs at least {minimum} "
                            "instances: raise it",
    ("VMSS700", "default"): "{w:mode} is \"{mode}\": turning automatic OS upgrade on does not move existing "
                            "instances to the latest model; upgrade them once by hand, or use upgrade_mode = "
                            "\"Rolling\"",
    ("VMSS700", "implicit"): "{w:mode} is not written, so it is \"Manual\" (the provider's default): existing "
                             "instances are not moved to the latest model when the feature is turned on; upgrade them "
                             "once by hand, or write {w:mode} = \"Rolling\"",
    ("VMSS701", "default"): "{w:mode} is \"{mode}\": any model change (image version, SKU, extension) is applied to "
                            "all instances at once, with downtime; use {w:mode} = \"Rolling\" with a "
                            "rolling_upgrade_policy block",
    ("VMSS702", "default"): "{w:mode} is \"{mode}\", but a Service Fabric node type may only use Automatic (Service "
                            "Fabric walks update domains itself): write {w:mode} = \"Automatic\"",
    ("VMSS702", "implicit"): "{w:mode} is not written (the provider's default is \"Manual\"), but a Service Fabric "
                             "node type may only use Automatic: write {w:mode} = \"Automatic\"",
    ("VMSS720", "default"): "{rollback_said}: an instance that is not healthy within 5 minutes of its upgrade keeps "
                            "the new, failing OS disk instead of getting its previous one back; {rollback_fix} unless "
                            "you restore instances yourself",
    ("VMSS740", "default"): "rolling_upgrade_policy.maximum_surge_instances_enabled is {value} on a Flexible set with "
                            "automatic OS image upgrade, which Azure does not support: set it to false",
    ("VMSS203", "default"): "gallery image version {version} replicates to {regions} but not to {region}, where the "
                            "set runs; the set never sees it: add a target_region block with name = \"{region}\"",
    ("VMSS600", "default"): "Service Fabric extension '{extension}' has durabilityLevel {value} in its settings; "
                            "automatic OS image upgrades need Silver or Gold (Bronze only for a stateless-only node "
                            "type, 2026): set durabilityLevel to Silver here and durability_level in the "
                            "azurerm_service_fabric_cluster's node_type",
    ("VMSS600", "missing"): "Service Fabric extension '{extension}' does not set durabilityLevel in its settings "
                            "(Bronze by default); automatic OS image upgrades need Silver or Gold: add "
                            "\"durabilityLevel\": \"Silver\" here and durability_level = \"Silver\" in the node_type",
    ("VMSS601", "default"): "the Service Fabric extension's type_handler_version is {value}; Azure refuses \"Service "
                            "Fabric VM Extension version should be 1.1 or above for Auto OS Upgrade support\": write "
                            "type_handler_version = \"{minimum}\"",
    ("VMSS602", "default"): "durabilityLevel is {value} in the extension's settings but {expected} in node_type "
                            "'{nodetype}' of the azurerm_service_fabric_cluster; Azure reports \"Durability Mismatch "
                            "Detected for NodeType\": make them equal",
}

#: ARM terms in messages without a Terraform wording of their own, longest first.
GENERIC = [
    ("enableAutomaticUpdates false", "automatic_updates_enabled = false"),
    ("enableAutomaticOSUpgrade", "automatic_os_upgrade_policy.automatic_os_upgrade_enabled"),
    ("disableAutomaticRollback", "automatic_os_upgrade_policy.disable_automatic_rollback"),
    ("networkProfile.healthProbe.id", "health_probe_id"),
    ("networkProfile.healthProbe", "health_probe_id"),
    ("healthProbe.id", "health_probe_id"),
    ("publishingProfile.targetRegions", "target_region blocks"),
    ("excludeFromLatest", "exclude_from_latest"),
    ("typeHandlerVersion", "type_handler_version"),
    ("provisionAfterExtensions", "provision_after_extensions"),
    ("protectedSettings", "protected_settings"),
    ("rollingUpgradePolicy", "rolling_upgrade_policy"),
    ("upgradePolicy.mode", "upgrade_mode"),
    ("singlePlacementGroup", "single_placement_group"),
    ("imageReference.id", "source_image_id"),
    ("imageReference", "source_image_reference"),
    ("osDisk.image.uri", "storage_profile_os_disk.image"),
    ("intervalInSeconds", "interval_in_seconds"),
    ("numberOfProbes", "number_of_probes"),
    ("sku.capacity", "instances"),
]

ROLLING = {"maxBatchInstancePercent": "max_batch_instance_percent",
           "maxUnhealthyInstancePercent": "max_unhealthy_instance_percent",
           "maxUnhealthyUpgradedInstancePercent": "max_unhealthy_upgraded_instance_percent",
           "pauseTimeBetweenBatches": "pause_time_between_batches",
           "enableCrossZoneUpgrade": "cross_zone_upgrades_enabled",
           "prioritizeUnhealthyInstances": "prioritize_unhealthy_instances_enabled",
           "maxSurge": "maximum_surge_instances_enabled"}


class TfRule(Rule):
    __slots__ = ("arm",)

    def __init__(self, rule):  # noqa: D107 - a copy of an ARM rule
        for slot in Rule.__slots__:
            setattr(self, slot, getattr(rule, slot))
        self.arm = rule
        self.summary = generic(rule.summary, {})
        self.fix = {"kind": "none", "description": "vmsslint fixes JSON templates; change the .tf file yourself"}

    def format_help(self, variant, params):
        """The rule's help in Terraform's attribute names; none when the Terraform message already says how
        to fix it, or when the ARM help is a JSON snippet that would read wrong in HCL."""
        m = REGISTRY.get(params.get("resource"))
        if (self.code, variant) in MESSAGES and m is not None and m.tf_type in _VMSS_TF:
            return ""
        text = self.arm.format_help(variant, params)
        if not text or '"' in text or "{" in text:
            return ""
        return generic(text, dict(getattr(m, "words", None) or {}))

    def format(self, variant, params):
        m = REGISTRY.get(params.get("resource"))
        words = dict(getattr(m, "words", None) or {})
        template = MESSAGES.get((self.code, variant))
        if template is None or m is None or m.tf_type not in _VMSS_TF:
            return generic(self.arm.format(variant, params), words)
        extra = dict(params)
        extra["default_note"] = " (not written: the provider's default)" if "enableAutomaticUpdates" in m.defaults \
            else ""
        auto_attr = words.get("auto", "automatic_os_upgrade_policy.enable_automatic_os_upgrade")
        if m.tf_type == "azurerm_virtual_machine_scale_set":
            extra["add_auto"] = "write automatic_os_upgrade = true"
        elif m.tf_type == "azurerm_orchestrated_virtual_machine_scale_set":
            extra["add_auto"] = "add an automatic_os_upgrade_policy block if your azurerm version has one for " \
                                "azurerm_orchestrated_virtual_machine_scale_set, or use a Uniform set " \
                                "(azurerm_linux/windows_virtual_machine_scale_set)"
        else:
            extra["add_auto"] = f"add an automatic_os_upgrade_policy block with {auto_attr.split('.')[-1]} = true " \
                                f"(and upgrade_mode \"Rolling\" or \"Automatic\")"
        rb = words.get("rollback", "automatic_os_upgrade_policy.disable_automatic_rollback")
        if rb.endswith("automatic_rollback_enabled"):
            extra["rollback_said"] = f"{rb} is false"
            extra["rollback_fix"] = "set it to true"
        else:
            extra["rollback_said"] = f"{rb} is true"
            extra["rollback_fix"] = "set it to false"
        out = template
        for arm_term, tf_term in sorted(words.items(), key=lambda kv: -len(kv[0])):
            out = out.replace("{w:" + arm_term + "}", tf_term)
        out = out.replace("{w:", "{")
        from linter.rules import _formatter
        return _formatter().vformat(out, (), extra)


_VMSS_TF = ("azurerm_linux_virtual_machine_scale_set", "azurerm_windows_virtual_machine_scale_set",
            "azurerm_orchestrated_virtual_machine_scale_set", "azurerm_virtual_machine_scale_set")


def generic(message, words):
    for arm, tf in ROLLING.items():
        message = message.replace(f"rollingUpgradePolicy.{arm}", f"rolling_upgrade_policy.{tf}")
    for arm, tf in GENERIC:
        message = message.replace(arm, words.get(arm, tf))
    return message


def translate_finding(f):
    """The finding's path as a Terraform attribute path (``type.name.block.attribute``)."""
    if f.src is None or not f.src.path.endswith((".tf", ".tfvars")):
        return
    segs = [s.replace("~1", "/").replace("~0", "~") for s in f.path.split("/") if s]
    if segs and segs[-1] == "defaultValue":
        segs[-1] = "default"
    m = REGISTRY.get(f.resources[0]) if f.resources else None
    if len(segs) >= 2 and segs[1] == "properties" and segs[-1] == "adminPassword":
        segs = [segs[0], (m.words.get("adminPassword") if m else "admin_password")]
    f.path = ".".join(segs)
