"""A Terraform module as Terraform reads it: every ``.tf`` file of one directory, its variables
(``terraform.tfvars``, ``*.auto.tfvars``, ``--var-file``, ``--var``), locals, resources, data
sources and calls of local child modules.
"""

from __future__ import annotations

import os

from linter.arm.template import MISSING, EArray, EObject
from linter.arm.values import Partial, Unknown
from linter.jsonc import JObject
from linter.source import LoadError, SourceFile
from linter.terraform.expr import Evaluator, Frame, TFError, TFLimit, is_unknown
from linter.terraform.hcl import HCLSyntaxError, parse_file
from linter.arm.functions import why_unknown as _why
from linter.terraform.functions import _obj

MAX_MODULE_DEPTH = 8
MAX_INSTANCES = 1000

#: Azure resource ids of the azurerm resources whose ``.id`` the scale set rules follow:
#: (provider path before the name, attribute giving the parent id or None, type segment).
ID_SHAPES = {
    "azurerm_lb": ("Microsoft.Network/loadBalancers", None, None),
    "azurerm_lb_probe": (None, "loadbalancer_id", "probes"),
    "azurerm_lb_backend_address_pool": (None, "loadbalancer_id", "backendAddressPools"),
    "azurerm_lb_rule": (None, "loadbalancer_id", "loadBalancingRules"),
    "azurerm_linux_virtual_machine_scale_set": ("Microsoft.Compute/virtualMachineScaleSets", None, None),
    "azurerm_windows_virtual_machine_scale_set": ("Microsoft.Compute/virtualMachineScaleSets", None, None),
    "azurerm_orchestrated_virtual_machine_scale_set": ("Microsoft.Compute/virtualMachineScaleSets", None, None),
    "azurerm_virtual_machine_scale_set": ("Microsoft.Compute/virtualMachineScaleSets", None, None),
    "azurerm_image": ("Microsoft.Compute/images", None, None),
    "azurerm_shared_image_gallery": ("Microsoft.Compute/galleries", None, None),
    "azurerm_gallery": ("Microsoft.Compute/galleries", None, None),
    "azurerm_service_fabric_cluster": ("Microsoft.ServiceFabric/clusters", None, None),
}


class TfFile:
    __slots__ = ("path", "src", "root", "error", "error_offset")

    def __init__(self, path, src, root=None, error=None, error_offset=0):
        self.path, self.src, self.root, self.error, self.error_offset = path, src, root, error, error_offset


def read_file(path) -> TfFile:
    from linter.loader import _display
    try:
        src = SourceFile.read(path, display=_display(path))
    except LoadError as exc:
        return TfFile(path, SourceFile(path, "", _display(path)), error=exc.message, error_offset=exc.offset)
    try:
        root = parse_file(src)
    except HCLSyntaxError as exc:
        return TfFile(path, src, error=exc.message, error_offset=exc.offset)
    return TfFile(path, src, root)


class Declared:
    """One ``resource``/``data`` block; ``instances()`` gives (instance key, frame) pairs."""

    def __init__(self, module, block, mode):
        self.module = module
        self.block = block
        self.mode = mode  # "managed" | "data"
        self.type, self.name = block.labels[0], block.labels[1]
        self._instances = None

    @property
    def address(self):
        base = f"{self.type}.{self.name}" if self.mode == "managed" else f"data.{self.type}.{self.name}"
        return self.module.prefix + base

    def instances(self):
        if self._instances is not None:
            return self._instances
        mod = self.module
        out = []
        b = self.block
        if "count" in b.attributes:
            n = mod.attr_value(b, "count", mod.frame)
            if is_unknown(n):
                idx = Unknown(f"count of {self.address} is unknown: {_why(n)}", f"{self.address}.count.index")
                out = [(None, mod.frame.child({"count": (_obj({"index": idx}), None)}))]
            elif isinstance(n, int) and not isinstance(n, bool) and n >= 0:
                out = [(i, mod.frame.child({"count": (_obj({"index": i}), None)})) for i in range(min(n, MAX_INSTANCES))]
            else:
                out = []
        elif "for_each" in b.attributes:
            coll = mod.attr_value(b, "for_each", mod.frame)
            if is_unknown(coll):
                why = f"for_each of {self.address} is unknown: {_why(coll)}"
                out = [(None, mod.frame.child({"each": (_obj({"key": Unknown(why, f"{self.address}.each.key"),
                                                             "value": Unknown(why, f"{self.address}.each.value")}),
                                                       None)}))]
            elif isinstance(coll, dict):
                out = [(k, mod.frame.child({"each": (_obj({"key": k, "value": v}), None)}))
                       for k, v in list(coll.items())[:MAX_INSTANCES]]
            elif isinstance(coll, list):
                out = [(v, mod.frame.child({"each": (_obj({"key": v, "value": v}), None)}))
                       for v in coll[:MAX_INSTANCES] if isinstance(v, str)]
        else:
            out = [(MISSING, mod.frame)]
        self._instances = out
        return out

    def instance_address(self, key):
        if key is MISSING:
            return self.address
        if key is None:
            return self.address + "[?]"
        return self.address + (f"[{key}]" if isinstance(key, int) else f'["{key}"]')


class Module:
    """One module directory (``prefix`` is ``module.NAME.`` for a child)."""

    def __init__(self, directory, files, deployment, var_values=None, prefix="", depth=0, inputs=None):
        self.dir = directory
        self.files = files
        self.dep = deployment  # diagnostics go to the Deployment being built
        self.prefix = prefix
        self.depth = depth
        self.frame = Frame({})
        self.ev = Evaluator(self)
        self.variables: dict = {}
        self.locals: dict = {}
        self.resources: dict = {}
        self.data: dict = {}
        self.module_calls: dict = {}
        self.var_values = var_values or {}  # name -> (value, loc) from tfvars / --var
        self.inputs = inputs  # name -> (attribute, block, frame, parent module) for a child module
        self._var_cache: dict = {}
        self._local_cache: dict = {}
        self._in_progress: set = set()
        self._srcs = {}
        for f in files:
            if f.root is None:
                continue
            for b in f.root.blocks:
                if b.type == "variable" and b.labels:
                    self.variables[b.labels[0]] = b
                elif b.type == "locals":
                    for name in b.attributes:
                        self.locals[name] = b
                elif b.type == "resource" and len(b.labels) == 2:
                    self.resources[(b.labels[0], b.labels[1])] = Declared(self, b, "managed")
                elif b.type == "data" and len(b.labels) == 2:
                    self.data[(b.labels[0], b.labels[1])] = Declared(self, b, "data")
                elif b.type == "module" and b.labels:
                    self.module_calls[b.labels[0]] = b

    def src_of(self, node):
        return self.files[0].src if self.files else None

    # -- attribute evaluation with diagnostics
    def attr(self, block, name, frame):
        """(value, loc) of ``block``'s attribute; errors become VMSS004 and an unknown value."""
        a = block.attributes.get(name)
        here = (block.shadow, name)
        if a is None:
            return MISSING, (block.shadow, None)
        try:
            return self.ev.eval(a.expr, frame, here)
        except TFLimit as exc:
            self.dep.diag("limit", str(exc), here)
            return Unknown(f"not evaluated: {exc}"), here
        except TFError as exc:
            self.dep.diag("evaluation", f"Terraform expression cannot be evaluated: {exc}", here)
            return Unknown(f"the expression fails: {exc}"), here
        except RecursionError:
            self.dep.diag("evaluation", "Terraform expression nests too deeply to evaluate", here)
            return Unknown("the expression nests too deeply"), here

    def attr_value(self, block, name, frame):
        return self.attr(block, name, frame)[0]

    # -- references
    def resolve(self, root, ops, frame, here, ev):
        def step(i=0):
            return ops[i][1] if len(ops) > i and ops[i][0] == "attr" else None

        if root == "var":
            name = step()
            if name is None:
                raise TFError("'var' must be followed by a variable name")
            value, loc = self.variable(name)
            return ev.apply(value, loc or here, ops[1:], frame, here)
        if root == "local":
            name = step()
            if name is None:
                raise TFError("'local' must be followed by a name")
            value, loc = self.local(name)
            return ev.apply(value, loc or here, ops[1:], frame, here)
        if root == "path":
            which = step()
            value = {"module": self.dir, "root": self.dir, "cwd": os.getcwd()}.get(which)
            if value is None:
                raise TFError(f"path.{which} does not exist")
            return ev.apply(value, here, ops[1:], frame, here)
        if root == "terraform":
            return Unknown("terraform.workspace is chosen when Terraform runs", "terraform.workspace"), here
        if root in ("count", "each", "self"):
            return Unknown(f"{root} is not available here", root), here
        if root == "data":
            key = ".".join(str(o[1]) for o in ops[:3] if o[0] in ("attr", "index") and not is_unknown(o[1]))
            t, n = step(0), step(1)
            return Unknown(f"data source data.{t}.{n} is read from Azure by Terraform at plan time",
                           f"{self.prefix}data.{key}"), here
        if root == "module":
            name = step()
            key = ".".join(str(o[1]) for o in ops[:2] if o[0] == "attr")
            return Unknown(f"output of module '{name}' (not followed by vmsslint)", f"{self.prefix}module.{key}"), here
        n = step()
        decl = self.resources.get((root, n)) if n is not None else None
        if decl is None:
            if "_" in root and n is not None:
                return Unknown(f"{root}.{n} is not declared in this module", f"{self.prefix}{root}.{n}"), here
            raise TFError(f"there is no variable, local or resource named \"{root}\"")
        rest = ops[1:]
        instances = decl.instances()
        if instances and instances[0][0] is not MISSING:
            if not rest or rest[0][0] != "index":
                return Unknown(f"{decl.address} has several instances (count/for_each); vmsslint follows one "
                               f"instance by its index", f"{decl.address}[*]"), here
            key = rest[0][1]
            if is_unknown(key):
                return Unknown(f"the instance of {decl.address} is unknown: {_why(key)}"), here
            inst = next((fr for k, fr in instances if k == key), None)
            if inst is None:
                if instances[0][0] is None:
                    return Unknown(f"the instances of {decl.address} are unknown"), here
                raise TFError(f"{decl.address} has no instance [{key}]")
            rest = rest[1:]
            ikey = key
        else:
            inst = decl.module.frame if not instances else instances[0][1]
            ikey = MISSING
        attr = rest[0][1] if rest and rest[0][0] == "attr" else None
        if attr is None:
            return Unknown(f"{decl.instance_address(ikey)} as a whole is known after apply",
                           decl.instance_address(ikey)), here
        value, loc = self.resource_attr(decl, inst, ikey, attr, here)
        return ev.apply(value, loc, rest[1:], frame, here)

    def resource_attr(self, decl, frame, ikey, attr, here):
        b = decl.block
        if attr in b.attributes:
            return self.attr(b, attr, frame)
        if attr == "id":
            return self.resource_id(decl, frame, ikey), here
        if b.blocks_of(attr):
            return self.blocks_value(b.blocks_of(attr), frame), here
        if attr == "name" and "name" in b.attributes:
            return self.attr(b, "name", frame)
        return Unknown(f"{decl.instance_address(ikey)}.{attr} is known after apply",
                       f"{decl.instance_address(ikey)}.{attr}"), here

    def blocks_value(self, blocks, frame, depth=0):
        """Nested blocks read as a list of objects (``node_type[0].name``)."""
        out = EArray((blocks[0].shadow, None) if blocks else None)
        for blk in blocks:
            o = EObject((blk.shadow, None))
            for name in blk.attributes:
                v, loc = self.attr(blk, name, frame)
                o[name] = v
                o.locs[name] = loc
            if depth < 8:
                for sub in blk.blocks:
                    if sub.type not in o:
                        o[sub.type] = self.blocks_value(blk.blocks_of(sub.type), frame, depth + 1)
                        o.locs[sub.type] = (sub.shadow, None)
            out.append(o)
            out.locs.append((blk.shadow, None))
        return out

    def resource_id(self, decl, frame, ikey):
        shape = ID_SHAPES.get(decl.type)
        addr = decl.instance_address(ikey)
        if decl.type == "azurerm_shared_image":
            parts = ["Microsoft.Compute/galleries/", self.attr_value(decl.block, "gallery_name", frame),
                     "/images/", self.attr_value(decl.block, "name", frame)]
        elif decl.type == "azurerm_shared_image_version":
            parts = ["Microsoft.Compute/galleries/", self.attr_value(decl.block, "gallery_name", frame),
                     "/images/", self.attr_value(decl.block, "image_name", frame), "/versions/",
                     self.attr_value(decl.block, "name", frame)]
        elif shape is None:
            return Unknown(f"{addr}.id is known after apply", f"{addr}.id")
        elif shape[1] is not None:
            parent = self.attr_value(decl.block, shape[1], frame)
            name = self.attr_value(decl.block, "name", frame)
            if parent is MISSING or name is MISSING:
                return Unknown(f"{addr}.id is known after apply", f"{addr}.id")
            return Partial.join([parent, f"/{shape[2]}/", _keyed(name, f"{addr}.name")])
        else:
            parts = [shape[0] + "/", self.attr_value(decl.block, "name", frame)]
        parts = [_keyed(p, f"{addr}.name") if p is MISSING or is_unknown(p) else p for p in parts]
        if any(p is MISSING for p in parts):
            return Unknown(f"{addr}.id is known after apply", f"{addr}.id")
        rg = self.attr_value(decl.block, "resource_group_name", frame)
        if rg is MISSING or not isinstance(rg, (str, Partial, Unknown)):
            rg = Unknown("the resource group", f"{addr}.resource_group_name")
        return Partial.join(["/subscriptions/", Unknown("the subscription is chosen when Terraform runs",
                                                          "subscription"),
                             "/resourceGroups/", rg, "/providers/"] + [str(p) if isinstance(p, (int, float)) else p
                                                                        for p in parts])

    # -- variables and locals
    def variable(self, name):
        hit = self._var_cache.get(name)
        if hit is not None:
            return hit
        decl = self.variables.get(name)
        if decl is None:
            raise TFError(f"variable \"{name}\" is not declared")
        if self.inputs is not None and name in self.inputs:
            parent, block, frame = self.inputs[name]
            result = parent.attr(block, name, frame)
        elif name in self.var_values:
            result = self.var_values[name]
            if isinstance(result[0], str) and not isinstance(result[0], Partial):
                result = (_convert(result[0], decl, self), result[1])
        elif "default" in decl.attributes:
            key = ("var", name)
            if key in self._in_progress:
                raise TFError(f"variable \"{name}\" refers to itself")
            self._in_progress.add(key)
            try:
                result = self.attr(decl, "default", self.frame)
            finally:
                self._in_progress.discard(key)
        else:
            result = (Unknown(f"variable '{name}' has no value: it has no default, and no .tfvars file or --var "
                              f"gives one", f"{self.prefix}var.{name}"), None)
        t = decl.attributes.get("type")
        if t is not None and not is_unknown(result[0]):
            try:
                result = (conform(self, result[0], t.expr), result[1])
            except (TFError, AttributeError, IndexError):
                pass
        self._var_cache[name] = result
        return result

    def local(self, name):
        hit = self._local_cache.get(name)
        if hit is not None:
            return hit
        block = self.locals.get(name)
        if block is None:
            raise TFError(f"local value \"{name}\" is not declared")
        key = ("local", name)
        if key in self._in_progress:
            raise TFError(f"local value \"{name}\" refers to itself")
        self._in_progress.add(key)
        try:
            result = self.attr(block, name, self.frame)
        finally:
            self._in_progress.discard(key)
        self._local_cache[name] = result
        return result


def _keyed(v, key):
    if v is MISSING:
        return Unknown("the name is not written", key)
    if isinstance(v, Unknown) and v.key is None:
        return Unknown(v.why, key)
    return v


def _convert(text, decl, module):
    """A ``--var``/``.tfvars`` string for a variable of a primitive or complex type."""
    t = decl.attributes.get("type")
    if t is None:
        return text
    import lark
    tnode = t.expr
    name = None
    if isinstance(tnode, lark.Tree):
        leaf = tnode
        while isinstance(leaf, lark.Tree) and leaf.children and leaf.data == "expr_term":
            leaf = leaf.children[0]
        if isinstance(leaf, lark.Tree) and leaf.data == "identifier":
            name = str(leaf.children[0])
    if name == "number":
        try:
            f = float(text)
            return int(f) if f.is_integer() else f
        except ValueError:
            return text
    if name == "bool":
        return {"true": True, "false": False}.get(text, text)
    return text


def module_files(directory):
    """The ``.tf`` files of a module directory, sorted (``.tf.json`` is not read)."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    return [os.path.join(directory, n) for n in names if n.endswith(".tf") and os.path.isfile(os.path.join(directory, n))]


def auto_var_files(directory):
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    out = []
    for first in ("terraform.tfvars", "terraform.tfvars.json"):
        if first in names:
            out.append(os.path.join(directory, first))
    out.extend(os.path.join(directory, n) for n in names if n.endswith((".auto.tfvars", ".auto.tfvars.json")))
    return out


def read_json_vars(path):
    """A ``.tfvars.json`` file: (values name -> (value, loc), None) or (None, (message, offset, src))."""
    from linter import loader
    lf = loader.read(path)
    if lf.error:
        return None, (lf.error, lf.error_offset, lf.src)
    if not isinstance(lf.root, dict):
        return None, ("a .tfvars.json file holds one JSON object of variable values", 0, lf.src)
    return {k: (v, (lf.root, k)) for k, v in lf.root.items()}, lf.src


def tfvars_values(tf: TfFile, module_for_eval) -> dict:
    """name -> (value, loc) of a ``.tfvars`` file (constant expressions)."""
    out = {}
    for name, a in tf.root.attributes.items():
        out[name] = module_for_eval.attr(tf.root, name, module_for_eval.frame)
    return out


def var_option_values(pairs, module_for_eval) -> dict:
    """``--var NAME=VALUE``: a value that reads as an HCL list/object/number/bool is taken as such."""
    from linter.terraform.hcl import parse_expression_text
    out = {}
    for pair in pairs:
        name, _, text = pair.partition("=")
        name = name.strip()
        v = text
        if text[:1] in ("[", "{"):
            tree = parse_expression_text(text)
            if tree is not None:
                try:
                    v = module_for_eval.ev.value(tree, module_for_eval.frame, None)
                except TFError:
                    v = text
        out[name] = (v, None)
    return out


def shadow_root(src):
    s = JObject(src, 0)
    s.end = len(src.text)
    return s


# --- type constraints: optional() attributes of object types get their defaults --------------------

def conform(module, value, type_node, depth=0):
    """``value`` as a variable of type ``type_node`` holds it: missing optional attributes filled."""
    from linter.terraform.expr import parts
    if type_node is None or depth > 16 or is_unknown(value) or value is None:
        return value
    node = type_node
    while getattr(node, "data", None) == "expr_term" and len(parts(node)) == 1 and len(node.children) == 1:
        node = parts(node)[0]
    if getattr(node, "data", None) == "identifier":
        name = str(node.children[0])
        if name == "bool" and isinstance(value, str):
            return {"true": True, "false": False}.get(value, value)
        if name == "number" and isinstance(value, str):
            try:
                f = float(value)
                return int(f) if f.is_integer() else f
            except ValueError:
                return value
        return value
    if getattr(node, "data", None) != "function_call":
        return value
    fname = str(parts(node)[0].children[0])
    args_node = next((c for c in parts(node) if c.data == "arguments"), None)
    args = parts(args_node) if args_node is not None else []
    if fname in ("list", "set") and args and isinstance(value, list):
        out = EArray(getattr(value, "origin", None))
        for i, item in enumerate(value):
            out.append(conform(module, item, args[0], depth + 1))
            out.locs.append(_loc(value, i))
        return out
    if fname == "map" and args and isinstance(value, dict):
        out = EObject(getattr(value, "origin", None))
        for k, item in value.items():
            out[k] = conform(module, item, args[0], depth + 1)
            out.locs[k] = _loc(value, k)
        return out
    if fname == "object" and args and isinstance(value, dict):
        spec = _object_spec(args[0])
        if spec is None:
            return value
        out = EObject(getattr(value, "origin", None))
        for k, item in value.items():
            out[k] = item
            out.locs[k] = _loc(value, k)
        for k, (t, optional, default) in spec.items():
            if k in out:
                out[k] = conform(module, out[k], t, depth + 1)
            elif optional:
                dv = None
                if default is not None:
                    try:
                        dv = module.ev.value(default, module.frame, None)
                    except TFError:
                        dv = None
                out[k] = conform(module, dv, t, depth + 1)
                out.locs[k] = None
        return out
    return value


def _loc(container, key):
    from linter.arm.template import loc_of
    return loc_of(container, key)


def _object_spec(obj_node):
    """{attribute: (type node, optional?, default node)} of an ``object({...})`` type."""
    from linter.terraform.expr import parts
    node = obj_node
    while getattr(node, "data", None) == "expr_term" and len(parts(node)) == 1:
        node = parts(node)[0]
    if getattr(node, "data", None) != "object":
        return None
    spec = {}
    for elem in parts(node):
        ps = parts(elem)
        key_node, t = ps[0], ps[-1]
        kn = key_node
        while getattr(kn, "data", None) in ("object_elem_key", "expr_term") and parts(kn):
            kn = parts(kn)[0]
        if getattr(kn, "data", None) == "identifier":
            key = str(kn.children[0])
        elif getattr(kn, "data", None) == "string":
            key = "".join(str(sp.children[0]) for sp in kn.children if getattr(sp, "data", None) == "string_part")
        else:
            continue
        inner = t
        while getattr(inner, "data", None) == "expr_term" and len(parts(inner)) == 1 and len(inner.children) == 1:
            inner = parts(inner)[0]
        if getattr(inner, "data", None) == "function_call" and str(parts(inner)[0].children[0]) == "optional":
            a = next((c for c in parts(inner) if c.data == "arguments"), None)
            targs = parts(a) if a is not None else []
            spec[key] = (targs[0] if targs else None, True, targs[1] if len(targs) > 1 else None)
        else:
            spec[key] = (t, False, None)
    return spec
