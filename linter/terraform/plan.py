"""Terraform plans: the JSON of ``terraform show -json plan.out``.

Terraform's documented JSON output format: ``resource_changes[]`` has each resource instance's
``address``, ``mode``, ``type`` and ``change`` (``actions``, ``after``, ``after_unknown``).  The
linted values are ``change.after``; what ``after_unknown`` marks stays unknown, except an id that
the plan's ``configuration`` shows to be a reference to another resource of the plan
(``health_probe_id = azurerm_lb_probe.web.id``): that id is built from the other resource's
planned name, as Terraform will.  Findings point at the value in the plan file.
"""

from __future__ import annotations

from linter.arm.template import Deployment, Options
from linter.arm.values import Partial, Unknown
from linter.jsonc import ci_get
from linter.terraform.mapping import MAPPED, JsonObj, map_resource

#: attributes whose unknown value may be an id of another resource of the plan
ID_ATTRS = ("health_probe_id", "loadbalancer_id", "virtual_machine_scale_set_id", "source_image_id",
            "load_balancer_backend_address_pool_ids", "probe_id")


class PlanError(Exception):
    pass


class PlanObj(JsonObj):
    def __init__(self, obj, unknown, loc, what, plan, exprs, module_prefix):
        super().__init__(obj, unknown, loc, what)
        self.plan, self.exprs, self.prefix = plan, exprs if isinstance(exprs, dict) else {}, module_prefix

    def attr(self, name):
        v, loc = super().attr(name)
        if name in ID_ATTRS and (isinstance(v, Unknown) or (isinstance(v, list) and any(isinstance(x, Unknown)
                                                                                       for x in v))):
            refs = ci_get(self.exprs.get(name) or {}, "references") or []
            ids = [self.plan.id_of(self.prefix + r[:-3]) for r in refs if isinstance(r, str) and r.endswith(".id")]
            ids = [i for i in ids if i is not None]
            if ids:
                if isinstance(v, list):
                    from linter.terraform.mapping import attach
                    return attach(ids[:len(v)] if len(ids) >= len(v) else ids, loc), loc
                return ids[0], loc
        return v, loc

    def blocks(self, name):
        out = []
        sub = self.exprs.get(name)
        for i, b in enumerate(super().blocks(name)):
            e = sub[i] if isinstance(sub, list) and i < len(sub) else (sub if isinstance(sub, dict) else {})
            out.append(PlanObj(b.obj, b.unknown, b.loc, b.what, self.plan, e, self.prefix))
        return out


class Plan:
    def __init__(self, root):
        self.root = root
        self.changes = {}
        for rc in root.get("resource_changes") or []:
            if isinstance(rc, dict) and isinstance(rc.get("address"), str):
                self.changes[rc["address"]] = rc
        self.exprs = {}
        self._collect_exprs(ci_get(ci_get(root, "configuration") or {}, "root_module") or {}, "")
        self._ids = {}

    def _collect_exprs(self, module, prefix, depth=0):
        if depth > 16 or not isinstance(module, dict):
            return
        for r in module.get("resources") or []:
            if isinstance(r, dict) and isinstance(r.get("address"), str):
                self.exprs[prefix + r["address"]] = r.get("expressions") or {}
        for name, call in (module.get("module_calls") or {}).items():
            if isinstance(call, dict):
                self._collect_exprs(call.get("module") or {}, f"{prefix}module.{name}.", depth + 1)

    def expressions(self, rc):
        addr = rc.get("address", "")
        base = addr.split("[")[0] if "[" in addr.rsplit(".", 1)[-1] else addr
        base = _strip_indexes(base)
        return self.exprs.get(base, {})

    def id_of(self, address):
        """The id of resource ``address`` (no index: its only instance) built from its planned values."""
        if address in self._ids:
            return self._ids[address]
        self._ids[address] = None  # no cycles
        rc = self.changes.get(address) or self.changes.get(address + "[0]")
        if rc is None:
            return None
        after = (rc.get("change") or {}).get("after")
        if not isinstance(after, dict):
            return None
        known = after.get("id")
        if isinstance(known, str):
            self._ids[address] = known
            return known
        from linter.terraform.module import ID_SHAPES
        shape = ID_SHAPES.get(rc.get("type"))
        name = after.get("name")
        if rc.get("type") in ("azurerm_shared_image", "azurerm_shared_image_version"):
            parts = [after.get("gallery_name"), after.get("image_name") if rc["type"].endswith("version") else name]
            if not all(isinstance(p, str) for p in parts) or not isinstance(name, str):
                return None
            tail = f"/versions/{name}" if rc["type"].endswith("version") else ""
            shape = (f"Microsoft.Compute/galleries/{parts[0]}/images", None, None)
            name = parts[1] + tail
        if shape is None or not isinstance(name, str):
            return None
        if shape[1] is not None:
            prefix = address.rsplit(".", 2)[0] + "." if address.count(".") > 1 and address.startswith("module.") \
                else ""
            parent = after.get(shape[1])
            if not isinstance(parent, str):
                refs = ci_get(self.exprs.get(_strip_indexes(address), {}).get(shape[1]) or {}, "references") or []
                parent = next((self.id_of(prefix + r[:-3]) for r in refs if isinstance(r, str) and r.endswith(".id")),
                              None)
            if parent is None:
                return None
            result = Partial.join([parent, f"/{shape[2]}/{name}"])
        else:
            rg = after.get("resource_group_name")
            result = Partial.join(["/subscriptions/", Unknown("the subscription is chosen when Terraform runs",
                                                                "subscription"), "/resourceGroups/",
                                   rg if isinstance(rg, str) else Unknown("the resource group", f"{address}.rg"),
                                   f"/providers/{shape[0]}/{name}"])
        self._ids[address] = result
        return result


def _strip_indexes(address):
    import re
    return re.sub(r"\[[^\]]*\]", "", address)


def lint_plan(engine, lf, report):
    from linter.terraform.lint import _broken_json, run_mapped
    root = lf.root
    changes = root.get("resource_changes")
    if changes is None and "values" in root and "planned_values" not in root:
        _broken_json(engine, report, lf, "this is `terraform show -json` of a state, not of a plan: run "
                                         "`terraform plan -out plan.out && terraform show -json plan.out`")
        return
    if changes is not None and not isinstance(changes, list):
        _broken_json(engine, report, lf, "resource_changes is not a list: this is not the JSON of "
                                         "`terraform show -json PLANFILE`")
        return
    report.templates += 1
    report.inputs.append({"template": lf.src.display, "kind": "terraform-plan", "parameters": []})
    plan = Plan(root)
    dep = Deployment(root, lf.src, Options(location=engine.settings.location))
    mapped = []
    for i, rc in enumerate(changes or []):
        if not isinstance(rc, dict) or rc.get("mode", "managed") != "managed" or rc.get("type") not in MAPPED:
            continue
        change = rc.get("change")
        if not isinstance(change, dict):
            continue
        after = change.get("after")
        if not isinstance(after, dict):
            continue  # deleted, or not a planned object
        address = rc.get("address") or f"{rc.get('type')}.{rc.get('name')}"
        module_prefix = address.rsplit(rc.get("type", "") + ".", 1)[0] if rc.get("type") else ""
        obj = PlanObj(after, change.get("after_unknown"), (change, "after"), address, plan,
                      plan.expressions(rc), module_prefix)
        m = map_resource(rc["type"], obj, address)
        if m is not None:
            m.anchor = (rc, "address") if "address" in rc else (changes, i)
            mapped.append(m)
    if not changes:
        report.notes.append(f"{lf.src.display}: a Terraform plan with no resource changes")
    run_mapped(engine, report, dep, mapped)

