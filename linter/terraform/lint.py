"""Linting Terraform: a module (a directory of ``.tf`` files) or a plan, with the ARM rules unchanged.

The azurerm resources are mapped onto ARM-shaped resources (:mod:`linter.terraform.mapping`) and
handed to :meth:`Engine.lint_deployment`; rule messages are said in Terraform's words
(:mod:`linter.terraform.words`), fixes (which edit JSON) are not offered, and each finding's
``path`` is the Terraform attribute path instead of a JSON pointer into a template.
"""

from __future__ import annotations

import os

from linter.arm.template import Deployment, Options, Resource
from linter.jsonc import JObject
from linter.terraform import words as W

MAX_MODULES = 64


class TfScope:
    """What checks ask of a resource's scope.  Terraform has no ARM parameters; its variables with a
    literal string default stand for them (``secureString`` when ``sensitive = true``), so that a
    password or SAS token written as a variable's default is reported (VMSS506)."""

    def __init__(self, params=None):
        self.params = params or {}

    def parameter_type(self, name):
        return ""


def variable_params(module):
    """ARM-like declarations of the module's variables whose default is a literal string."""
    out = {}
    for name, block in module.variables.items():
        a = block.attributes.get("default")
        if a is None:
            continue
        node = a.expr
        while node.data == "expr_term" and len(node.children) == 1:
            node = node.children[0]
        if node.data != "string" or any(getattr(c, "data", None) == "string_part" and
                                        getattr(c.children[0], "data", None) == "interpolation"
                                        for c in node.children):
            continue
        value = module.attr_value(block, "default", module.frame)
        if not isinstance(value, str):
            continue
        sensitive = module.attr_value(block, "sensitive", module.frame) is True
        decl = JObject(block.shadow.src, block.start)
        decl.parent, decl.pkey = block.shadow.parent, block.shadow.pkey
        decl["type"] = "secureString" if sensitive else "string"
        decl["defaultValue"] = value
        decl.kpos["defaultValue"] = block.shadow.kpos["default"]
        decl.vpos["defaultValue"] = block.shadow.vpos["default"]
        out[name] = decl
    return out


class TfResource(Resource):
    def __init__(self, mapped, raw):
        super().__init__(raw, getattr(mapped, "scope", None) or TfScope(), mapped.arm_type, mapped.name)
        self._evaluated = mapped.body
        self.address = mapped.address
        self.mapped = mapped

    def display_name(self):
        return self.address


def tf_engine(engine):
    """An engine over the same settings whose rules speak Terraform (cached on the engine)."""
    eng = getattr(engine, "_tf_engine", None)
    if eng is None:
        eng = type(engine)(engine.settings, [W.TfRule(r) for r in engine.all_rules])
        engine._tf_engine = eng
    return eng


# --- modules ---------------------------------------------------------------------------------------

def lint_tf_path(engine, path, report):
    """A ``.tf`` or ``.tfvars`` file (or a module directory): lint the module it belongs to, once."""
    directory = path if os.path.isdir(path) else (os.path.dirname(path) or ".")
    extra = []
    low = path.lower()
    if low.endswith((".tfvars", ".tfvars.json")) and not (os.path.basename(low) in ("terraform.tfvars",
                                                                                   "terraform.tfvars.json")
                                                         or low.endswith((".auto.tfvars", ".auto.tfvars.json"))):
        extra = [path]  # a named .tfvars is a var file of its module
    done = report.__dict__.setdefault("_tf_modules", set())
    key = (os.path.abspath(directory), tuple(os.path.abspath(p) for p in extra))
    if key in done:
        return
    if not extra and any(k[0] == key[0] for k in done):
        return
    done.add(key)
    if len(done) == 1:
        report.finishers.append(lambda: _dedup_unreadable(report))
    lint_module(engine, directory, report, extra)


def _dedup_unreadable(report):
    """A var file read by a module and also walked as JSON: one VMSS001, not two."""
    seen = set()
    kept = []
    for f in report.findings:
        if f.code == "VMSS001" and f.src is not None:
            key = (os.path.abspath(f.src.path), f.line, f.column)
            if key in seen:
                continue
            seen.add(key)
        kept.append(f)
    report.findings[:] = kept


def lint_module(engine, directory, report, extra_var_files=()):
    from linter.terraform import module as M
    settings = engine.settings
    paths = M.module_files(directory)
    if not paths:
        report.notes.append(f"{directory}: no .tf files; nothing to lint")
        return
    files = [M.read_file(p) for p in paths]
    broken = [f for f in files if f.error]
    for f in broken:
        _broken(engine, report, f)
    good = [f for f in files if not f.error]
    if not good:
        return
    report.templates += 1
    dep = Deployment(None, good[0].src, Options(location=settings.location))
    var_files = M.auto_var_files(directory) + list(settings.tf_var_files) + list(extra_var_files)
    root = M.Module(directory, good, dep)
    values = {}
    used = []
    for vf in var_files:
        if vf.lower().endswith(".json"):
            got, info = M.read_json_vars(vf)
            if got is None:
                message, offset, src = info
                _broken(engine, report, M.TfFile(vf, src, error=message, error_offset=offset))
                continue
            used.append(info.display)
            values.update(got)
            continue
        tf = M.read_file(vf)
        if tf.error:
            _broken(engine, report, tf)
            continue
        used.append(tf.src.display)
        values.update(M.tfvars_values(tf, root))
    values.update(M.var_option_values(settings.tf_vars, root))
    root.var_values = values
    report.inputs.append({"template": _display_dir(directory), "kind": "terraform-module",
                          "parameters": used})
    if used:
        report.notes.append(f"{_display_dir(directory)}: variable values from {', '.join(used)}")
    modules = [root]
    _child_modules(root, modules, engine, report)
    mapped = []
    scopes = {}
    for mod in modules:
        for decl in list(mod.resources.values()):
            if decl.type not in _mapped_types():
                continue
            for ikey, frame in decl.instances():
                from linter.terraform.mapping import HclObj, map_resource
                obj = HclObj(mod, decl.block, frame)
                m = map_resource(decl.type, obj, decl.instance_address(ikey))
                if m is not None:
                    m.block = decl.block
                    m.scope = scopes.setdefault(id(mod), TfScope(variable_params(mod)))
                    mapped.append(m)
    run_mapped(engine, report, dep, mapped)


def _mapped_types():
    from linter.terraform.mapping import MAPPED
    return MAPPED


def _child_modules(parent, modules, engine, report, depth=0):
    from linter.terraform import module as M
    for name, block in parent.module_calls.items():
        if len(modules) >= MAX_MODULES or depth >= M.MAX_MODULE_DEPTH:
            return
        src_v = parent.attr_value(block, "source", parent.frame)
        if not isinstance(src_v, str) or not src_v.startswith(("./", "../")):
            continue  # a registry or git module: not on this machine
        cdir = os.path.normpath(os.path.join(parent.dir, src_v))
        if any(os.path.abspath(m.dir) == os.path.abspath(cdir) and m.prefix == parent.prefix + f"module.{name}."
               for m in modules):
            continue
        paths = M.module_files(cdir)
        files = [_read_cached(parent.dep, p) for p in paths]
        for f in files:
            if f.error:
                _broken(engine, report, f)
        good = [f for f in files if not f.error]
        if not good:
            continue
        inputs = {a: (parent, block, parent.frame) for a in block.attributes
                  if a not in ("source", "version", "count", "for_each", "providers", "depends_on")}
        child = M.Module(cdir, good, parent.dep, prefix=parent.prefix + f"module.{name}.", depth=depth + 1,
                         inputs=inputs)
        modules.append(child)
        _child_modules(child, modules, engine, report, depth + 1)


def _read_cached(dep, path):
    """One read of a file per lint run: module instances share its positions (and findings merge)."""
    from linter.terraform import module as M
    cache = dep.__dict__.setdefault("_tf_files", {})
    key = os.path.abspath(path)
    if key not in cache:
        cache[key] = M.read_file(path)
    return cache[key]


def _display_dir(directory):
    from linter.loader import _display
    d = _display(directory)
    return d if d.endswith(os.sep) else d + os.sep


def _broken_json(engine, report, lf, message):
    from linter.findings import Finding
    if not engine.settings.selected("VMSS001"):
        return
    rule = engine.by_code.get("VMSS001")
    report.findings.append(Finding("VMSS001", rule.name if rule else "invalid-json", "error", [], lf.src, 0, 1, "",
                                   f"cannot read this file: {message}"))


def _broken(engine, report, tf):
    from linter.findings import Finding
    if not engine.settings.selected("VMSS001"):
        return
    rule = engine.by_code.get("VMSS001")
    report.findings.append(Finding("VMSS001", rule.name if rule else "invalid-json", "error", [], tf.src,
                                   tf.error_offset, tf.error_offset + 1, "", f"cannot read this file: {tf.error}"))


# --- running the rules --------------------------------------------------------------------------------

def raw_for(m):
    """The resource's raw object: anchored at its block header; holds ``adminPassword`` as written."""
    block = getattr(m, "block", None)
    anchor = m.body.origin[0] if m.body.origin else None
    pinned = getattr(m, "anchor", None)
    if block is None and pinned is not None:  # a plan: anchored at the resource change's address
        container, key = pinned
        raw = JObject(container.src, container.start)
        raw.parent, raw.pkey = (container, key) if isinstance(key, str) else (container.parent, container.pkey)
    elif block is not None:
        shadow = block.shadow
        raw = JObject(shadow.src, block.start)
        raw.parent, raw.pkey = shadow.parent, shadow.pkey
    elif isinstance(anchor, JObject):
        raw = JObject(anchor.src, anchor.start)
        raw.parent, raw.pkey = anchor.parent, anchor.pkey
    else:
        raw = JObject(anchor.src if anchor is not None else None, getattr(anchor, "start", 0))
    if m.raw_password is not None:
        literal, (container, key) = m.raw_password
        chain = raw
        for part in ("properties", "virtualMachineProfile", "osProfile"):
            nxt = JObject(raw.src, raw.start)
            nxt.parent, nxt.pkey = chain, part
            chain[part] = nxt
            chain.vpos[part] = (raw.start, raw.start + 1)
            chain = nxt
        written = m.body.get("properties", {}).get("virtualMachineProfile", {}).get("osProfile", {}).get("adminPassword")
        if literal and isinstance(written, str):
            value = "[" + written if written.startswith("[") else written  # ARM's escape of a leading '['
        else:
            value = "[terraform expression]"
        chain["adminPassword"] = value
        chain.vpos["adminPassword"] = container.vpos.get(key, (raw.start, raw.start + 1))
        chain.kpos["adminPassword"] = container.kpos.get(key, (raw.start, raw.start + 1))
    return raw


def run_mapped(engine, report, dep, mapped):
    """Link the mapped resources (rules onto their load balancers), lint them, speak Terraform."""
    from linter.arm import resourceid
    from linter.arm.template import EArray
    lbs = [m for m in mapped if m.arm_type == "Microsoft.Network/loadBalancers"]
    for m in mapped:
        if m.arm_type != "vmsslint/lbRule":
            continue
        parsed = resourceid.parse(m.name)
        if not parsed or parsed[0] != "microsoft.network/loadbalancers":
            continue
        key = resourceid.name_key(parsed[1][0])
        for lb in lbs:
            if key is not None and resourceid.name_key(lb.name) == key:
                props = lb.body["properties"]
                rules = props.get("loadBalancingRules")
                if rules is None:
                    rules = props["loadBalancingRules"] = EArray(props.origin)
                    props.locs["loadBalancingRules"] = props.origin
                rules.append(m.body)
                rules.locs.append(m.body.origin)
    for m in mapped:
        if m.arm_type == "vmsslint/lbRule":
            continue
        dep.resources.append(TfResource(m, raw_for(m)))
    W.REGISTRY.clear()
    W.REGISTRY.update({m.address: m for m in mapped})
    eng = tf_engine(engine)
    before = len(report.findings)
    eng.lint_deployment(dep, report, engine.settings)
    seen = report.__dict__.setdefault("_tf_seen", {})
    kept = []
    for f in report.findings[before:]:
        f.fix = None
        W.translate_finding(f)
        key = (f.code, f.src.path if f.src is not None else "", f.line, f.column, f.unverifiable)
        earlier = seen.get(key)
        if earlier is not None:  # a child module linted again on its own: one finding, both addresses
            for name in f.resources:
                earlier.add_resource(name)
            continue
        seen[key] = f
        kept.append(f)
    report.findings[before:] = kept
    if len(report.findings) == before:
        report.clean_files.append(dep.src.display)
    report.__dict__.setdefault("tf_resources", 0)
    report.tf_resources += len(dep.resources)
    return dep
