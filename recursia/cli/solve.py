"""``recursia solve PUZZLE.json``: a trained model solves one puzzle."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import typer

from recursia.build import make_task
from recursia.cli.common import DTYPE_HELP, Precision, check_out_file, pick_device, pick_dtype
from recursia.errors import CheckpointError, ConfigError, PuzzleError, RecursiaError
from recursia.models import ModelChoice, find_model
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
    checkpoint: Path = typer.Option(None, help="run directory (default: your newest run of the task under --runs "
                                               "that fits the puzzle, else a shipped model: recursia models)"),
    runs: Path = typer.Option(Path("runs"), help="where to look for your runs"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    show_steps: bool = typer.Option(False, "--show-steps", help="print the answer after every supervision step"),
    png: Path = typer.Option(None, "--png", help="also draw the puzzle and the answer into this PNG file"),
    html: Path = typer.Option(None, "--html", help="also write a self-contained HTML page of every supervision "
                                                   "step, the halting confidence and the verdict to this file"),
    device: str = typer.Option(None, help="cpu or cuda"),
    dtype: Precision = typer.Option(None, help=DTYPE_HELP),
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
    from recursia.infer import forward_autocast, read_puzzle_file, solve
    from recursia.train.checkpoint import load_run

    if adapt_mode not in ("rows", "full"):
        raise ConfigError(f"--adapt {adapt_mode}: expected rows or full")
    device = pick_device(device)
    if png is not None:
        check_out_file(png, "--png")
    if html is not None:
        check_out_file(html, "--html")
    task_name, puzzle = read_puzzle_file(puzzle_file, get_registry().tasks)
    try:
        get_registry().task(task_name)
    except RecursiaError as e:
        if checkpoint is not None:  # a checkpoint of the task names the plugin package to install
            load_run(checkpoint, device)
        raise PuzzleError(f"{puzzle_file}: task: {e}") from None
    # --checkpoint, else your newest run of the task that fits the puzzle, else a shipped model
    # that fits it (recursia.models.find_model; `recursia models` lists them)
    choice = ModelChoice(checkpoint, "checkpoint") if checkpoint is not None else find_model(task_name, puzzle, runs)
    checkpoint = choice.path
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
    if not as_json:  # which model answers, once the input is known to be good (on stderr: stdout is the answer)
        print(f"model: {choice.describe()}", file=sys.stderr)
    precision = pick_dtype(dtype, run.cfg.train.dtype)
    if demos is not None:
        steps = 0 if no_adapt else adapt_steps
        return _adapt_and_vote(run, demos, steps, adapt_mode == "full", seed, device, precision, as_json, png,
                               puzzle_file, show_steps, html, choice)
    with forward_autocast(precision, device):  # the trace's later steps only when they are shown
        sol = solve(run.model, run.task, inputs, device=device, all_steps=show_steps or html is not None)
    if png is not None:
        run.task.render_png(inputs, sol.answer, png)
    if html is not None:
        _write_solve_page(html, run, choice.describe(), puzzle_file, inputs, sol, notes)
    if as_json:
        out = {"task": task_name, "checkpoint": str(checkpoint), "model": choice.as_json(),
               "answer": run.task.decode(inputs, sol.answer),
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
                    precision: str, as_json: bool, png: Path | None, puzzle_file: Path, show_steps: bool,
                    html: Path | None, choice: ModelChoice) -> None:
    """Adapt to the puzzle's demonstrations (unless ``steps`` is 0), predict every
    version's test inputs, vote and print the top two attempts per test input; with
    ``show_steps``, first the original version's answer to each test input after every
    supervision step. With ``html``, also write a page of those steps and the attempts.
    The predictions run in ``precision`` (a ``train.dtype`` value); the adaptation in float32."""
    from recursia.adapt import adapt
    from recursia.data.augment import AugmentationRecord
    from recursia.infer import forward_autocast, solve
    from recursia.vote import predict_split, vote

    if steps:
        losses = adapt(run.model, run.cfg, demos, steps, full=full, seed=seed, device=device)
    else:
        losses = []
        demos.test.puzzle_identifiers = np.zeros(demos.versions, dtype=np.int64)  # the blank row
    with forward_autocast(precision, device):  # a fresh autocast region: no bf16 copy of the weights before adapting
        preds = predict_split(run.model, demos.test, device=device)
    result = vote(run.task, demos.test, AugmentationRecord(demos.augmentations, demos.params), [preds],
                  puzzle_file)
    expected = [None if not np.asarray(demos.test.labels[j]).any() else e for j, e in enumerate(result.expected[0])]
    if png is not None:
        attempts = [[c.answer for c in cands[:2]] for cands in result.ranked[0]]
        run.task.render_attempts_png(demos.test.inputs[:len(attempts)], attempts, expected, png)
    originals = []  # (inputs, Solution) of version 0's test inputs, step by step
    if html is not None or (show_steps and not as_json):
        with forward_autocast(precision, device):  # one region: each weight cast to bf16 once
            for j in range(int(demos.test.puzzle_indices[0]), int(demos.test.puzzle_indices[1])):
                inputs = np.asarray(demos.test.inputs[j]).astype(np.int64)
                originals.append((inputs, solve(run.model, run.task, inputs,
                                                int(demos.test.puzzle_identifiers[0]), device=device)))
    how = f"adapted {'the network and ' if full else ''}{demos.versions} new puzzle rows for {steps} steps" \
        if steps else "not adapted"
    if html is not None:
        _write_adapted_page(html, run, choice.describe(), puzzle_file, originals, result.ranked[0], expected,
                            demos.versions, how)
    if as_json:
        tests = [{"attempts": [{"answer": c.answer.tolist(), "votes": c.votes, "confidence": round(c.confidence, 4)}
                               for c in cands[:2]],
                  "correct": None if want is None else any(np.array_equal(c.answer, want) for c in cands[:2])}
                 for cands, want in zip(result.ranked[0], expected)]
        print(json.dumps({"task": run.cfg.task, "checkpoint": str(run.run_dir), "model": choice.as_json(), "adapt_steps": steps,
                          "adapt": "full" if full and steps else ("rows" if steps else "none"),
                          "versions": demos.versions, "final_adapt_loss": losses[-1] if losses else None,
                          "tests": tests}))
        return
    if show_steps:
        for j, (inputs, sol) in enumerate(originals):
            print_trace(run.task, inputs, sol, prefix=f"test {j + 1}, ")
    print(f"{puzzle_file}: {how}; {demos.versions} versions voted")
    for j, (cands, want) in enumerate(zip(result.ranked[0], expected)):
        for rank, cand in enumerate(cands[:2], 1):
            mark = "" if want is None else ("  (correct)" if np.array_equal(cand.answer, want) else "  (wrong)")
            print(f"test {j + 1}, attempt {rank}: {cand.votes} of {demos.versions} votes, "
                  f"confidence {cand.confidence:.2f}{mark}")
            print(run.task.render_form(cand.answer))


def _write_solve_page(path: Path, run: LoadedRun, model: str, puzzle_file: Path, inputs: np.ndarray, sol: Solution,
                      notes: list[str]) -> None:
    """Write the ``--html`` page of a direct solve: the puzzle, every step's answer, the
    halting chart, the checker's verdict and the checkpoint (:func:`recursia.html.solve_page`)."""
    from recursia.html import solve_page, step_trace, write_html

    trace = step_trace(run.task, inputs, sol)
    how = "learned halt" if sol.halted else f"no halt before N_sup={len(sol.trace)}"
    facts = [("task", run.task.describe()), ("puzzle", str(puzzle_file)), ("mixer", run.cfg.model.mixer),
             ("steps", f"{sol.steps} of {len(sol.trace)} ({how})"),
             ("halt confidence", f"{sol.halt_confidence:.2f}")]
    write_html(path, solve_page(f"recursia solve {puzzle_file.name}", [trace], model, facts, notes))


def _write_adapted_page(path: Path, run: LoadedRun, model: str, puzzle_file: Path,
                        originals: list[tuple[np.ndarray, Solution]],
                        ranked: list, expected: list[np.ndarray | None], versions: int, how: str) -> None:
    """Write the ``--html`` page of an adapted and voted puzzle: per test input, the original
    version's answer after every step and its halting chart, then the voted attempts
    (two per test input, best first) beside the expected output when the file gives it."""
    from html import escape

    from recursia.html import Section, solve_page, step_trace, write_html

    task = run.task
    traces = [step_trace(task, inputs, sol, title=f"test {j + 1}: the original version's answer per step")
              for j, (inputs, sol) in enumerate(originals)]
    parts, verdicts = [], []
    for j, ((inputs, _), cands, want) in enumerate(zip(originals, ranked, expected)):
        figures, right = [("input", task.render_html(inputs))], None
        for rank, cand in enumerate(cands[:2], 1):
            correct = want is not None and np.array_equal(cand.answer, want)
            right = rank if correct and right is None else right
            mark = "" if want is None else (" (correct)" if correct else " (wrong)")
            figures.append((f"attempt {rank}: {cand.votes} of {versions} votes, confidence {cand.confidence:.2f}"
                            f"{mark}", task.render_html(inputs, cand.answer)))
        if want is not None:
            figures.append(("expected", task.render_html(inputs, want)))
        verdicts.append(f"test {j + 1}: " + ("no expected output" if want is None else
                                            f"attempt {right} correct" if right else "wrong"))
        parts.append(f'<h3>test {j + 1}</h3><div class="attempts">' + "".join(
            f"<figure><figcaption>{escape(caption)}</figcaption>{body}</figure>" for caption, body in figures)
            + "</div>")
    verdict = "; ".join(verdicts)
    if not task.checks_answers:
        verdict = f"no checker (a '{task.name}' answer is judged only against its expected output); {verdict}"
    facts = [("task", task.describe()), ("puzzle", str(puzzle_file)), ("mixer", run.cfg.model.mixer),
             ("adaptation", f"{how}; {versions} versions voted")]
    write_html(path, solve_page(f"recursia solve {puzzle_file.name}", traces, model, facts,
                                sections=[Section("Voted attempts", "".join(parts))], verdict=verdict))
