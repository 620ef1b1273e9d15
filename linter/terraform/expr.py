"""Evaluating HCL expressions offline, the way Terraform would before it asks any provider.

A value is a Python value (str, int, float, bool, None), an :class:`~linter.arm.template.EObject`
/ :class:`~linter.arm.template.EArray` whose members remember where they came from, or an
:class:`~linter.arm.values.Unknown` / :class:`~linter.arm.values.Partial` for what only Terraform
or Azure knows (data sources, attributes known after apply, outputs of other states).  Functions
and operators propagate unknowns; nothing is ever guessed.

:func:`evaluate` returns ``(value, loc)``: the Loc of where the value was written — through
``var.x`` the ``.tfvars`` assignment or the variable's default, through ``local.x`` the local,
through a conditional the branch taken.
"""

from __future__ import annotations

from linter.arm.template import EArray, EObject
from linter.arm.values import Partial, Unknown
from linter.jsonc import JArray, JObject
from linter.arm.functions import why_unknown as _why

MAX_DEPTH = 64


class TFError(Exception):
    """An expression Terraform itself would refuse (wrong type, missing key, unknown function)."""


class TFLimit(TFError):
    """An expression too large to evaluate offline (reported as VMSS005, never a hang)."""


#: for-expression iterations evaluated per module, all expressions together
MAX_ITERATIONS = 200_000


class JSONText(str):
    """The text ``jsonencode()`` made, keeping the value (and its locs) it was made from."""

    source = None


def is_unknown(v):
    return isinstance(v, (Unknown, Partial))


def unknown_of(v, key=None):
    return Unknown(_why(v), key)


def _tree():
    from lark import Token, Tree
    return Token, Tree


def parts(node):
    """Children of a node that matter (no newlines/comments, no punctuation tokens)."""
    Token, Tree = _tree()
    return [c for c in node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]


def span_of(node):
    return node.meta.start_pos, node.meta.end_pos


class Frame:
    """Names bound by ``for`` expressions, ``count``, ``for_each`` and ``dynamic`` iterators."""

    def __init__(self, names=None, parent=None):
        self.names = names or {}
        self.parent = parent

    def lookup(self, name):
        f = self
        while f is not None:
            if name in f.names:
                return f.names[name]
            f = f.parent
        return None

    def child(self, names):
        return Frame(names, self)


class Evaluator:
    """Evaluates expressions of one module.  ``resolve(root, ops, frame, here)`` answers references
    (``var``, ``local``, resources, ``data``, ``module``) — the module supplies it."""

    def __init__(self, module):
        self.module = module
        self.depth = 0
        self.iterations = 0

    # -- entry
    def eval(self, node, frame, here):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.depth -= 1
            raise TFError("the expression nests too deeply to evaluate")
        try:
            return self._eval(node, frame, here)
        finally:
            self.depth -= 1

    def value(self, node, frame, here):
        return self.eval(node, frame, here)[0]

    def _eval(self, node, frame, here):
        Token, Tree = _tree()
        kind = node.data
        if kind == "expr_term":
            ps = parts(node)
            if len(ps) == 1:
                return self.eval(ps[0], frame, here)
            toks = [c for c in node.children if isinstance(c, Token)]
            raise TFError(f"cannot read the expression term {' '.join(map(str, toks))}")
        if kind == "int_lit":
            return int(str(node.children[0])), here
        if kind == "float_lit":
            v = float(str(node.children[0]))
            return (int(v) if v.is_integer() and "e" not in str(node.children[0]).lower() else v), here
        if kind == "literal_value":
            return {"true": True, "false": False, "null": None}[str(node.children[0])], here
        if kind == "string":
            return self._string(node, frame, here), here
        if kind in ("heredoc_template", "heredoc_template_trim"):
            return self._heredoc(str(node.children[0]), kind.endswith("trim"), frame, here), here
        if kind == "template_string":
            return Unknown("a template directive string is not evaluated by vmsslint"), here
        if kind == "tuple":
            return self._tuple(node, frame, here)
        if kind == "object":
            return self._object(node, frame, here)
        if kind == "identifier":
            return self._reference(str(node.children[0]), [], frame, here)
        if kind in ("get_attr_expr_term", "index_expr_term", "attr_splat_expr_term", "full_splat_expr_term"):
            return self._traversal(node, frame, here)
        if kind == "function_call":
            return self._call(node, frame, here)
        if kind == "conditional":
            cond, a, b = parts(node)
            c = self.value(cond, frame, here)
            if is_unknown(c):
                return Unknown(f"the condition is unknown: {_why(c)}"), here
            if not isinstance(c, bool):
                raise TFError(f"a condition must be true or false, not {_type(c)}")
            return self.eval(a if c else b, frame, here)
        if kind == "binary_op":
            ps = parts(node)
            left = ps[0]
            term = ps[1]
            op_node, right = parts(term)
            op = str(op_node.children[0])
            return self._binary(op, left, right, frame, here), here
        if kind == "unary_op":
            op = str(node.children[0])
            v = self.value(parts(node)[0], frame, here)
            if is_unknown(v):
                return unknown_of(v), here
            if op == "!":
                if not isinstance(v, bool):
                    raise TFError(f"'!' needs true or false, not {_type(v)}")
                return (not v), here
            n = _number(v)
            return -n, here
        if kind in ("for_tuple_expr", "for_object_expr"):
            return self._for(node, frame, here)
        raise TFError(f"'{kind}' expressions are not evaluated by vmsslint")

    # -- strings
    def _string(self, node, frame, here):
        Token, Tree = _tree()
        pieces = []
        for sp in node.children:
            if not isinstance(sp, Tree) or sp.data != "string_part":
                continue
            inner = sp.children[0]
            if isinstance(inner, Token):
                t = inner.type
                s = str(inner)
                if t == "ESCAPED_INTERPOLATION" or t == "ESCAPED_DIRECTIVE":
                    pieces.append(_unescape(s[1:]))
                else:
                    pieces.append(_unescape(s))
            elif inner.data == "interpolation":
                v = self.value(parts(inner)[0], frame, here)
                pieces.append(_to_text(v))
            else:
                return Unknown("a template directive (%{ if } / %{ for }) is not evaluated by vmsslint")
        return Partial.join(pieces)

    def _heredoc(self, text, trim, frame, here):
        first_nl = text.index("\n")
        marker = text[2 + (1 if trim else 0):first_nl].strip()
        body = text[first_nl + 1:]
        body = body.rstrip("\n").rstrip("\r")
        if body.rstrip().endswith(marker):
            body = body.rstrip()[:-len(marker)]
        lines = body.split("\n")
        if lines and lines[-1].strip() == "":
            lines = lines[:-1]
        if trim:
            indents = [len(ln) - len(ln.lstrip(" \t")) for ln in lines if ln.strip()]
            cut = min(indents) if indents else 0
            lines = [ln[cut:] for ln in lines]
        body = "\n".join(lines) + ("\n" if lines else "")
        if "${" not in body and "%{" not in body:
            return body.replace("$${", "${")
        return self._template(body, frame, here)

    def _template(self, body, frame, here):
        from linter.terraform.hcl import parse_expression_text
        out = []
        i = 0
        n = len(body)
        while i < n:
            j = body.find("${", i)
            k = body.find("%{", i)
            if k != -1 and (j == -1 or k < j) and not (k > 0 and body[k - 1] == "%"):
                return Unknown("a template directive (%{ if } / %{ for }) is not evaluated by vmsslint")
            if j == -1:
                out.append(body[i:])
                break
            if j > 0 and body[j - 1] == "$":
                out.append(body[i:j - 1] + "${")
                i = j + 2
                continue
            out.append(body[i:j])
            depth = 0
            m = j + 2
            while m < n:
                ch = body[m]
                if ch == "{":
                    depth += 1
                elif ch == "}":
                    if depth == 0:
                        break
                    depth -= 1
                elif ch == '"':
                    m += 1
                    while m < n and body[m] != '"':
                        m += 2 if body[m] == "\\" else 1
                m += 1
            inner = body[j + 2:m].strip().lstrip("~").rstrip("~")
            tree = parse_expression_text(inner)
            if tree is None:
                out.append(Unknown(f"the interpolation ${{{inner[:40]}}} cannot be read"))
            else:
                out.append(_to_text(self.value(tree, frame, here)))
            i = m + 1
        return Partial.join(out)

    # -- collections
    def _tuple(self, node, frame, here):
        shadow = self._shadow(node, here, JArray)
        out = EArray(here)
        for item in parts(node):
            idx = len(out)
            shadow.vpos.append(span_of(item))
            v, loc = self.eval(item, frame, (shadow, idx))
            out.append(v)
            out.locs.append(loc)
        return out, here

    def _object(self, node, frame, here):
        shadow = self._shadow(node, here, JObject)
        out = EObject(here)
        for elem in parts(node):
            key_node, value_node = parts(elem)[0], parts(elem)[-1]
            key = self._object_key(key_node, frame, here)
            if is_unknown(key):
                return Unknown(f"an object key is unknown: {_why(key)}"), here
            key = _to_text(key)
            shadow.kpos[key] = span_of(key_node)
            shadow.vpos[key] = span_of(value_node)
            v, loc = self.eval(value_node, frame, (shadow, key))
            out[key] = v
            out.locs[key] = loc
        return out, here

    def _object_key(self, key_node, frame, here):
        Token, Tree = _tree()
        inner = parts(key_node)
        if not inner:  # a keyword used as a key
            return str(key_node.children[0])
        e = inner[0]
        if e.data == "expr_term":
            ps = parts(e)
            if len(ps) == 1 and ps[0].data == "identifier" and len(e.children) == 1:
                return str(ps[0].children[0])
        if e.data == "identifier":
            return str(e.children[0])
        return self.value(e, frame, here)

    def _shadow(self, node, here, cls):
        """Positions of a literal object/tuple, as a child of the container the value sits in."""
        src = here[0].src if here and isinstance(here[0], (JObject, JArray)) else self.module.src_of(node)
        s = cls(src, node.meta.start_pos)
        s.end = node.meta.end_pos
        if here and isinstance(here[0], (JObject, JArray)):
            s.parent, s.pkey = here[0], here[1]
        return s

    # -- references
    def _traversal(self, node, frame, here):
        Token, Tree = _tree()
        ops = []
        cur = node
        while True:
            if cur.data == "expr_term":
                ps = parts(cur)
                if len(ps) == 1 and len(cur.children) == 1:
                    cur = ps[0]
                    continue
                break
            if cur.data == "get_attr_expr_term":
                base, ga = parts(cur)
                ops.append(("attr", _name_of_attr(ga)))
                cur = base
            elif cur.data == "index_expr_term":
                base, idx = parts(cur)
                if idx.data == "short_index":
                    ops.append(("index", int(str(idx.children[-1]))))
                else:
                    ops.append(("index_node", parts(idx)[0]))
                cur = base
            elif cur.data in ("attr_splat_expr_term", "full_splat_expr_term"):
                base, splat = parts(cur)
                ops.append(("splat", parts(splat)))
                cur = base
            else:
                break
        ops.reverse()
        resolved = []
        for op in ops:
            if op[0] == "index_node":
                k = self.value(op[1], frame, here)
                resolved.append(("index", k))
            else:
                resolved.append(op)
        if cur.data == "identifier":
            return self._reference(str(cur.children[0]), resolved, frame, here)
        base, loc = self.eval(cur, frame, here)
        return self.apply(base, loc, resolved, frame, here)

    def _reference(self, root, ops, frame, here):
        bound = frame.lookup(root) if frame is not None else None
        if bound is not None:
            value, loc = bound
            return self.apply(value, loc or here, ops, frame, here)
        return self.module.resolve(root, ops, frame, here, self)

    def apply(self, value, loc, ops, frame, here):
        """Follow ``.attr`` / ``[key]`` / splat steps from a value."""
        for i, op in enumerate(ops):
            kind = op[0]
            if kind == "splat":
                rest = [("attr", _name_of_attr(s)) if s.data == "get_attr" else
                        ("index", self.value(parts(s)[0], frame, here) if s.data == "braces_index"
                         else int(str(s.children[-1]))) for s in op[1]]
                if is_unknown(value):
                    return unknown_of(value), here
                items = value if isinstance(value, list) else ([] if value is None else [value])
                out = EArray(loc)
                for j, item in enumerate(items):
                    iloc = _loc_in(items, j) or loc
                    v, vl = self.apply(item, iloc, rest, frame, here)
                    out.append(v)
                    out.locs.append(vl)
                return self.apply(out, loc, ops[i + 1:], frame, here)
            key = op[1]
            if is_unknown(value):
                return Unknown(_why(value), _member_key(value, key)), loc
            if is_unknown(key):
                return Unknown(_why(key)), here
            if isinstance(value, dict):
                key = _to_text(key) if not isinstance(key, str) else key
                if key not in value:
                    raise TFError(f"this object has no attribute or key \"{key}\"")
                loc = _loc_in(value, key) or loc
                value = value[key]
            elif isinstance(value, list):
                if kind == "attr":
                    raise TFError(f"a list has no attribute \"{key}\" (use an index, or a splat [*].{key})")
                try:
                    idx = int(_number(key))
                except TFError:
                    raise TFError(f"a list index must be a number, not {_type(key)}") from None
                if not 0 <= idx < len(value):
                    raise TFError(f"index {idx} is out of range for a list of {len(value)} items")
                loc = _loc_in(value, idx) or loc
                value = value[idx]
            elif value is None:
                raise TFError(f"attempt to read \"{key}\" of a null value")
            else:
                raise TFError(f"{_type(value)} has no attribute or key \"{key}\"")
        return value, loc

    # -- operators
    def _binary(self, op, left, right, frame, here):
        a = self.value(left, frame, here)
        if op == "&&" and a is False:
            return False
        if op == "||" and a is True:
            return True
        b = self.value(right, frame, here)
        if op in ("==", "!="):
            if is_unknown(a) or is_unknown(b) or _has_unknown(a) or _has_unknown(b):
                return Unknown(f"a compared value is unknown: {_why(a if is_unknown(a) else b)}")
            eq = _equal(a, b)
            return eq if op == "==" else not eq
        if is_unknown(a) or is_unknown(b):
            return Unknown(_why(a if is_unknown(a) else b))
        if op in ("&&", "||"):
            if not isinstance(a, bool) or not isinstance(b, bool):
                raise TFError(f"'{op}' needs true or false values")
            return (a and b) if op == "&&" else (a or b)
        x, y = _number(a), _number(b)
        if op == "+":
            return x + y
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        if op == "/":
            if y == 0:
                raise TFError("division by zero")
            r = x / y
            return int(r) if r == int(r) else r
        if op == "%":
            if y == 0:
                raise TFError("division by zero")
            return x % y
        return {"<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]

    # -- for expressions
    def _for(self, node, frame, here):
        Token, Tree = _tree()
        ps = parts(node)
        intro = ps[0]
        names = [str(c.children[0]) for c in parts(intro) if c.data == "identifier"]
        coll_node = [c for c in parts(intro) if c.data != "identifier"][0]
        rest = ps[1:]
        cond = None
        if rest and rest[-1].data == "for_cond":
            cond = parts(rest[-1])[0]
            rest = rest[:-1]
        grouping = any(isinstance(c, Token) and str(c) == "..." for c in node.children)
        coll, cloc = self.eval(coll_node, frame, here)
        if is_unknown(coll):
            return Unknown(f"a for expression runs over an unknown collection: {_why(coll)}"), here
        if isinstance(coll, dict):
            items = [(k, v, _loc_in(coll, k)) for k, v in coll.items()]
        elif isinstance(coll, list):
            items = [(i, v, _loc_in(coll, i)) for i, v in enumerate(coll)]
        else:
            raise TFError(f"a for expression needs a list, set, map or object, not {_type(coll)}")
        is_obj = node.data == "for_object_expr"
        out = EObject(here) if is_obj else EArray(here)
        self.iterations += len(items)
        if self.iterations > MAX_ITERATIONS:
            raise TFLimit(f"for expressions iterate more than {MAX_ITERATIONS} times in this module; the rest is "
                          f"not evaluated")
        for k, v, vloc in items:
            bind = {names[-1]: (v, vloc)}
            if len(names) == 2:
                bind[names[0]] = (k, None)
            inner = frame.child(bind) if frame is not None else Frame(bind)
            if cond is not None:
                c = self.value(cond, inner, here)
                if is_unknown(c):
                    return Unknown(f"a for expression's condition is unknown: {_why(c)}"), here
                if c is not True:
                    continue
            if is_obj:
                kk = self.value(rest[0], inner, here)
                if is_unknown(kk):
                    return Unknown(f"a key of a for expression is unknown: {_why(kk)}"), here
                vv, vl = self.eval(rest[1], inner, here)
                kk = _to_text(kk)
                if grouping:
                    group = out.get(kk)
                    if group is None:
                        group = out[kk] = EArray(vl)
                        out.locs[kk] = vl
                    group.append(vv)
                    group.locs.append(vl)
                else:
                    out[kk] = vv
                    out.locs[kk] = vl
            else:
                vv, vl = self.eval(rest[0], inner, here)
                out.append(vv)
                out.locs.append(vl)
        return out, here

    # -- functions
    def _call(self, node, frame, here):
        Token, Tree = _tree()
        ids = [c for c in node.children if isinstance(c, Tree) and c.data == "identifier"]
        name = "::".join(str(i.children[0]) for i in ids)
        args_node = next((c for c in node.children if isinstance(c, Tree) and c.data == "arguments"), None)
        arg_nodes = parts(args_node) if args_node is not None else []
        expand = args_node is not None and any(isinstance(c, Token) and str(c) == "..." for c in args_node.children)
        from linter.terraform import functions
        fn = functions.FUNCTIONS.get(name)
        if fn is None:
            if name.startswith("provider::"):
                return Unknown(f"provider function {name}() is evaluated by the provider"), here
            raise TFError(f"there is no function named \"{name}\"")
        lazy = getattr(fn, "lazy", False)
        if lazy:  # try(), can(): evaluate the arguments themselves
            return fn(self, arg_nodes, frame, here)
        args = []
        locs = []
        for a in arg_nodes:
            v, l = self.eval(a, frame, here)
            args.append(v)
            locs.append(l)
        if expand and args:
            last = args.pop()
            locs.pop()
            if is_unknown(last):
                return Unknown(f"the arguments of {name}() are unknown: {_why(last)}"), here
            if not isinstance(last, list):
                raise TFError(f"'...' needs a list, not {_type(last)}")
            args.extend(last)
            locs.extend(_loc_in(last, i) for i in range(len(last)))
        if getattr(fn, "passes_loc", False):
            return fn(args, locs, here)
        if getattr(fn, "unknown_ok", False) is False:
            for a in args:
                if is_unknown(a) or _deep_unknown(a):
                    return Unknown(f"an argument of {name}() is unknown: {_why(_first_unknown(a))}"), here
        try:
            return fn(*args), here
        except TFError:
            raise
        except (TypeError, ValueError, AttributeError, KeyError, IndexError, ZeroDivisionError, RecursionError) as exc:
            raise TFError(f"{name}(): {exc}") from None
        except Exception as exc:  # noqa: BLE001 - re.error and friends: the call is refused, not a crash
            raise TFError(f"{name}(): {exc}") from None


def _member_key(value, key):
    if isinstance(value, Unknown) and value.key:
        return f"{value.key}.{key}" if isinstance(key, str) else f"{value.key}[{key}]"
    return None


def _name_of_attr(get_attr):
    ps = parts(get_attr)
    return str(ps[0].children[0])


def _loc_in(container, key):
    from linter.arm.template import loc_of
    return loc_of(container, key)


def _unescape(s):
    """HCL string escapes: \\n \\r \\t \\" \\\\ \\uNNNN \\UNNNNNNNN."""
    if "\\" not in s:
        return s
    out = []
    i = 0
    n = len(s)
    while i < n:
        ch = s[i]
        if ch == "\\" and i + 1 < n:
            nxt = s[i + 1]
            if nxt in "uU":
                width = 4 if nxt == "u" else 8
                digits = s[i + 2:i + 2 + width]
                try:
                    out.append(chr(int(digits, 16)))
                    i += 2 + width
                    continue
                except ValueError:
                    pass
            out.append({"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _type(v):
    if isinstance(v, bool):
        return "a bool"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "an object"
    if v is None:
        return "null"
    return "an unknown value"


def _number(v):
    if isinstance(v, bool):
        raise TFError("a bool is not a number")
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        try:
            f = float(v)
        except ValueError:
            raise TFError(f"\"{v}\" is not a number") from None
        return int(f) if f.is_integer() and "." not in v and "e" not in v.lower() else f
    raise TFError(f"{_type(v)} is not a number")


def _to_text(v):
    """A value in a string template: numbers and bools as Terraform prints them."""
    if isinstance(v, (str, Partial, Unknown)):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
    if v is None:
        raise TFError("a null value cannot be used in a string template")
    raise TFError(f"{_type(v)} cannot be used in a string template")


def _equal(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return a == b


def _deep_unknown(v, depth=0):
    if depth > 32:
        return False
    if is_unknown(v):
        return True
    if isinstance(v, dict):
        return any(_deep_unknown(x, depth + 1) for x in v.values())
    if isinstance(v, list):
        return any(_deep_unknown(x, depth + 1) for x in v)
    return False


_has_unknown = _deep_unknown


def _first_unknown(v):
    if is_unknown(v):
        return v
    if isinstance(v, dict):
        for x in v.values():
            u = _first_unknown(x)
            if u is not None:
                return u
    if isinstance(v, list):
        for x in v:
            u = _first_unknown(x)
            if u is not None:
                return u
    return None
