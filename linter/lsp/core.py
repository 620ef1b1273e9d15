"""What the language server does, without the protocol: lint documents from their text in memory.

:class:`Workspace` keeps the rules, the configuration and the engine warm, and the text of every
open document (an open document wins over the file on disk — templates, parameter files, linked
templates alike).  :meth:`Workspace.lint` lints one template the way ``vmsslint lint`` does
(:meth:`linter.engine.Engine.lint_file`, with the files read from that text instead of the disk) and
returns the diagnostics of every file involved, by path, with their quick fixes.

Nothing here imports pygls: the benchmark (bench/bench_lsp.py) and the unit tests use it directly.
"""

from __future__ import annotations

import json
import os

from linter import loader
from linter.source import MAX_FILE_BYTES, SourceFile

SEVERITY = {"error": 1, "warning": 2, "info": 3}  # lsprotocol DiagnosticSeverity values

#: initializationOptions / workspace configuration keys → lint options (linter/options.py dests)
SETTINGS = {
    "docsEdition": "docs_edition", "docs-edition": "docs_edition",
    "requireAutoUpgrade": "require_auto_upgrade", "require-auto-upgrade": "require_auto_upgrade",
    "select": "select", "ignore": "ignore",
    "extraImages": "extra_image", "extra-images": "extra_image",
    "credentialHorizonDays": "credential_horizon", "credential-horizon-days": "credential_horizon",
    "location": "location", "now": "now",
    "configFile": "config", "config": "config", "isolated": "isolated",
}


class SettingsError(Exception):
    """Editor settings or a configuration file that cannot be used."""


class Diag:
    """One diagnostic, protocol-neutral: 0-based positions in the negotiated encoding."""

    __slots__ = ("path", "range", "severity", "code", "message", "related", "fix", "unverifiable")

    def __init__(self, path, rng, severity, code, message, related=(), fix=None, unverifiable=False):
        self.path = path
        self.range = rng  # ((line, character), (line, character))
        self.severity = severity
        self.code = code
        self.message = message
        self.related = list(related)  # [(path, range, message)]
        self.fix = fix  # linter.fixes.Fix or None
        self.unverifiable = unverifiable


def units(text: str, encoding: str) -> int:
    """Length of ``text`` in the position encoding's code units."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def position(src: SourceFile, offset: int, encoding: str = "utf-16"):
    """0-based (line, character) of a character offset of ``src``."""
    starts = src._line_starts()
    line, col = src.position(offset)
    begin = starts[line - 1]
    return line - 1, units(src.text[begin:begin + col - 1], encoding)


def offset_of(src: SourceFile, line: int, column: int) -> int:
    """Character offset of a 1-based (line, column)."""
    starts = src._line_starts()
    if line - 1 >= len(starts):
        return len(src.text)
    return min(len(src.text), starts[line - 1] + column - 1)


def parameters_template(path: str):
    """The template a parameter file belongs to by name: NAME.parameters.json → NAME.json (any case)."""
    base = os.path.basename(path)
    low = base.lower()
    for suffix in (".parameters.json", ".parameters.jsonc"):
        if low.endswith(suffix):
            return os.path.join(os.path.dirname(path), base[:-len(suffix)] + ".json")
    return None


class Workspace:
    def __init__(self, settings: dict | None = None, encoding: str = "utf-16"):
        self.documents: dict = {}  # absolute path → text of an open document
        self.settings = dict(settings or {})  # editor settings (initializationOptions, workspace/configuration)
        self.encoding = encoding
        self._prepared: dict = {}  # configuration key → (engine, settings)
        self.inputs: dict = {}  # template path → the files its last lint read (template, parameter files)

    # -- documents
    def open(self, path: str, text: str) -> None:
        self.documents[os.path.abspath(path)] = text

    def close(self, path: str) -> None:
        self.documents.pop(os.path.abspath(path), None)

    def configure(self, settings: dict) -> None:
        self.settings = dict(settings or {})
        self._prepared.clear()

    def forget_configuration(self) -> None:
        """A configuration file changed: read it again at the next lint."""
        self._prepared.clear()

    def read(self, path: str) -> loader.Loaded:
        """A file as :func:`linter.loader.read` reads it, from the open document's text when there is one."""
        from linter.jsonc import JSONSyntaxError, parse
        path = os.path.abspath(path)
        text = self.documents.get(path)
        if text is None:
            return loader.read(path)
        out = loader.Loaded(path)
        if len(text) > MAX_FILE_BYTES:  # as loader.read refuses such a file on disk
            out.src = SourceFile(path, "", path)
            out.error = (f"file is {len(text) // (1024 * 1024)} MiB; vmsslint reads files up to "
                         f"{MAX_FILE_BYTES // (1024 * 1024)} MiB (Azure itself accepts templates up to 4 MB)")
            return out
        if text.startswith("\ufeff"):
            text = text[1:]
        out.src = SourceFile(path, text, path)
        try:
            out.root, out.duplicates = parse(out.src)
        except JSONSyntaxError as exc:
            out.error, out.error_offset = exc.message, exc.offset
            return out
        out.kind = loader.classify(out.root)
        return out

    def exists(self, path: str) -> bool:
        return os.path.abspath(path) in self.documents or os.path.isfile(path)

    # -- what to lint
    def templates_for(self, path: str) -> list:
        """The templates to lint when ``path`` changed: itself, or the template(s) of a parameter file."""
        path = os.path.abspath(path)
        lf = self.read(path)
        if lf.kind == loader.TEMPLATE or (lf.error and parameters_template(path) is None):
            return [path]
        if lf.kind == loader.PARAMETERS or parameters_template(path):
            out = [t for t, files in self.inputs.items() if path in files and t != path]
            named = parameters_template(path)
            if named and self.exists(named) and named not in out:
                out.insert(0, os.path.abspath(named))
            return out
        return [path]

    def companions(self, template: str) -> list:
        """Parameter files of a template: NAME.parameters.json, else azuredeploy.parameters.json (open ones too)."""
        found = loader.companion_parameter_files(template)
        if found:
            return [os.path.abspath(found[0])]
        directory = os.path.dirname(template)
        stem = os.path.basename(template)[:-5] if template.lower().endswith(".json") else os.path.basename(template)
        for name in (f"{stem}.parameters.json", "azuredeploy.parameters.json"):
            for open_path in self.documents:
                if os.path.dirname(open_path) == directory and os.path.basename(open_path).lower() == name.lower() \
                        and open_path != template:
                    return [open_path]
        return []

    # -- configuration
    def prepared(self, path: str):
        """(engine, settings) for a file: its configuration file, then the editor's settings on top."""
        from linter import config, lintcmd
        from linter.options import defaults
        p = defaults()
        for key, value in self.settings.items():
            dest = SETTINGS.get(key)
            if dest is None or value is None:
                continue
            if dest in ("select", "ignore", "extra_image"):
                value = tuple(value) if isinstance(value, (list, tuple)) else (str(value),)
            elif dest == "credential_horizon":
                value = str(value)
            p[dest] = value
        p["paths"] = (path,)
        cfg_path = p["config"] or (None if p["isolated"] else config.find([path]))
        try:
            stamp = os.stat(cfg_path).st_mtime_ns if cfg_path else 0
        except OSError:
            stamp = -1
        key = (cfg_path, stamp, json.dumps({k: v for k, v in p.items() if k != "paths"}, sort_keys=True, default=str))
        hit = self._prepared.get(key)
        if hit is None:
            try:
                hit = lintcmd.prepare(p)
            except lintcmd.CommandError as exc:
                raise SettingsError(str(exc)) from None
            self._prepared[key] = hit
        return hit

    # -- linting
    def lint(self, template: str):
        """Lint one template from the documents' text: ({path: [Diag]}, files read)."""
        from linter.arm.template import Options
        from linter.engine import Report, Suppressions
        template = os.path.abspath(template)
        engine, base = self.prepared(template)
        report = Report()
        files = {template}
        deployment = None
        lf = self.read(template)
        params = []
        try:
            if lf.error:
                engine._broken(report, lf)
            elif lf.kind == loader.TEMPLATE:
                report.templates += 1
                engine._duplicates(report, lf)
                supp = Suppressions(engine, lf)
                settings = base.for_template(supp.settings)
                for p in self.companions(template):
                    files.add(p)
                    plf = self.read(p)
                    if plf.error:
                        engine._broken(report, plf)
                        continue
                    engine._duplicates(report, plf)
                    params.append(plf)
                deployment = loader.build(lf, params, Options(location=settings.location), {})
                engine.lint_deployment(deployment, report, settings, supp)
        except Exception as exc:  # a bug of ours: say so on the template, as `vmsslint lint` does
            report.findings = [f for f in report.findings if f.src is not None and f.src.path != template]
            engine._internal_error(report, template, exc)
        engine._finalize(report)
        self.inputs[template] = files
        return self._diagnostics(report, lf, params, engine), files

    def _diagnostics(self, report, lf, params, engine) -> dict:
        from linter.fullformat import origin_of, use_sites
        by_code = engine.by_code
        out: dict = {}
        enc = self.encoding
        for f in report.sorted():
            src = f.src
            if src is None:
                continue
            path = os.path.abspath(src.path)
            if src.text:
                start = offset_of(src, f.line, f.column)
                end = offset_of(src, f.end_line, f.end_column)
                rng = (position(src, start, enc), position(src, max(start, end), enc))
            else:
                rng = ((0, 0), (0, 0))
            fix = f.fix if getattr(f.fix, "edits", None) else None
            sev = SEVERITY[f.severity]
            text = f"{f.message}\nhelp: {f.help}" if f.help else f.message  # as ruff's server shows a fix
            diag = Diag(path, rng, sev, f.code, text, fix=fix, unverifiable=f.unverifiable)
            out.setdefault(path, []).append(diag)
            origin = origin_of(f)
            if origin is None or lf.root is None or lf.error:
                continue
            for usrc, ustart, uend in use_sites(lf.root, origin[0], origin[1], by_code.get(f.code)):
                upath = os.path.abspath(usrc.path)
                urng = (position(usrc, ustart, enc), position(usrc, uend, enc))
                if upath == path and urng == rng:
                    continue
                what = "the parameter file" if path != upath else f"{origin[0][:-1]} '{origin[1]}'"
                diag.related.append((upath, urng, "the value is used here"))
                out.setdefault(upath, []).append(Diag(
                    upath, urng, sev, f.code, text, [(path, rng, f"the value comes from {what}")], fix,
                    f.unverifiable))
        return out
