"""Terraform configurations, Terraform plans and exports of deployed scale sets, linted with the ARM rules.

This package's top level stays light: the engine asks :func:`is_terraform_path` and
:func:`json_kind` on every run, and only a Terraform input imports the HCL parser.
"""

from __future__ import annotations

TF_SUFFIXES = (".tf", ".tfvars")


def is_terraform_path(path: str) -> bool:
    return path.lower().endswith(TF_SUFFIXES)


def json_kind(root) -> str | None:
    """'plan' for ``terraform show -json`` output, 'export' for az CLI / Resource Graph JSON, else None."""
    if isinstance(root, dict):
        if "format_version" in root and ("resource_changes" in root or "planned_values" in root
                                         or "terraform_version" in root):
            return "plan"
        data = root.get("data")
        if isinstance(data, list) and ("count" in root or "totalRecords" in root or "skipToken" in root or "total_records" in root
                                       or "resultTruncated" in root) and all(_rest(r) for r in data[:50]):
            return "export"
        if _rest(root):
            return "export"
    if isinstance(root, list) and root and all(_rest(r) for r in root[:50]):
        return "export"
    return None


def _rest(r) -> bool:
    if not isinstance(r, dict):
        return False
    t = r.get("type")
    rid = r.get("id")
    return isinstance(t, str) and isinstance(rid, str) and rid.lower().startswith("/subscriptions/") \
        and t.lower() in ("microsoft.compute/virtualmachinescalesets", "microsoft.network/loadbalancers")


def lint_input(engine, path, report, lf=None):
    """Lint a Terraform file/module, or a plan/export JSON already read as ``lf``; True when handled."""
    if lf is None:
        import importlib.util
        if importlib.util.find_spec("hcl2") is None:
            _no_parser(engine, path, report)
            return True
        from linter.terraform.lint import lint_tf_path
        lint_tf_path(engine, path, report)
        return True
    low = path.lower().replace("\\", "/")
    if low.endswith(".tfvars.json"):  # variable values
        if low.rsplit("/", 1)[-1] == "terraform.tfvars.json" or low.endswith(".auto.tfvars.json"):
            return lint_input(engine, path, report)  # Terraform loads it: lint the module it belongs to
        report.notes.append(f"{lf.src.display}: Terraform variable values; give it with --var-file to lint "
                            f"its module with them")
        return True
    kind = json_kind(lf.root)
    if kind == "plan":
        from linter.terraform.plan import lint_plan
        lint_plan(engine, lf, report)
        return True
    if kind == "export":
        from linter.terraform.exports import lint_export
        lint_export(engine, lf, report)
        return True
    return False


def _no_parser(engine, path, report):
    """Without python-hcl2 a Terraform module cannot be read: say so once per module, never crash."""
    import os

    from linter.findings import Finding
    from linter.source import SourceFile
    seen = report.__dict__.setdefault("_tf_no_parser", set())
    key = os.path.abspath(os.path.dirname(path) or ".")
    if key in seen or not engine.settings.selected("VMSS001"):
        return
    seen.add(key)
    from linter.loader import _display
    report.findings.append(Finding(
        "VMSS001", "invalid-json", "error", [], SourceFile(path, "", _display(path)), 0, 0, "",
        "cannot read this file: reading Terraform needs the HCL parser python-hcl2 (pip install "
        "'vmsslint[terraform]')"))
