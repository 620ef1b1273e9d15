"""Azure Stack Hub API profiles: the ``apiVersion`` a template's top-level ``apiProfile`` gives a resource.

A template with ``"apiProfile": "2019-03-01-hybrid"`` may omit ``apiVersion`` on its resources; Azure
Resource Manager then takes the version the profile lists for the resource's type.  The mapping is
transcribed from Microsoft's page "Resource provider API versions supported by profiles in Azure Stack
Hub" (https://learn.microsoft.com/azure-stack/user/azure-stack-profiles-azure-resource-manager-versions)
into ``apiprofiles.json`` beside this module, one row per table row, with the page's own row text kept
next to the ARM type it names so the transcription can be checked line by line:

* ``2020-09-01-hybrid`` from the current page (ms.date 12/6/2021), which documents only this profile;
* ``2019-03-01-hybrid`` from the page's earlier version (ms.date 08/28/2020), the last one to document it.

No other profile (``2018-03-01-hybrid``, ``2017-03-09-profile``, ``latest``) has a table on the page, so
none is known here: :func:`is_known_profile` is False for them and a caller reports the version as
unverifiable rather than guessing.

Normalisations of obvious typos on the page: ``/2016-06-01`` and ``/2019-10-01`` (leading slash) read as
the dates; ``2015-06-01 - preview`` as ``2015-06-01-preview``; the overview's ``2016-09-011`` as
``2016-09-01``.  (The machine-readable profile in Azure/azure-rest-api-specs ``profile/2020-09-01-hybrid.json``
differs from the page in places, e.g. it also lists ``Microsoft.Compute/disks`` and gives
``diagnosticSettings`` 2017-05-01-preview; the issue asks for the page, so the page wins here.)

Child types: the tables list the child types they cover (``virtualMachineScaleSets/extensions``,
``vaults/secrets``, ...) and say nothing about types they do not list, so a type that is not in the
table — ``Microsoft.Network/loadBalancers/inboundNatRules``, say — is *not* given its parent's or its
provider's version: :func:`api_version` returns None (unverifiable).  The provider-level overview table
is available separately through :func:`provider_version` for a caller that wants to show it as a hint.

The JSON file is read once, on first use, so importing this module costs nothing at lint time.
"""

from __future__ import annotations

import json
import os
from typing import Dict, Optional

__all__ = ["api_version", "is_known_profile", "known_profiles", "provider_version", "profile_types"]

_DATA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apiprofiles.json")
_TABLES: Optional[Dict[str, dict]] = None


def _tables() -> Dict[str, dict]:
    """{profile lower-case: {"types": {type lower-case: version}, "providers": {provider lower: version}}}."""
    global _TABLES
    if _TABLES is None:
        with open(_DATA_FILE, encoding="utf-8") as f:
            raw = json.load(f)
        tables: Dict[str, dict] = {}
        for name, prof in raw["profiles"].items():
            types = {row["type"].lower(): row["apiVersion"] for row in prof["types"]}
            providers: Dict[str, str] = {}
            for label, version in prof["overview"].items():
                provider, _, qualifier = label.partition(" ")
                key = provider.lower()
                # Storage has a data-plane and a control-plane row; template resources are control plane.
                if key not in providers or "control plane" in qualifier.lower():
                    providers[key] = version
            tables[name.lower()] = {"name": name, "types": types, "providers": providers}
        _TABLES = tables
    return _TABLES


def _profile(profile) -> Optional[dict]:
    if not isinstance(profile, str):
        return None
    return _tables().get(profile.strip().lower())


def is_known_profile(profile: str) -> bool:
    """True when the page documents ``profile`` (case-insensitive)."""
    return _profile(profile) is not None


def known_profiles() -> list:
    """The documented profile names, as the page spells them."""
    return sorted(t["name"] for t in _tables().values())


def api_version(profile: str, resource_type: str) -> Optional[str]:
    """The apiVersion ``profile`` gives ``resource_type`` (e.g. ``Microsoft.Compute/virtualMachineScaleSets``).

    None when the profile is unknown or the profile's tables do not list the type (no fallback to a
    parent type or to the provider's overview version; see the module docstring).
    """
    prof = _profile(profile)
    if prof is None or not isinstance(resource_type, str):
        return None
    return prof["types"].get(resource_type.strip().strip("/").lower())


def provider_version(profile: str, provider: str) -> Optional[str]:
    """The overview table's version for a resource provider namespace (e.g. ``Microsoft.Network``)."""
    prof = _profile(profile)
    if prof is None or not isinstance(provider, str):
        return None
    return prof["providers"].get(provider.strip().lower())


def profile_types(profile: str) -> Dict[str, str]:
    """All {resource type lower-case: apiVersion} of a documented profile ({} when unknown)."""
    prof = _profile(profile)
    return dict(prof["types"]) if prof else {}
