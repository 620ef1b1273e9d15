"""Settings: everything that changes what the lint reports (edition, selection, parameters, ...)."""

from __future__ import annotations

import os


class Settings:
    """Everything that changes what the lint reports."""

    def __init__(self, edition="2026", require_auto_upgrade=False, select=None, ignore=None,
                 parameters=None, location=None, now=None, extra_images=(), credential_horizon_days=30,
                 auto_parameters=True, severity=None, per_file_ignores=(), exclude=(), root=None, explicit=(),
                 parameter_files=None):
        self.edition = str(edition)
        self.require_auto_upgrade = require_auto_upgrade
        self.select = list(select or [])
        self.ignore = list(ignore or [])
        self.parameters = list(parameters or [])
        self.location = location
        self._now = now
        self.extra_images = list(extra_images)
        self.credential_horizon_days = credential_horizon_days
        self.auto_parameters = auto_parameters
        self.severity = dict(severity or {})  # per-rule severity overrides
        self.per_file_ignores = [(pattern, [c.upper() for c in codes]) for pattern, codes in per_file_ignores]
        self.exclude = list(exclude)
        self.root = root or os.getcwd()  # globs of the configuration are relative to it
        self.explicit = set(explicit)  # settings given on the command line: template metadata cannot change them
        self.context: dict = {}  # what the user knows of the deployment (Options keywords; lintcmd.deployment_context)
        self.tf_var_files: list = []  # Terraform: --var-file
        self.tf_vars: list = []  # Terraform: --var NAME=VALUE
        # parameter file glob -> template path(s), relative to root (the configuration's parameter-files)
        self.parameter_files = {k: [v] if isinstance(v, str) else list(v) for k, v in (parameter_files or {}).items()}

    def for_template(self, meta: dict):
        """These settings with a template's ``metadata.vmsslint`` applied (the command line still wins)."""
        out = object.__new__(Settings)
        out.__dict__.update(self.__dict__)
        if "docs-edition" in meta and "edition" not in self.explicit:
            out.edition = str(meta["docs-edition"])
        if "require-auto-upgrade" in meta and "require_auto_upgrade" not in self.explicit:
            out.require_auto_upgrade = meta["require-auto-upgrade"] is True
        return out

    def key(self):
        return (self.edition, self.require_auto_upgrade, tuple(self.select), tuple(self.ignore))

    def ignored_in(self, path: str) -> set:
        """Codes (prefixes) ignored for ``path`` by per-file-ignores."""
        if not self.per_file_ignores:
            return set()
        import fnmatch
        rel = os.path.relpath(os.path.abspath(path), self.root).replace(os.sep, "/")
        out = set()
        for pattern, codes in self.per_file_ignores:
            if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(os.path.basename(path), pattern):
                out.update(codes)
        return out

    def templates_of(self, parameter_file: str) -> list:
        """The template(s) a parameter file belongs to: the configuration's ``parameter-files``, else
        ``NAME.json`` for ``NAME.parameters.json`` (``azuredeploy.json`` for ``azuredeploy.parameters.json``)."""
        import fnmatch
        rel = os.path.relpath(os.path.abspath(parameter_file), self.root).replace(os.sep, "/")
        for pattern, templates in self.parameter_files.items():
            if fnmatch.fnmatch(rel, pattern):
                return [os.path.relpath(os.path.join(self.root, t)) for t in templates]
        from linter.loader import templates_for_parameter_file
        return templates_for_parameter_file(parameter_file)

    def excluded(self, path: str) -> bool:
        if not self.exclude:
            return False
        import fnmatch
        rel = os.path.relpath(os.path.abspath(path), self.root).replace(os.sep, "/")
        return any(fnmatch.fnmatch(rel, g) or fnmatch.fnmatch(rel, g.rstrip("/") + "/*") for g in self.exclude)

    @property
    def now(self):
        """The clock credential checks use: --now, or the current time (read only when needed)."""
        if self._now is None:
            import datetime
            self._now = datetime.datetime.now(datetime.timezone.utc)
        return self._now

    def selected(self, code: str) -> bool:
        if self.select and not any(code.startswith(p) for p in self.select):
            return False
        return not any(code.startswith(p) for p in self.ignore)
