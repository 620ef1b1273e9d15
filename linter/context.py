"""What check functions see besides the resource: the evaluated deployment and the settings."""

from __future__ import annotations

from linter.arm.values import canon
from linter.settings import Settings


class Context:
    """What check functions see besides the resource: the deployment and the settings."""

    @property
    def now(self):
        return self.settings.now

    def __init__(self, deployment, settings: Settings):
        self.deployment = deployment
        self.settings = settings
        self.edition = settings.edition
        self.require_auto_upgrade = settings.require_auto_upgrade
        self.extra_images = [":".join(x) if isinstance(x, (list, tuple)) else x for x in settings.extra_images]
        self._by_type: dict = {}
        for r in deployment.resources:
            self._by_type.setdefault(r.type_lower, []).append(r)

    def resources(self, type_lower: str):
        return self._by_type.get(type_lower, [])

    def children_of(self, parent, type_lower: str):
        """Child resources of ``parent``: nested in it, or top-level and named ``parent/child``."""
        out = [c for c in parent.children if c.type_lower == type_lower]
        pname = canon(parent.name)
        if pname is None:
            return out
        prefix = pname.lower() + "/"
        for r in self.resources(type_lower):
            if r.parent is None:
                c = canon(r.name)
                if c is not None and c.lower().startswith(prefix) and r not in out:
                    out.append(r)
        return out
