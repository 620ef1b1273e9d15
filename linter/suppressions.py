"""Suppressions written in a template: ``metadata.vmsslint`` of the template and of its resources."""

from __future__ import annotations


class Suppressions:
    """``metadata.vmsslint`` of a template (settings, file-wide ``ignore``) and of its resources.

    ``"metadata": {"vmsslint": {"ignore": {"VMSS200": "why"}}}`` on a resource suppresses that rule
    there; on the template itself, everywhere in the file.  A reason is required.  A suppression that
    suppresses nothing is reported (VMSS007), and so is one that cannot work (VMSS008).
    """

    FILE = "file"

    def __init__(self, engine, lf):
        self.engine = engine
        self.entries: dict = {}  # (scope id, code) -> [loc, used, resource type or None]
        self.problems: list = []  # (loc, message)
        self.settings: dict = {}
        self.raw_ids: dict = {}
        if lf is not None and isinstance(lf.root, dict):
            meta = _vmsslint_meta(lf.root)
            if meta is not None:
                self._read(meta, self.FILE, None, template=True)

    def _read(self, meta, scope, rtype, template=False):
        container, obj = meta
        if not isinstance(obj, dict):
            self.problems.append(((container, "vmsslint"), "metadata.vmsslint must be an object"))
            return
        for key, value in obj.items():
            if template and key.lower() in ("docs-edition", "require-auto-upgrade"):
                ok = (str(value) in ("2020", "2026")) if key.lower() == "docs-edition" else isinstance(value, bool)
                if ok:
                    self.settings[key.lower()] = value
                else:
                    self.problems.append(((obj, key), f"metadata.vmsslint.{key} cannot be {value!r}"))
                continue
            if key.lower() != "ignore":
                allowed = "docs-edition, require-auto-upgrade, ignore" if template else "ignore"
                self.problems.append(((obj, key), f"metadata.vmsslint has no setting '{key}' (here: {allowed})"))
                continue
            if not isinstance(value, dict):
                self.problems.append(((obj, key), 'metadata.vmsslint.ignore must map rule codes to reasons: '
                                                  '{"VMSS200": "why"}'))
                continue
            for code, reason in value.items():
                loc = (value, code)
                if code.upper() not in self.engine.by_code:
                    from linter.config import suggest_code
                    near = suggest_code(code, list(self.engine.by_code))
                    self.problems.append((loc, f"'{code}' is not a rule code", f"did you mean {near}?" if near else
                                          "`vmsslint rules` lists them"))
                elif not isinstance(reason, str) or not reason.strip():
                    self.problems.append((loc, f"suppression of {code.upper()} has no reason",
                                          f"write why it does not apply here, e.g. \"{code.upper()}\": \"image pinned "
                                          f"until 2027 rollout\""))
                else:
                    self.entries[(scope, code.upper())] = [loc, False, rtype]

    def collect(self, deployment):
        for res in deployment.resources:
            self.raw_ids[id(res.raw)] = res.raw
            meta = _vmsslint_meta(res.raw)
            if meta is not None and not any(k[0] == id(res.raw) for k in self.entries):
                self._read(meta, id(res.raw), res.type_lower)

    def owner(self, container):
        """The resource (raw object) a parsed container belongs to, or None."""
        node = container
        while node is not None:
            if id(node) in self.raw_ids:
                return node
            node = getattr(node, "parent", None)
        return None

    def suppressed(self, raw, code) -> bool:
        for scope in ((id(raw),) if raw is not None else ()) + (self.FILE,):
            entry = self.entries.get((scope, code))
            if entry is not None:
                entry[1] = True
                return True
        return False

    def report_problems(self, out, index, settings):
        for loc, message, *help_text in self.problems:
            self.engine._engine_finding(out, "VMSS008", loc, None, message, help=help_text[0] if help_text else "")
        for (scope, code), (loc, used, rtype) in self.entries.items():
            if used:
                continue
            rule = self.engine.by_code[code]
            if not settings.selected(code) or settings.edition not in rule.editions:
                continue  # the rule did not run: cannot tell whether the suppression is needed
            if rule.function != "engine" and rtype is not None and rule not in index.get(rtype, []):
                continue
            where = "this resource" if scope != self.FILE else "this template"
            self.engine._engine_finding(out, "VMSS007", loc, None,
                                        f"{code} reports nothing in {where}", help="remove the unused suppression")


def _vmsslint_meta(obj):
    from linter.jsonc import ci_get, ci_key
    meta = ci_get(obj, "metadata")
    if not isinstance(meta, dict):
        return None
    k = ci_key(meta, "vmsslint")
    return None if k is None else (meta, meta[k])
