"""The ``vmsslint`` command line.

Exit codes: 0 — nothing at or above the fail level; 1 — findings at or above it; 2 — usage error
(unknown option, missing file, unknown rule code, broken configuration or rule file, a file that
cannot be written); 3 — internal error (VMSS000: a bug of vmsslint; the other files are still reported).
Heavy modules (jsonschema, jinja2, the simulator) are imported only by the commands that use them.
"""

from __future__ import annotations

import os
import sys

import click

from linter import __version__
from linter.options import LINT_OPTIONS


class UsageError(click.UsageError):
    exit_code = 2


class ConfigError(click.ClickException):
    """A broken rule or configuration file: exit 2, without the usage text."""

    exit_code = 2


def _click_option(opt):
    kwargs = {"help": opt.help, "multiple": opt.multiple}
    if opt.flag:
        kwargs["is_flag"] = True
    else:
        if opt.choices:
            kwargs["type"] = click.Choice(opt.choices)
            kwargs["show_default"] = True
        elif opt.path == "file":
            kwargs["type"] = click.Path(exists=True, dir_okay=False)
        elif opt.path == "output":
            kwargs["type"] = click.Path(dir_okay=False, writable=True)
        if opt.default is not None:
            kwargs["default"] = opt.default
        if opt.metavar:
            kwargs["metavar"] = opt.metavar
    return click.option(*opt.flags, opt.dest, **kwargs)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="vmsslint")
def cli():
    """Lint, generate and plan Azure VM scale set templates for automatic OS image upgrades."""


def _lint(**params):
    """Check ARM templates (files or directories) for automatic OS image upgrades.

    Exit status: 0 nothing at or above --fail-level; 1 findings at or above it; 2 usage or
    configuration error, or a file that cannot be written; 3 internal error (VMSS000), the other
    files' findings still reported.
    """
    from linter import lintcmd
    try:
        prepared = lintcmd.prepare(params)
    except lintcmd.ConfigError as exc:
        raise ConfigError(str(exc)) from None
    except lintcmd.CommandError as exc:
        raise UsageError(str(exc)) from None
    sys.exit(lintcmd.run_guarded(params, prepared))


for _opt in reversed(LINT_OPTIONS):
    _lint = _click_option(_opt)(_lint)
lint = cli.command("lint")(click.argument("paths", nargs=-1, type=click.Path(exists=True, allow_dash=True))(_lint))


@cli.command("generate")
@click.option("--spec", type=click.Path(exists=True, dir_okay=False), help="Choices from a YAML or JSON file.")
@click.option("--from", "from_template", type=click.Path(exists=True, dir_okay=False), metavar="TEMPLATE",
              help="Make this template ready instead of writing a new one (writes it, and the parameter files it "
                   "edits, under their own names in -o DIR).")
@click.option("-p", "--parameters", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="With --from: a parameter file (repeatable). Default: the one beside the template.")
@click.option("--diff", "show_diff", is_flag=True, help="With --from: show the changes as a diff; write nothing.")
@click.option("--image", metavar="PUBLISHER:OFFER:SKU", help="A supported platform image (the az CLI's URN form); "
              "with --from, the image to replace an unsupported one with, or 'auto'.")
@click.option("--extra-image", "extra_images", multiple=True, metavar="PUBLISHER:OFFER:SKU",
              help="Accept this image as supported (repeatable; adds to extra-images of the configuration).")
@click.option("--gallery-publisher", metavar="NAME", help="Publisher of a new gallery image definition (the gallery's name).")
@click.option("--location", metavar="REGION", help="Region, written to the parameter file (needed by --new-gallery).")
@click.option("--password-keyvault", metavar="VAULT_ID", help="Key vault holding the admin password (or SSH key).")
@click.option("--password-secret", metavar="NAME", help="Name of that secret in the key vault.")
@click.option("--gallery-image", metavar="ID", help="A gallery image definition id (Azure Compute Gallery).")
@click.option("--new-gallery", metavar="GALLERY/IMAGE", help="Create a gallery and image definition in the template.")
@click.option("--gallery-image-version", metavar="X.Y.Z", help="First version of the new gallery image (1.0.0).")
@click.option("--os", "os_family", type=click.Choice(["linux", "windows"]),
              help="OS family of a gallery image (with --from: of sets whose image does not tell).")
@click.option("--health", type=click.Choice(["probe", "extension"]), help="The application health signal.")
@click.option("--health-mode", type=click.Choice(["binary", "rich"]), help="Health extension states (rich: 2.0).")
@click.option("--health-protocol", type=click.Choice(["tcp", "http", "https"]))
@click.option("--health-port", type=click.IntRange(1, 65535))
@click.option("--health-path", metavar="PATH", help="Request path of an http(s) health check (/health).")
@click.option("--service-fabric", is_flag=True, default=None, help="A Service Fabric node type with its cluster.")
@click.option("--durability", type=click.Choice(["Silver", "Gold"]), help="Service Fabric durability (Silver).")
@click.option("--name", help="Name of the scale set (vmss).")
@click.option("--instances", type=click.IntRange(1, 1000), help="Instance count (5).")
@click.option("--vm-size", metavar="SIZE", help="VM size (Standard_D2s_v5).")
@click.option("--zones", metavar="1,2,3", help="Availability zones, comma-separated.")
@click.option("--upgrade-mode", type=click.Choice(["Rolling", "Automatic", "Manual"]))
@click.option("--max-batch-instance-percent", type=click.IntRange(5, 100))
@click.option("--max-unhealthy-instance-percent", type=click.IntRange(5, 100))
@click.option("--max-unhealthy-upgraded-instance-percent", type=click.IntRange(0, 100))
@click.option("--pause-time-between-batches", metavar="ISO8601", help="e.g. PT0S, PT5M.")
@click.option("--api-version", metavar="YYYY-MM-DD", help="Compute API version (the newest by default).")
@click.option("--admin-username", metavar="NAME")
@click.option("--docs-edition", type=click.Choice(["2020", "2026"]), help="Documentation edition (2026).")
@click.option("-o", "--output-dir", default=".", show_default=True, type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.option("--no-input", is_flag=True, help="Never prompt; fail when a choice is missing.")
@click.option("--list-images", is_flag=True, help="List the supported images of the edition and exit.")
@click.option("--target", type=click.Choice(["arm", "terraform"]), default="arm", show_default=True,
              help="ARM template and parameter file, or an azurerm configuration (main.tf, variables.tf).")
def generate_cmd(spec, output_dir, force, no_input, list_images, from_template, parameters, show_diff, target="arm",
                 **options):
    """Write a compliant template and its parameter file, or make an existing template ready (--from)."""
    from linter import generate
    edition = options.get("docs_edition") or "2026"
    extra = _config_extra_images(from_template or output_dir) + list(options.pop("extra_images") or ())
    if from_template:
        from linter import readyfrom
        try:
            code = readyfrom.cli(from_template, list(parameters), output_dir, force, no_input, show_diff, extra,
                                 options)
        except (readyfrom.ReadyError, generate.GenerateError) as exc:
            raise ConfigError(str(exc)) from None
        sys.exit(code)
    if parameters or show_diff:
        raise UsageError("-p/--parameters and --diff go with --from TEMPLATE")
    try:
        if list_images:
            for urn in generate.support_matrix(edition)[0]:
                click.echo(urn)
            return
        choices = generate.load_spec(spec) if spec else {}
        for key, value in options.items():
            if value is not None:
                choices["os" if key == "os_family" else key.replace("_", "-")] = value
        if isinstance(choices.get("zones"), str):
            choices["zones"] = [z.strip() for z in choices["zones"].split(",") if z.strip()]
        choices["extra-images"] = list(choices.get("extra-images") or []) + extra
        generate.prompt_missing(choices, not no_input and sys.stdin.isatty(), edition)
        context = generate.resolve(choices)
        files = generate.render_terraform(context) if target == "terraform" else generate.render(context)
        written = generate.write(files, output_dir, force)
    except generate.GenerateError as exc:
        raise ConfigError(str(exc)) from None
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"next: vmsslint lint {output_dir}")


def _config_extra_images(path):
    """extra-images of the configuration file found from ``path`` (as lint finds it)."""
    from linter import config
    try:
        return [str(u) for u in config.load(config.find([path])).get("extra-images", [])]
    except config.ConfigFileError as exc:
        raise ConfigError(str(exc)) from None


@cli.command("eval")
@click.argument("template", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("-p", "--parameters", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Parameter file (repeatable; later files win). Default: the one beside the template.")
@click.option("--parameter", "parameter_pairs", multiple=True, metavar="NAME=VALUE",
              help="A parameter value (JSON, or else a string); wins over the files (repeatable).")
@click.option("--subscription-id", metavar="ID", help="The deployment's subscription id.")
@click.option("--resource-group", metavar="NAME", help="The deployment's resource group name.")
@click.option("--location", metavar="REGION", help="The resource group's location.")
@click.option("--deployment-name", metavar="NAME", help="The deployment's name.")
@click.option("--tenant-id", metavar="ID", help="The tenant id.")
@click.option("--expr", metavar="EXPRESSION", help="Evaluate one expression in the template's scope, e.g. "
                                                   "\"[variables('vmssName')]\".")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def eval_cmd(template, parameters, parameter_pairs, subscription_id, resource_group, location, deployment_name,
             tenant_id, expr, fmt):
    """Show the template evaluated offline: its resources, outputs and parameters, as the linter sees them.

    What only Azure knows at deployment stays unknown and is shown as the expression that computes it:
    [uniqueString(resourceGroup().id)]; in JSON, {"$unknown": ...} or {"$partial": ...}. Secrets are masked.
    """
    import json as _json

    from linter import evalcmd
    from linter.arm.evaluate import Context
    if template == "-":  # the template on standard input, as `lint -` takes it (in a private directory of its own)
        import atexit
        import shutil
        import tempfile
        tmpdir = tempfile.mkdtemp(prefix="vmsslint-eval-")
        atexit.register(shutil.rmtree, tmpdir, True)
        template = os.path.join(tmpdir, "stdin.json")
        with open(template, "wb") as fh:
            fh.write(sys.stdin.buffer.read(16 * 1024 * 1024 + 1))
    try:
        pairs = [evalcmd.parse_parameter(t) for t in parameter_pairs]
        ctx = Context(subscription_id=subscription_id, resource_group=resource_group, location=location,
                      deployment_name=deployment_name, tenant_id=tenant_id)
        result, dep, where, notes = evalcmd.evaluate_file(template, parameters, pairs, ctx)
    except evalcmd.EvalCommandError as exc:
        raise ConfigError(str(exc)) from None
    if expr is not None:
        try:
            value, problems = evalcmd.evaluate_expression(dep, expr)
        except evalcmd.EvalCommandError as exc:
            raise ConfigError(str(exc)) from None
        from linter.arm.evaluate import masked_value
        shown = masked_value(dep, value)
        if fmt == "json":
            click.echo(_json.dumps({"value": shown, "problems": problems}, indent=2, ensure_ascii=False))
        else:
            click.echo(evalcmd.render_value(shown))
            for p in problems:
                click.echo(f"problem: {p}", err=True)
        if problems:
            raise click.exceptions.Exit(1)
        return
    if fmt == "json":
        click.echo(_json.dumps(result, indent=2, ensure_ascii=False))
    else:
        click.echo(evalcmd.render_text(result, where, notes, dep), nl=False)


def _finite_rate(ctx, param, value):
    if value is not None and value != value:  # nan passes FloatRange's comparisons
        raise click.BadParameter("nan is not a number from 0 to 1")
    return value


@cli.command("plan", epilog="Exit status: 0 when every simulated rollout completed; 1 when one did not "
                            "(Faulted, Cancelled, refused, never started, or the set is one Azure would refuse); "
                            "2 for usage errors (bad option, file or scenario).")
@click.argument("template", type=click.Path(exists=True, dir_okay=False))
@click.option("-p", "--parameters", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Parameter file (repeatable). Default: the one beside the template.")
@click.option("--instances", type=click.IntRange(1, 1000), help="Instance count (default: the template's capacity).")
@click.option("--unhealthy-before", type=click.IntRange(0), help="Instances unhealthy before the upgrade starts.")
@click.option("--fail-rate", type=click.FloatRange(0, 1), callback=_finite_rate,
              help="Chance that an upgraded instance comes up unhealthy.")
@click.option("--fail-instances", metavar="3,7,12", help="Instances that come up unhealthy after their upgrade.")
@click.option("--maintenance", multiple=True, metavar="AT:COUNT",
              help="COUNT instances go unhealthy AT (30m, 2h, PT10M) after the rollout starts (repeatable).")
@click.option("--trigger", type=click.Choice(["platform", "user"]),
              help="Who starts the upgrade: the platform (default) or a user (no automatic rollback).")
@click.option("--publish", metavar="VERSION[@REGION,...]",
              help="The image version published (default: the template's gallery image version, else 1.0.1), "
                   "and for a gallery image the regions it is replicated to (default: the set's).")
@click.option("--seed", type=int, help="Seed of every random choice (0).")
@click.option("--scenario", type=click.Path(exists=True, dir_okay=False), help="A YAML or JSON scenario file.")
@click.option("--runs", type=click.IntRange(1, 100000), help="Run N seeded rollouts and report the odds.")
@click.option("--jobs", type=click.IntRange(1, 256), help="Processes for --runs (default: every core).")
@click.option("--docs-edition", type=click.Choice(["2020", "2026"]), default="2026", show_default=True)
@click.option("--location", metavar="REGION")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report to FILE.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="Also write a self-contained HTML page.")
def plan_cmd(template, parameters, instances, unhealthy_before, fail_rate, fail_instances, maintenance, trigger,
             publish, seed, scenario, runs, jobs, docs_edition, location, fmt, output, html_file):
    """Simulate the OS image rollout of a template's scale sets."""
    import os

    from linter.sim import plan as planmod
    from linter.sim import report
    for target in (output, html_file):  # refuse before simulating, so nothing is half written
        parent = os.path.dirname(os.path.abspath(target)) if target else None
        if parent and not os.path.isdir(parent):
            raise ConfigError(f"cannot write {target}: the directory {parent} does not exist")
    try:
        events = []
        for m in maintenance:
            at, _, count = m.rpartition(":")
            if not at or not count.isdigit() or not 1 <= int(count) <= 1000:
                raise planmod.PlanError(f"--maintenance {m}: write AT:COUNT with COUNT 1-1000, e.g. 30m:3")
            events.append({"at": planmod.parse_duration(at, f"--maintenance {m}:"), "action": "maintenance",
                           "count": int(count)})
        fails = None
        if fail_instances:
            parts = [x.strip() for x in fail_instances.split(",") if x.strip()]
            if not all(x.isdigit() and len(x) <= 30 for x in parts):
                raise planmod.PlanError(f"--fail-instances {fail_instances}: write instance ids, e.g. 3,7,12")
            fails = [int(x) for x in parts]
        feed = planmod.parse_publish(publish) if publish else None
        overrides = {"seed": seed, "unhealthy_before": unhealthy_before, "fail_rate": fail_rate,
                     "fail_instances": fails, "trigger": trigger, "instances": instances}
        if scenario:
            sc = planmod.Scenario.from_file(scenario, **overrides)
            sc.events = sorted(sc.events + events, key=lambda e: e["at"])
        else:
            sc = planmod.Scenario(events=events, **{k: v for k, v in overrides.items() if v is not None})
        configs, _ = planmod.sets_from_template(template, parameters, edition=docs_edition, location=location)
        for cfg in configs:
            if not cfg.blockers:
                sc.check(instances or sc.instances or cfg.capacity)
    except planmod.PlanError as exc:
        raise ConfigError(str(exc)) from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not configs:
        raise ConfigError(f"{template}: no scale set to plan")
    plans, stats = [], {}
    for cfg in configs:
        entry = {"config": cfg, "blockers": cfg.blockers}
        if not cfg.blockers:
            entry["result"] = planmod.simulate(cfg, sc, edition=docs_edition, publish=feed)
            if runs:
                bar = _progress_bar(f"{cfg.name}: {runs} runs") if sys.stderr.isatty() else None
                try:
                    stats[cfg.name] = planmod.monte_carlo(cfg, sc, runs, edition=docs_edition, publish=feed,
                                                          workers=jobs, progress=bar)
                finally:
                    if bar:
                        bar.close()
        plans.append(entry)
    text = report.to_json(plans, stats) if fmt == "json" else report.text(plans, stats)
    from linter.fileio import write_atomic
    page = report.html_report(plans, stats, title=f"vmsslint plan: {template}") if html_file else None
    try:
        if html_file:
            write_atomic(html_file, page)
        if output:
            write_atomic(output, text)
    except OSError as exc:
        raise ConfigError(f"cannot write {exc.filename or output or html_file}: {exc.strerror}") from None
    if not output:
        click.echo(text, nl=False)
    sys.exit(0 if report.all_completed(plans, stats) else 1)


class _progress_bar:
    """A one-line progress bar on stderr (only made when stderr is a terminal)."""

    def __init__(self, label):
        self.label = label
        self.shown = -1

    def __call__(self, done, total):
        pct = done * 100 // max(1, total)
        if pct != self.shown:
            self.shown = pct
            filled = pct * 30 // 100
            sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {pct:3d}%")
            sys.stderr.flush()

    def close(self):
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()


@cli.command("serve")
@click.argument("templates", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("-p", "--parameters", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Parameter file (repeatable). Default: the one beside each template.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to listen on.")
@click.option("--port", default=0, show_default=True, type=click.IntRange(0, 65535), help="0: a free port.")
@click.option("--subscription-id", default="00000000-0000-0000-0000-000000000000", show_default=True)
@click.option("--resource-group", default="rg", show_default=True)
@click.option("--speed", default=600.0, show_default=True, type=click.FloatRange(0),
              help="Simulated seconds per wall-clock second; 0: time moves only through POST /vmsslint/clock.")
@click.option("--no-tls", is_flag=True, help="Plain HTTP instead of HTTPS with a self-signed certificate.")
@click.option("--state-dir", type=click.Path(file_okay=False), help="Keep the simulation here across restarts.")
def serve_cmd(templates, parameters, host, port, subscription_id, resource_group, speed, no_tls, state_dir):
    """Serve the templates' scale sets behind Azure's Compute REST API (for the SDK and az)."""
    from linter.serve.main import ServeError, serve
    try:
        sys.exit(serve(templates, parameters, host=host, port=port, subscription=subscription_id,
                       resource_group=resource_group, speed=speed, tls=not no_tls, state_dir=state_dir))
    except ServeError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)


@cli.command("rules")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
def rules_cmd(fmt):
    """List every rule: code, name, severity, requirements."""
    from linter.rules import RuleError, load_rules
    try:
        rules = load_rules()
    except RuleError as exc:
        raise ConfigError(f"broken rule file: {exc}") from None
    if fmt == "json":
        import json
        click.echo(json.dumps([{"code": r.code, "name": r.name, "severity": r.severity, "summary": r.summary,
                                "requirements": r.requirements, "editions": r.editions, "fix": r.fix["kind"]}
                               for r in rules], indent=2))
        return
    for r in rules:
        reqs = ", ".join(r.requirements) or "-"
        click.echo(f"{r.code}  {r.name:<38} {r.severity:<7}  {reqs}")


@cli.command("rule")
@click.argument("code")
def rule_cmd(code):
    """Explain one rule (by code or name)."""
    from linter.docs import render_rule
    from linter.rules import RuleError, load_rules
    try:
        rules = load_rules()
    except RuleError as exc:
        raise ConfigError(f"broken rule file: {exc}") from None
    wanted = code.strip()
    for r in rules:
        if r.code == wanted.upper() or r.name == wanted.lower():
            click.echo(render_rule(r), nl=False)
            return
    import difflib
    names = [r.code for r in rules] + [r.name for r in rules]
    near = difflib.get_close_matches(wanted, names, n=1)
    raise UsageError(f"no rule '{code}'" + (f"; did you mean {near[0]}?" if near else "; `vmsslint rules` lists them"))


@cli.command("server")
def server_cmd():
    """Run the language server (LSP over stdio) for editors; needs the lsp extra: pip install 'vmsslint[lsp]'."""
    try:
        from linter.lsp.server import main as serve
    except ImportError as exc:
        raise ConfigError(f"the language server needs pygls and lsprotocol ({exc.name or exc} is missing): "
                          f"pip install 'vmsslint[lsp]'") from None
    serve()


def main(argv=None):
    try:
        cli.main(args=argv, prog_name="vmsslint", standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
