"""The ARM deployment model: parameters, variables, functions, resources — evaluated.

:func:`load_deployment` turns a parsed template (and its parameter files) into a
:class:`Deployment`: a flat list of :class:`Resource` objects, one per deployed instance — copy
loops expanded, ``condition: false`` resources dropped, child resources and nested/linked
deployments flattened — each able to evaluate itself lazily.

Every evaluated value remembers where it came from.  Containers built while evaluating
(:class:`EObject`, :class:`EArray`) map each member to a *Loc*: ``(container, key)`` where
``container`` is a :class:`~linter.jsonc.JObject`/:class:`~linter.jsonc.JArray` read from some
file.  A value that arrives through ``parameters()`` from a parameter file points into the
parameter file; through a ``variables()`` literal, at the variable; a computed value, at the
expression that computed it.
"""

from __future__ import annotations

import os

from linter.arm import expr as _expr
from linter.arm.expr import EvalError, ExprSyntaxError, Unsupported, is_expression, unescape_literal
from linter.arm.functions import InternalFunctionError, to_text, walk
from linter.arm.functions import why_unknown as _why
from linter.arm.limits import DEFAULT_SECONDS, Budget, LimitExceeded
from linter.arm.values import Partial, Unknown, canon
from linter.jsonc import JArray, JObject, ci_get, ci_key

#: Azure's own limit on the iterations of one copy loop.
MAX_COPY = 800
MAX_NESTED_DEPLOYMENTS = 10
MAX_RESOURCES = 20000
#: Property and variable copy iterations evaluated per deployment, all loops together.
MAX_COPY_ITERATIONS = 200_000


class EObject(dict):
    """An object built by evaluation: ``locs[key]`` is where each member's value came from."""

    __slots__ = ("locs", "origin")

    def __init__(self, origin=None):
        super().__init__()
        self.locs = {}
        self.origin = origin


class OpenObject(EObject):
    """What ``reference()`` knows of a resource declared in the same template: its declared values;
    every other member (``provisioningState``, ``ipAddress``, ...) is only known once deployed."""

    __slots__ = ("rest",)

    def __init__(self, values: dict, rest: Unknown):
        super().__init__(getattr(values, "origin", None))
        self.update(values)
        self.locs.update(getattr(values, "locs", {}))
        self.rest = rest


def _open(value, rest: Unknown, depth=0):
    """Declared values of a referenced resource: objects at every level answer runtime-only members
    (an ``id`` Azure assigns, ``provisioningState``) with unknowns instead of errors."""
    if depth > 32:
        return value
    if isinstance(value, dict):
        out = OpenObject({}, rest)
        out.origin = getattr(value, "origin", None)
        locs = getattr(value, "locs", {})
        for k, v in value.items():
            out[k] = _open(v, rest.member(k), depth + 1)
            if k in locs:
                out.locs[k] = locs[k]
        return out
    if isinstance(value, list):
        out = EArray(getattr(value, "origin", None))
        out.extend(_open(v, rest.member(i), depth + 1) for i, v in enumerate(value))
        out.locs = list(getattr(value, "locs", []))
        return out
    return value


class EArray(list):
    __slots__ = ("locs", "origin")

    def __init__(self, origin=None):
        super().__init__()
        self.locs = []
        self.origin = origin


def loc_of(container, key):
    """The Loc of ``container[key]``: a (parsed container, key) pair, or None."""
    if isinstance(container, (JObject, JArray)):
        return (container, key)
    if isinstance(container, EObject):
        return container.locs.get(key) or container.origin
    if isinstance(container, EArray):
        if isinstance(key, int) and 0 <= key < len(container.locs):
            return container.locs[key] or container.origin
        return container.origin
    return None


def own_loc(value):
    """The Loc of a container value itself."""
    if isinstance(value, (JObject, JArray)):
        return (value, None)
    if isinstance(value, (EObject, EArray)):
        return value.origin
    return None


class Diagnostic:
    """A problem found while loading or evaluating (not by a rule).

    ``kind`` is one of :data:`KINDS`; the lint engine decides which finding each kind becomes.
    """

    __slots__ = ("kind", "message", "loc", "severity")

    def __init__(self, kind, message, loc=None, severity=None):
        assert kind in KINDS, kind
        self.kind, self.message, self.loc, self.severity = kind, message, loc, severity


#: syntax — an expression that does not parse; evaluation — one that Azure would fail to evaluate;
#: limit — beyond Azure's or vmsslint's limits; linked — a linked template that cannot be read.
#: internal — vmsslint's own implementation of a function failed.
#: unsupported — a function (or format) vmsslint does not know: its value stays unknown.
#: parameter — a parameter value Azure refuses (undeclared, or of the wrong type).
KINDS = ("syntax", "evaluation", "limit", "linked", "internal", "unsupported", "parameter")

#: The JSON types a declared parameter type takes.
_PARAM_TYPES = {"string": (str,), "securestring": (str,), "int": (int,), "bool": (bool,), "array": (list,),
                "object": (dict,), "secureobject": (dict,)}


class Options:
    """Facts about the deployment that the template itself does not say."""

    def __init__(self, location=None, subscription_id=None, resource_group=None, deployment_name=None,
                 tenant_id=None, eval_seconds=DEFAULT_SECONDS):
        self.eval_seconds = eval_seconds
        self.location = location
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        self.deployment_name = deployment_name
        self.tenant_id = tenant_id


class Deployment:
    """Everything one template deploys, across nested and linked templates."""

    def __init__(self, root, src, options: Options):
        self.root = root
        self.src = src
        self.options = options
        self.resources: list[Resource] = []
        self.diagnostics: list[Diagnostic] = []
        self._diag_seen: set = set()
        self.nested_depth = 0
        self.linked_stack: list[str] = [os.path.abspath(src.path)]
        self.copy_iterations = 0
        self.budget = Budget(seconds=getattr(options, "eval_seconds", DEFAULT_SECONDS))
        self.root_scope = None
        self.evaluating: set = set()  # resources being evaluated (reference() cycles)
        #: reads of secure parameters so far, and the places whose expression read one (eval masks them)
        self.secret_reads = 0
        self.secret_locs: set = set()

    def find_resource(self, target):
        """The resource of this deployment that ``target`` (a name or a resource id) names, if exactly one."""
        c = canon(target)
        if c is None:
            return None
        low = c.lower()
        hits = []
        for res in self.resources:
            if res.existing or res.type_lower == "microsoft.resources/deployments":
                continue  # a deployment's outputs are known only once it has run
            if "/providers/" in low:
                rid = res.resource_id()
                key = None if rid is None else canon(rid)
            else:
                key = canon(res.name)
            if key is not None and key.lower() == low:
                hits.append(res)
        return hits[0] if len(hits) == 1 else None

    def diag(self, kind, message, loc=None, severity=None):
        key = (kind, id(loc[0]) if loc else None, loc[1] if loc else None, message)
        if key in self._diag_seen:
            return
        if kind == "limit" and self.budget.expired is not None and self.budget.expired == message:
            if ("expired",) in self._diag_seen:
                return  # the budget ran out once: one finding, not one per remaining expression
            self._diag_seen.add(("expired",))
        self._diag_seen.add(key)
        self.diagnostics.append(Diagnostic(kind, message, loc=loc, severity=severity))


class Scope:
    """Evaluation context of one template body: its parameters, variables and functions.

    ``copy`` maps loop names to the current iteration (``None`` key: the resource's own loop).
    """

    def __init__(self, deployment: Deployment, body: JObject, param_values: dict, parent=None):
        self.deployment = deployment
        self.body = body
        self.param_values = param_values  # lower name -> (value, loc)
        self.parent = parent
        self.params = ci_get(body, "parameters") if isinstance(ci_get(body, "parameters"), dict) else {}
        self.vars = ci_get(body, "variables") if isinstance(ci_get(body, "variables"), dict) else {}
        self._param_cache: dict = {}
        self._var_cache: dict = {}
        self._secret_params: set = set()
        self._secret_vars: set = set()
        self._in_progress: set = set()
        self._var_progress: set = set()
        self.copy: dict = {}
        self.lambda_frames: list = []
        self._functions = None
        self.symbols: dict = {}  # languageVersion 2.0 symbolic names -> Resource

    # -- copies of this scope for loops
    def with_copy(self, name, index):
        clone = object.__new__(Scope)
        clone.__dict__.update(self.__dict__)
        clone.copy = dict(self.copy)
        clone.copy[name] = index
        if name is not None:
            clone.copy.setdefault(None, index)
        clone.lambda_frames = []
        return clone

    # -- parameters
    def _param_decl(self, name):
        k = ci_key(self.params, name)
        if k is None:
            raise EvalError(f"parameter '{name}' is not declared in the template's parameters")
        return k, self.params[k]

    def parameter(self, name):
        return self.parameter_with_loc(name)[0]

    def parameter_with_loc(self, name):
        low = name.lower()
        hit = self._param_cache.get(low)
        if hit is not None:
            if low in self._secret_params:
                self.deployment.secret_reads += 1
            return hit
        k, decl = self._param_decl(name)
        if self.parameter_type(k).startswith("secure"):
            self._secret_params.add(low)
            self.deployment.secret_reads += 1
        if low in self.param_values:
            result = self.param_values[low]
        else:
            dk = ci_key(decl, "defaultValue") if isinstance(decl, dict) else None
            if dk is not None:
                if low in self._in_progress:
                    raise EvalError(f"the default value of parameter '{name}' refers to itself")
                self._in_progress.add(low)
                try:
                    result = evaluate_value(decl[dk], (decl, dk), self)
                finally:
                    self._in_progress.discard(low)
            else:
                result = (Unknown(f"parameter '{k}' has no value: it has no defaultValue and no parameter "
                                  f"file gives one", f"parameters('{k}')"), None)
        self._param_cache[low] = result
        return result

    def parameter_type(self, name) -> str:
        k = ci_key(self.params, name)
        decl = self.params.get(k) if k else None
        t = ci_get(decl, "type", "") if isinstance(decl, dict) else ""
        return t.lower() if isinstance(t, str) else ""

    # -- variables
    def variable(self, name):
        return self.variable_with_loc(name)[0]

    def variable_with_loc(self, name):
        low = name.lower()
        hit = self._var_cache.get(low)
        if hit is not None:
            if low in self._secret_vars:
                self.deployment.secret_reads += 1
            return hit
        before = self.deployment.secret_reads
        if low in self._var_progress:
            raise EvalError(f"variable '{name}' refers to itself")
        k = ci_key(self.vars, name)
        self._var_progress.add(low)
        try:
            if k is not None and k.lower() != "copy":
                result = evaluate_value(self.vars[k], (self.vars, k), self)
            else:
                result = self._copy_variable(name)
        finally:
            self._var_progress.discard(low)
        if self.deployment.secret_reads != before:
            self._secret_vars.add(low)  # built from a secure parameter: every later use reads a secret too
        self._var_cache[low] = result
        return result

    def _copy_variable(self, name):
        loops = ci_get(self.vars, "copy")
        if isinstance(loops, list):
            for i, loop in enumerate(loops):
                if isinstance(loop, dict) and isinstance(ci_get(loop, "name"), str) \
                        and ci_get(loop, "name").lower() == name.lower():
                    return expand_copy(loop, (loops, i), self, name)
        raise EvalError(f"variable '{name}' is not declared in the template's variables")

    # -- loops and lambdas
    def copy_index(self, loop):
        if loop is None:
            if None in self.copy:
                return self.copy[None]
            raise EvalError("copyIndex() is used outside a copy loop")
        for k, v in self.copy.items():
            if k is not None and k.lower() == loop.lower():
                return v
        raise EvalError(f"copyIndex('{loop}') is used outside the copy loop '{loop}'")

    # -- user-defined functions
    def user_function(self, name, args):
        if self._functions is None:
            self._functions = {}
            for ns in ci_get(self.body, "functions", None) or []:
                if not isinstance(ns, dict):
                    continue
                prefix = ci_get(ns, "namespace", "")
                for fname, fdef in (ci_get(ns, "members", None) or {}).items():
                    self._functions[f"{prefix}.{fname}".lower()] = fdef
        fdef = self._functions.get(name.lower())
        if not isinstance(fdef, dict):
            raise EvalError(f"function '{name}' is not defined in the template's functions")
        params = ci_get(fdef, "parameters", None) or []
        if len(params) != len(args):
            raise EvalError(f"function '{name}' takes {len(params)} arguments, got {len(args)}")
        output = ci_get(fdef, "output", None)
        if not isinstance(output, dict) or ci_key(output, "value") is None:
            raise EvalError(f"function '{name}' has no output value")
        fscope = FunctionScope(self, {str(ci_get(p, "name", "")).lower(): a for p, a in zip(params, args)})
        return evaluate_value(ci_get(output, "value"), (output, ci_key(output, "value")), fscope)[0]

    # -- facts about the target
    def subscription_id(self):
        o = self.deployment.options
        return o.subscription_id or Unknown("the subscription id is known only at deployment (give "
                                            "--subscription-id)", "subscription().subscriptionId")

    def resource_group_name(self):
        o = self.deployment.options
        return o.resource_group or Unknown("the resource group name is known only at deployment (give "
                                           "--resource-group)", "resourceGroup().name")

    def tenant_id(self):
        o = self.deployment.options
        return o.tenant_id or Unknown("the tenant is known only at deployment (give --tenant-id)",
                                      "tenant().tenantId")

    def subscription(self):
        sid = self.subscription_id()
        return {"id": Partial.join(["/subscriptions/", sid]), "subscriptionId": sid,
                "tenantId": self.tenant_id(),
                "displayName": Unknown("the subscription name is known only at deployment",
                                       "subscription().displayName")}

    def tenant(self):
        return {"tenantId": self.tenant_id(),
                "countryCode": Unknown("the tenant is known only at deployment", "tenant().countryCode"),
                "displayName": Unknown("the tenant is known only at deployment", "tenant().displayName")}

    def resource_group(self):
        o = self.deployment.options
        location = o.location or Unknown(
            "the resource group's location is known only at deployment (give --location to fix it)",
            "resourceGroup().location")
        return {"id": Partial.join(["/subscriptions/", self.subscription_id(), "/resourceGroups/",
                                    self.resource_group_name()]),
                "name": self.resource_group_name(), "type": "Microsoft.Resources/resourceGroups",
                "location": location,
                "properties": {"provisioningState": "Succeeded"}}

    def deployment_info(self):
        o = self.deployment.options
        return {"name": o.deployment_name or Unknown("the deployment name is known only at deployment (give "
                                                     "--deployment-name)", "deployment().name"),
                "properties": Unknown("deployment() properties are known only at deployment",
                                      "deployment().properties"),
                "location": self.deployment.options.location or Unknown(
                    "the deployment location is known only at deployment", "deployment().location")}

    def reference(self, target, rest):
        c = canon(target)
        unknown = Unknown(f"reference({_short(target)}) reads the deployed resource's runtime state",
                          None if c is None else f"reference({c})")
        res = self.deployment.find_resource(target)
        if res is None:
            return unknown
        full = len(rest) >= 2 and isinstance(rest[1], str) and rest[1].lower() == "full"
        body = res.evaluated()
        if full:
            return _open(body, unknown)
        pk = ci_key(body, "properties")
        props = body[pk] if pk is not None else None
        return _open(props if isinstance(props, dict) else {}, unknown)


class FunctionScope(Scope):
    """Scope of a user-defined function: only its own parameters, no variables."""

    def __init__(self, outer: Scope, args: dict):
        self.__dict__.update(outer.__dict__)
        self.fargs = args
        self.lambda_frames = []

    def parameter_with_loc(self, name):
        if name.lower() not in self.fargs:
            raise EvalError(f"user-defined function has no parameter '{name}'")
        return self.fargs[name.lower()], None

    def variable_with_loc(self, name):
        raise EvalError("user-defined functions cannot use variables()")


def _short(v):
    from linter.arm.values import display
    return display(v, 80)


# --- evaluation of template values ---------------------------------------------------------------

def evaluate_value(raw, loc, scope: Scope):
    """Evaluate a template JSON value deeply: returns (value, loc of the value's origin)."""
    if isinstance(raw, str):
        if raw and raw[0] == "[" and is_expression(raw):
            return evaluate_string(raw, loc, scope)
        return unescape_literal(raw), loc
    if isinstance(raw, dict):
        out = EObject(loc if not isinstance(raw, JObject) else (raw, None))
        copy_key = ci_key(raw, "copy")
        for k, v in raw.items():
            if k == copy_key and isinstance(v, list) and _is_property_copy(v):
                for i, loop in enumerate(v):
                    pname = ci_get(loop, "name")
                    val, vloc = expand_copy(loop, (v, i), scope, pname)
                    out[pname] = val
                    out.locs[pname] = vloc
                continue
            val, vloc = evaluate_value(v, (raw, k) if isinstance(raw, JObject) else loc, scope)
            out[k] = val
            out.locs[k] = vloc
        return out, out.origin
    if isinstance(raw, list):
        out = EArray(loc if not isinstance(raw, JArray) else (raw, None))
        for i, v in enumerate(raw):
            val, vloc = evaluate_value(v, (raw, i) if isinstance(raw, JArray) else loc, scope)
            out.append(val)
            out.locs.append(vloc)
        return out, out.origin
    return raw, loc


def _is_property_copy(v) -> bool:
    return all(isinstance(x, dict) and isinstance(ci_get(x, "name"), str) and ci_key(x, "input") is not None
               for x in v) and len(v) > 0


def expand_copy(loop, loc, scope: Scope, name):
    """A property or variable ``copy`` loop: an array of ``count`` evaluated ``input`` values."""
    count, _ = evaluate_value(ci_get(loop, "count"), (loop, ci_key(loop, "count")), scope)
    input_key = ci_key(loop, "input")
    origin = (loop, input_key) if isinstance(loop, JObject) else loc
    if isinstance(count, (Unknown, Partial)):
        return Unknown(f"the count of copy loop '{name}' is unknown: {_why(count)}",
                       None), origin
    if isinstance(count, bool) or not isinstance(count, int):
        raise EvalError(f"copy loop '{name}' count must be an integer, got {_expr.type_name(count)}")
    if count < 0 or count > MAX_COPY:
        raise EvalError(f"copy loop '{name}' count is {count}; Azure allows 0 to {MAX_COPY}")
    dep = scope.deployment
    dep.copy_iterations += count
    if dep.copy_iterations > MAX_COPY_ITERATIONS:
        dep.diag("limit", f"copy loops expand to more than {MAX_COPY_ITERATIONS} values; the rest is not "
                            f"evaluated", loc if isinstance(loc, tuple) else None)
        return Unknown(f"copy loop '{name}' was not expanded: the template's copy loops are too large to "
                       f"evaluate"), origin
    out = EArray(origin)
    for i in range(count):
        inner = scope.with_copy(name, i)
        # the resource's own loop index must not leak into a named property loop
        val, vloc = evaluate_value(loop[input_key], (loop, input_key), inner)
        out.append(val)
        out.locs.append(vloc)
    return out, origin


def evaluate_string(raw: str, loc, scope: Scope):
    """Evaluate one ``[expression]`` string; errors become unknowns plus a diagnostic."""
    text = raw[1:-1]
    dep = scope.deployment
    reads = dep.secret_reads
    try:
        return _evaluate_parsed(text, loc, scope, dep)
    finally:
        if dep.secret_reads != reads and loc is not None:
            dep.secret_locs.add((id(loc[0]), loc[1]))


def _evaluate_parsed(text, loc, scope, dep):
    try:
        node = _expr.parse(text)
    except ExprSyntaxError as exc:
        dep.diag("syntax", f"invalid template expression: {exc.message} (at character {exc.column + 2} "
                           f"of the string)", loc)
        return Unknown(f"the expression is invalid: {exc.message}", text=text), loc
    try:
        return walk(node, scope, loc)
    except EvalError as exc:
        dep.diag("evaluation", f"template expression cannot be evaluated: {exc}", loc)
        return Unknown(f"the expression fails: {exc}", text=text), loc
    except LimitExceeded as exc:
        dep.diag("limit", str(exc), loc)
        return Unknown(f"the expression was not evaluated: {exc}", text=text), loc
    except Unsupported as exc:
        dep.diag("unsupported", f"{exc}; if Azure does not know it either, the deployment fails, and values computed "
                                f"from it are not checked", loc, severity="info")
        return Unknown(str(exc), text=text), loc
    except InternalFunctionError as exc:
        dep.diag("internal", f"{exc}; the value is treated as unknown — please report this with the file attached",
                 loc)
        return Unknown(f"vmsslint could not evaluate it: {exc}", text=text), loc
    except RecursionError:
        dep.diag("limit", "template expression nests too deeply to evaluate", loc)
        return Unknown("the expression nests too deeply", text=text), loc


# --- resources --------------------------------------------------------------------------------

class Resource:
    """One deployed resource instance (a copy loop gives one per iteration)."""

    def __init__(self, raw: JObject, scope: Scope, rtype: str, name, parent=None, symbolic=None,
                 existing=False, copy_index=None):
        self.raw = raw
        self.scope = scope
        self.type = rtype
        self.name = name
        self.parent = parent
        self.symbolic = symbolic
        self.existing = existing
        self.copy_index = copy_index
        self.children: list[Resource] = []
        self._evaluated = None

    @property
    def src(self):
        return self.raw.src

    @property
    def type_lower(self) -> str:
        return self.type.lower()

    def display_name(self) -> str:
        if isinstance(self.name, str):
            return self.name
        from linter.arm.values import display
        return display(self.name, 120)

    def evaluated(self) -> EObject:
        if self._evaluated is None:
            dep = self.scope.deployment
            if id(self) in dep.evaluating:
                raise EvalError(f"the resource '{self.display_name()}' refers to itself through reference()")
            dep.evaluating.add(id(self))
            try:
                body, _ = evaluate_value(self.raw, (self.raw, None), self.scope)
            finally:
                dep.evaluating.discard(id(self))
            if ci_key(body, "apiVersion") is None:
                self._profile_api_version(body)
            self._evaluated = body
        return self._evaluated

    def _profile_api_version(self, body):
        """A resource without ``apiVersion`` takes it from the template's ``apiProfile`` (Azure Stack Hub)."""
        root = self.scope.body
        pk = ci_key(root, "apiProfile") if isinstance(root, dict) else None
        if pk is None:
            return
        profile, _ = evaluate_value(root[pk], (root, pk), self.scope)
        from linter.arm import apiprofiles
        if not isinstance(profile, str):
            value = Unknown("the template's apiProfile is not a known string", text="apiProfile")
        elif not apiprofiles.is_known_profile(profile):
            value = Unknown(f"the template's apiProfile '{profile}' is not one of the Azure Stack Hub profiles "
                            f"vmsslint knows ({', '.join(apiprofiles.known_profiles())}), so the apiVersion it "
                            f"gives {self.type} is unknown", text=f"apiProfile {profile}")
        else:
            version = apiprofiles.api_version(profile, self.type)
            value = version if version is not None else Unknown(
                f"the apiProfile '{profile}' does not list {self.type}", text=f"apiProfile {profile}")
        body["apiVersion"] = value
        body.locs["apiVersion"] = (root, pk)

    def resource_id(self):
        """``resourceId(type, name segments...)`` of this resource in the deployment's resource group."""
        segments = self.type.split("/")
        names = self.name.split("/") if isinstance(self.name, str) else [self.name]
        if isinstance(self.name, Partial) and len(segments) > 2:
            return None
        if len(names) != len(segments) - 1:
            return None
        pieces = ["/subscriptions/", self.scope.subscription_id(), "/resourceGroups/",
                  self.scope.resource_group_name(), "/providers/", segments[0]]
        for t, n in zip(segments[1:], names):
            pieces += ["/", t, "/", n]
        return Partial.join(pieces)

    def get(self, path: str):
        """Evaluate one dotted path (case-insensitive); returns (value, loc) or (MISSING, loc of the nearest parent)."""
        value = self.evaluated()
        loc = own_loc(value)
        for part in path.split("."):
            if isinstance(value, dict):
                k = ci_key(value, part)
                if k is None:
                    return MISSING, loc
                loc = loc_of(value, k) or loc
                value = value[k]
            elif isinstance(value, Unknown):
                return value.member(part), loc
            else:
                return MISSING, loc
        return value, loc

    def __repr__(self):
        return f"Resource({self.type} {self.display_name()})"


class _Missing:
    def __repr__(self):
        return "MISSING"

    def __bool__(self):
        return False


MISSING = _Missing()


def _eval_simple(raw_parent, key, scope, default=None):
    k = ci_key(raw_parent, key)
    if k is None:
        return default
    return evaluate_value(raw_parent[k], (raw_parent, k), scope)[0]


def load_deployment(root: JObject, src, param_values: dict, options: Options, load_linked=None) -> Deployment:
    """Build the :class:`Deployment` of a template.

    ``param_values`` maps lower-case parameter names to ``(value, loc)``; ``load_linked(path)``
    returns a parsed template for a local linked template, or raises ``OSError``.
    """
    dep = Deployment(root, src, options)
    scope = Scope(dep, root, param_values)
    dep.root_scope = scope
    check_parameter_values(dep, scope, param_values)
    _collect(dep, root, scope, None, load_linked, os.path.dirname(src.path))
    return dep


def check_parameter_values(dep, scope, param_values):
    """Values Azure refuses before it deploys anything: an undeclared parameter, a value of the wrong type."""
    for low, (value, loc) in param_values.items():
        if loc is None:
            continue  # given on the command line: checked where it is parsed
        k = ci_key(scope.params, low)
        if k is None:
            import difflib
            name = getattr(loc[0], "pkey", None) or low
            near = difflib.get_close_matches(name, list(scope.params), n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            dep.diag("parameter", f"parameter '{name}' is not declared in the template{hint}, and Azure rejects a "
                                  f"parameter file that gives it", _param_loc(loc))
            continue
        want = _PARAM_TYPES.get(scope.parameter_type(k))
        if want is None or isinstance(value, (Unknown, Partial)) or (isinstance(value, str) and is_expression(value)):
            continue
        ok = isinstance(value, want) and not (isinstance(value, bool) and bool not in want)
        if not ok:
            from linter.arm.expr import type_name
            dep.diag("parameter", f"parameter '{k}' is declared {scope.parameter_type(k)} but given a "
                                  f"{type_name(value)} ({_short(value) if not isinstance(value, str) else repr(_short(value))}), "
                                  f"which Azure rejects", loc)


def _param_loc(loc):
    """The place of a parameter's name in a parameter file (the value's entry is inside it)."""
    entry = loc[0]
    parent = getattr(entry, "parent", None)
    return (parent, entry.pkey) if parent is not None and getattr(entry, "pkey", None) is not None else loc


def _collect(dep, body, scope, parent_resource, load_linked, base_dir):
    resources = ci_get(body, "resources")
    if isinstance(resources, dict):  # languageVersion 2.0: symbolic names
        items = list(resources.items())
    elif isinstance(resources, list):
        items = [(None, r) for r in resources]
    else:
        return
    for symbolic, raw in items:
        if not isinstance(raw, dict):
            continue
        _add_resource(dep, raw, scope, parent_resource, symbolic, load_linked, base_dir)


def _add_resource(dep, raw, scope, parent, symbolic, load_linked, base_dir):
    if len(dep.resources) >= MAX_RESOURCES:
        dep.diag("limit", f"more than {MAX_RESOURCES} resources; the rest is not checked", (raw, None))
        return
    copy = ci_get(raw, "copy")
    instances = [(scope, None)]
    if isinstance(copy, dict):
        loop_name = ci_get(copy, "name")
        count = _eval_simple(copy, "count", scope)
        if isinstance(count, (Unknown, Partial)) or count is None:
            idx = Unknown(f"the count of copy loop '{loop_name}' is unknown", f"copyIndex('{loop_name}')")
            instances = [(scope.with_copy(loop_name, idx), idx)]
        elif isinstance(count, bool) or not isinstance(count, int):
            dep.diag("evaluation", f"copy loop count must be an integer, got {_expr.type_name(count)}",
                     (copy, ci_key(copy, "count")))
            return
        else:
            if count > MAX_COPY or count < 0:
                dep.diag("limit", f"copy loop '{loop_name}' has count {count}; Azure allows 0 to {MAX_COPY}",
                         (copy, ci_key(copy, "count")), severity="error")
                count = max(0, min(count, MAX_COPY))
            instances = [(scope.with_copy(loop_name, i), i) for i in range(count)]
    for iscope, index in instances:
        cond_key = ci_key(raw, "condition")
        if cond_key is not None:
            cond = evaluate_value(raw[cond_key], (raw, cond_key), iscope)[0]
            if cond is False:
                continue
        rtype = _eval_simple(raw, "type", iscope, "")
        if not isinstance(rtype, str):
            rtype = to_text(rtype) if not isinstance(rtype, (Unknown, Partial)) else ""
        name = _eval_simple(raw, "name", iscope, "")
        if parent is not None:
            if "/" not in rtype:
                rtype = f"{parent.type}/{rtype}"
            if isinstance(name, (str, Partial, Unknown)) and not (isinstance(name, str) and "/" in name):
                name = Partial.join([parent.name, "/", name])
        existing = ci_get(raw, "existing") is True
        res = Resource(raw, iscope, rtype, name, parent, symbolic, existing, index)
        dep.resources.append(res)
        if symbolic:
            scope.symbols[symbolic.lower()] = res
        if parent is not None:
            parent.children.append(res)
        if rtype.lower() == "microsoft.resources/deployments":
            _nested_deployment(dep, res, iscope, load_linked, base_dir)
        _collect(dep, raw, iscope, res, load_linked, base_dir)


def _nested_deployment(dep, res, scope, load_linked, base_dir):
    props = ci_get(res.raw, "properties")
    if not isinstance(props, dict):
        return
    if dep.nested_depth >= MAX_NESTED_DEPLOYMENTS:
        dep.diag("limit", f"deployments nested deeper than {MAX_NESTED_DEPLOYMENTS} levels are not checked",
                 (res.raw, None))
        return
    template = ci_get(props, "template")
    link = ci_get(props, "templateLink")
    inner = False
    linked_path = None
    if isinstance(template, dict):
        options = ci_get(props, "expressionEvaluationOptions")
        inner = isinstance(options, dict) and str(ci_get(options, "scope", "")).lower() == "inner"
    elif isinstance(link, dict) and load_linked is not None:
        rel = _eval_simple(link, "relativePath", scope)
        if not isinstance(rel, str):
            return
        linked_path = os.path.normpath(os.path.join(base_dir, rel))
        if os.path.abspath(linked_path) in dep.linked_stack:
            dep.diag("limit", f"linked template '{rel}' links back to itself; not followed",
                     (link, ci_key(link, "relativePath")))
            return
        try:
            template, linked_src = load_linked(linked_path)
        except OSError:
            dep.diag("linked", f"linked template '{rel}' is not there ({linked_path}); its resources are not "
                                f"checked", (link, ci_key(link, "relativePath")), severity="info")
            return
        except ValueError as exc:
            dep.diag("linked", f"linked template '{rel}' cannot be read: {exc}",
                     (link, ci_key(link, "relativePath")), severity="info")
            return
        inner = True
    else:
        return
    if not isinstance(template, dict):
        return
    dep.nested_depth += 1
    try:
        if inner:
            values = {}
            passed = ci_get(props, "parameters")
            if isinstance(passed, dict):
                for pname, pdef in passed.items():
                    if not isinstance(pdef, dict):
                        continue
                    vk = ci_key(pdef, "value")
                    if vk is not None:
                        values[pname.lower()] = evaluate_value(pdef[vk], (pdef, vk), scope)
                    elif ci_key(pdef, "reference") is not None:
                        values[pname.lower()] = (Unknown(f"parameter '{pname}' is a Key Vault secret",
                                                         None, secret=True), (passed, pname))
            child = Scope(dep, template, values)
            child.copy = {}
            if linked_path:
                dep.linked_stack.append(os.path.abspath(linked_path))
            try:
                _collect(dep, template, child, None, load_linked,
                         os.path.dirname(linked_path) if linked_path else base_dir)
            finally:
                if linked_path:
                    dep.linked_stack.pop()
        else:
            # outer scope: the nested template's expressions see the parent's parameters and variables
            _collect(dep, template, scope, None, load_linked, base_dir)
    finally:
        dep.nested_depth -= 1
