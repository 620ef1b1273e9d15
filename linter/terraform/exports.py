"""Deployed scale sets: the JSON of ``az vmss show/list``, ``az network lb show/list`` and Azure
Resource Graph (``az graph query``: its ``data`` rows).

Resource Graph rows are resources in their REST shape (``properties``); the az CLI prints the same
resources with ``properties`` flattened into the top level and camelCase names of its SDK
(``automaticOsUpgradePolicy``, an extension's ``typePropertiesType``).  Both become the REST
shape the rules read, every value pointing at its place in the export; there is no apiVersion to
check, and load balancers given in the same run resolve the sets' probe references.
"""

from __future__ import annotations

from linter.arm.template import Deployment, EArray, EObject, Options, loc_of
from linter.jsonc import ci_get, ci_key

TOP = {"id", "name", "type", "location", "sku", "zones", "tags", "identity", "plan", "etag",
       "extendedlocation", "resourcegroup", "subscriptionid", "kind", "managedby", "tenantid", "apiversion",
       "properties"}
VMSS = "microsoft.compute/virtualmachinescalesets"
LB = "microsoft.network/loadbalancers"


def rows(root):
    """(row, container, key) of every REST resource of a show/list/graph result."""
    if isinstance(root, dict) and isinstance(root.get("data"), list):
        items, container = root["data"], root["data"]
    elif isinstance(root, list):
        items, container = root, root
    else:
        return [(root, None, None)]
    return [(r, container, i) for i, r in enumerate(items) if isinstance(r, dict)]


def restore(obj, depth=0, child_keys=()):
    """An az CLI object with flattened ``properties`` back in the REST shape (locs kept)."""
    out = EObject((obj, None))
    if ci_key(obj, "properties") is not None or depth > 8:
        for k, v in obj.items():
            out[k] = v
            out.locs[k] = loc_of(obj, k)
        return out
    props = EObject((obj, None))
    for k, v in obj.items():
        if k.lower() in TOP or (depth > 0 and k.lower() == "name"):
            out[k] = v
            out.locs[k] = loc_of(obj, k)
            continue
        if k == "typePropertiesType":
            k2 = "type"
        else:
            k2 = k
        if isinstance(v, list) and k.lower() in child_keys:
            arr = EArray(loc_of(obj, k))
            for i, item in enumerate(v):
                arr.append(restore(item, depth + 1) if isinstance(item, dict) else item)
                arr.locs.append(loc_of(v, i))
            v = arr
        props[k2] = v
        props.locs[k2] = loc_of(obj, k)
    out["properties"] = props
    out.locs["properties"] = (obj, None)
    return out


def _vmss_body(row):
    body = restore(row)
    props = body["properties"]
    vmp = ci_get(props, "virtualMachineProfile")
    if isinstance(vmp, dict):
        ep = ci_get(vmp, "extensionProfile")
        exts = ci_get(ep, "extensions") if isinstance(ep, dict) else None
        if isinstance(exts, list) and exts and isinstance(exts[0], dict) and ci_key(exts[0], "properties") is None:
            arr = EArray(loc_of(ep, ci_key(ep, "extensions")))
            for i, e in enumerate(exts):
                arr.append(restore(e, 1) if isinstance(e, dict) else e)
                arr.locs.append(loc_of(exts, i))
            ep2 = EObject(loc_of(vmp, ci_key(vmp, "extensionProfile")))
            for k, v in ep.items():
                ep2[k] = arr if k.lower() == "extensions" else v
                ep2.locs[k] = loc_of(ep, k)
            vmp2 = EObject(loc_of(props, ci_key(props, "virtualMachineProfile")))
            for k, v in vmp.items():
                vmp2[k] = ep2 if k.lower() == "extensionprofile" else v
                vmp2.locs[k] = loc_of(vmp, k)
            props[ci_key(props, "virtualMachineProfile")] = vmp2
        nets = ci_get(ci_get(vmp, "networkProfile") or {}, "networkInterfaceConfigurations")
        if isinstance(nets, list) and nets and isinstance(nets[0], dict) and ci_key(nets[0], "properties") is None:
            np_ = ci_get(vmp, "networkProfile")
            arr = EArray(loc_of(np_, ci_key(np_, "networkInterfaceConfigurations")))
            for i, n in enumerate(nets):
                nic = restore(n, 1, ("ipconfigurations",)) if isinstance(n, dict) else n
                ipcs = ci_get(nic.get("properties", {}), "ipConfigurations") if isinstance(nic, dict) else None
                if isinstance(ipcs, list):
                    for j, ipc in enumerate(ipcs):
                        if isinstance(ipc, dict) and ci_key(ipc, "properties") is None:
                            ipcs[j] = restore(ipc, 1)
                arr.append(nic)
                arr.locs.append(loc_of(nets, i))
            vmp_now = props[ci_key(props, "virtualMachineProfile")]
            np2 = EObject(loc_of(vmp, ci_key(vmp, "networkProfile")))
            for k, v in np_.items():
                np2[k] = arr if k.lower() == "networkinterfaceconfigurations" else v
                np2.locs[k] = loc_of(np_, k)
            vmp_now[ci_key(vmp_now, "networkProfile")] = np2
    return body


def _lb_body(row):
    return restore(row, 0, ("probes", "loadbalancingrules", "backendaddresspools", "frontendipconfigurations"))


def lint_export(engine, lf, report):
    """Queue an export: all exports of a run are linted as one estate, so that a load balancer
    exported apart resolves the probe references of the sets."""
    report.templates += 1
    report.inputs.append({"template": lf.src.display, "kind": "azure-export", "parameters": []})
    queue = report.__dict__.get("_exports")
    if queue is None:
        queue = report._exports = []
        report.finishers.append(lambda: _lint_estate(engine, report, queue))
    queue.append(lf)


def _lint_estate(engine, report, files):
    from linter.arm.template import Resource
    from linter.terraform.lint import TfScope
    dep = Deployment(files[0].root, files[0].src, Options(location=engine.settings.location))
    for lf in files:
        try:
            for row, container, key in rows(lf.root):
                t = ci_get(row, "type")
                if not isinstance(t, str) or t.lower() not in (VMSS, LB):
                    continue
                body = _vmss_body(row) if t.lower() == VMSS else _lb_body(row)
                res = Resource(row, TfScope(), "Microsoft.Compute/virtualMachineScaleSets" if t.lower() == VMSS
                               else "Microsoft.Network/loadBalancers", ci_get(row, "name") or "")
                res._evaluated = body
                dep.resources.append(res)
        except Exception as exc:  # noqa: BLE001 - one unreadable export must not hide the others
            engine._internal_error(report, lf.path, exc)
    before = len(report.findings)
    try:
        engine.lint_deployment(dep, report, engine.settings)
    except Exception as exc:  # noqa: BLE001
        del report.findings[before:]
        engine._internal_error(report, files[0].path, exc)
        return
    for f in report.findings[before:]:
        f.fix = None  # an export is not a file to edit
    touched = {f.src.path for f in report.findings[before:] if f.src is not None}
    report.clean_files.extend(lf.src.display for lf in files if lf.src.path not in touched)
    report.__dict__.setdefault("tf_resources", 0)
    report.tf_resources += len(dep.resources)
