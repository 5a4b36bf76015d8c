"""``recursia models``: the shipped models and the user's runs, without torch."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from recursia.errors import CheckpointError
from recursia.models import best_evaluation, shipped_model, shipped_models, shipped_root, user_runs
from recursia.train.run_files import MODEL_FILE, read_metadata


def models_command(
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    runs: Path = typer.Option(Path("runs"), help="where your runs are (listed after the shipped models)"),
    path: str = typer.Option(None, "--path", metavar="NAME", help="print only the folder of the shipped model NAME "
                                                                  "(e.g. recursia eval \"$(recursia models --path "
                                                                  "sudoku-small)\")"),
) -> None:
    """List the models that ship with recursia (task, preset, options, mixer, accuracy,
    parameters, folder) and your runs under --runs (task and best test accuracy).

    `recursia solve` uses your newest run of the puzzle's task that fits the puzzle,
    else a shipped model that fits it; `recursia eval FOLDER` re-evaluates a shipped
    model on its test split (rebuilt from its config on first use).
    """
    if path is not None:
        print(shipped_model(path).path)
        return
    shipped = [_shipped_row(m) for m in shipped_models()]
    mine = [_run_row(r) for r in user_runs(runs)]
    if as_json:
        print(json.dumps({"shipped_dir": str(shipped_root()), "shipped": shipped, "runs_dir": str(runs),
                          "runs": mine}, indent=1))
        return
    print(f"shipped models ({shipped_root()}):" if shipped else f"no shipped models ({shipped_root()})")
    for row in shipped:
        test = row["accuracy"].get("test") or {}
        acc = (f"exact {test['exact_acc']:.1%} after {len(test['exact_acc_per_step'])} steps, "
               f"{test['exact_acc_halt']:.1%} with learned halting, on {test['examples']} test puzzles"
               if {"exact_acc", "exact_acc_halt", "exact_acc_per_step", "examples"} <= set(test) else "no accuracy")
        print(f"  {row['name']}: task {row['task']} {row['task_options']}, preset {row['preset']}, "
              f"mixer {row['mixer']}, {row['parameters']:,} parameters; {acc}")
        print(f"    {row['path']}")
    if not mine:
        print(f"no runs under {runs}/")
        return
    print(f"your runs under {runs}/ (newest first):")
    for row in mine:
        best = (f"best test exact {row['best_exact_acc']:.1%} (step {row['best_step']})"
                if row["best_exact_acc"] is not None else "not evaluated")
        params = f", {row['parameters']:,} parameters" if row["parameters"] is not None else ""
        print(f"  {row['path']}: task {row['task']} {row['task_options']}, preset {row['preset']}, "
              f"mixer {row['mixer']}{params}; {best}")


def _shipped_row(model) -> dict:
    """The JSON row of a shipped model."""
    info = model.info
    return {"name": model.name, "source": "shipped", "task": info["task"], "preset": info["preset"],
            "task_options": info["task_options"], "mixer": info["mixer"], "parameters": info["parameters"],
            "size_bytes": info["size_bytes"], "accuracy": info["accuracy"], "path": str(model.path)}


def _run_row(run) -> dict:
    """The JSON row of a run directory (its parameter count from the model's metadata, when readable)."""
    cfg = run.config
    try:
        params = int(read_metadata(run.path / MODEL_FILE).get("parameters", ""))
    except (CheckpointError, ValueError):
        params = None
    best = best_evaluation(run.path)
    return {"name": run.path.name, "source": "run", "task": run.task, "preset": cfg.get("preset"),
            "task_options": cfg.get("task_options"),
            "mixer": cfg["model"].get("mixer") if isinstance(cfg.get("model"), dict) else None,
            "parameters": params, "best_exact_acc": best.get("test_exact_acc"), "best_step": best.get("step"),
            "path": str(run.path)}
