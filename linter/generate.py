"""``vmsslint generate``: compliant templates for the whole support matrix, from Jinja2 templates.

The choices (command-line options, a spec file, or prompts on a terminal) are checked here, turned
into a rendering context, and rendered by a sandboxed Jinja2 environment with undefined variables
as errors.  Every value that reaches the output must pass through a filter that JSON-encodes it —
``arm`` for a user's value (a value ARM would read as an expression, ``[...]``, is escaped as
``[[...]``), ``json`` for vmsslint's own constants; printing anything else fails the rendering.
The result is parsed with strict ``json.loads`` and written with a stable layout, so the same
choices always give byte-identical files.

The support matrix is not repeated here: supported images come from the rule that enforces them
(VMSS201), API versions from VMSS110.
"""

from __future__ import annotations

import json
import os
import re

from linter import __version__

NETWORK_API = "2025-07-01"
GALLERY_API = "2025-03-03"
SF_API = "2021-06-01"
WINDOWS_PUBLISHERS = ("microsoftwindowsserver", "microsoftsqlserver")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")

DEFAULTS = {
    "name": "vmss",
    "docs-edition": "2026",
    "instances": None,  # 5 (the minimum for Silver durability and for sets of one per batch)
    "vm-size": "Standard_D2s_v5",
    "admin-username": "azureuser",
    "zones": [],
    "upgrade-mode": None,
    "max-batch-instance-percent": 20,
    "max-unhealthy-instance-percent": 20,
    "max-unhealthy-upgraded-instance-percent": 20,
    "pause-time-between-batches": "PT0S",
    "health": None,
    "health-mode": "rich",
    "health-protocol": "http",
    "health-port": 80,
    "health-path": "/health",
    "traffic-port": 80,
    "service-fabric": False,
    "durability": "Silver",
    "cluster-name": None,
    "gallery-image-version": "1.0.0",
    "extra-images": [],
    "location": None,
    "gallery-publisher": None,
    "password-keyvault": None,
    "password-secret": None,
}

_URN = re.compile(r"^[^:\s]+:[^:\s]+:[^:\s]+$")
_VAULT = re.compile(r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.KeyVault/vaults/"
                    r"[A-Za-z0-9-]{3,24}", re.I)


class GenerateError(Exception):
    """A choice that cannot produce a compliant template; the message says which and why."""


def support_matrix(edition: str):
    """(supported image URNs of ``edition``, known Compute api-versions) as the rules define them."""
    from linter.rules import load_rules
    images, apis = [], []
    for r in load_rules():
        if r.function == "supported-platform-image":
            images = list(r.options["editions"].get(edition, []))
        if r.function == "api-version-at-least":
            apis = list(r.options["known"])
            minimum = r.options["minimum"]
    return images, [a for a in apis if a >= minimum]


def load_spec(path: str) -> dict:
    """A spec file (YAML or JSON), validated against schemas/generate.schema.json."""
    from linter import specfile
    return specfile.load(path, "generate.schema.json", GenerateError, "a mapping of choices (image, health, ...)")


def resolve(choices: dict) -> dict:
    """Check the choices against the support matrix; returns the rendering context."""
    c = dict(DEFAULTS)
    c.update({k: v for k, v in choices.items() if v is not None})
    edition = str(c["docs-edition"])
    if edition not in ("2020", "2026"):
        raise GenerateError(f"docs-edition must be 2020 or 2026, not {edition!r}")
    images, apis = support_matrix(edition)
    extra = [str(u) for u in c["extra-images"] or []]
    for urn in extra:
        if not _URN.match(urn):
            raise GenerateError(f"extra image {urn!r} is not PUBLISHER:OFFER:SKU (the az CLI's URN form without "
                                f"version)")
    images = images + [u for u in extra if u.lower() not in {i.lower() for i in images}]
    sources = [k for k in ("image", "gallery-image", "new-gallery") if c.get(k)]
    if len(sources) != 1:
        raise GenerateError("choose one image: --image PUBLISHER:OFFER:SKU, --gallery-image ID, or --new-gallery "
                            "GALLERY/IMAGE" + (f" (got {', '.join(sources)})" if sources else ""))
    os_family = c.get("os")
    if c.get("image"):
        urn = c["image"]
        by_lower = {u.lower(): u for u in images}
        if urn.count(":") == 3:
            raise GenerateError(f"--image {urn}: write PUBLISHER:OFFER:SKU without a version; the template "
                                f"always uses version 'latest'")
        if urn.lower() not in by_lower:
            import difflib
            near = difflib.get_close_matches(urn, images, n=3, cutoff=0.5)
            raise GenerateError(f"--image {urn} is not a supported image in the {edition} documentation"
                                f" (nor in extra-images)"
                                + (f"; did you mean {', '.join(near)}?" if near else
                                   "; `vmsslint generate --list-images` lists them"))
        publisher, offer, sku = by_lower[urn.lower()].split(":")
        image = {"kind": "platform", "publisher": publisher, "offer": offer, "sku": sku}
        windows = publisher.lower() in WINDOWS_PUBLISHERS
        if os_family and (os_family == "windows") != windows:
            raise GenerateError(f"--os {os_family} does not match image {urn}")
        os_family = "windows" if windows else "linux"
    elif c.get("gallery-image"):
        gid = c["gallery-image"]
        m = re.fullmatch(r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Compute/galleries/"
                         r"[^/]+/images/[^/]+", gid, re.I)
        if not m:
            raise GenerateError("--gallery-image must be a gallery image definition id, "
                                "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{g}/"
                                "images/{image}, without /versions/ (a pinned version never moves)")
        image = {"kind": "gallery", "id": gid}
        if os_family not in ("linux", "windows"):
            raise GenerateError("a gallery image needs --os linux or --os windows")
    else:
        gallery, _, name = c["new-gallery"].partition("/")
        for part, what in ((gallery, "gallery"), (name, "image")):
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._]{0,79}", part or ""):
                raise GenerateError(f"--new-gallery GALLERY/IMAGE: the {what} name {part!r} may hold letters, "
                                    f"digits, '.' and '_' (gallery names cannot contain '-')")
        version = str(c["gallery-image-version"])
        if not _VERSION.match(version):
            raise GenerateError(f"--gallery-image-version {version!r} must be MAJOR.MINOR.PATCH, e.g. 1.0.0")
        if os_family not in ("linux", "windows"):
            raise GenerateError("a new gallery image needs --os linux or --os windows")
        publisher = str(c.get("gallery-publisher") or gallery)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}", publisher):
            raise GenerateError(f"--gallery-publisher {publisher!r}: letters, digits, '.', '_' and '-', up to 128")
        if not c.get("location"):
            raise GenerateError("a new gallery image version must replicate to the region the set runs in: choose it "
                                "with --location REGION (written to the parameter file)")
        image = {"kind": "gallery-new", "gallery": gallery, "image": name, "version": version,
                 "publisher": publisher, "offer": name, "sku": "default"}

    sf = bool(c["service-fabric"])
    health = c["health"]
    if sf and edition == "2020" and health:
        raise GenerateError("the 2020 documentation does not support health probes on Service Fabric node types "
                            "(REQ-SF-NOPROBE); leave --health out, or use --docs-edition 2026")
    if not sf and not health:
        raise GenerateError("choose a health signal: --health probe (a dedicated load balancer probe) or "
                            "--health extension (the Application Health extension)")
    if health not in (None, "probe", "extension"):
        raise GenerateError(f"--health must be probe or extension, not {health!r}")
    mode = c["upgrade-mode"] or ("Automatic" if sf else "Rolling")
    if sf and mode != "Automatic":
        raise GenerateError("Service Fabric node types use upgrade mode Automatic (REQ-MODE-AUTOMATIC)")
    min_instances = 5 if sf else 1
    instances = int(c["instances"] if c["instances"] is not None else 5)
    if not min_instances <= instances <= 1000:
        raise GenerateError(f"--instances must be from {min_instances} to 1000"
                            + (" (Silver and Gold durability need five)" if sf else ""))
    api = c.get("api-version") or apis[-1]
    if api not in apis:
        raise GenerateError(f"--api-version {api}: automatic OS image upgrades need one of {', '.join(apis)}")
    zones = [str(z) for z in c["zones"]]
    if any(z not in ("1", "2", "3") for z in zones) or len(set(zones)) != len(zones):
        raise GenerateError(f"--zones must be distinct zones among 1, 2, 3, not {','.join(zones)}")
    rolling = {
        "maxBatchInstancePercent": int(c["max-batch-instance-percent"]),
        "maxUnhealthyInstancePercent": int(c["max-unhealthy-instance-percent"]),
        "maxUnhealthyUpgradedInstancePercent": int(c["max-unhealthy-upgraded-instance-percent"]),
        "pauseTimeBetweenBatches": str(c["pause-time-between-batches"]),
    }
    for key, lo in (("maxBatchInstancePercent", 5), ("maxUnhealthyInstancePercent", 5),
                    ("maxUnhealthyUpgradedInstancePercent", 0)):
        if not lo <= rolling[key] <= 100:
            raise GenerateError(f"{key} must be from {lo} to 100, not {rolling[key]}")
    from linter.arm.functions import parse_duration
    if parse_duration(rolling["pauseTimeBetweenBatches"]) is None:
        raise GenerateError(f"pause-time-between-batches {rolling['pauseTimeBetweenBatches']!r} is not an ISO 8601 "
                            f"duration such as PT0S or PT5M")
    if zones and api >= "2020-12-01":
        rolling["enableCrossZoneUpgrade"] = False
    protocol = str(c["health-protocol"]).lower()
    if protocol not in ("tcp", "http", "https"):
        raise GenerateError(f"--health-protocol must be tcp, http or https, not {protocol!r}")
    port = int(c["health-port"])
    if not 1 <= port <= 65535:
        raise GenerateError(f"--health-port {port} is not a port (1-65535)")
    path = str(c["health-path"])
    if protocol != "tcp" and not path.startswith("/"):
        raise GenerateError(f"--health-path {path!r} must start with '/'")
    health_mode = c["health-mode"]
    if health_mode not in ("binary", "rich"):
        raise GenerateError(f"--health-mode must be binary or rich, not {health_mode!r}")
    settings = {"protocol": protocol, "port": port}
    if protocol != "tcp":
        settings["requestPath"] = path
    settings.update({"intervalInSeconds": 5, "numberOfProbes": 1})
    if health_mode == "rich":
        settings["gracePeriod"] = 600
    name = str(c["name"])
    if not name or len(name) > 64:
        raise GenerateError("--name must be 1 to 64 characters")
    service_fabric = None
    if sf:
        durability = c["durability"]
        if durability not in ("Silver", "Gold"):
            raise GenerateError(f"--durability must be Silver or Gold for automatic OS upgrades, not {durability!r}")
        service_fabric = {"durability": durability, "reliability": "Silver",
                          "cluster": c["cluster-name"] or f"{_slug(name, 20) or 'sf'}-cluster",
                          "node_type": _slug(name, 9) or "nt0"}
    prefix = _slug(name, 9 if os_family == "windows" else 15) or "vm"
    vault, secret = c.get("password-keyvault"), c.get("password-secret")
    if bool(vault) != bool(secret):
        raise GenerateError("--password-keyvault VAULT_ID and --password-secret NAME go together")
    if vault and not _VAULT.fullmatch(str(vault)):
        raise GenerateError("--password-keyvault must be a key vault's resource id, /subscriptions/{s}/resourceGroups/"
                            "{rg}/providers/Microsoft.KeyVault/vaults/{name}")
    if secret and not re.fullmatch(r"[A-Za-z0-9-]{1,127}", str(secret)):
        raise GenerateError(f"--password-secret {secret!r}: a Key Vault secret name holds letters, digits and '-'")
    keyvault = {"id": str(vault), "secret": str(secret)} if vault else None
    location = c.get("location")
    if location is not None and not re.fullmatch(r"[A-Za-z][A-Za-z0-9 ]{1,40}", str(location)):
        raise GenerateError(f"--location {location!r} is not a region name such as westeurope")
    return {
        "version": __version__,
        "description": f"vmsslint generate: {_describe(image)}, health {health or 'Service Fabric'}, "
                       f"documentation edition {edition}",
        "edition": edition, "name": name, "os": os_family, "image": image, "health": None if sf and edition == "2020"
        else health, "health_mode": health_mode, "health_settings": settings,
        "probe_protocol": {"tcp": "Tcp", "http": "Http", "https": "Https"}[protocol], "health_port": port,
        "health_path": path, "traffic_port": int(c["traffic-port"]), "service_fabric": service_fabric,
        "instances": instances, "min_instances": min_instances, "vm_size": str(c["vm-size"]),
        "admin_username": str(c["admin-username"]), "zones": zones, "upgrade_mode": mode, "rolling": rolling,
        "api_version": api, "network_api": NETWORK_API, "gallery_api": GALLERY_API, "sf_api": SF_API,
        "computer_prefix": prefix, "keyvault": keyvault, "location": location,
    }


def _slug(text: str, limit: int) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())[:limit]


def _describe(image) -> str:
    if image["kind"] == "platform":
        return f"{image['publisher']}:{image['offer']}:{image['sku']}"
    if image["kind"] == "gallery":
        return "gallery image " + image["id"].rsplit("/", 1)[-1]
    return f"new gallery image {image['gallery']}/{image['image']}"


# --- rendering ------------------------------------------------------------------------------------

class _JSON(str):
    """Text that a filter has already encoded as JSON: the only thing the templates may print."""


def _arm(value) -> _JSON:
    """A user's value as JSON; a string ARM would read as an expression gets its '[' doubled."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == "[" and value[-1] == "]":
        value = "[" + value
    return _JSON(json.dumps(value, ensure_ascii=False))


def _json(value) -> _JSON:
    return _JSON(json.dumps(value, ensure_ascii=False))


def _arm_in_expression(value) -> _JSON:
    """A user's value as a string literal inside an ARM expression that sits in a JSON string."""
    literal = "'" + str(value).replace("'", "''") + "'"
    return _JSON(json.dumps(literal, ensure_ascii=False)[1:-1])


def _finalize(value):
    if isinstance(value, _JSON):
        return value
    raise GenerateError(f"template bug: a value was printed without the arm or json filter: {value!r}")


def render(context: dict) -> dict:
    """{file name: text} of the rendered templates, each strict JSON with a stable layout."""
    from jinja2 import FileSystemLoader, StrictUndefined, TemplateError
    from jinja2.sandbox import SandboxedEnvironment

    from linter.rules import data_dir
    env = SandboxedEnvironment(loader=FileSystemLoader(data_dir("templates")), undefined=StrictUndefined,
                               autoescape=False, finalize=_finalize, keep_trailing_newline=True)
    env.filters.update(arm=_arm, json=_json, arm_in_expression=_arm_in_expression)
    out = {}
    for name in ("azuredeploy.json", "azuredeploy.parameters.json"):
        try:
            text = env.get_template(name + ".j2").render(**context)
        except TemplateError as exc:
            raise GenerateError(f"template {name}.j2: {exc}") from None
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:  # pragma: no cover - a template bug
            raise GenerateError(f"template {name}.j2 rendered invalid JSON ({exc.msg} at {exc.lineno}:{exc.colno})") \
                from None
        out[name] = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    return out


# --- Terraform -------------------------------------------------------------------------------------

def _tf_inner(value) -> str:
    """A user's value as the inside of an HCL quoted string: JSON escapes, and "${"/"%{" doubled so that
    Terraform reads no interpolation or directive in it."""
    text = json.dumps(str(value), ensure_ascii=False)[1:-1]
    return text.replace("${", "$${").replace("%{", "%%{")


def _tf(value) -> _JSON:
    """A user's value as an HCL string (or number/bool)."""
    if isinstance(value, bool) or isinstance(value, (int, float)):
        return _hcl(value)
    return _JSON('"' + _tf_inner(value) + '"')


def _hcl(value) -> _JSON:
    """vmsslint's own constant as HCL: strings, numbers, bools, lists and one-line objects."""
    if isinstance(value, bool):
        return _JSON("true" if value else "false")
    if isinstance(value, (int, float)):
        return _JSON(json.dumps(value))
    if isinstance(value, str):
        return _JSON('"' + _tf_inner(value) + '"')
    if isinstance(value, (list, tuple)):
        return _JSON("[" + ", ".join(_hcl(v) for v in value) + "]")
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", str(k)):
                raise GenerateError(f"template bug: {k!r} is not an HCL identifier")
            items.append(f"{k} = {_hcl(v)}")
        return _JSON("{ " + ", ".join(items) + " }")
    raise GenerateError(f"template bug: {value!r} has no HCL form")


def _hcl_comment(value) -> _JSON:
    return _JSON(" ".join(str(value).split()))


_ATTR = re.compile(r"^(\s*)([A-Za-z_][A-Za-z0-9_-]*) *= *(.*)$")


def tf_fmt(text: str) -> str:
    """The layout ``terraform fmt`` gives: the "=" of consecutive one-line attributes aligned."""
    lines = text.split("\n")
    out = []
    group = []

    def flush():
        if group:
            width = max(len(m.group(2)) for _, m in group)
            for _, m in group:
                out.append(f"{m.group(1)}{m.group(2).ljust(width)} = {m.group(3)}")
            group.clear()

    depth_open = ("{", "[", "(")
    for line in lines:
        m = _ATTR.match(line)
        if m and not m.group(3).rstrip().endswith(depth_open):
            if group and len(group[0][1].group(1)) != len(m.group(1)):
                flush()
            group.append((line, m))
            continue
        flush()
        if m:  # a multi-line value opens here: it ends the group, unaligned
            out.append(f"{m.group(1)}{m.group(2)} = {m.group(3)}")
            continue
        out.append(line)
    flush()
    return "\n".join(out)


def render_terraform(context: dict) -> dict:
    """{main.tf, variables.tf} for the azurerm provider; each parsed back with the HCL parser."""
    from jinja2 import FileSystemLoader, StrictUndefined, TemplateError
    from jinja2.sandbox import SandboxedEnvironment

    from linter.rules import data_dir
    env = SandboxedEnvironment(loader=FileSystemLoader(data_dir("templates")), undefined=StrictUndefined,
                               autoescape=False, finalize=_finalize, keep_trailing_newline=True)
    env.filters.update(tf=_tf, hcl=_hcl, tf_inner=lambda v: _JSON(_tf_inner(v)), hclcomment=_hcl_comment)
    out = {}
    for name in ("main.tf", "variables.tf"):
        try:
            text = env.get_template(name + ".j2").render(**context)
        except TemplateError as exc:
            raise GenerateError(f"template {name}.j2: {exc}") from None
        text = tf_fmt(text.strip("\n")) + "\n"
        try:
            from linter.source import SourceFile
            from linter.terraform.hcl import HCLSyntaxError, parse_file
            parse_file(SourceFile(name, text))
        except HCLSyntaxError as exc:  # pragma: no cover - a template bug
            raise GenerateError(f"template {name}.j2 rendered invalid HCL: {exc.message}") from None
        except ImportError:
            raise GenerateError("--target terraform needs the HCL parser: pip install 'vmsslint[terraform]'") \
                from None
        out[name] = text
    return out


def write(files: dict, directory: str, force: bool) -> list:
    """Write all files or none: refuses to overwrite without ``force``; each file atomically.

    Every destination is checked before the first file is written (a directory where a file should
    go, a file where the output directory should be), so that a refusal leaves nothing half done.
    """
    import stat

    from linter.fileio import WriteError, write_atomic
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise GenerateError(f"-o {directory}: it is a file, not a directory; nothing written")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        why = "a part of the path is a file, not a directory" if isinstance(exc, (NotADirectoryError, FileExistsError)) \
            else (exc.strerror or str(exc))
        raise GenerateError(f"-o {directory}: cannot create the directory: {why}; nothing written") from None
    paths = {name: os.path.join(directory, name) for name in files}
    existing = [p for p in paths.values() if os.path.lexists(p)]
    if existing and not force:
        raise GenerateError(f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; "
                            f"use --force to overwrite")
    for path in existing:
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            raise GenerateError(f"{path}: cannot overwrite it ({exc.strerror}); nothing written") from None
        if not stat.S_ISREG(mode):
            what = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise GenerateError(f"{path} is {what}; nothing written")
    if not os.access(directory, os.W_OK):
        raise GenerateError(f"-o {directory}: the directory is not writable; nothing written")
    written = []
    try:
        for name, path in paths.items():
            write_atomic(path, files[name])
            written.append(path)
    except WriteError as exc:
        raise GenerateError(f"{exc}" + (f" (already written: {', '.join(written)})" if written else
                                        "; nothing written")) from None
    return list(paths.values())


# --- prompts ------------------------------------------------------------------------------------------

def _completer(words):
    """A readline completer over ``words`` (case-insensitive prefix, then substring)."""
    def complete(text, state):
        low = text.lower()
        hits = [w for w in words if w.lower().startswith(low)] or [w for w in words if low and low in w.lower()]
        return hits[state] if state < len(hits) else None
    return complete


def _ask(question, explain, default=None, words=(), check=None):
    """Ask one question on the terminal: a one-line explanation, the default shown, Tab completes ``words``."""
    import click
    try:
        import readline
    except ImportError:  # pragma: no cover - Windows without pyreadline
        readline = None
    if readline is not None:
        readline.set_completer(_completer(list(words)) if words else None)
        readline.set_completer_delims("")
        readline.parse_and_bind("tab: complete")
    click.echo(f"  {explain}")
    while True:
        # on stdout: Python's input() edits with readline (Tab completion) only when it writes to stdout
        answer = click.prompt(question, default=default, show_default=default is not None)
        answer = str(answer).strip()
        if check is None:
            return answer
        value, problem = check(answer)
        if problem is None:
            return value
        click.echo(f"  {problem}")


def _pick(words, what):
    def check(answer):
        if answer.isdigit() and 1 <= int(answer) <= len(words):
            return words[int(answer) - 1], None
        low = answer.lower()
        exact = [w for w in words if w.lower() == low]
        if exact:
            return exact[0], None
        hits = [w for w in words if w.lower().startswith(low)] or [w for w in words if low in w.lower()]
        if len(hits) == 1:
            return hits[0], None
        if hits:
            return None, f"{len(hits)} {what}s match: " + ", ".join(hits[:6]) + (" ..." if len(hits) > 6 else "")
        import difflib
        near = difflib.get_close_matches(answer, words, n=3, cutoff=0.4)
        return None, f"no {what} {answer!r}" + (f"; did you mean {', '.join(near)}?" if near else "")
    return check


def prompt_missing(choices: dict, interactive: bool, edition: str) -> None:
    """On a terminal, ask for what is missing (with Tab completion); otherwise say what to pass."""
    has_image = any(choices.get(k) for k in ("image", "gallery-image", "new-gallery"))
    if not has_image:
        if not interactive:
            raise GenerateError("missing --image PUBLISHER:OFFER:SKU (or --gallery-image / --new-gallery); "
                                "`vmsslint generate --list-images` lists the supported images")
        images = support_matrix(edition)[0] + [u for u in choices.get("extra-images") or [] if u not in
                                               support_matrix(edition)[0]]
        words = images + ["gallery"]
        answer = _ask("Image", "the OS image: a supported platform image (type part of its name, Tab completes), "
                      "or 'gallery' for your own gallery image", default=images[0], words=words,
                      check=_pick(words, "image"))
        if answer == "gallery":
            _prompt_gallery(choices)
        else:
            choices["image"] = answer
    if not choices.get("service-fabric") and not choices.get("health"):
        if not interactive:
            raise GenerateError("missing --health probe|extension (the application health signal)")
        choices["health"] = _ask("Health signal", "extension: the Application Health extension in each VM reports "
                                 "health; probe: a dedicated load balancer probe", default="extension",
                                 words=["extension", "probe"], check=_pick(["extension", "probe"], "health signal"))
    if interactive and (choices.get("health") in ("extension", "probe")):
        _prompt_health(choices)


def _prompt_gallery(choices):
    kind = _ask("Gallery image", "an existing image definition id (/subscriptions/.../galleries/G/images/I), or "
                "GALLERY/IMAGE to create the gallery and its image in the template", words=[])
    if kind.startswith("/"):
        choices["gallery-image"] = kind
    else:
        choices["new-gallery"] = kind
    if not choices.get("os"):
        choices["os"] = _ask("OS family", "the gallery image's operating system", default="linux",
                             words=["linux", "windows"], check=_pick(["linux", "windows"], "OS family"))
    if choices.get("new-gallery"):
        if not choices.get("location"):
            choices["location"] = _ask("Region", "where the set runs; the first image version replicates there",
                                       default="westeurope")
        if not choices.get("gallery-publisher"):
            choices["gallery-publisher"] = _ask("Publisher", "the publisher name of your image definition",
                                                default=kind.partition("/")[0])


def _prompt_health(choices):
    def port_check(answer):
        return (int(answer), None) if answer.isdigit() and 1 <= int(answer) <= 65535 else (None, "a port is 1-65535")
    if not choices.get("health-protocol"):
        choices["health-protocol"] = _ask("Health protocol", "how the health endpoint is checked: http(s) expects a "
                                          "200 reply, tcp a connection", default="http", words=["http", "https", "tcp"],
                                          check=_pick(["http", "https", "tcp"], "protocol"))
    if not choices.get("health-port"):
        choices["health-port"] = _ask("Health port", "the port your application answers health checks on",
                                      default="80", check=port_check)
    if choices["health-protocol"] != "tcp" and not choices.get("health-path"):
        choices["health-path"] = _ask("Health path", "the request path of the health endpoint", default="/health",
                                      check=lambda a: (a, None) if a.startswith("/") else (None, "start with '/'"))


def ask_health(name):
    """--from on a terminal: the Application Health extension settings for ``name``."""
    import click
    click.echo(f"{name} has no health signal; vmsslint adds the Application Health extension.")
    choices = {"health": "extension"}
    _prompt_health(choices)
    return choices["health-protocol"], int(choices["health-port"]), choices.get("health-path")
