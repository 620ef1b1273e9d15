"""Operating system settings that fight automatic OS image upgrades: REQ-WINDOWS-AU, REQ-PATCH-MODE."""

from __future__ import annotations

from linter.checks import check, fail, settle
from linter.checks.api import lookup
from linter.checks.vmss import as_bool


@check("windows-automatic-updates-off", {"properties": {"since": {"type": "string"}}, "required": ["since"]},
       variants=("default", "old-api"))
def windows_automatic_updates_off(ctx, target, options):
    """windowsConfiguration.enableAutomaticUpdates must not be true next to automatic OS image upgrade."""
    v, early = settle(target)
    if early is not None:
        yield from early
        return
    if as_bool(v) is not True:
        return
    api, _ = lookup(target.resource, "apiVersion")
    if isinstance(api, str) and api[:10] < options["since"]:
        yield fail(target.loc, "old-api", value=v, api=api, since=options["since"])
    else:
        yield fail(target.loc, value=v, since=options["since"])
