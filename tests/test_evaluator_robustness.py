"""No value can crash evaluation or a rule: unknowns anywhere, a failing rule, hostile sizes."""

from __future__ import annotations

import os

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linter.arm.evaluate import to_json
from linter.arm.expr import Call, EvalError, Lit, Unsupported
from linter.arm.functions import FUNCTIONS, Lambda, call
from linter.arm.limits import LimitExceeded
from linter.arm.template import Options, load_deployment
from linter.arm.values import Partial, Unknown, canon, display
from linter.jsonc import parse as parse_json
from linter.source import SourceFile
from tests.conftest import SCHEMA, lint, vmss, write

TEMPLATE = {"$schema": SCHEMA, "contentVersion": "1.0.0.0",
            "parameters": {"p": {"type": "string", "defaultValue": "x"}}, "variables": {"v": [1, 2]},
            "resources": []}


def _scope():
    src = SourceFile("t.json", json.dumps(TEMPLATE))
    root, _ = parse_json(src)
    dep = load_deployment(root, src, {}, Options())
    return dep.root_scope


UNKNOWN = st.sampled_from([
    Unknown("known only at deployment", "resourceGroup().id", text="resourceGroup().id"),
    Unknown("a secret", None, secret=True, text="parameters('pw')"),
    Unknown("no key"),
])
PARTIAL = st.builds(lambda a, u, b: Partial.join([a, u, b]), st.text(max_size=8), UNKNOWN, st.text(max_size=8))
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 63, 2 ** 63 - 1), st.integers(-5, 40),
                   st.floats(allow_nan=False, allow_infinity=False, width=32),
                   st.text(max_size=12), st.sampled_from(["10.0.0.0/16", "2001:db8::/48", "2020-01-01T00:00:00Z",
                                                          "P1D", "a,b", "true", "{'one': 'a'}", "dGVzdA=="]))
VALUE = st.recursive(st.one_of(SCALAR, UNKNOWN, PARTIAL),
                     lambda inner: st.one_of(st.lists(inner, max_size=4),
                                             st.dictionaries(st.text(max_size=4), inner, max_size=4)),
                     max_leaves=10)

NAMES = sorted(FUNCTIONS)


def _lambda_node(n_params, body):
    return Call("lambda", tuple(Lit(f"x{i}", f"'x{i}'") for i in range(n_params)) + (body,), "lambda(...)")


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck), derandomize=bool(os.environ.get("CI")), database=None)
@given(name=st.sampled_from(NAMES), args=st.lists(VALUE, max_size=5), lam=st.integers(0, 3),
       data=st.data())
def test_every_function_accepts_every_mix_of_known_and_unknown_values(name, args, lam, data):
    impl, lo, hi, unknown_ok, lazy, canonical, shape = FUNCTIONS[name]
    n = data.draw(st.integers(lo, lo + 3 if hi is None else min(hi, lo + 3)))
    args = (args + [None] * n)[:n]
    nodes = [Lit(v, "v") for v in args]
    if lam and nodes:  # some functions want a lambda: give one at a random position
        body = Call("lambdaVariables", (Lit("x0", "'x0'"),), "lambdaVariables('x0')")
        nodes[data.draw(st.integers(0, len(nodes) - 1))] = _lambda_node(lam, body)
    node = Call(canonical, tuple(nodes), f"{canonical}(...)")
    scope = _scope()
    try:
        result = call(node, scope)
    except (EvalError, Unsupported, LimitExceeded):
        return  # a finding at the expression, as Azure would fail it — not a crash
    if isinstance(result, Lambda):
        return
    # whatever came back can be shown, compared and written as eval's JSON
    text = display(result)
    assert all(c in "\t\n" or ord(c) >= 0x20 for c in text), text
    canon(result)
    json.dumps(to_json(result))


@pytest.mark.parametrize("expression, expected", [
    ("length(createArray(parameters('u'), 'x'))", 2),
    ("join(createArray('a', 'b'), '-')", "a-b"),
    ("empty(createArray(parameters('u')))", False),
    ("first(createArray('a', parameters('u')))", "a"),
    ("length(union(createObject('a', parameters('u')), createObject('b', 1)))", 2),
])
def test_results_that_do_not_depend_on_the_unknown_part_are_known(expression, expected):
    t = dict(TEMPLATE, parameters={"u": {"type": "string"}},
             outputs={"o": {"type": "string", "value": f"[{expression}]"}})
    from linter.arm.evaluate import evaluate_outputs
    assert evaluate_outputs(t)["o"]["value"] == expected


def test_join_over_partly_known_values_is_partly_known():
    t = dict(TEMPLATE, parameters={"prefix": {"type": "string", "defaultValue": "web"}},
             outputs={"o": {"type": "string",
                            "value": "[join(createArray(parameters('prefix'), uniqueString(resourceGroup().id)), '-')]"}})
    from linter.arm.evaluate import evaluate_outputs
    assert evaluate_outputs(t)["o"]["value"] == {"$partial": "web-[uniqueString(resourceGroup().id)]"}


def test_large_set_operations_are_linear():
    import time
    t = dict(TEMPLATE, outputs={"o": {"type": "int",
                                      "value": "[length(union(range(0, 10000), range(5000, 10000), range(0, 9000)))]"}})
    from linter.arm.evaluate import evaluate_outputs
    start = time.monotonic()
    assert evaluate_outputs(t)["o"]["value"] == 15000
    assert time.monotonic() - start < 5


def test_a_failing_rule_is_one_internal_error_and_the_other_findings_stay(tmp_path, monkeypatch):
    from linter.checks import CHECKS
    from linter.rules import load_rules
    rule = next(r for r in load_rules() if r.code == "VMSS302")
    entry = CHECKS[rule.function]

    def broken(ctx, target, options):
        raise KeyError("boom")
        yield  # pragma: no cover

    monkeypatch.setitem(CHECKS, rule.function, (broken,) + tuple(entry[1:]))
    t = {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": [
        vmss(**{"properties.virtualMachineProfile.storageProfile.imageReference.version": "1.2.3"})]}
    report = lint(write(tmp_path / "t.json", t))
    internal = [f for f in report.findings if f.code == "VMSS000"]
    assert len(internal) == 1
    assert "VMSS302" in internal[0].message and internal[0].resource == "vmss"
    assert "VMSS200" in {f.code for f in report.findings}  # the other rules still reported
    assert report.tracebacks and "KeyError" in report.tracebacks[0]


@pytest.mark.parametrize("expression, where", [
    ("[variables('d25')]", "/variables/d18"),  # the doubling that first passes the item limit
    ("[variables('m29')]", "/variables/m6"),  # the square that first leaves 64 bits
    ("[format('{0,999999999}', 'a')]", "/resources/0/tags/x"),
    ("[replace(variables('big'), 'a', variables('big'))]", "/resources/0/tags/x"),
    ("[variables('u25')]", "/variables/u18"),
])
def test_hostile_evaluation_is_bounded_and_reported_at_the_expression(tmp_path, expression, where):
    import time
    variables = {"d0": ["x"], "m0": 3, "u0": "[uniqueString(resourceGroup().id)]",
                 "big": "[padLeft('', 16000, 'a')]"}
    for i in range(1, 30):
        variables[f"d{i}"] = f"[concat(variables('d{i-1}'), variables('d{i-1}'))]"
        variables[f"m{i}"] = f"[mul(variables('m{i-1}'), variables('m{i-1}'))]"
        variables[f"u{i}"] = f"[concat(variables('u{i-1}'), variables('u{i-1}'))]"
    t = {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "variables": variables,
         "resources": [vmss(**{"tags": {"x": expression}})]}
    start = time.monotonic()
    report = lint(write(tmp_path / "t.json", t))
    assert time.monotonic() - start < 20
    assert "VMSS000" not in {f.code for f in report.findings}
    assert [f.path for f in report.findings if f.code in ("VMSS004", "VMSS005")] == [where]
