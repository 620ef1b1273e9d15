"""Microsoft's documented template-function examples, evaluated offline with the documented values.

``tests/data/function_examples/<page>.json`` holds, per reference page (``template-functions-array``,
``-string``, ...), the example templates of each function and the output table the page documents
for them ("The output from the preceding example ... is: Name | Type | Value").  Each documented
output is one test: ``linter.arm.evaluate.evaluate_outputs`` must return the documented value, and
the output type as Azure spells it when the page gives one.

Outputs vmsslint does not reproduce yet are listed in ``KNOWN_DIFFERENCES`` (what we return vs what
the page documents) and are strict xfails: when the evaluator gets them right the XPASS fails, and the
entry must be removed here.  Nothing else is marked xfail.
"""

from __future__ import annotations

import functools
import json
import pathlib

import pytest

from linter.arm.evaluate import Context, evaluate_outputs

DATA = pathlib.Path(__file__).resolve().parent / "data" / "function_examples"
PAGES = ("array", "string", "comparison", "numeric", "object", "logical", "lambda", "date", "cidr",
         "resource", "scope", "deployment")
SOURCE = "https://learn.microsoft.com/en-us/azure/azure-resource-manager/templates/template-functions-"

# test id -> what vmsslint returns today vs what the page documents.  Remove an entry when it passes.
KNOWN_DIFFERENCES: dict[str, str] = {
    # indexFromEnd / tryIndexFromEnd: not implemented
    "array/indexFromEnd:secondToLast":
        "indexFromEnd(['apple','banana','orange','grape'], 2): we return unknown (function not known), "
        "documented 'orange'",
    "array/tryIndexFromEnd:secondToLast":
        "tryIndexFromEnd(items, 2): we return unknown (function not known), documented 'orange'",
    "array/tryIndexFromEnd-outOfBound:outOfBound":
        "tryIndexFromEnd(items, 5) on 4 items: we return unknown (function not known), documented null",
    # base64ToJson: Azure's JSON reader accepts single quotes
    "string/base64:toJsonOutput":
        "base64ToJson(base64(\"{'one': 'a', 'two': 'b'}\")): we return unknown (json(): strings must be in "
        "double quotes), documented {'one': 'a', 'two': 'b'}",
    # uniqueString: symbolic today
    "string/uniqueString-vectors:azapiVector":
        "uniqueString('/subscriptions/00000000-0000-0000-0000-000000000000', 'resource-id'): we return unknown, "
        "expected 'cwvxuqg24sifi' (issue 9)",
    "string/uniqueString-vectors:testVector":
        "uniqueString('test'): we return unknown, expected 'rbgf3xv4ufgzg' (issue 9)",
    # less/greater family: the page's string comparison is not ordinal
    "comparison/greater:checkStrings":
        "greater('A', 'a'): we return false (ordinal), documented true",
    "comparison/greaterOrEquals:checkStrings":
        "greaterOrEquals('A', 'a'): we return false (ordinal), documented true",
    "comparison/less:checkStrings":
        "less('A', 'a'): we return true (ordinal), documented false",
    "comparison/lessOrEquals:checkStrings":
        "lessOrEquals('A', 'a'): we return true (ordinal), documented false",
    # dateTimeAdd without a format: the page shows .NET's en-US general format of the result
    "date/dateTimeAdd:add3Years":
        "dateTimeAdd('2020-04-07 14:53:14Z', 'P3Y'): we return '2023-04-07T14:53:14Z', documented "
        "'4/7/2023 2:53:14 PM'",
    "date/dateTimeAdd:subtract9Days":
        "dateTimeAdd('2020-04-07 14:53:14Z', '-P9D'): we return '2020-03-29T14:53:14Z', documented "
        "'3/29/2020 2:53:14 PM'",
    "date/dateTimeAdd:add1Hour":
        "dateTimeAdd('2020-04-07 14:53:14Z', 'PT1H'): we return '2020-04-07T15:53:14Z', documented "
        "'4/7/2020 3:53:14 PM'",
    # IPv6 CIDR: no network/broadcast reservation
    "cidr/parseCidr-v6:v6info":
        "parseCidr('fdad:3236:5555::/48'): we return firstUsable 'fdad:3236:5555::1', lastUsable "
        "'...:ffff:ffff:ffff:ffff:fffe'; documented firstUsable 'fdad:3236:5555::', lastUsable "
        "'fdad:3236:5555:ffff:ffff:ffff:ffff:ffff' (and no broadcast key, which we already omit)",
    "cidr/cidrHost-v6:v6hosts":
        "cidrHost('fdad:3236:5555:3000::/52', 0..4): we return '...3000::', '::1' .. '::4'; documented "
        "'fdad:3236:5555:3000::1' .. '::5' (index 0 is ::1 for IPv6 as for IPv4)",
    # pickZones: needs Azure's zone data
    "resource/pickZones:supported":
        "pickZones('Microsoft.Compute', 'virtualMachines', 'westus2'): we return unknown, documented ['1']",
    "resource/pickZones:notSupportedRegion":
        "pickZones('Microsoft.Compute', 'virtualMachines', 'westus'): we return unknown, documented []",
    "resource/pickZones:notSupportedType":
        "pickZones('Microsoft.Cdn', 'profiles', 'westus2'): we return unknown, documented []",
    # resourceGroup(): extra keys
    "scope/resourceGroup:resourceGroupOutput":
        "resourceGroup() with subscription/group/location known: we add 'managedBy': null and 'tags': {}; the "
        "documented object has only id, name, type, location and properties.provisioningState 'Succeeded' "
        "(the page: managedBy is returned only for groups managed by another service)",
    # environment(): unknown today
    "deployment/environment:environmentOutput":
        "environment(): we return unknown; documented the AzureCloud object (name 'AzureCloud', "
        "resourceManager 'https://management.azure.com/', suffixes.storage 'core.windows.net', ...)",
}


def _load():
    entries = []
    for page in PAGES:
        for entry in json.loads((DATA / f"{page}.json").read_text(encoding="utf-8")):
            entries.append((page, entry))
    return entries


ENTRIES = _load()
BY_ID = {entry["id"]: entry for _page, entry in ENTRIES}


def _cases():
    for _page, entry in ENTRIES:
        for name in entry["expected"]:
            test_id = f"{entry['id']}:{name}"
            marks = ()
            if test_id in KNOWN_DIFFERENCES:
                marks = (pytest.mark.xfail(strict=True, reason=KNOWN_DIFFERENCES[test_id]),)
            yield pytest.param(entry["id"], name, id=test_id, marks=marks)


CASES = list(_cases())


@functools.lru_cache(maxsize=None)
def _outputs(entry_id):
    entry = BY_ID[entry_id]
    return evaluate_outputs(entry["template"], entry.get("parameters"), Context(**entry.get("context", {})))


def same(actual, expected) -> bool:
    """JSON equality as the docs mean it: numbers numerically, booleans exactly, object key order ignored."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, (int, float)):
        return isinstance(actual, (int, float)) and actual == expected
    if isinstance(expected, dict):
        return (isinstance(actual, dict) and actual.keys() == expected.keys()
                and all(same(actual[k], v) for k, v in expected.items()))
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(actual) == len(expected)
                and all(same(a, e) for a, e in zip(actual, expected)))
    return type(actual) is type(expected) and actual == expected


@pytest.mark.parametrize("entry_id,name", CASES)
def test_documented_output(entry_id, name):
    entry = BY_ID[entry_id]
    outputs = _outputs(entry_id)
    assert name in outputs, f"{entry_id}: no output {name!r} (outputs: {sorted(outputs)})"
    expected = entry["expected"][name]
    actual = outputs[name]["value"]
    assert same(actual, expected), (f"{entry_id} ({entry['source']}): {name} = {json.dumps(actual)}, "
                                    f"documented {json.dumps(expected)}")
    if name in entry.get("types", {}):
        assert outputs[name]["type"] == entry["types"][name]


def test_same_compares_like_json():
    assert same({"a": [1, 2.0]}, {"a": [1, 2]})
    assert not same(1, True) and not same(True, 1) and not same(0, False)
    assert not same({"a": 1}, {"a": 1, "b": 2}) and not same([1], [1, 1]) and not same("1", 1)
    assert same(None, None) and not same(None, "")


def test_every_page_has_examples_with_sources():
    assert sorted(DATA.glob("*.json")) == sorted(DATA / f"{p}.json" for p in PAGES)
    for page, entry in ENTRIES:
        assert set(entry) <= {"id", "function", "covers", "source", "template", "parameters", "context",
                              "expected", "types", "note"}, entry["id"]
        assert entry["id"].startswith(page + "/")
        assert entry["source"].startswith(SOURCE + page + "#"), entry["id"]
        assert set(entry["expected"]) <= set(entry["template"]["outputs"]), entry["id"]
        assert set(entry.get("types", {})) <= set(entry["expected"]), entry["id"]
        assert entry["expected"] or entry.get("note"), f"{entry['id']}: nothing asserted and no note saying why"
        Context(**entry.get("context", {}))
    assert len({entry["id"] for _p, entry in ENTRIES}) == len(ENTRIES)
    assert len(CASES) >= 200


def test_known_differences_name_existing_tests():
    ids = {case.id for case in CASES}
    assert not set(KNOWN_DIFFERENCES) - ids
