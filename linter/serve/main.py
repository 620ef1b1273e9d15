"""Start ``vmsslint serve``: lint and deploy the templates, make the certificate, serve until stopped.

Standard output: the base URL first, then how to point the SDK and az at it.  Stopped by SIGINT or
SIGTERM; with ``--state-dir`` the simulation is saved (atomically) after every change and at exit, and
loaded again at the next start.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import sys
import tempfile
import threading


class ServeError(Exception):
    """A refusal to start: the message says why (exit 2), or lint blockers (exit 1)."""

    def __init__(self, message, exit_code=2):
        super().__init__(message)
        self.exit_code = exit_code


def _loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_world(templates, parameters, subscription, resource_group, speed, state_dir=None, edition="2026"):
    """The World to serve: the saved one in ``state_dir``, or the templates' sets, lint first."""
    from linter.serve.world import World
    if state_dir:
        try:
            os.makedirs(state_dir, exist_ok=True)
            world = World.load(state_dir)
        except (OSError, ValueError) as exc:
            raise ServeError(f"--state-dir {state_dir}: {exc}") from None
        if world is not None:
            world.speed = float(speed)
            return world, True
    from linter.sim import plan as planmod
    world = World(subscription, resource_group, speed=speed, edition=edition)
    blocked = []
    for path in templates:
        try:
            configs, _ = planmod.sets_from_template(path, parameters, edition=edition)
        except planmod.PlanError as exc:
            raise ServeError(str(exc)) from None
        if not configs:
            raise ServeError(f"{path}: no scale set to deploy")
        for cfg in configs:
            if cfg.blockers:
                blocked.append((cfg, path))
                continue
            try:
                world.deploy(cfg)
            except ValueError as exc:
                raise ServeError(f"{path}: {exc}") from None
    if blocked:
        lines = []
        for cfg, path in blocked:
            lines.append(f"{path}: scale set '{cfg.name}': Azure would refuse it; not deployed:")
            lines += [f"  {f.file}:{f.line}:{f.column}: {f.code} {f.message}" for f in cfg.blockers]
        raise ServeError("\n".join(lines), exit_code=1)
    world.seed_feeds()
    return world, False


def serve(templates, parameters=(), host="127.0.0.1", port=0, subscription="00000000-0000-0000-0000-000000000000",
          resource_group="rg", speed=600.0, tls=True, state_dir=None, out=None, err=None):
    out = out or sys.stdout
    err = err or sys.stderr
    if not _loopback(host):
        raise ServeError(f"--host {host}: vmsslint serve listens on loopback addresses only (127.0.0.1, ::1, "
                         "localhost); it never reaches the network")
    if speed < 0:
        raise ServeError("--speed must be 0 or more")
    import importlib.util
    for needed in ("werkzeug", "cheroot") + (("cryptography",) if tls else ()):
        if importlib.util.find_spec(needed) is None:
            raise ServeError(f"vmsslint serve needs the 'serve' extra ({needed} is missing): "
                             "pip install 'vmsslint[serve]'")
    from cheroot import wsgi  # the HTTP/1.1 server: keep-alive, a thread pool, TLS
    world, restored = build_world(templates, parameters, subscription, resource_group, speed, state_dir)
    world.state_dir = state_dir
    if restored and templates:
        err.write(f"note: the simulation was restored from {state_dir}; the templates given are not deployed again\n")
    from linter.serve.app import App
    from linter.serve import tls as tlsmod

    cert_path = None
    tmpdir = None
    app = App(world, "http://placeholder")
    server = wsgi.Server((host, port), app, numthreads=16, server_name="vmsslint-serve", timeout=30,
                         shutdown_timeout=2)
    server.max_request_body_size = 1 << 20  # 413 for more: no request of these APIs comes near
    server.max_request_header_size = 1 << 16
    if tls:
        cert_dir = state_dir or (tmpdir := tempfile.mkdtemp(prefix="vmsslint-serve-"))
        cert_path, key_path = os.path.join(cert_dir, "cert.pem"), os.path.join(cert_dir, "key.pem")
        if not (state_dir and tlsmod.usable(cert_path, key_path, host)):
            cert_path, key_path = tlsmod.make_certificate(cert_dir, host)
        from cheroot.ssl.builtin import BuiltinSSLAdapter
        server.ssl_adapter = BuiltinSSLAdapter(cert_path, key_path)
    try:
        server.prepare()  # binds: --port 0 gets its free port here
    except OSError as exc:
        if tmpdir:
            import shutil
            shutil.rmtree(tmpdir, ignore_errors=True)
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    shown = f"[{host}]" if ":" in host else host
    base = f"{'https' if tls else 'http'}://{shown}:{server.bind_addr[1]}"
    app.base = base
    _banner(out, base, world, cert_path, restored)
    if state_dir:
        world.save()

    def stop(signum, frame):
        threading.Thread(target=server.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve()
    finally:
        if state_dir:
            with world.lock:
                world.sync()
                world.save()
        if tmpdir:
            import shutil
            shutil.rmtree(tmpdir, ignore_errors=True)
    return 0


def _banner(out, base, world, cert_path, restored):
    w = world
    lines = [base]
    if cert_path:
        lines.append(f"CA bundle (self-signed certificate): {cert_path}")
    lines.append(f"subscription {w.subscription}, resource group {w.resource_group}; simulated time "
                 + (f"runs {w.speed:g}x the wall clock" if w.speed else "moves only through POST /vmsslint/clock")
                 + (" (state restored)" if restored else ""))
    for ss in w.backend.sets.values():
        lines.append(f"  scale set {ss.name}: {len(ss.instances)} instances, {ss.mode} mode, image {ss.model_image}")
    verify = f', connection_verify="{cert_path}"' if cert_path else ""
    plain = "" if cert_path else " and enforce_https=False on each call"
    lines.append(f"Python SDK: ComputeManagementClient(credential, \"{w.subscription}\", base_url=\"{base}\""
                 f"{verify}, credential_scopes=[\"https://management.azure.com/.default\"]){plain}")
    if cert_path:
        lines.append(f"az: export AZURE_CONFIG_DIR=$(mktemp -d) REQUESTS_CA_BUNDLE={cert_path}; "
                     f"az cloud register -n vmsslint --endpoint-resource-manager {base}/ "
                     f"--endpoint-active-directory {base} --endpoint-active-directory-resource-id "
                     "https://management.core.windows.net/ --endpoint-management https://management.core.windows.net/ "
                     "--endpoint-active-directory-graph-resource-id https://graph.windows.net/ "
                     "--endpoint-microsoft-graph-resource-id https://graph.microsoft.com/ --skip-endpoint-discovery; "
                     "az cloud set -n vmsslint; az config set core.instance_discovery=false; "
                     f"az login --service-principal -u 00000000-0000-0000-0000-000000000002 -p any --tenant {w.tenant}")
    lines.append(f"control API: {base}/vmsslint/state, /vmsslint/clock, /vmsslint/images, /vmsslint/faults "
                 "(docs/serve.md); stop with Ctrl-C")
    out.write("\n".join(lines) + "\n")
    out.flush()
