"""Custom and gallery images: REQ-IMAGE-CUSTOM, REQ-GALLERY-REPLICATION, REQ-GALLERY-LATEST."""

from __future__ import annotations

from linter.arm import resourceid
from linter.arm.template import MISSING, loc_of
from linter.arm.values import Partial, Unknown
from linter.checks import check, condition, fail, unverifiable, why_unknown
from linter.checks.api import lookup
from linter.checks.vmss import as_bool, facts, get
from linter.jsonc import ci_get, ci_key

GALLERY_VERSION = "microsoft.compute/galleries/images/versions"


@condition("custom-image", "the image is not a platform image (gallery, managed image or VHD)")
def _custom_image(ctx, res):
    kind = facts(ctx, res).image_kind
    if kind == "unknown":
        return facts(ctx, res).unknown("the image reference is unknown")
    return kind not in ("platform", "none")


@condition("gallery-image", "the image is a Shared Image Gallery (Azure Compute Gallery) image")
def _gallery_image(ctx, res):
    kind = facts(ctx, res).image_kind
    if kind == "unknown":
        return facts(ctx, res).unknown("the image reference is unknown")
    return kind == "gallery"


@check("custom-image-supported", {"properties": {}},
       variants=("managed", "vhd", "pinned", "version-with-id", "undocumented", "not-gallery"))
def custom_image_supported(ctx, target, options):
    """A custom image must be a gallery image definition id, without a version."""
    f = facts(ctx, target.resource)
    img = f.image
    kind = f.image_kind
    if kind == "vhd":
        _, loc = lookup(target.resource, "properties.virtualMachineProfile.storageProfile.osDisk.image.uri")
        yield fail(loc, "vhd")
        return
    if kind in ("shared-gallery", "community-gallery"):
        key = "sharedGalleryImageId" if kind == "shared-gallery" else "communityGalleryImageId"
        k = ci_key(img, key)
        yield fail(loc_of(img, k) or f.image_loc, "undocumented", key=True, property=k)
        return
    rid = ci_get(img, "id") if isinstance(img, dict) else None
    id_loc = loc_of(img, ci_key(img, "id")) if isinstance(img, dict) and ci_key(img, "id") else f.image_loc
    if kind == "managed":
        yield fail(id_loc, "managed", value=rid)
        return
    if kind != "gallery":
        if isinstance(rid, (Unknown, Partial)):
            yield unverifiable(id_loc, why_unknown(rid))
        elif rid is not None:
            yield fail(id_loc, "not-gallery", value=rid)
        return
    parsed = resourceid.parse(rid)
    if parsed and parsed[0] == GALLERY_VERSION:
        yield fail(id_loc, "pinned", value=rid, version=resourceid.name_key(parsed[1][2]) or "?")
    vk = ci_key(img, "version")
    if vk is not None:
        yield fail(loc_of(img, vk), "version-with-id", key=True, value=img[vk])


def gallery_versions(ctx, res):
    """(gallery image version resources of the set's image defined in this template) or 'unknown'."""
    f = facts(ctx, res)
    parsed = resourceid.parse(ci_get(f.image, "id"))
    if not parsed or parsed[0] not in ("microsoft.compute/galleries/images", GALLERY_VERSION):
        return "unknown"
    gallery, image = parsed[1][0], parsed[1][1]
    gk, ik = resourceid.name_key(gallery), resourceid.name_key(image)
    if gk is None or ik is None:
        return "unknown"
    out = []
    for r in ctx.resources(GALLERY_VERSION):
        segs = resourceid.segments(r.name) if not isinstance(r.name, Unknown) else None
        if not segs or len(segs) != 3:
            continue
        if resourceid.name_key(segs[0]) == gk and resourceid.name_key(segs[1]) == ik:
            out.append(r)
    return out


def _set_region(res):
    loc = get(res.evaluated(), "location")
    return loc


def _region_entries(version):
    regions, rloc = get(version.evaluated(), "properties.publishingProfile.targetRegions")
    return regions, rloc


@check("gallery-replicated", {"properties": {}})
def gallery_replicated(ctx, target, options):
    """A gallery image version defined in the template must replicate to the set's region."""
    versions = gallery_versions(ctx, target.resource)
    if versions == "unknown" or not versions:
        return
    region, region_loc = _set_region(target.resource)
    if isinstance(region, (Unknown, Partial)):
        yield unverifiable(region_loc, why_unknown(region))
        return
    want = resourceid.normal_region(region)
    for v in versions:
        regions, rloc = _region_entries(v)
        if isinstance(regions, Unknown):
            yield unverifiable(rloc, regions.why)
            continue
        names = []
        for entry in regions if isinstance(regions, list) else []:
            n = ci_get(entry, "name") if isinstance(entry, dict) else entry
            if isinstance(n, (Unknown, Partial)):
                yield unverifiable(rloc, why_unknown(n))
                break
            names.append(resourceid.normal_region(n))
        else:
            if want not in names:
                yield fail(rloc if regions is not MISSING else loc_of(v.evaluated(), "properties"),
                           key=regions is MISSING, version=v.display_name(), region=region,
                           regions=", ".join(n for n in names if n) or "none")


@check("gallery-not-excluded", {"properties": {}})
def gallery_not_excluded(ctx, target, options):
    """A gallery image version excluded from latest (globally or for the set's region) never rolls out."""
    versions = gallery_versions(ctx, target.resource)
    if versions == "unknown" or not versions:
        return
    region, _ = _set_region(target.resource)
    want = resourceid.normal_region(region)
    for v in versions:
        ex, eloc = get(v.evaluated(), "properties.publishingProfile.excludeFromLatest")
        if isinstance(ex, (Unknown, Partial)):
            yield unverifiable(eloc, why_unknown(ex))
            continue
        if as_bool(ex) is True:
            yield fail(eloc, version=v.display_name(), scope="everywhere")
            continue
        regions, _ = _region_entries(v)
        for entry in regions if isinstance(regions, list) else []:
            if not isinstance(entry, dict):
                continue
            rex = ci_get(entry, "excludeFromLatest")
            if as_bool(rex) is True and resourceid.normal_region(ci_get(entry, "name")) == want and want:
                yield fail(loc_of(entry, ci_key(entry, "excludeFromLatest")), version=v.display_name(),
                           scope=f"in {region}")
