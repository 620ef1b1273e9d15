"""Rule files: loading, validation and a compiled cache.

Rules live in ``rules/VMSSnnn-name.yaml``, one rule a file.  Loading them needs ruamel.yaml and
jsonschema, which together cost more start-up time than the whole lint of a small template, so
validated rules are cached as JSON in the user's cache directory, keyed by the rule files' names,
sizes and modification times and vmsslint's version.  A cache hit reads one JSON file; a miss (or
``VMSSLINT_NO_CACHE=1``) loads and validates everything and writes the cache atomically.
"""

from __future__ import annotations

import json
import os

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(PACKAGE_DIR)


def data_dir(name: str) -> str:
    """``rules``/``schemas``/``templates``: inside the installed package, or beside it in a checkout."""
    installed = os.path.join(PACKAGE_DIR, "_data", name)
    if os.path.isdir(installed):
        return installed
    return os.path.join(REPO_DIR, name)


class RuleError(Exception):
    """A rule file that cannot be used: says the file, the rule and the field."""


class Rule:
    __slots__ = ("code", "name", "severity", "summary", "requirements", "editions", "enabled_by", "type_lower",
                 "type", "when", "function", "given", "options", "messages", "helps", "fix", "_docs", "path")

    def __init__(self, d: dict, path: str = ""):
        self.code = d["code"]
        self.name = d["name"]
        self.severity = d["severity"]
        self.summary = d["summary"]
        self.requirements = list(d["requirements"])
        self.editions = list(d["editions"])
        self.enabled_by = d.get("enabled-by")
        applies = d.get("applies-to") or {}
        self.type = applies.get("type", "")
        self.type_lower = self.type.lower()
        self.when = list(applies.get("when", []))
        chk = d["check"]
        self.function = chk["function"]
        given = chk.get("given", [])
        self.given = [given] if isinstance(given, str) else list(given)
        self.options = chk.get("options", {})
        msg = d.get("message") or {}  # engine rules (check.function: engine) write their own messages
        self.messages = {"default": msg} if isinstance(msg, str) else dict(msg)
        helps = d.get("help") or {}  # how to fix it, apart from the message (what is wrong)
        self.helps = {"default": helps} if isinstance(helps, str) else dict(helps)
        self.fix = d.get("fix") or {"kind": "none", "description": ""}
        self._docs = d.get("docs")  # from the rule file; from the documentation cache when loaded lazily
        self.path = path

    @property
    def docs(self) -> dict:
        if self._docs is None:
            self._docs = _lazy_docs().get(self.code) or {"what": "", "why": "", "fix": ""}
        return self._docs

    def to_dict(self) -> dict:
        d = {"code": self.code, "name": self.name, "severity": self.severity, "summary": self.summary,
             "requirements": self.requirements, "editions": self.editions,
             "check": {"function": self.function, "options": self.options},
             "message": self.messages, "fix": self.fix, "docs": self.docs}
        if self.helps:
            d["help"] = self.helps
        if self.given:
            d["check"]["given"] = self.given if len(self.given) > 1 else self.given[0]
        if self.type:
            d["applies-to"] = {"type": self.type, "when": self.when}
        if self.enabled_by:
            d["enabled-by"] = self.enabled_by
        return d

    def format(self, variant: str, params: dict) -> str:
        template = (self.messages.get(variant) or self.messages.get("default")
                    or next(iter(self.messages.values()), self.summary))
        return _formatter().vformat(template, (), params)

    def format_help(self, variant: str, params: dict) -> str:
        """How to fix what the message says ("" when the rule has no help for this variant)."""
        template = self.helps.get(variant) or self.helps.get("default")
        return _formatter().vformat(template, (), params) if template else ""


_FORMATTER = []


def _formatter():
    """Message formatting: values are rendered as a person reads them; unknown names stay visible."""
    if not _FORMATTER:
        import string

        from linter.arm.values import display

        class Formatter(string.Formatter):
            def get_value(self, key, args, kwargs):
                return kwargs[key] if key in kwargs else "{" + str(key) + "}"

            def format_field(self, value, format_spec):
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    return format(value, format_spec)
                # text up to a long paragraph stays whole; a huge value is shortened in the middle
                return display(value, 400 if isinstance(value, str) else 160)

        _FORMATTER.append(Formatter())
    return _FORMATTER[0]


def rule_files(rules_dir: str) -> list[str]:
    try:
        names = sorted(n for n in os.listdir(rules_dir) if n.endswith((".yaml", ".yml")))
    except OSError as exc:
        raise RuleError(f"{rules_dir}: cannot read the rules directory: {exc.strerror}") from None
    return [os.path.join(rules_dir, n) for n in names]


_DOCS_SOURCE: list = []  # (key, compile) of the last load_rules, for the lazily loaded documentation


def load_rules(rules_dir: str | None = None) -> list[Rule]:
    """The rules, from the cache when the rule files have not changed.

    Linting needs no documentation, so the documentation is cached apart and read only when asked for
    (``vmsslint rule``, SARIF, docs).
    """
    from linter import cache
    rules_dir = rules_dir or data_dir("rules")
    files = rule_files(rules_dir)
    key = cache.stamp(files + [os.path.join(data_dir("schemas"), "rule.schema.json")])
    data = cache.read("rules", key)
    if data is cache.MISS:
        compiled = compile_rules(files)
        data = [[r.path, _without_docs(r.to_dict())] for r in compiled]
        cache.write("rules", key, data)
        cache.write("rule-docs", key, {r.code: r.docs for r in compiled})
        return compiled
    _DOCS_SOURCE[:] = [(key, files)]
    return [Rule(d, p) for p, d in data]


def _without_docs(d: dict) -> dict:
    d = dict(d)
    d.pop("docs", None)
    return d


def _lazy_docs() -> dict:
    from linter import cache
    if not _DOCS_SOURCE:
        return {}
    if len(_DOCS_SOURCE[0]) == 3:
        return _DOCS_SOURCE[0][2]
    key, files = _DOCS_SOURCE[0]
    docs = cache.read("rule-docs", key)
    if docs is cache.MISS:
        docs = {r.code: r.docs for r in compile_rules(files)}
        cache.write("rule-docs", key, docs)
    _DOCS_SOURCE[0] = (key, files, docs)
    return docs


def compile_rules(files: list[str]) -> list[Rule]:
    """Load and validate rule files (slow path: ruamel.yaml + jsonschema)."""
    from jsonschema import Draft202012Validator
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    from linter.checks import CHECKS, CONDITIONS

    with open(os.path.join(data_dir("schemas"), "rule.schema.json"), encoding="utf-8") as fh:
        validator = Draft202012Validator(json.load(fh))
    yaml = YAML(typ="rt")
    rules: list[Rule] = []
    seen: dict = {}
    for path in files:
        shown = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else path
        try:
            with open(path, encoding="utf-8") as fh:
                doc = yaml.load(fh)
        except YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
            raise RuleError(f"{shown}{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
        except OSError as exc:
            raise RuleError(f"{shown}: cannot read: {exc.strerror}") from None
        plain = json.loads(json.dumps(doc, default=_plain))
        code = plain.get("code", "?") if isinstance(plain, dict) else "?"
        errors = sorted(validator.iter_errors(plain), key=lambda e: list(e.absolute_path))
        if errors:
            e = errors[0]
            field = ".".join(str(p) for p in e.absolute_path) or "(top level)"
            raise RuleError(f"{shown}{_line_of(doc, e.absolute_path)}: rule {code}: field '{field}': "
                            f"{_schema_message(e)}")
        fn = plain["check"]["function"]
        if fn != "engine":
            if fn not in CHECKS:
                raise RuleError(f"{shown}: rule {code}: field 'check.function': no check function '{fn}' "
                                f"(known: {', '.join(sorted(CHECKS))})")
            _, opt_schema, variants = CHECKS[fn]
            opt_errors = list(Draft202012Validator(opt_schema).iter_errors(plain["check"].get("options", {})))
            if opt_errors:
                e = opt_errors[0]
                field = ".".join(["check", "options"] + [str(p) for p in e.absolute_path])
                raise RuleError(f"{shown}: rule {code}: field '{field}': {_schema_message(e)}")
            if "message" not in plain:
                raise RuleError(f"{shown}: rule {code}: field 'message' is required (only engine rules go without)")
            msgs = plain["message"] if isinstance(plain["message"], dict) else {"default": plain["message"]}
            if "default" not in msgs and set(variants) - set(msgs):
                missing = sorted(set(variants) - set(msgs))[0]
                raise RuleError(f"{shown}: rule {code}: field 'message': function '{fn}' can report variant "
                                f"'{missing}', which has no message (add it, or a 'default')")
            extra = sorted(set(msgs) - set(variants))
            if extra:
                raise RuleError(f"{shown}: rule {code}: field 'message.{extra[0]}': function '{fn}' has no "
                                f"message variant '{extra[0]}' (it has: {', '.join(variants)})")
            for variant, text in msgs.items():
                bad = _bad_placeholder(text)
                if bad:
                    raise RuleError(f"{shown}: rule {code}: field 'message.{variant}': {bad}")
            helps = plain.get("help", {})
            helps = helps if isinstance(helps, dict) else {"default": helps}
            for variant, text in helps.items():
                if variant != "default" and variant not in variants:
                    raise RuleError(f"{shown}: rule {code}: field 'help.{variant}': function '{fn}' has no "
                                    f"message variant '{variant}' (it has: {', '.join(variants)})")
                bad = _bad_placeholder(text)
                if bad:
                    raise RuleError(f"{shown}: rule {code}: field 'help.{variant}': {bad}")
            for cond in (plain.get("applies-to") or {}).get("when", []):
                if cond not in CONDITIONS:
                    raise RuleError(f"{shown}: rule {code}: field 'applies-to.when': no condition '{cond}' "
                                    f"(known: {', '.join(sorted(CONDITIONS))})")
        base = os.path.basename(path)
        if not base.startswith(code + "-"):
            raise RuleError(f"{shown}: rule {code}: the file name must start with '{code}-'")
        for key in ("code", "name"):
            if plain[key] in seen:
                raise RuleError(f"{shown}: rule {code}: field '{key}': '{plain[key]}' is also used by {seen[plain[key]]}")
            seen[plain[key]] = shown
        rules.append(Rule(plain, path))
    return rules


def _bad_placeholder(text: str) -> str | None:
    """Why a message template is broken, or None: placeholders are {name}; literal braces are {{ }}."""
    import string
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        return f"{exc}; write literal braces as {{{{ and }}}}"
    for f in fields:
        if not f.isidentifier():
            return f"'{{{f}}}' is not a placeholder name; write literal braces as {{{{ and }}}}"
    return None


def _plain(obj):
    return str(obj)


def _line_of(doc, path) -> str:
    node = doc
    line = None
    try:
        for p in path:
            lc = getattr(node, "lc", None)
            if lc is not None:
                try:
                    line = (lc.key(p) if isinstance(p, str) else lc.item(p))[0] + 1
                except (KeyError, IndexError, TypeError):
                    pass
            node = node[p]
    except (KeyError, IndexError, TypeError):
        pass
    return f":{line}" if line else ""


def _schema_message(e) -> str:
    """jsonschema errors in words a rule author understands."""
    v = e.validator
    if v == "required":
        missing = e.message.split("'")[1] if "'" in e.message else e.message
        return f"'{missing}' is required"
    if v == "additionalProperties":
        return "unknown field(s): " + e.message.split("(")[-1].rstrip(")").replace(" were unexpected", "").replace(
            " was unexpected", "")
    if v == "enum":
        return f"{e.instance!r} is not one of {', '.join(map(str, e.validator_value))}"
    if v == "pattern":
        return f"{e.instance!r} does not have the required form ({e.validator_value})"
    if v == "type":
        return f"must be a {e.validator_value}, not {type(e.instance).__name__}"
    if v in ("minItems", "minLength", "minProperties"):
        return "must not be empty"
    if v == "oneOf" and e.absolute_path and e.absolute_path[-1] == "message":
        return "must be a message string, or an object of message variants (variant: text)"
    if v in ("oneOf", "anyOf"):
        return f"{type(e.instance).__name__} value is not of an accepted form"
    return e.message
