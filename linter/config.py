"""Configuration: ``[tool.vmsslint]`` in pyproject.toml or ``.vmsslint.yaml``, found by walking up.

Precedence: defaults < configuration file < template metadata (``metadata.vmsslint`` of a
template) < command line.  The file is validated against ``schemas/config.schema.json``; the
validated result is cached (see :mod:`linter.cache`) so that a project with a configuration file
still lints without importing jsonschema or ruamel.yaml.
"""

from __future__ import annotations

import os

CONFIG_NAMES = (".vmsslint.yaml", ".vmsslint.yml", "pyproject.toml")


class ConfigFileError(Exception):
    """A configuration that cannot be used; the message names the file, and the key when it can."""


class Config:
    def __init__(self, data: dict | None = None, path: str | None = None):
        self.data = data or {}
        self.path = path
        self.root = os.path.dirname(os.path.abspath(path)) if path else os.getcwd()

    def get(self, key, default=None):
        return self.data.get(key, default)


def find(start_paths) -> str | None:
    """The nearest configuration file above the first path (or the working directory)."""
    start = os.path.abspath(start_paths[0] if start_paths else ".")
    directory = start if os.path.isdir(start) else os.path.dirname(start)
    while True:
        for name in CONFIG_NAMES:
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate):
                if name != "pyproject.toml" or _has_tool_section(candidate):
                    return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _has_tool_section(path: str) -> bool:
    """Whether a pyproject.toml configures vmsslint (read as bytes: a file with a bad byte that has the
    section is reported when loaded, not silently ignored)."""
    from linter.fileio import ReadError, read_bytes
    from linter.specfile import MAX_BYTES
    try:
        data = read_bytes(path, MAX_BYTES)
    except ReadError as exc:
        return "not a regular file" not in str(exc) and "cannot read" not in str(exc)
    return b"[tool.vmsslint" in data


def load(path: str | None) -> Config:
    if path is None:
        return Config()
    from linter.cache import cached
    from linter.rules import data_dir
    schema = os.path.join(data_dir("schemas"), "config.schema.json")
    try:
        data = cached("config", [path, schema], lambda: _read_and_validate(path, schema))
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read: {exc.strerror}") from None
    return Config(data, path)


def _read_and_validate(path: str, schema_path: str) -> dict:
    from linter import specfile
    if os.path.basename(path) == "pyproject.toml":
        try:
            import tomllib
        except ImportError:  # Python < 3.11
            import tomli as tomllib
        from linter.fileio import ReadError, read_text
        try:
            doc = tomllib.loads(read_text(path, specfile.MAX_BYTES))
        except ReadError as exc:
            raise ConfigFileError(f"{path}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigFileError(f"{path}: not valid TOML: {exc}") from None
        except RecursionError:
            raise ConfigFileError(f"{path}: nested deeper than {specfile.MAX_DEPTH} levels") from None
        except ValueError as exc:  # an integer beyond Python's digit limit
            raise ConfigFileError(f"{path}: not a usable TOML value: {exc}") from None
        tool = doc.get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigFileError(f"{path}: 'tool' must be a table ([tool.vmsslint]), not {type(tool).__name__}")
        data = tool.get("vmsslint", {})
        if not isinstance(data, dict):
            raise ConfigFileError(f"{path}: [tool.vmsslint] must be a table of settings")
        specfile.check_values(data, ConfigFileError, f"{path}: [tool.vmsslint]")
        specfile.validate(data, os.path.basename(schema_path), ConfigFileError, f"{path}: [tool.vmsslint]")
    else:
        data = specfile.load(path, os.path.basename(schema_path), ConfigFileError, "a mapping of settings")
    if "docs-edition" in data:
        data["docs-edition"] = str(data["docs-edition"])
    return data


def _explain(e, schema) -> str:
    key = ".".join(str(p) for p in e.absolute_path)
    if e.validator == "additionalProperties" and not e.absolute_path:
        known = list(schema["properties"])
        unknown = [k for k in e.instance if k not in known]
        k = unknown[0] if unknown else "?"
        import difflib
        near = difflib.get_close_matches(k, known, n=1)
        return f"unknown setting '{k}'" + (f"; did you mean '{near[0]}'?" if near else f" (known: {', '.join(known)})")
    if e.validator == "enum":
        return f"'{key}' is {e.instance!r}; it must be one of {', '.join(map(str, dict.fromkeys(map(str, e.validator_value))))}"
    if e.validator == "type":
        return f"'{key}' must be a {e.validator_value}, not {type(e.instance).__name__}"
    if e.validator == "pattern":
        return f"'{key}' is {e.instance!r}, which is not of the form {e.validator_value}"
    if e.validator in ("minimum", "maximum"):
        return f"'{key}' is {e.instance}; {e.validator} is {e.validator_value}"
    return f"'{key}': {e.message}"


def suggest_code(code: str, known) -> str | None:
    """The rule code someone probably meant: O/0 and I/l/1 mix-ups first, then the closest spelling."""
    c = code.upper()
    fixed = c[:4] + c[4:].replace("O", "0").replace("I", "1").replace("L", "1") if c.startswith("VMSS") else c
    if not fixed.startswith("VMSS") and fixed.isdigit():
        fixed = "VMSS" + fixed
    exact = [k for k in known if k.startswith(fixed)]
    if exact and fixed != c:
        return exact[0] if len(fixed) >= 7 else fixed
    import difflib
    near = difflib.get_close_matches(c, list(known), n=1)
    return near[0] if near else None


def check_codes(codes, known, where):
    """Every code or prefix must start at least one rule code; a hint when it is close to one."""
    for code in codes:
        c = code.upper()
        if c == "ALL" or any(k.startswith(c) for k in known):
            continue
        near = suggest_code(code, known)
        raise ConfigFileError(f"{where}: no rule code starts with '{code}'"
                              + (f"; did you mean {near}?" if near else "; `vmsslint rules` lists them"))
