"""Reading HCL with positions: bodies, attributes and blocks of ``.tf`` and ``.tfvars`` files.

The syntax is parsed by python-hcl2's Lark grammar (``hcl2.parses_to_tree``), whose raw tree keeps
the start and end offset of every node (``propagate_positions``); python-hcl2's own dict output
drops them, so this module walks the raw tree.  Each body gets a *shadow*: a
:class:`~linter.jsonc.JObject` of the ``.tf`` file whose ``kpos``/``vpos`` hold the positions of the
attribute names and values and whose ``parent``/``pkey`` chain names the block path — so a Loc
``(shadow, "upgrade_mode")`` turns into ``file:line:col`` exactly as a Loc into a JSON template does.

The parser is imported only when a Terraform file is read.
"""

from __future__ import annotations

from linter.jsonc import JObject
from linter.source import SourceFile


class HCLSyntaxError(Exception):
    def __init__(self, message, offset):
        super().__init__(message)
        self.message = message
        self.offset = offset


class Attribute:
    __slots__ = ("name", "expr", "key_span", "value_span")

    def __init__(self, name, expr, key_span, value_span):
        self.name, self.expr, self.key_span, self.value_span = name, expr, key_span, value_span


class Block:
    """One block: ``type "label" ... { body }``; ``shadow`` is the JObject positions of its body."""

    __slots__ = ("type", "labels", "attributes", "blocks", "shadow", "start", "end", "header_end", "src")

    def __init__(self, btype, labels, src, start, header_end, end):
        self.type = btype
        self.labels = labels
        self.attributes: dict = {}
        self.blocks: list = []
        self.src = src
        self.start, self.header_end, self.end = start, header_end, end
        self.shadow = None

    def blocks_of(self, btype):
        return [b for b in self.blocks if b.type == btype]

    def __repr__(self):
        return f"Block({self.type} {' '.join(self.labels)})"


def _tree_types():
    from lark import Token, Tree
    return Token, Tree


def parse_file(src: SourceFile) -> Block:
    """The file's top-level body as a label-less :class:`Block` (type ``""``)."""
    import hcl2
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
    text = src.text
    try:
        tree = hcl2.parses_to_tree(text)
    except UnexpectedToken as exc:
        tok = exc.token
        found = "the end of the file" if tok.type == "$END" else f"'{_short(str(tok))}'"
        raise HCLSyntaxError(f"HCL syntax error: unexpected {found}", _clamp(getattr(tok, "start_pos", 0), text)) \
            from None
    except UnexpectedCharacters as exc:
        raise HCLSyntaxError(f"HCL syntax error: unexpected character '{_short(text[exc.pos_in_stream:][:1])}'",
                             _clamp(exc.pos_in_stream, text)) from None
    except UnexpectedEOF:
        raise HCLSyntaxError("HCL syntax error: unexpected end of file (a block or bracket is not closed)",
                             len(text)) from None
    except UnexpectedInput as exc:
        raise HCLSyntaxError(f"HCL syntax error: {str(exc).splitlines()[0]}",
                             _clamp(getattr(exc, "pos_in_stream", 0) or 0, text)) from None
    except RecursionError:
        raise HCLSyntaxError("HCL nests too deeply to read", 0) from None
    root = Block("", [], src, 0, 0, len(text))
    root.shadow = JObject(src, 0)
    root.shadow.end = len(text)
    body = tree.children[0]
    _read_body(body, root, src)
    return root


def _clamp(offset, text):
    return max(0, min(int(offset or 0), len(text)))


def _short(s):
    s = s.replace("\n", "\\n")
    return s if len(s) <= 20 else s[:17] + "..."


def _name_of(node):
    """Text of an attribute name / block type / unquoted label node."""
    Token, Tree = _tree_types()
    if isinstance(node, Token):
        return str(node)
    tok = node.children[0]
    return str(tok)


def _read_body(body, block: Block, src):
    Token, Tree = _tree_types()
    shadow = block.shadow
    counts: dict = {}
    for child in body.children:
        if not isinstance(child, Tree):
            continue
        if child.data == "attribute":
            name_node, _, expr = child.children[0], child.children[1], child.children[-1]
            name = _name_of(name_node)
            kspan = (name_node.meta.start_pos, name_node.meta.end_pos)
            vspan = (expr.meta.start_pos, expr.meta.end_pos)
            block.attributes[name] = Attribute(name, expr, kspan, vspan)
            shadow[name] = None
            shadow.kpos[name] = kspan
            shadow.vpos[name] = vspan
        elif child.data == "block":
            parts = [c for c in child.children if isinstance(c, Tree) and c.data not in ("body", "new_line_or_comment")]
            btype = _name_of(parts[0])
            labels = []
            for p in parts[1:]:
                if p.data == "string":
                    labels.append("".join(str(sp.children[0]) for sp in p.children if isinstance(sp, Tree)))
                else:
                    labels.append(_name_of(p))
            inner = next(c for c in child.children if isinstance(c, Tree) and c.data == "body")
            header_end = parts[-1].meta.end_pos
            sub = Block(btype, labels, src, child.meta.start_pos, header_end, child.meta.end_pos)
            n = counts.get(btype, 0)
            counts[btype] = n + 1
            key = btype if n == 0 else f"{btype}[{n}]"
            if labels:
                key = ".".join([btype] + labels) if btype not in ("resource", "data") else \
                    ("data." if btype == "data" else "") + ".".join(labels)
            sub.shadow = JObject(src, child.meta.start_pos)
            sub.shadow.end = child.meta.end_pos
            sub.shadow.parent = shadow
            sub.shadow.pkey = key
            shadow.kpos[key] = (child.meta.start_pos, header_end)
            shadow.vpos[key] = (child.meta.start_pos, child.meta.end_pos)
            _read_body(inner, sub, src)
            block.blocks.append(sub)


def parse_expression_text(text: str):
    """A lone expression (``-var`` values, heredoc interpolations): its Lark tree, or None."""
    import hcl2
    try:
        tree = hcl2.parses_to_tree(f"x = {text}\n")
    except Exception:  # noqa: BLE001 - any parse failure means: not an expression we can read
        return None
    body = tree.children[0]
    for child in body.children:
        if getattr(child, "data", None) == "attribute":
            return child.children[-1]
    return None
