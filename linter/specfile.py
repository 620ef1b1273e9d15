"""Reading a user's YAML or JSON file and validating it against one of vmsslint's JSON Schemas,
with messages that name the file, the line when the syntax is wrong, and the key when a value is."""

from __future__ import annotations

import json
import os


#: A configuration, spec or scenario file is a few KB; anything larger is not one.
MAX_BYTES = 1024 * 1024
#: Nesting deeper than this is no configuration anyone writes (and would exhaust recursion).
MAX_DEPTH = 64
_INT64 = 1 << 63


def load(path: str, schema_name: str, error, what: str = "a mapping"):
    """The validated content of ``path`` (YAML, or JSON by extension); raises ``error(message)``.

    Refused with a message naming the file: a file that is not a regular file or larger than
    :data:`MAX_BYTES`, not UTF-8, YAML aliases (``&a``/``*a``: a "billion laughs" expands
    exponentially), nesting deeper than :data:`MAX_DEPTH`, integers beyond 64 bits.
    """
    from linter.fileio import ReadError, read_text
    try:
        text = read_text(path, MAX_BYTES)
    except ReadError as exc:
        raise error(f"{path}: {exc}") from None
    if path.lower().endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise error(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
        except RecursionError:
            raise error(f"{path}: nested deeper than {MAX_DEPTH} levels") from None
        except ValueError as exc:  # an integer beyond Python's digit limit
            raise error(f"{path}: not a usable JSON value: {exc}") from None
    else:
        data = _load_yaml(path, text, error)
    if data is None:
        data = {}
    check_values(data, error, path)
    if not isinstance(data, dict):
        raise error(f"{path}: must be {what}")
    validate(data, schema_name, error, path)
    return data


def _load_yaml(path, text, error):
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent
    yaml = YAML(typ="safe")

    def where(event_or_exc):
        mark = getattr(event_or_exc, "start_mark", None) or getattr(event_or_exc, "problem_mark", None)
        return f":{mark.line + 1}:{mark.column + 1}" if mark else ""

    try:
        depth = 0
        for event in yaml.parse(text):  # the events first: aliases and depth refused before anything is built
            if isinstance(event, AliasEvent):
                raise error(f"{path}{where(event)}: YAML aliases (*{event.anchor}) are not accepted; "
                            f"write the value out")
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise error(f"{path}{where(event)}: nested deeper than {MAX_DEPTH} levels")
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
        return YAML(typ="safe").load(text)
    except error:
        raise
    except YAMLError as exc:
        raise error(f"{path}{where(exc)}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    except RecursionError:
        raise error(f"{path}: nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # an integer beyond Python's digit limit, a date out of range
        raise error(f"{path}: not a usable YAML value: {exc}") from None


def check_values(data, error, where: str, max_depth: int = MAX_DEPTH):
    """Depth and integer range of loaded data, checked without recursion."""
    stack = [(data, 1, "")]
    while stack:
        value, depth, key = stack.pop()
        if depth > max_depth:
            raise error(f"{where}: nested deeper than {max_depth} levels")
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and not -_INT64 <= value < _INT64:
            raise error(f"{where}: '{key or '(top)'}' is an integer beyond 64 bits")
        if isinstance(value, dict):
            stack.extend((v, depth + 1, f"{key}.{k}" if key else str(k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, depth + 1, f"{key}[{i}]") for i, v in enumerate(value))


def validate(data, schema_name: str, error, where: str):
    from jsonschema import Draft202012Validator

    from linter.config import _explain
    from linter.rules import data_dir
    with open(os.path.join(data_dir("schemas"), schema_name), encoding="utf-8") as fh:
        schema = json.load(fh)
    for e in sorted(Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path)):
        raise error(f"{where}: {_explain(e, schema)}")
