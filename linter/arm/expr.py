"""Parser and evaluator of the ARM template expression language.

A JSON string that starts with ``[`` and ends with ``]`` is an expression; ``[[`` escapes a
literal leading bracket.  Grammar::

    expr    := primary ( '.' NAME | '[' expr ']' )*
    primary := STRING | NUMBER | NAME ( '.' NAME )? '(' [ expr ( ',' expr )* ] ')'

Strings are single-quoted with ``''`` for a quote; function names are case-insensitive;
``ns.name(...)`` calls a user-defined function.  Nodes are small named classes (:class:`Lit`,
:class:`Call`, :class:`Get`, :class:`Index`), each keeping its own source text; one visitor
(:func:`linter.arm.functions.walk`) evaluates them.
"""

from __future__ import annotations

import re

from linter.arm.values import Partial, Unknown, canon

MAX_EXPR_LENGTH = 64 * 1024
MAX_EXPR_DEPTH = 64


class ExprSyntaxError(Exception):
    def __init__(self, message: str, column: int = 0):
        super().__init__(message)
        self.message = message
        self.column = column  # offset inside the expression text


class EvalError(Exception):
    """The template is wrong (a bad argument, a missing variable): Azure would refuse it."""


class Unsupported(Exception):
    """vmsslint cannot evaluate this (a function it does not know): the result is unverifiable."""


_TOK = re.compile(
    r"\s*(?:(?P<s>'(?:[^']|'')*')|(?P<n>-?\d+(?:\.\d+)?)|(?P<i>[A-Za-z_$][\w$]*)|(?P<p>[(),.\[\]])|(?P<e>\S))"
)


def is_expression(s: str) -> bool:
    return len(s) >= 2 and s[0] == "[" and s[-1] == "]" and s[1] != "["


def unescape_literal(s: str) -> str:
    """A string literal as ARM reads it: ``[[x]`` → ``[x]``."""
    if len(s) >= 2 and s[0] == "[" and s[1] == "[" and s[-1] == "]":
        return s[1:]
    return s


_cache: dict = {}


def parse(text: str):
    """Parse an expression (the text inside the outer brackets); results are cached."""
    node = _cache.get(text)
    if node is None:
        node = _Parser(text).parse()
        if len(_cache) > 20000:
            _cache.clear()
        _cache[text] = node
    return node


class Node:
    """A parsed expression node.  ``text`` is the node's own source text in the template."""

    __slots__ = ("text",)
    kind = ""


class Lit(Node):
    """A literal: a string, a number, ``true``/``false``/``null``."""

    __slots__ = ("value",)
    kind = "lit"

    def __init__(self, value, text):
        self.value, self.text = value, text


class Call(Node):
    """``name(args...)``; ``lname`` is the lower-case name used for lookup."""

    __slots__ = ("lname", "name", "args")
    kind = "call"

    def __init__(self, name, args, text):
        self.name, self.lname, self.args, self.text = name, name.lower(), args, text


class Get(Node):
    """``base.name``: a property access."""

    __slots__ = ("base", "name")
    kind = "get"

    def __init__(self, base, name, text):
        self.base, self.name, self.text = base, name, text


class Index(Node):
    """``base[index]``: an array index or a computed property name."""

    __slots__ = ("base", "index")
    kind = "index"

    def __init__(self, base, index, text):
        self.base, self.index, self.text = base, index, text


class _Parser:
    def __init__(self, text: str):
        if len(text) > MAX_EXPR_LENGTH:
            raise ExprSyntaxError(f"expression is {len(text)} characters long; the limit is {MAX_EXPR_LENGTH}")
        self.text = text
        self.toks = []
        pos = 0
        n = len(text)
        while pos < n:
            m = _TOK.match(text, pos)
            if m is None:  # trailing whitespace
                break
            if m.lastgroup is None:
                break
            kind = m.lastgroup
            if kind == "e":
                raise ExprSyntaxError(f"unexpected character {m.group('e')!r}", m.start("e"))
            self.toks.append((kind, m.group(kind), m.start(kind), m.end(kind)))
            pos = m.end()
        self.i = 0
        self.depth = 0

    def peek(self, k=0):
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else (None, None, len(self.text), len(self.text))

    def take(self, kind=None, value=None):
        tok = self.peek()
        if (kind and tok[0] != kind) or (value and tok[1] != value):
            want = repr(value) if value else {"i": "a function name", "s": "a string"}.get(kind, kind)
            found = "the end of the expression" if tok[0] is None else repr(tok[1])
            raise ExprSyntaxError(f"expected {want}, found {found}", tok[2])
        self.i += 1
        return tok

    def _end(self):
        return self.toks[self.i - 1][3]

    def parse(self):
        if not self.toks:
            raise ExprSyntaxError("empty expression", 0)
        node = self.expr()
        tok = self.peek()
        if tok[0] is not None:
            raise ExprSyntaxError(f"unexpected {tok[1]!r} after the end of the expression", tok[2])
        return node

    def expr(self):
        self.depth += 1
        if self.depth > MAX_EXPR_DEPTH:
            raise ExprSyntaxError(f"expression nested deeper than {MAX_EXPR_DEPTH} levels", self.peek()[2])
        kind, val, pos, end = self.peek()
        if kind == "s":
            self.i += 1
            node = Lit(val[1:-1].replace("''", "'"), val)
        elif kind == "n":
            self.i += 1
            if "." in val:
                number = float(val)
            else:
                if len(val.lstrip("-")) > 19:
                    raise ExprSyntaxError(f"the number {val[:24]}... does not fit in a 64-bit integer", pos)
                number = int(val)
                if not -2 ** 63 <= number < 2 ** 63:
                    raise ExprSyntaxError(f"the number {val} does not fit in a 64-bit integer", pos)
            node = Lit(number, val)
        elif kind == "i":
            self.i += 1
            name = val
            if self.peek()[1] == "." and self.peek(1)[0] == "i" and self.peek(2)[1] == "(":
                self.i += 1
                name = name + "." + self.take("i")[1]
            if self.peek()[1] != "(":
                low = name.lower()
                if low in ("true", "false", "null"):
                    node = Lit({"true": True, "false": False, "null": None}[low], val)
                else:
                    raise ExprSyntaxError(f"{name!r} must be a function call: write {name}(...)", pos)
            else:
                self.take("p", "(")
                args = []
                if self.peek()[1] != ")":
                    args.append(self.expr())
                    while self.peek()[1] == ",":
                        self.i += 1
                        args.append(self.expr())
                self.take("p", ")")
                node = Call(name, tuple(args), self.text[pos:self._end()])
        elif kind is None:
            raise ExprSyntaxError("unexpected end of the expression", pos)
        else:
            raise ExprSyntaxError(f"unexpected {val!r}", pos)
        while True:
            tok = self.peek()
            if tok[1] == ".":
                self.i += 1
                name = self.take("i")[1]
                node = Get(node, name, self.text[pos:self._end()])
            elif tok[1] == "[":
                self.i += 1
                index = self.expr()
                self.take("p", "]")
                node = Index(node, index, self.text[pos:self._end()])
            else:
                break
        self.depth -= 1
        return node


def member(value, name) -> object:
    """``value.name`` / ``value[name]`` as ARM does it: property names match case-insensitively."""
    if isinstance(value, Unknown):
        return value.member(name)
    if isinstance(value, Partial):
        return Unknown(f"{value.display()} is only partly known", None)
    if isinstance(value, dict):
        if isinstance(name, str):
            if name in value:
                return value[name]
            low = name.lower()
            for k in value:
                if k.lower() == low:
                    return value[k]
            rest = getattr(value, "rest", None)
            if rest is not None:  # reference() of a resource in the template: the rest is runtime state
                return rest.member(name)
            raise EvalError(f"the object has no property '{name}'")
        raise EvalError(f"an object cannot be indexed with {name!r}")
    if isinstance(value, list):
        if isinstance(name, bool) or not isinstance(name, int):
            raise EvalError(f"an array cannot be indexed with {name!r}")
        if not -len(value) <= name < len(value) or name < 0:
            raise EvalError(f"index {name} is out of range for an array of {len(value)} items")
        return value[name]
    if value is None:
        raise EvalError(f"cannot read '{name}' of null")
    raise EvalError(f"cannot read '{name}' of a {type_name(value)}")


def type_name(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "number"
    if isinstance(value, (str, Partial)):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if value is None:
        return "null"
    if isinstance(value, Unknown):
        return "unknown"
    return type(value).__name__


def key_of(fname: str, args) -> str | None:
    """The key of an unknown result computed deterministically from ``args``."""
    parts = []
    for a in args:
        c = canon(a)
        if c is None:
            return None
        parts.append(c if not isinstance(a, str) else "'" + a + "'")
    return f"{fname}({', '.join(parts)})"
