"""``recursia solve PUZZLE.json``: a trained model solves one puzzle."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import typer

from recursia.build import make_task
from recursia.cli.common import check_out_file, pick_device
from recursia.errors import CheckpointError, ConfigError, PuzzleError, RecursiaError
from recursia.plugins import get_registry
from recursia.task import Task

if TYPE_CHECKING:  # the modules that import torch are imported when the command runs, not for --help
    from recursia.adapt import AdaptationSet
    from recursia.infer import Solution
    from recursia.train.checkpoint import LoadedRun

ADAPT_STEPS = 120  # optimizer steps adapting to a puzzle's demonstrations: about a minute on 2 CPU cores (small ARC preset)
VERSIONS = 8  # versions of such a puzzle (the original and augmented ones) that adapt and vote


def solve_command(
    puzzle_file: Path = typer.Argument(..., help='JSON file {"task": ..., "puzzle": ...}'),
    checkpoint: Path = typer.Option(None, help="run directory (default: the newest run of the task under runs/)"),
    runs: Path = typer.Option(Path("runs"), help="where to look for the newest run"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    show_steps: bool = typer.Option(False, "--show-steps", help="print the answer after every supervision step"),
    png: Path = typer.Option(None, "--png", help="also draw the puzzle and the answer into this PNG file"),
    device: str = typer.Option(None, help="cpu or cuda"),
    adapt_mode: str = typer.Option("rows", "--adapt", help="for puzzles with demonstration pairs (ARC): train "
                                                           "new puzzle-embedding rows only (rows) or the "
                                                           "network too (full)"),
    no_adapt: bool = typer.Option(False, "--no-adapt", help="predict without adapting to the puzzle's demonstrations"),
    adapt_steps: int = typer.Option(ADAPT_STEPS, min=0, help="optimizer steps of the adaptation"),
    versions: int = typer.Option(VERSIONS, min=1, help="augmented versions of the puzzle that adapt and vote "
                                                       "(the original included)"),
    seed: int = typer.Option(0, help="seed of the versions and the adaptation"),
) -> None:
    """Solve one puzzle and show the answer, the checker's verdict and the steps used.

    A puzzle that brings demonstration pairs (an ARC task) is first adapted to: new
    puzzle-embedding rows, one per augmented version, are trained on the demonstrations
    (--adapt full also fine-tunes the network), then every version's test inputs are
    predicted, mapped back and voted, and the top two attempts are shown.
    """
    from recursia.infer import read_puzzle_file, solve
    from recursia.train.checkpoint import latest_run, load_run

    if adapt_mode not in ("rows", "full"):
        raise ConfigError(f"--adapt {adapt_mode}: expected rows or full")
    device = pick_device(device)
    if png is not None:
        check_out_file(png, "--png")
    task_name, puzzle = read_puzzle_file(puzzle_file, get_registry().tasks)
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
    try:
        demos = run.task.adaptation_set(puzzle, versions, seed)
    except RecursiaError as e:
        raise PuzzleError(f"{puzzle_file}: puzzle: {e}") from None
    if demos is not None:
        steps = 0 if no_adapt else adapt_steps
        return _adapt_and_vote(run, demos, steps, adapt_mode == "full", seed, device, as_json, png, puzzle_file,
                               show_steps)
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
        print_trace(run.task, inputs, sol)
    else:
        print(run.task.render(inputs, sol.answer))
    verdict = "valid" if sol.valid else "NOT valid"
    how = "learned halt" if sol.halted else f"no halt before N_sup={len(sol.trace)}"
    print(f"answer is {verdict} (checker); steps: {sol.steps} ({how}); halt confidence {sol.halt_confidence:.2f}")


def print_trace(task: Task, inputs: np.ndarray, sol: Solution, prefix: str = "") -> None:
    """The answer after every supervision step of ``sol``, the cells changed since the
    previous step marked and the learned halting step named."""
    prev = inputs
    for i, (ans, conf) in enumerate(sol.trace):
        changed = ans != prev
        print(f"{prefix}step {i + 1}: halt confidence {conf:.2f}, {int(changed.sum())} cells changed"
              f"{'  <- learned halt' if i + 1 == sol.steps else ''}")
        print(task.render(inputs, ans, changed=changed))
        prev = ans


def _adapt_and_vote(run: LoadedRun, demos: AdaptationSet, steps: int, full: bool, seed: int, device: str,
                    as_json: bool, png: Path | None, puzzle_file: Path, show_steps: bool) -> None:
    """Adapt to the puzzle's demonstrations (unless ``steps`` is 0), predict every
    version's test inputs, vote and print the top two attempts per test input; with
    ``show_steps``, first the original version's answer to each test input after every
    supervision step."""
    from recursia.adapt import adapt
    from recursia.data.augment import AugmentationRecord
    from recursia.infer import solve
    from recursia.vote import predict_split, vote

    if steps:
        losses = adapt(run.model, run.cfg, demos, steps, full=full, seed=seed, device=device)
    else:
        losses = []
        demos.test.puzzle_identifiers = np.zeros(demos.versions, dtype=np.int64)  # the blank row
    preds = predict_split(run.model, demos.test, device=device)
    result = vote(run.task, demos.test, AugmentationRecord(demos.augmentations, demos.params), [preds],
                  puzzle_file)
    expected = [None if not np.asarray(demos.test.labels[j]).any() else e for j, e in enumerate(result.expected[0])]
    if png is not None:
        attempts = [[c.answer for c in cands[:2]] for cands in result.ranked[0]]
        run.task.render_attempts_png(demos.test.inputs[:len(attempts)], attempts, expected, png)
    if as_json:
        tests = [{"attempts": [{"answer": c.answer.tolist(), "votes": c.votes, "confidence": round(c.confidence, 4)}
                               for c in cands[:2]],
                  "correct": None if want is None else any(np.array_equal(c.answer, want) for c in cands[:2])}
                 for cands, want in zip(result.ranked[0], expected)]
        print(json.dumps({"task": run.cfg.task, "checkpoint": str(run.run_dir), "adapt_steps": steps,
                          "adapt": "full" if full and steps else ("rows" if steps else "none"),
                          "versions": demos.versions, "final_adapt_loss": losses[-1] if losses else None,
                          "tests": tests}))
        return
    if show_steps:
        originals = range(int(demos.test.puzzle_indices[0]), int(demos.test.puzzle_indices[1]))  # version 0
        for j in originals:
            inputs = np.asarray(demos.test.inputs[j]).astype(np.int64)
            sol = solve(run.model, run.task, inputs, int(demos.test.puzzle_identifiers[0]), device=device)
            print_trace(run.task, inputs, sol, prefix=f"test {j + 1}, ")
    how = f"adapted {'the network and ' if full else ''}{demos.versions} new puzzle rows for {steps} steps" \
        if steps else "not adapted"
    print(f"{puzzle_file}: {how}; {demos.versions} versions voted")
    for j, (cands, want) in enumerate(zip(result.ranked[0], expected)):
        for rank, cand in enumerate(cands[:2], 1):
            mark = "" if want is None else ("  (correct)" if np.array_equal(cand.answer, want) else "  (wrong)")
            print(f"test {j + 1}, attempt {rank}: {cand.votes} of {demos.versions} votes, "
                  f"confidence {cand.confidence:.2f}{mark}")
            print(run.task.render_form(cand.answer))
