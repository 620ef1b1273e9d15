"""generate --from over the real corpus: every set it makes ready lints clean and validates against Microsoft's
schemas; the figures (made ready, left for a decision and why) are printed."""

from __future__ import annotations

import collections

import pytest

from conftest import SHARED, lint
from linter import readyfrom

CORPUS = SHARED / "corpus"
VMSS = "microsoft.compute/virtualmachinescalesets"


def _templates():
    from linter import loader
    from linter.engine import Report, iter_json_files
    for path in iter_json_files([str(CORPUS)], Report()):
        lf = loader.read(path)
        if not lf.error and lf.kind == loader.TEMPLATE:
            yield path


def _schema_errors(text: str, api_of=None):
    """{resource index: {(path, keyword)}} of the top-level scale sets, each validated against the schema of its
    apiVersion (or of ``api_of[index]``); sets whose apiVersion has no schema here are left out."""
    from jsonschema import Draft4Validator, validators

    from linter.jsonc import parse
    from linter.source import SourceFile
    from test_generate import _ecma_pattern, schema_validator
    registry, index = schema_validator()
    validator = validators.extend(Draft4Validator, {"pattern": _ecma_pattern})
    root, _ = parse(SourceFile("t.json", text))
    out = {}
    resources = root.get("resources") if isinstance(root.get("resources"), list) else []
    for i, res in enumerate(resources):
        if not isinstance(res, dict) or str(res.get("type", "")).lower() != VMSS:
            continue
        api = (api_of or {}).get(i, res.get("apiVersion"))
        ref = index.get(("virtualmachinescalesets", api))
        if ref is None:
            continue
        v = validator({"$ref": ref}, registry=registry)
        plain = _plain(res)
        plain["apiVersion"] = api
        out[i] = {("/".join(map(str, e.absolute_path)), e.validator) for e in v.iter_errors(plain)}
    return out


def _api(text, i):
    from linter.jsonc import parse
    from linter.source import SourceFile
    root, _ = parse(SourceFile("t.json", text))
    return root["resources"][i].get("apiVersion")


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@pytest.mark.skipif(not CORPUS.exists(), reason="../shared/corpus is not beside this checkout")
@pytest.mark.parametrize("image, api, health", [(None, None, None), ("auto", None, None),
                                                ("auto", "2026-03-01", None), ("auto", "2026-03-01", "probe")],
                         ids=["image-kept", "image-auto", "image-auto-api-2026-03-01", "probe"])
def test_corpus_sets_made_ready_lint_clean_and_validate(tmp_path, image, api, health, capsys):
    ready = left = 0
    why = collections.Counter()
    bad_lint, bad_schema, validated, schema_before = [], [], 0, 0
    for i, path in enumerate(_templates()):
        opts = readyfrom.Options(health_protocol="http", health_port=80, health_path="/health", image=image,
                                 api_version=api, health=health)
        try:
            res = readyfrom.make_ready(path, [], opts)
        except readyfrom.NoScaleSet:
            continue
        ready += len(res.ready)
        left += len(res.sets) - len(res.ready)
        for x in res.left:
            why[f"{x.code} {x.reason[:100]}"] += 1
        out = tmp_path / str(i)
        readyfrom.write(res, str(out), False)
        # the parameter files it edited from DIR, the others as they were
        params = [str(out / res.names[k]) if k in res.files else k for k in res.names if k != path]
        report = lint(out / res.names[path], require_auto_upgrade=True, auto_parameters=False, parameters=params)
        listed = {(x.code, x.line) for x in res.left}
        extra = [f"{f.file}:{f.line} {f.code}" for f in report.findings
                 if f.severity != "info" and (f.code, f.line) not in listed]
        if res.ready and not extra:
            for f in report.findings:
                assert f.severity == "info" or not set(f.resources) & set(res.ready)
        if extra:
            bad_lint.append((path, extra))
        if res.ready and (SHARED / "reference" / "schemas" / "arm").exists():
            after = _schema_errors(res.texts[path][1])
            # the input against the same schemas: what --from changed must add no error
            before = _schema_errors(res.texts[path][0], {i: _api(res.texts[path][1], i) for i in after})
            validated += len(after)
            schema_before += sum(1 for i in after if before.get(i))
            new = {i: sorted(after[i] - before.get(i, set())) for i in after if after[i] - before.get(i, set())}
            if new:
                bad_schema.append((path, new))
    with capsys.disabled():
        print(f"\ngenerate --from over the corpus (image {image or 'kept'}, api {api or 'raised when too old'}, "
              f"health {health or 'extension'}): "
              f"{ready} sets made ready, {left} left for a decision; {validated} scale sets validated against "
              f"Microsoft's schemas with no new error ({schema_before} of them with errors already in the input)")
        for reason, n in why.most_common(12):
            print(f"  {n:3d}  {reason}")
    assert ready > 0
    assert bad_lint == []
    assert bad_schema == []
