"""The JSON reader: what Azure accepts, with positions; clear errors for what it does not."""

from __future__ import annotations

import codecs

import pytest

from linter.jsonc import MAX_DEPTH, JSONSyntaxError, ci_get, parse, pointer
from linter.source import MAX_FILE_BYTES, LoadError, SourceFile, decode


def load(text):
    src = SourceFile("t.json", text)
    value, dups = parse(src)
    return src, value, dups


def pos_of(src, obj, key):
    return src.position(obj.vpos[key][0])


def test_plain_values_equal_json_module():
    import json
    text = '{"a": [1, 2.5, -3e2, true, false, null, "x\\u00e9\\n"], "b": {"c": ""}}'
    _, value, dups = load(text)
    assert value == json.loads(text)
    assert dups == []


def test_comments_trailing_commas_and_multiline_strings():
    text = ('{\n  // line comment\n  "a": 1, /* block\n comment */ "b": [1, 2,],\n'
            '  "c": "two\nlines",\n}\n')
    src, value, _ = load(text)
    assert value == {"a": 1, "b": [1, 2], "c": "two\nlines"}
    assert pos_of(src, value, "b") == (4, 18)


def test_positions_with_tabs_crlf_and_bom():
    text = '{\r\n\t"a": {\r\n\t\t"b": "x"\r\n\t}\r\n}\r\n'
    data = codecs.BOM_UTF8 + text.encode()
    decoded, _ = decode(data)
    src, value, _ = load(decoded)
    inner = value["a"]
    # a tab is one column; the BOM is not part of the text
    assert pos_of(src, inner, "b") == (3, 8)
    assert src.position(inner.kpos["b"][0]) == (3, 3)
    assert pos_of(src, value, "a") == (2, 7)


def test_utf16_with_bom_is_read():
    data = codecs.BOM_UTF16_LE + '{"a": "é"}'.encode("utf-16-le")
    text, enc = decode(data)
    assert text == '{"a": "é"}'
    assert enc == "utf-16"


def test_invalid_utf8_is_a_load_error():
    with pytest.raises(LoadError) as info:
        decode(b'{"a": "\xff"}')
    assert "not valid UTF-8" in info.value.message


def test_duplicate_keys_exact_and_case_insensitive():
    text = '{\n "a": 1,\n "A": 2,\n "b": 3,\n "b": 4\n}'
    src, value, dups = load(text)
    assert value == {"A": 2, "b": 4}  # the last spelling wins, as in JSON.NET
    assert [(d.key, d.first_key, src.position(d.offset), src.position(d.first_offset)) for d in dups] == [
        ("A", "a", (3, 2), (2, 2)), ("b", "b", (5, 2), (4, 2))]


@pytest.mark.parametrize("text, message, line, col", [
    ('{"a": 1 "b": 2}', "expected ',' or '}'", 1, 9),
    ('{"a": 1,\n  "b": }', "expected a value, found '}'", 2, 8),
    ("{'a': 1}", "strings must be in double quotes", 1, 2),
    ('{"a": [1, 2}', "'}' does not close the '[' opened at 1:7", 1, 12),
    ('{"a": 1', "the '{' opened at 1:1 is not closed", 1, 8),
    ('{"a": "unterminated}', "unterminated string", 1, 7),
    ('{"a": 1} /* open', "unterminated /* comment", 1, 10),
    ('{"a": 1} x', "after the end of the JSON value", 1, 10),
    ("", "the file is empty", 1, 1),
    ('{"a": tru}', "expected a value, found 'tru'", 1, 7),
    ('{"a": "\\x"}', "invalid escape", 1, 7),
])
def test_syntax_errors_carry_position(text, message, line, col):
    src = SourceFile("t.json", text)
    with pytest.raises(JSONSyntaxError) as info:
        parse(src)
    assert message in info.value.message
    assert src.position(info.value.offset) == (line, col)


def test_depth_is_bounded_without_recursion():
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    with pytest.raises(JSONSyntaxError) as info:
        parse(SourceFile("t.json", deep))
    assert "nesting deeper than" in info.value.message
    ok = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    parse(SourceFile("t.json", ok))


def test_huge_file_is_refused_with_a_message(tmp_path):
    p = tmp_path / "big.json"
    with open(p, "wb") as fh:
        fh.seek(MAX_FILE_BYTES + 1)
        fh.write(b"\0")
    with pytest.raises(LoadError) as info:
        SourceFile.read(str(p))
    assert "MiB" in info.value.message


def test_pointer_and_case_insensitive_get():
    src, value, _ = load('{"Resources": [{"Properties": {"a/b": {"c~d": 1}}}]}')
    res = ci_get(value, "resources")[0]
    props = ci_get(res, "properties")
    inner = props["a/b"]
    assert pointer(inner, "c~d") == "/Resources/0/Properties/a~1b/c~0d"
    assert ci_get(props, "A/B") == {"c~d": 1}
