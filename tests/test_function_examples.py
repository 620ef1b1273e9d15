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
    # dateTimeAdd without a format: the page's table shows the result as a client rendered it (.NET's
    # en-US general date format); the function returns the result in the format of its base value
    # ('u' here), as the page's parameter table says.  Kept as a known difference on purpose.
    "date/dateTimeAdd:add3Years":
        "dateTimeAdd('2020-04-07 14:53:14Z', 'P3Y'): we return '2023-04-07 14:53:14Z' (the base's format), "
        "the table shows '4/7/2023 2:53:14 PM'",
    "date/dateTimeAdd:subtract9Days":
        "dateTimeAdd('2020-04-07 14:53:14Z', '-P9D'): we return '2020-03-29 14:53:14Z', the table shows "
        "'3/29/2020 2:53:14 PM'",
    "date/dateTimeAdd:add1Hour":
        "dateTimeAdd('2020-04-07 14:53:14Z', 'PT1H'): we return '2020-04-07 15:53:14Z', the table shows "
        "'4/7/2020 3:53:14 PM'",
    # pickZones: the zones of a region are Azure's data at deployment time; unknown on purpose
    "resource/pickZones:supported":
        "pickZones('Microsoft.Compute', 'virtualMachines', 'westus2'): we return unknown, documented ['1']",
    "resource/pickZones:notSupportedRegion":
        "pickZones('Microsoft.Compute', 'virtualMachines', 'westus'): we return unknown, documented []",
    "resource/pickZones:notSupportedType":
        "pickZones('Microsoft.Cdn', 'profiles', 'westus2'): we return unknown, documented []",
    # environment(): depends on the cloud deployed to (AzureCloud, sovereign clouds, Azure Stack Hub);
    # unknown on purpose
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
