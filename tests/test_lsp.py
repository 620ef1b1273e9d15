"""``vmsslint server`` end to end, with pytest-lsp driving it as an editor would (skips without the lsp extra)."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import shutil
import sys

import pytest

from conftest import FIXTURES, REPO, template, vmss

pytest_lsp = pytest.importorskip("pytest_lsp")
pytest.importorskip("pygls")
from lsprotocol import types as lsp  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

pytestmark = pytest.mark.asyncio

PINNED = {"properties.virtualMachineProfile.storageProfile.imageReference.version": "1.0"}


@pytest_lsp.fixture(config=ClientServerConfig(
    server_command=[sys.executable, "-m", "linter", "server"],
    server_env={**os.environ, "PYTHONPATH": str(REPO), "VMSSLINT_NO_CACHE": "1"}))
async def client(lsp_client: LanguageClient):
    lsp_client.set_configuration({"docsEdition": "2026"}, section="vmsslint")
    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), initialization_options={"debounceMs": 30}))
    yield
    await lsp_client.shutdown_session()


def uri(path) -> str:
    return pathlib.Path(path).resolve().as_uri()


async def diagnostics(client, path, ready, timeout=20.0):
    """Wait until the diagnostics published for ``path`` satisfy ``ready``; returns them."""
    key = uri(path)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        got = client.diagnostics.get(key)
        if got is not None and ready(got):
            return got
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no matching diagnostics for {path}; last: {got}")
        await asyncio.sleep(0.05)


def open_doc(client, path, text, version=1):
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
        uri=uri(path), language_id="json", version=version, text=text)))


def change(client, path, text, version):
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri(path), version=version),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))


def codes(diags):
    return sorted(d.code for d in diags)


async def test_open_shows_the_finding_at_its_range_and_a_change_makes_it_go(client, tmp_path):
    path = tmp_path / "main.json"
    text = json.dumps(template(vmss(**PINNED)), indent=2)
    path.write_text(text)
    open_doc(client, path, text)
    diags = await diagnostics(client, path, lambda d: "VMSS200" in codes(d))
    [d] = [d for d in diags if d.code == "VMSS200"]
    lines = text.splitlines()
    line = next(i for i, ln in enumerate(lines) if '"version": "1.0"' in ln)
    col = lines[line].index('"1.0"')
    assert (d.range.start.line, d.range.start.character) == (line, col)
    assert (d.range.end.line, d.range.end.character) == (line, col + len('"1.0"'))
    assert d.severity == lsp.DiagnosticSeverity.Error and d.source == "vmsslint"
    assert d.code_description.href.endswith("docs/rules/VMSS200.md")
    assert "pinned version" in d.message
    # the unsaved text is what is linted: fix it in the editor only
    change(client, path, text.replace('"version": "1.0"', '"version": "latest"'), 2)
    await diagnostics(client, path, lambda d: "VMSS200" not in codes(d))
    assert "1.0" in path.read_text()  # nothing was written


async def test_quick_fix_edits_the_file_the_value_is_written_in(client, tmp_path):
    path = tmp_path / "main.json"
    text = json.dumps(template(vmss(**PINNED)), indent=2)
    path.write_text(text)
    open_doc(client, path, text)
    diags = await diagnostics(client, path, lambda d: "VMSS200" in codes(d))
    [d] = [d for d in diags if d.code == "VMSS200"]
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(path)), range=d.range,
        context=lsp.CodeActionContext(diagnostics=[d])))
    [action] = [a for a in actions if a.title.startswith("VMSS200")]
    assert action.kind == lsp.CodeActionKind.QuickFix and action.is_preferred
    [(target, edits)] = action.edit.changes.items()
    assert target == uri(path)
    fixed = apply_edits(text, edits)
    assert '"version": "latest"' in fixed and fixed.replace('"latest"', '"1.0"') == text
    change(client, path, fixed, 2)  # as the editor does after applying the edit
    await diagnostics(client, path, lambda d: "VMSS200" not in codes(d))


async def test_parameter_file_value_related_information_and_re_publishing(client, tmp_path):
    for name in ("fail-pinned-through-parameter-file.json", "fail-pinned-through-parameter-file.parameters.json"):
        shutil.copy(FIXTURES / "rules" / "VMSS200" / name, tmp_path / name)
    tpl = tmp_path / "fail-pinned-through-parameter-file.json"
    par = tmp_path / "fail-pinned-through-parameter-file.parameters.json"
    open_doc(client, tpl, tpl.read_text())
    diags = await diagnostics(client, tpl, lambda d: "VMSS200" in codes(d))
    [d] = [d for d in diags if d.code == "VMSS200"]
    tlines = tpl.read_text().splitlines()
    assert tlines[d.range.start.line][d.range.start.character:].startswith('"[parameters(\'imageVersion\')]"')
    [rel] = d.related_information
    assert rel.location.uri == uri(par)
    plines = par.read_text().splitlines()
    assert plines[rel.location.range.start.line][rel.location.range.start.character:].startswith('"22.04.')
    # the quick fix from the template edits the parameter file
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(tpl)), range=d.range,
        context=lsp.CodeActionContext(diagnostics=[d])))
    [action] = [a for a in actions if a.title.startswith("VMSS200")]
    assert list(action.edit.changes) == [uri(par)]
    # a change of the parameter file (unsaved) re-publishes the template's diagnostics
    ptext = par.read_text()
    open_doc(client, par, ptext)
    fixed = apply_edits(ptext, action.edit.changes[uri(par)])
    change(client, par, fixed, 2)
    await diagnostics(client, tpl, lambda d: "VMSS200" not in codes(d))
    change(client, par, ptext, 3)  # and back
    await diagnostics(client, tpl, lambda d: "VMSS200" in codes(d))


async def test_workspace_configuration_file_is_read(client, tmp_path):
    (tmp_path / ".vmsslint.yaml").write_text("ignore: [VMSS200]\n")
    path = tmp_path / "main.json"
    text = json.dumps(template(vmss(**PINNED, **{"properties.virtualMachineProfile.networkProfile": {}})), indent=2)
    path.write_text(text)
    open_doc(client, path, text)
    diags = await diagnostics(client, path, lambda d: len(d) > 0)
    assert "VMSS200" not in codes(diags) and "VMSS300" in codes(diags)


async def test_broken_json_is_a_diagnostic_not_a_crash(client, tmp_path):
    path = tmp_path / "main.json"
    text = json.dumps(template(vmss()), indent=2)
    path.write_text(text)
    open_doc(client, path, text[:-20])
    diags = await diagnostics(client, path, lambda d: "VMSS001" in codes(d))
    assert diags[0].range.start.line > 0
    change(client, path, text, 2)
    await diagnostics(client, path, lambda d: "VMSS001" not in codes(d))


def apply_edits(text: str, edits) -> str:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln))

    def off(p):  # the test texts are ASCII: UTF-16 units are characters
        return starts[p.line] + p.character

    for e in sorted(edits, key=lambda e: off(e.range.start), reverse=True):
        text = text[:off(e.range.start)] + e.new_text + text[off(e.range.end):]
    return text


async def test_workspace_configuration_is_asked_for_and_followed(client, tmp_path):
    path = tmp_path / "main.json"
    text = json.dumps(template(vmss(**PINNED)), indent=2)
    path.write_text(text)
    open_doc(client, path, text)
    await diagnostics(client, path, lambda d: "VMSS200" in codes(d))
    # the user ignores VMSS200 in the editor's settings: the server asks again and re-publishes
    client.set_configuration({"ignore": ["VMSS200"]}, section="vmsslint")
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings=None))
    await diagnostics(client, path, lambda d: "VMSS200" not in codes(d))


async def test_a_broken_configuration_file_is_a_message_not_a_crash(client, tmp_path):
    (tmp_path / ".vmsslint.yaml").write_text("no-such-setting: 1\n")
    path = tmp_path / "main.json"
    text = json.dumps(template(vmss()), indent=2)
    path.write_text(text)
    open_doc(client, path, text)
    deadline = asyncio.get_running_loop().time() + 20
    while not client.messages and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    assert any("unknown setting 'no-such-setting'" in m.message for m in client.messages)
    # the server still answers
    (tmp_path / ".vmsslint.yaml").unlink()
    change(client, path, text.replace('"latest"', '"1.0"'), 2)
    await diagnostics(client, path, lambda d: "VMSS200" in codes(d))
