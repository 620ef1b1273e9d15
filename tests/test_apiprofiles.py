"""Azure Stack Hub API profiles, checked against Microsoft's page.

Source of every expected value: "Resource provider API versions supported by profiles in Azure Stack
Hub", https://learn.microsoft.com/azure-stack/user/azure-stack-profiles-azure-resource-manager-versions
(MicrosoftDocs/azure-stack-docs, azure-stack/user/azure-stack-profiles-azure-resource-manager-versions.md):
the 2020-09-01-hybrid tables from the page dated 12/6/2021, the 2019-03-01-hybrid tables from its version
dated 08/28/2020 (commit 005b08cbd6a8984f52ef367b19bf27a26885248a).
"""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from linter.arm import apiprofiles
from linter.arm.apiprofiles import api_version, is_known_profile, known_profiles, profile_types, provider_version

DATA = pathlib.Path(apiprofiles.__file__).with_name("apiprofiles.json")

# (profile, resource type as templates spell it, version the page's table gives)
FROM_THE_PAGE = [
    ("2020-09-01-hybrid", "Microsoft.Compute/virtualMachineScaleSets", "2020-06-01"),
    ("2020-09-01-hybrid", "Microsoft.Compute/virtualMachineScaleSets/extensions", "2020-06-01"),
    ("2020-09-01-hybrid", "Microsoft.Compute/images", "2020-06-01"),
    ("2020-09-01-hybrid", "Microsoft.Network/loadBalancers", "2018-11-01"),
    ("2020-09-01-hybrid", "Microsoft.Network/dnszones", "2016-04-01"),
    ("2020-09-01-hybrid", "Microsoft.Network/publicIPAddresses", "2018-11-01"),
    ("2020-09-01-hybrid", "Microsoft.Storage/storageAccounts", "2019-06-01"),
    ("2020-09-01-hybrid", "Microsoft.KeyVault/vaults", "2019-09-01"),
    ("2020-09-01-hybrid", "Microsoft.KeyVault/vaults/accessPolicies", "2019-09-01"),
    ("2020-09-01-hybrid", "Microsoft.Resources/deployments", "2019-10-01"),
    ("2020-09-01-hybrid", "Microsoft.Resources/subscriptions", "2016-06-01"),
    ("2020-09-01-hybrid", "Microsoft.Insights/diagnosticSettings", "2018-01-01"),
    ("2020-09-01-hybrid", "Microsoft.Insights/operations", "2015-04-01"),
    ("2020-09-01-hybrid", "Microsoft.EventHub/namespaces", None),  # the page spells the provider Microsoft.Eventhubs
    ("2020-09-01-hybrid", "Microsoft.Eventhubs/namespaces", "2018-01-01-preview"),
    ("2020-09-01-hybrid", "Microsoft.Eventhubs/namespaces/eventhubs", "2017-04-01"),
    ("2020-09-01-hybrid", "Microsoft.Web/serverfarms", "2018-02-01"),
    ("2019-03-01-hybrid", "Microsoft.Compute/virtualMachineScaleSets", "2017-12-01"),
    ("2019-03-01-hybrid", "Microsoft.Compute/virtualMachines/extensions", "2017-12-01"),
    ("2019-03-01-hybrid", "Microsoft.Network/virtualNetworks", "2017-10-01"),
    ("2019-03-01-hybrid", "Microsoft.Network/networkSecurityGroups", "2017-10-01"),
    ("2019-03-01-hybrid", "Microsoft.Storage/storageAccounts", "2017-10-01"),
    ("2019-03-01-hybrid", "Microsoft.KeyVault/vaults/secrets", "2016-10-01"),
    ("2019-03-01-hybrid", "Microsoft.Insights/diagnosticSettings", "2017-05-01-preview"),
    ("2019-03-01-hybrid", "Microsoft.Resources/deployments", "2018-05-01"),
    ("2019-03-01-hybrid", "Microsoft.Resources/subscriptions/locations", "2016-06-01"),
    ("2019-03-01-hybrid", "Microsoft.Authorization/locks", "2016-09-01"),
    ("2019-03-01-hybrid", "Microsoft.Authorization/roleAssignments", "2015-07-01"),
    # The 2019-03-01-hybrid tables have no Images row (2020-09-01-hybrid added it).
    ("2019-03-01-hybrid", "Microsoft.Compute/images", None),
]


@pytest.mark.parametrize("profile,rtype,expected", FROM_THE_PAGE)
def test_versions_from_the_page(profile, rtype, expected):
    assert api_version(profile, rtype) == expected


def test_lookup_is_case_insensitive():
    assert api_version("2019-03-01-HYBRID", "microsoft.compute/VIRTUALMACHINESCALESETS") == "2017-12-01"
    assert is_known_profile("2020-09-01-Hybrid")


def test_only_documented_profiles_are_known():
    assert known_profiles() == ["2019-03-01-hybrid", "2020-09-01-hybrid"]
    for name in ("2018-03-01-hybrid", "2017-03-09-profile", "latest", "", "2019-03-01"):
        assert not is_known_profile(name)
        assert api_version(name, "Microsoft.Compute/virtualMachineScaleSets") is None
    assert not is_known_profile(None)  # type: ignore[arg-type]


def test_unlisted_child_type_has_no_version():
    # The tables list loadBalancers but not its child types; no fallback to the parent or the provider.
    assert api_version("2020-09-01-hybrid", "Microsoft.Network/loadBalancers") == "2018-11-01"
    assert api_version("2020-09-01-hybrid", "Microsoft.Network/loadBalancers/inboundNatRules") is None
    assert api_version("2020-09-01-hybrid", "Microsoft.Network/virtualNetworks/subnets") is None
    assert api_version("2020-09-01-hybrid", "Microsoft.Compute/disks") is None


def test_provider_overview():
    assert provider_version("2020-09-01-hybrid", "Microsoft.Compute") == "2020-06-01"
    assert provider_version("2020-09-01-hybrid", "Microsoft.Network") == "2018-11-01"
    assert provider_version("2020-09-01-hybrid", "Microsoft.KeyVault") == "2019-09-01"
    assert provider_version("2020-09-01-hybrid", "Microsoft.Authorization") == "2016-09-01"  # page: "2016-09-011"
    # 2019-03-01-hybrid: Storage has data-plane 2017-11-09 and control-plane 2017-10-01; ARM types are control plane.
    assert provider_version("2019-03-01-hybrid", "Microsoft.Storage") == "2017-10-01"
    assert provider_version("2019-03-01-hybrid", "Microsoft.Gallery") is None
    assert provider_version("2018-03-01-hybrid", "Microsoft.Compute") is None


def test_transcription_is_complete_and_well_formed():
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    counts = {name: len(p["types"]) for name, p in raw["profiles"].items()}
    # Rows on the page: 2020-09-01-hybrid 7+4+15+3+9+10+7+4+15+18+6+26, 2019-03-01-hybrid 8+6+14+8+7+4+15+18+6.
    assert counts == {"2020-09-01-hybrid": 124, "2019-03-01-hybrid": 86}
    for name, prof in raw["profiles"].items():
        providers = {row["provider"] for row in prof["types"]}
        assert {"Microsoft.Compute", "Microsoft.Network", "Microsoft.Storage", "Microsoft.KeyVault",
                "Microsoft.Resources", "Microsoft.Insights"} <= providers, name
        for row in prof["types"]:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}(-preview)?", row["apiVersion"]), row
            assert row["type"].startswith(row["provider"] + "/"), row
            assert row["doc"].strip(), row
        assert len(profile_types(name)) == len(prof["types"])  # no two rows name the same type


def test_the_data_file_is_inside_the_package():
    # Files under linter/ go into the wheel (pyproject: [tool.hatch.build.targets.wheel] packages = ["linter"]).
    repo = pathlib.Path(__file__).resolve().parent.parent
    assert DATA.resolve().is_relative_to((repo / "linter").resolve())
    assert DATA.suffix == ".json" and DATA.stat().st_size > 0
