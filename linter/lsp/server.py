"""``vmsslint server``: the Language Server Protocol over stdio (pygls 2.x, lsprotocol).

On open and on change (debounced) of an ARM template it publishes the template's diagnostics; a change
of a parameter file re-lints its template (NAME.parameters.json → NAME.json, azuredeploy.parameters.json
→ azuredeploy.json, and every open template that read it).  Diagnostics carry the rule code with a link
to its page, and for a value that came from a parameter file or a variable, related information at
the other place.  Safe and unsafe fixes are quick fixes that edit the file the value is written in.

Settings, later wins: the workspace's configuration file ([tool.vmsslint] / .vmsslint.yaml, found
from each template as ``vmsslint lint`` finds it), ``initializationOptions``, ``workspace/configuration``
(section ``vmsslint``).  Keys: docsEdition, requireAutoUpgrade, select, ignore, extraImages,
credentialHorizonDays, location, now, configFile, isolated; debounceMs (default 200).
"""

from __future__ import annotations

import asyncio
import logging
import os

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from linter import __version__
from linter.docs import rule_url
from linter.lsp.core import SettingsError, Workspace, position

CONFIG_FILES = ("pyproject.toml", ".vmsslint.yaml", ".vmsslint.yml")
log = logging.getLogger("vmsslint.lsp")


class VmsslintServer(LanguageServer):
    def __init__(self):
        super().__init__("vmsslint", __version__)
        self.ws = Workspace()
        self.init_options: dict = {}
        self.delay = 0.2
        self.pending: dict = {}  # template path → the debounced lint task
        self.contrib: dict = {}  # template path → {file path: [Diag]} of its last lint
        self.shown: set = set()  # files that have diagnostics on the client

    # -- settings
    def apply_settings(self, settings: dict) -> None:
        settings = dict(settings or {})
        if "debounceMs" in settings:
            try:
                self.delay = max(0.0, float(settings["debounceMs"]) / 1000)
            except (TypeError, ValueError):
                pass
        self.ws.configure(settings)

    async def fetch_configuration(self) -> None:
        settings = dict(self.init_options)
        caps = self.client_capabilities.workspace
        if caps is not None and caps.configuration:
            try:
                result = await asyncio.wait_for(self.workspace_configuration_async(
                    lsp.ConfigurationParams(items=[lsp.ConfigurationItem(section="vmsslint")])), 5)
            except Exception as exc:  # a client that cannot answer: keep what we have
                log.warning("workspace/configuration failed: %s", exc)
                result = None
            if result and isinstance(result[0], dict):
                settings.update(result[0])
        self.apply_settings(settings)

    # -- linting
    def encoding(self) -> str:
        enc = getattr(self.workspace, "position_encoding", None)
        return getattr(enc, "value", enc) or "utf-16"

    def schedule(self, path: str, delay: float) -> None:
        try:
            templates = self.ws.templates_for(path)
        except Exception as exc:  # pragma: no cover - defensive: never let a handler die
            log.exception("cannot tell what to lint for %s: %s", path, exc)
            return
        loop = asyncio.get_running_loop()
        for template in templates:
            task = self.pending.pop(template, None)
            if task is not None:
                task.cancel()
            self.pending[template] = loop.create_task(self._lint_later(template, delay))

    async def _lint_later(self, template: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        self.pending.pop(template, None)
        self.lint_now(template)

    def lint_now(self, template: str) -> None:
        self.ws.encoding = self.encoding()
        try:
            by_path, _ = self.ws.lint(template)
        except SettingsError as exc:
            self.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Error, message=f"vmsslint: {exc}"))
            by_path = {}
        except Exception as exc:  # a bug of ours: say so, keep serving
            log.exception("linting %s failed", template)
            self.window_show_message(lsp.ShowMessageParams(
                type=lsp.MessageType.Error, message=f"vmsslint: internal error while linting {template}: "
                                                    f"{type(exc).__name__}: {exc}; please report it"))
            by_path = {}
        previous = self.contrib.get(template, {})
        self.contrib[template] = by_path
        for path in set(previous) | set(by_path) | {template}:
            self.publish(path, always=path == template)

    def publish(self, path: str, always: bool = False) -> None:
        diags = [d for contrib in self.contrib.values() for d in contrib.get(path, [])]
        if not diags and path not in self.shown and not always:
            return
        (self.shown.add if diags else self.shown.discard)(path)
        uri = from_fs_path(path)
        doc = self.workspace.text_documents.get(uri)
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri=uri, version=doc.version if doc is not None else None, diagnostics=[to_lsp(d) for d in diags]))

    def forget(self, path: str) -> None:
        """A closed document: its own diagnostics go; its templates are linted again from the disk."""
        self.ws.close(path)
        if path in self.contrib:
            for shown in self.contrib.pop(path):
                self.publish(shown)
            self.ws.inputs.pop(path, None)
        for template, files in list(self.ws.inputs.items()):
            if path in files and template != path and os.path.abspath(template) in self.ws.documents:
                self.schedule(template, 0)

    def relint_all(self) -> None:
        for path in list(self.ws.documents):
            self.schedule(path, 0)

    # -- quick fixes
    def code_actions(self, params: lsp.CodeActionParams) -> list:
        path = _path(params.text_document.uri)
        enc = self.encoding()
        wanted = {(d.code, _key(d.range)) for d in params.context.diagnostics if d.source == "vmsslint"}
        actions, seen = [], set()
        for contrib in self.contrib.values():
            for d in contrib.get(path, []):
                if d.fix is None:
                    continue
                if (d.code, d.range) not in wanted and not _overlaps(d.range, params.range):
                    continue
                fix = d.fix
                ident = (d.code, tuple((e[0].path, e[1], e[2], e[3]) for e in fix.edits))
                if ident in seen:
                    continue
                seen.add(ident)
                changes: dict = {}
                for src, start, end, text in fix.edits:
                    changes.setdefault(from_fs_path(os.path.abspath(src.path)), []).append(lsp.TextEdit(
                        range=_range((position(src, start, enc), position(src, end, enc))), new_text=text))
                unsafe = fix.applicability == "unsafe"
                actions.append(lsp.CodeAction(
                    title=f"{d.code}: {fix.description}" + (" (unsafe fix)" if unsafe else ""),
                    kind=lsp.CodeActionKind.QuickFix, diagnostics=[to_lsp(d)], is_preferred=not unsafe,
                    edit=lsp.WorkspaceEdit(changes=changes)))
        return actions


def _path(uri: str) -> str:
    return os.path.abspath(to_fs_path(uri) or uri)


def _range(r) -> lsp.Range:
    (sl, sc), (el, ec) = r
    return lsp.Range(start=lsp.Position(line=sl, character=sc), end=lsp.Position(line=el, character=ec))


def _key(r: lsp.Range):
    return ((r.start.line, r.start.character), (r.end.line, r.end.character))


def _overlaps(r, want: lsp.Range) -> bool:
    (sl, sc), (el, ec) = r
    a, b = (want.start.line, want.start.character), (want.end.line, want.end.character)
    return (sl, sc) <= b and a <= (el, ec)


def to_lsp(d) -> lsp.Diagnostic:
    related = [lsp.DiagnosticRelatedInformation(location=lsp.Location(uri=from_fs_path(p), range=_range(r)),
                                                message=m) for p, r, m in d.related]
    return lsp.Diagnostic(
        range=_range(d.range), message=d.message, severity=lsp.DiagnosticSeverity(d.severity), code=d.code,
        code_description=lsp.CodeDescription(href=rule_url(d.code)), source="vmsslint",
        related_information=related or None)


server = VmsslintServer()


@server.feature(lsp.INITIALIZE)
def initialize(ls: VmsslintServer, params: lsp.InitializeParams):
    opts = params.initialization_options
    if isinstance(opts, dict):
        ls.init_options = dict(opts.get("vmsslint", opts) if isinstance(opts.get("vmsslint"), dict) else opts)
    ls.apply_settings(ls.init_options)


@server.feature(lsp.INITIALIZED)
async def initialized(ls: VmsslintServer, params: lsp.InitializedParams):
    await ls.fetch_configuration()
    ls.relint_all()


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: VmsslintServer, params: lsp.DidOpenTextDocumentParams):
    path = _path(params.text_document.uri)
    if not path.lower().endswith((".json", ".jsonc")):
        return
    ls.ws.open(path, params.text_document.text)
    ls.schedule(path, 0)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: VmsslintServer, params: lsp.DidChangeTextDocumentParams):
    path = _path(params.text_document.uri)
    if not path.lower().endswith((".json", ".jsonc")):
        return
    ls.ws.open(path, ls.workspace.get_text_document(params.text_document.uri).source)
    ls.schedule(path, ls.delay)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: VmsslintServer, params: lsp.DidCloseTextDocumentParams):
    ls.forget(_path(params.text_document.uri))


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: VmsslintServer, params: lsp.DidSaveTextDocumentParams):
    if os.path.basename(_path(params.text_document.uri)) in CONFIG_FILES:
        ls.ws.forget_configuration()
        ls.relint_all()


@server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(ls: VmsslintServer, params: lsp.DidChangeConfigurationParams):
    settings = params.settings
    if isinstance(settings, dict) and isinstance(settings.get("vmsslint"), dict):
        ls.apply_settings({**ls.init_options, **settings["vmsslint"]})
    else:
        await ls.fetch_configuration()
    ls.relint_all()


@server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(ls: VmsslintServer, params: lsp.DidChangeWatchedFilesParams):
    ls.ws.forget_configuration()
    ls.relint_all()


@server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
def code_action(ls: VmsslintServer, params: lsp.CodeActionParams):
    return ls.code_actions(params)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="vmsslint-lsp: %(message)s")  # stderr; stdout is the protocol
    server.start_io()


if __name__ == "__main__":  # pragma: no cover
    main()
