"""``recursia plugins``: what is installed and what each plugin registered."""

from __future__ import annotations

import json

import typer

from recursia.plugins import get_registry


def plugins_command(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """List the loaded plugins, their versions and what they registered."""
    reg = get_registry()
    rows = [{"name": p.name, "module": p.module, "version": p.version, "builtin": p.builtin,
             "registered": p.registered} for p in reg.plugins]
    failed = [{"name": n, "error": e} for n, e in reg.failures.items()]
    if as_json:
        print(json.dumps({"plugins": rows, "failed": failed}, indent=1))
        return
    for r in rows:
        kind = "built-in" if r["builtin"] else "third-party"
        what = "; ".join(f"{k}: {', '.join(v)}" for k, v in r["registered"].items() if v) or "nothing"
        print(f"{r['name']} {r['version']} ({kind}, {r['module']}) - {what}")
        for task in r["registered"]["tasks"]:
            print(f"    task {task}: {reg.tasks[task].description}")
    for f in failed:
        print(f"{f['name']} FAILED to load - {f['error']}")
