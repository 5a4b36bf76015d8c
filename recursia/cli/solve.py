"""``recursia solve PUZZLE.json``: a trained model solves one puzzle."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from recursia.build import make_task
from recursia.cli.common import check_out_file, pick_device
from recursia.errors import CheckpointError, PuzzleError, RecursiaError
from recursia.infer import read_puzzle_file, solve
from recursia.plugins import get_registry
from recursia.train.checkpoint import latest_run, load_run


def solve_command(
    puzzle_file: Path = typer.Argument(..., help='JSON file {"task": ..., "puzzle": ...}'),
    checkpoint: Path = typer.Option(None, help="run directory (default: the newest run of the task under runs/)"),
    runs: Path = typer.Option(Path("runs"), help="where to look for the newest run"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    show_steps: bool = typer.Option(False, "--show-steps", help="print the answer after every supervision step"),
    png: Path = typer.Option(None, "--png", help="also draw the puzzle and the answer into this PNG file"),
    device: str = typer.Option(None, help="cpu or cuda"),
) -> None:
    """Solve one puzzle and show the answer, the checker's verdict and the steps used."""
    device = pick_device(device)
    if png is not None:
        check_out_file(png, "--png")
    task_name, puzzle = read_puzzle_file(puzzle_file)
    try:
        get_registry().task(task_name)
    except RecursiaError as e:
        raise PuzzleError(f"{puzzle_file}: task: {e}") from None
    if checkpoint is None:
        checkpoint = latest_run(runs, task_name)
        if checkpoint is None:
            raise CheckpointError(f"no trained '{task_name}' model under {runs}/; train one with "
                                  f"`recursia train --task {task_name}` or pass --checkpoint RUN_DIR")
    run = load_run(checkpoint, device)
    if run.cfg.task != task_name:
        raise CheckpointError(f"{checkpoint} was trained on task '{run.cfg.task}', the puzzle is '{task_name}'")
    try:
        wanted = make_task(task_name, run.task.options_for_puzzle(puzzle))
        problem = wanted.compatible(run.cfg.task_options)
        inputs = None if problem else run.task.parse(puzzle)
    except RecursiaError as e:
        raise PuzzleError(f"{puzzle_file}: puzzle: {e}") from None
    if problem:
        raise CheckpointError(f"{checkpoint}: {problem} ({puzzle_file})")
    notes = run.task.notes(inputs)
    for note in notes:
        print(f"warning: {puzzle_file}: {note}", file=sys.stderr)
    sol = solve(run.model, run.task, inputs, device=device)
    if png is not None:
        run.task.render_png(inputs, sol.answer, png)
    if as_json:
        out = {"task": task_name, "checkpoint": str(checkpoint), "answer": run.task.decode(inputs, sol.answer),
               "valid": sol.valid, "steps": sol.steps, "halted": sol.halted,
               "halt_confidence": round(sol.halt_confidence, 4), "notes": notes}
        if show_steps:
            out["trace"] = [{"step": i + 1, "answer": run.task.decode(inputs, a), "halt_confidence": round(c, 4)}
                            for i, (a, c) in enumerate(sol.trace)]
        print(json.dumps(out))
        return
    if show_steps:
        prev = inputs
        for i, (ans, conf) in enumerate(sol.trace):
            changed = ans != prev
            print(f"step {i + 1}: halt confidence {conf:.2f}, {int(changed.sum())} cells changed"
                  f"{'  <- learned halt' if i + 1 == sol.steps else ''}")
            print(run.task.render(inputs, ans, changed=changed))
            prev = ans
    else:
        print(run.task.render(inputs, sol.answer))
    verdict = "valid" if sol.valid else "NOT valid"
    how = "learned halt" if sol.halted else f"no halt before N_sup={len(sol.trace)}"
    print(f"answer is {verdict} (checker); steps: {sol.steps} ({how}); halt confidence {sol.halt_confidence:.2f}")
