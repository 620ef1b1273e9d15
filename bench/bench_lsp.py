#!/usr/bin/env python3
"""Language server: re-lint of a 2,000-line template after a keystroke.

    python bench/bench_lsp.py [--runs N] [--lines N]

Builds templates of about 2,000 lines — 3 scale sets with their load balancers and a long network
security group (a usual shape), and scale sets only (the worst case: every rule runs on each) — opens it in the server's workspace
(linter.lsp.core — what `vmsslint server` runs on each change, without the JSON-RPC transport), lints
it once (rules, configuration and engine warm up), then changes one character per run, as a keystroke
does, and times the re-lint: reading the text, parsing, evaluating, every rule, and the diagnostics
in LSP positions.  With pygls installed it also times the protocol round trip: didChange sent to
publishDiagnostics received, through a real `vmsslint server` process (debounce 0).

Target (issue 14): well under 50 ms.  Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)


def big_template(lines: int, sets: int | None = None) -> str:
    """About ``lines`` lines: examples/ready's load balancer and scale set repeated with new names (``sets``
    of them, or as many as fit), the rest network security rules; the first set's image is pinned so
    that there is a finding (with a quick fix) to publish."""
    with open(os.path.join(REPO, "examples", "ready", "azuredeploy.json"), encoding="utf-8") as fh:
        base = json.load(fh)
    doc = copy.deepcopy(base)
    doc["resources"] = []
    nsg = {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-09-01", "name": "nsg",
           "location": "[parameters('location')]", "properties": {"securityRules": []}}
    i = 0
    while True:
        if sets is None or i < sets:
            for r in base["resources"]:
                r = json.loads(json.dumps(r).replace("[parameters('vmssName')]",
                                                     f"[concat(parameters('vmssName'), '{i}')]")
                               .replace("'lb'", f"'lb{i}'").replace('"lb"', f'"lb{i}"'))
                r.setdefault("tags", {})["copy"] = f"n{i:04d}"
                doc["resources"].append(r)
        else:
            if nsg not in doc["resources"]:
                doc["resources"].append(nsg)
            nsg["properties"]["securityRules"].append({"name": f"rule{i}", "properties": {
                "priority": 100 + i, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                "sourceAddressPrefix": "[variables('trusted')]", "sourcePortRange": "*",
                "destinationAddressPrefix": "*", "destinationPortRange": str(8000 + i)}})
        i += 1
        doc.setdefault("variables", {})["trusted"] = "10.0.0.0/8"
        text = json.dumps(doc, indent=2)
        if text.count("\n") + 1 >= lines:
            return text.replace('"version": "latest"', '"version": "22.04.202401010"', 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=41)
    ap.add_argument("--lines", type=int, default=2000)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="vmsslint-bench-lsp-")
    os.environ.setdefault("VMSSLINT_CACHE_DIR", os.path.join(tmp, "cache"))
    params = json.dumps({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/"
                                    "deploymentParameters.json#", "contentVersion": "1.0.0.0",
                         "parameters": {"adminUsername": {"value": "azureuser"}, "instanceCount": {"value": 6}}},
                        indent=2)
    with open(os.path.join(tmp, "azuredeploy.parameters.json"), "w", encoding="utf-8") as fh:
        fh.write(params)
    path = os.path.join(tmp, "azuredeploy.json")
    for label, sets in (("3 sets", 3), ("all sets", None)):
        text = big_template(args.lines, sets)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        relint(label, path, text, args.runs)
    try:
        import pygls  # noqa: F401
    except ImportError:
        print("round trip   skipped: pygls is not installed (pip install 'vmsslint[lsp]')")
        return
    text = big_template(args.lines, 3)
    rt = asyncio.run(round_trip(path, text, max(5, args.runs // 2)))
    print(f"round trip   median {statistics.median(rt):6.1f} ms  min {min(rt):6.1f} ms  "
          f"didChange → publishDiagnostics through `vmsslint server` (JSON-RPC over stdio, debounce 0; 3 sets)")


def relint(label, path, text, runs):
    from linter.lsp.core import Workspace
    n_lines = text.count("\n") + 1
    ws = Workspace(encoding="utf-16")
    t = time.perf_counter()
    ws.open(path, text)
    diags, _ = ws.lint(path)
    first = (time.perf_counter() - t) * 1000
    marker = '"copy": "n0000"'
    times = []
    for k in range(runs):
        edited = text.replace(marker, f'"copy": "n{k % 10}000"', 1)  # one character typed
        t = time.perf_counter()
        ws.open(path, edited)
        diags, _ = ws.lint(path)
        times.append((time.perf_counter() - t) * 1000)
    count = sum(len(v) for v in diags.values())
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(f"{label:<12} {n_lines} lines, {len(text) / 1000:.0f} kB, "
          f"{text.count('Microsoft.Compute/virtualMachineScaleSets')} scale sets, {count} diagnostics; "
          f"first lint {first:.0f} ms (cold: rules, configuration)")
    print(f"{label:<12} re-lint after a keystroke: median {statistics.median(times):5.1f} ms  p95 {p95:5.1f} ms  "
          f"min {times[0]:5.1f} ms  over {runs} keystrokes (target well under 50 ms)")


async def round_trip(path, text, runs):
    from lsprotocol import types as lsp
    from pygls.lsp.client import LanguageClient
    client = LanguageClient("bench", "1")
    got = asyncio.Queue()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diags(params):
        got.put_nowait(time.perf_counter())

    env = dict(os.environ, PYTHONPATH=REPO)
    await client.start_io(sys.executable, "-m", "linter", "server", env=env)
    await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities(),
                                                       initialization_options={"debounceMs": 0}))
    client.initialized(lsp.InitializedParams())
    uri = "file://" + path
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="json", version=1, text=text)))
    await asyncio.wait_for(got.get(), 30)
    out = []
    for k in range(runs):
        while not got.empty():
            got.get_nowait()
        t = time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=k + 2),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(
                text=text.replace('"copy": "n0000"', f'"copy": "n{k % 10}000"', 1))]))
        done = await asyncio.wait_for(got.get(), 30)
        out.append((done - t) * 1000)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return out


if __name__ == "__main__":
    main()
