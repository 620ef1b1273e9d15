"""Reading files: which JSON is a template, which is a parameter file, and their values."""

from __future__ import annotations

import os

from linter.arm.template import Options, load_deployment
from linter.arm.values import Unknown
from linter.jsonc import JSONSyntaxError, ci_get, ci_key, parse
from linter.source import MAX_FILE_BYTES, LoadError, SourceFile

TEMPLATE, PARAMETERS, OTHER, BROKEN = "template", "parameters", "other", "broken"

#: Follow a linked template's relativePath outside the linted template's own directory tree
#: (``vmsslint lint --allow-linked-outside``); by default such a link is reported and not read.
ALLOW_LINKED_OUTSIDE = False


class Loaded:
    """One read file: its source, parsed root, kind and load problems."""

    __slots__ = ("path", "src", "root", "kind", "error", "error_offset", "duplicates")

    def __init__(self, path):
        self.path = path
        self.src = None
        self.root = None
        self.kind = BROKEN
        self.error = None
        self.error_offset = 0
        self.duplicates = []


#: what ``vmsslint lint -`` read from standard input: ``{"-": (bytes, name given by --stdin-filename or None)}``
STDIN: dict = {}


def _read_stdin(path: str) -> SourceFile:
    from linter.source import decode
    data, name = STDIN[path]
    if len(data) > MAX_FILE_BYTES:
        raise LoadError(f"standard input is over {MAX_FILE_BYTES // (1024 * 1024)} MiB; vmsslint reads templates "
                        f"up to that size")
    text, encoding = decode(data)
    return SourceFile(name or "-", text, _display(name) if name else "<stdin>", encoding)


def read(path: str) -> Loaded:
    out = Loaded(path)
    try:
        out.src = _read_stdin(path) if path in STDIN else SourceFile.read(path, display=_display(path))
    except LoadError as exc:
        out.src = SourceFile(path, "", _display(path))
        out.error, out.error_offset = exc.message, 0
        return out
    try:
        out.root, out.duplicates = parse(out.src)
    except JSONSyntaxError as exc:
        out.error, out.error_offset = exc.message, exc.offset
        return out
    out.kind = classify(out.root)
    return out


def display(path: str) -> str:
    """How a path is shown in findings: relative to the working directory (unless far outside it)."""
    return _display(path)


def _display(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith(".." + os.sep + ".." + os.sep) else rel


def classify(root) -> str:
    if not isinstance(root, dict):
        return OTHER
    schema = ci_get(root, "$schema")
    low = schema.lower() if isinstance(schema, str) else ""
    if "deploymentparameters.json" in low:
        return PARAMETERS
    if "deploymenttemplate.json" in low:
        return TEMPLATE
    if not low and ci_key(root, "resources") is not None and isinstance(ci_get(root, "resources"), (list, dict)):
        return TEMPLATE
    if not low and isinstance(ci_get(root, "parameters"), dict) and ci_key(root, "resources") is None:
        params = ci_get(root, "parameters")
        if params and all(isinstance(v, dict) and (ci_key(v, "value") is not None or ci_key(v, "reference") is not None)
                          for v in params.values()):
            return PARAMETERS
    return OTHER


def companion_parameter_files(template_path: str) -> list[str]:
    """``NAME.parameters.json`` or else ``azuredeploy.parameters.json`` beside the template (any case)."""
    directory = os.path.dirname(template_path) or "."
    base = os.path.basename(template_path)
    stem = base[:-5] if base.lower().endswith(".json") else base
    try:
        entries = {e.lower(): e for e in os.listdir(directory)}
    except OSError:
        return []
    for candidate in (f"{stem}.parameters.json", "azuredeploy.parameters.json"):
        real = entries.get(candidate.lower())
        if real and real.lower() != base.lower():
            return [os.path.join(directory, real)]
    return []


def templates_for_parameter_file(path: str) -> list[str]:
    """The template beside a parameter file: ``NAME.parameters.json`` → ``NAME.json`` (any case;
    ``azuredeploy.parameters.json`` → ``azuredeploy.json`` is the same rule)."""
    directory = os.path.dirname(path) or "."
    base = os.path.basename(path)
    low = base.lower()
    for suffix in (".parameters.json", ".parameters.jsonc"):
        if low.endswith(suffix):
            stem = base[:-len(suffix)]
            break
    else:
        return []
    try:
        entries = {e.lower(): e for e in os.listdir(directory)}
    except OSError:
        return []
    real = entries.get(f"{stem}.json".lower()) or entries.get(f"{stem}.jsonc".lower())
    return [os.path.join(directory, real) if directory != "." or os.path.dirname(path) else real] if real else []


def parameter_values(loaded_files: list[Loaded]) -> tuple[dict, list]:
    """Merge parameter files (later wins): lower name → (value, loc). Returns (values, problems)."""
    values: dict = {}
    problems = []
    for lf in loaded_files:
        params = ci_get(lf.root, "parameters") if isinstance(lf.root, dict) else None
        if not isinstance(params, dict):
            problems.append((lf, "has no 'parameters' object"))
            continue
        for name, entry in params.items():
            if not isinstance(entry, dict):
                continue
            vk = ci_key(entry, "value")
            if vk is not None:
                values[name.lower()] = (entry[vk], (entry, vk))
            elif ci_key(entry, "reference") is not None:
                ref = ci_get(entry, "reference")
                secret = ci_get(ref, "secretName") if isinstance(ref, dict) else None
                values[name.lower()] = (
                    Unknown(f"parameter '{name}' is the Key Vault secret '{secret or '?'}', read at deployment",
                            f"parameters('{name}')", secret=True),
                    (entry, ci_key(entry, "reference")))
    return values, problems


def _inside(path: str, tree: str) -> bool:
    try:
        return os.path.commonpath([path, tree]) == tree
    except ValueError:  # another drive
        return False


def build(template: Loaded, parameter_files: list[Loaded], options: Options, cache: dict | None = None,
          allow_outside: bool | None = None):
    """The evaluated deployment of a template; linked templates are read through ``cache``."""
    values, _ = parameter_values([p for p in parameter_files if p.kind != BROKEN])
    cache = cache if cache is not None else {}
    allow_outside = ALLOW_LINKED_OUTSIDE if allow_outside is None else allow_outside
    tree = os.path.dirname(os.path.realpath(template.src.path))

    def load_linked(path):
        if not allow_outside and not _inside(os.path.realpath(path), tree):
            raise ValueError(f"it is outside the template's directory ({_display(tree) or '.'}), so it is not read; "
                             f"pass --allow-linked-outside to follow links out of it")
        key = os.path.abspath(path)
        if key not in cache:
            cache[key] = read(path)
        lf = cache[key]
        if lf.error:
            if lf.src is not None and not lf.src.text and "cannot read" in lf.error:
                raise OSError(lf.error)
            raise ValueError(lf.error)
        return lf.root, lf.src

    return load_deployment(template.root, template.src, values, options, load_linked)
