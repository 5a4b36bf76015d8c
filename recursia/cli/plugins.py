"""``recursia plugins``: what is installed and what each plugin registered; ``--check``
runs each plugin's self-checks (:mod:`recursia.plugin_check`)."""

from __future__ import annotations

import json

import typer

from recursia.errors import RecursiaError
from recursia.plugins import get_registry


def plugins_command(
    name: str = typer.Argument(None, help="only this plugin (as listed, e.g. sudoku)"),
    check: bool = typer.Option(False, "--check", help="run the plugins' self-checks: each task's data, checker, "
                                                      "augmentations and parse round trip, each mixer's shapes"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """List the loaded plugins, their versions and what they registered; with --check,
    run their self-checks and exit with code 1 when one fails."""
    reg = get_registry()
    if name is not None and name not in {p.name for p in reg.plugins} | set(reg.failures):
        raise RecursiaError(f"no plugin named '{name}'; installed: {', '.join(p.name for p in reg.plugins)}")
    if check:
        return _check(name, as_json)
    rows = [{"name": p.name, "module": p.module, "version": p.version, "builtin": p.builtin, "package": p.package,
             "registered": p.registered} for p in reg.plugins if name in (None, p.name)]
    failed = [{"name": n, "error": e} for n, e in reg.failures.items() if name in (None, n)]
    if as_json:
        print(json.dumps({"plugins": rows, "failed": failed}, indent=1))
        return
    for r in rows:
        kind = "built-in" if r["builtin"] else f"third-party, package {r['package']}"
        what = "; ".join(f"{k}: {', '.join(v)}" for k, v in r["registered"].items() if v) or "nothing"
        print(f"{r['name']} {r['version']} ({kind}, {r['module']}) - {what}")
        for task in r["registered"]["tasks"]:
            print(f"    task {task}: {reg.tasks[task].description}")
    for f in failed:
        print(f"{f['name']} FAILED to load - {f['error']}")


def _check(name: str | None, as_json: bool) -> None:
    """Run and print the self-checks; exit code 1 when a check or a plugin's loading failed."""
    from recursia.plugin_check import as_json as results_json
    from recursia.plugin_check import check_plugins

    reg = get_registry()
    failed_loads = {n: e for n, e in reg.failures.items() if name in (None, n)}
    results = [] if name in failed_loads else check_plugins(reg, name)
    if as_json:
        print(json.dumps({"checks": results_json(results), "failed": [{"name": n, "error": e}
                                                                       for n, e in failed_loads.items()]}, indent=1))
    else:
        plugin = None
        for r in results:
            if r.plugin != plugin:
                plugin = r.plugin
                print(plugin)
            print(f"    {r.kind} {r.name}: {r.check} {r.status} - {r.detail}")
        for n, e in failed_loads.items():
            print(f"{n} FAILED to load - {e}")
        bad = sum(r.status == "FAILED" for r in results) + len(failed_loads)
        print(f"{len(results)} checks: {sum(r.status == 'ok' for r in results)} ok, "
              f"{sum(r.status == 'skipped' for r in results)} skipped, {bad} failed")
    if failed_loads or any(r.status == "FAILED" for r in results):
        raise typer.Exit(1)
