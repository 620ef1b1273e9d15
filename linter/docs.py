"""Rule documentation, rendered straight from the rule files (``vmsslint rule CODE``, docs/rules.md)."""

from __future__ import annotations

import os

#: Where the repository's documentation is published (project.urls in pyproject.toml); each rule has a
#: page docs/rules/VMSSnnn.md there, which SARIF's helpUri and the language server's codeDescription name.
REPOSITORY_URL = "https://github.com/vmsslint/vmsslint"
RULES_URL = REPOSITORY_URL + "/blob/main/docs/rules/"


def rule_url(code: str) -> str:
    return f"{RULES_URL}{code}.md"


def render_rule(rule, heading: str = "#") -> str:
    d = rule.docs
    rel = os.path.join("rules", os.path.basename(rule.path)) if rule.path else ""
    lines = [f"{heading} {rule.code} {rule.name}", ""]
    lines.append(f"{rule.summary}")
    lines.append("")
    lines.append(f"- Severity: {rule.severity}")
    lines.append(f"- Requirements: {', '.join(rule.requirements) or '— (engine rule)'}")
    lines.append(f"- Documentation editions: {', '.join(rule.editions)}")
    if rule.type:
        when = f" when {', '.join(rule.when)}" if rule.when else ""
        lines.append(f"- Applies to: `{rule.type}`{when}")
    if rule.enabled_by:
        lines.append(f"- Opt-in: only with `--{rule.enabled_by}`")
    where = ""
    if rule.function != "engine":
        import inspect

        from linter.checks import CHECKS
        func = CHECKS[rule.function][0]
        module = inspect.getmodule(func).__name__.replace(".", "/") + ".py"
        where = f" in `{module}` (`{func.__name__}`)"
    else:
        where = " (reported by the engine: `linter/engine.py`, `linter/arm/template.py`)"
    lines.append(f"- Check: `{rule.function}`{where}"
                 + (" at " + ", ".join(f"`{g}`" for g in rule.given) if rule.given else ""))
    lines.append(f"- Fix: {rule.fix['kind']}" + (f" — {rule.fix['description']}" if rule.fix.get("description") else ""))
    if rel:
        lines.append(f"- Defined in: `{rel}`")
    lines += ["", f"{heading}# What", "", d["what"].strip(), "", f"{heading}# Why", "", d["why"].strip(), "",
              f"{heading}# How to fix", "", d["fix"].strip(), ""]
    ex = d.get("example") or {}
    if ex:
        lines += [f"{heading}# Example", ""]
        if ex.get("bad"):
            lines += ["Reported:", "", "```json", ex["bad"].rstrip(), "```", ""]
        if ex.get("good"):
            lines += ["Compliant:", "", "```json", ex["good"].rstrip(), "```", ""]
    if d.get("references"):
        lines += [f"{heading}# References", ""] + [f"- {r}" for r in d["references"]] + [""]
    return "\n".join(lines)


def render_all(rules) -> str:
    out = ["# vmsslint rules", "",
           "Generated from `rules/*.yaml` by `python -m linter.docs`; do not edit by hand.", "",
           "| Code | Name | Severity | Requirements | Editions |", "|---|---|---|---|---|"]
    for r in rules:
        anchor = f"{r.code}-{r.name}".lower()
        out.append(f"| [{r.code}](#{anchor}) | {r.name} | {r.severity} | {', '.join(r.requirements) or '—'} | "
                   f"{', '.join(r.editions)} |")
    out.append("")
    for r in rules:
        out.append(render_rule(r, "##"))
    return "\n".join(out).rstrip("\n") + "\n"


def render_page(rule) -> str:
    """docs/rules/VMSSnnn.md: one rule's page, the one SARIF helpUri and the language server link to."""
    body = render_rule(rule, "#")
    return (f"<!-- Generated from rules/{os.path.basename(rule.path) if rule.path else rule.code} by "
            f"`python -m linter.docs`; do not edit by hand. -->\n\n{body.rstrip()}\n\n"
            f"[All rules](../rules.md)\n")


def rule_pages(rules) -> dict:
    """{file name: text} of every rule page under docs/rules/."""
    return {f"{r.code}.md": render_page(r) for r in rules}


def main():
    from linter.rules import REPO_DIR, compile_rules, data_dir, rule_files
    rules = compile_rules(rule_files(data_dir("rules")))
    path = os.path.join(REPO_DIR, "docs", "rules.md")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(render_all(rules))
    print(f"wrote {os.path.relpath(path)}")
    pages_dir = os.path.join(REPO_DIR, "docs", "rules")
    os.makedirs(pages_dir, exist_ok=True)
    pages = rule_pages(rules)
    for name in os.listdir(pages_dir):  # a page of a rule that no longer exists goes
        if name.endswith(".md") and name not in pages:
            os.remove(os.path.join(pages_dir, name))
    for name, text in pages.items():
        with open(os.path.join(pages_dir, name), "w", encoding="utf-8") as fh:
            fh.write(text)
    print(f"wrote {len(pages)} pages in {os.path.relpath(pages_dir)}")


if __name__ == "__main__":
    main()
