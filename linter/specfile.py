"""Reading a user's YAML or JSON file and validating it against one of vmsslint's JSON Schemas,
with messages that name the file, the line when the syntax is wrong, and the key when a value is."""

from __future__ import annotations

import json
import os


def load(path: str, schema_name: str, error, what: str = "a mapping"):
    """The validated content of ``path`` (YAML, or JSON by extension); raises ``error(message)``."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror}") from None
    if path.lower().endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise error(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    else:
        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError
        try:
            data = YAML(typ="safe").load(text)
        except YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
            raise error(f"{path}{at}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise error(f"{path}: must be {what}")
    validate(data, schema_name, error, path)
    return data


def validate(data, schema_name: str, error, where: str):
    from jsonschema import Draft202012Validator

    from linter.config import _explain
    from linter.rules import data_dir
    with open(os.path.join(data_dir("schemas"), schema_name), encoding="utf-8") as fh:
        schema = json.load(fh)
    for e in sorted(Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path)):
        raise error(f"{where}: {_explain(e, schema)}")
