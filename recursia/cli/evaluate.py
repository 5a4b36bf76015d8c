"""``recursia eval``: accuracy of a trained run on a test split, step by step; under
``torchrun`` every process evaluates a share of the split."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from recursia.cli.common import DTYPE_HELP, Precision, check_out_file, dataset_folder, pick_device, pick_dtype
from recursia.data.dataset import Split, find_split, read_augmentation_record, read_task_split
from recursia.distributed import World, process_group, rank_device
from recursia.errors import CheckpointError, ConfigError, DatasetError, is_out_of_memory
from recursia.plots import plot_step_accuracy

if TYPE_CHECKING:  # the modules that import torch are imported when the command runs, not for --help
    from recursia.infer import EvalResult
    from recursia.train.checkpoint import LoadedRun


class Halting(str, Enum):
    """How far each test puzzle runs: all N_sup steps, or until its learned halt."""

    full = "full"
    early = "early"


def eval_command(
    run_dir: Path = typer.Argument(..., help="run directory (holds config.json, model.safetensors)"),
    data: Path = typer.Option(None, help="dataset folder (default: the run's dataset)"),
    limit: int = typer.Option(None, min=1, help="evaluate the first N test examples only (not with voting)"),
    vote_: bool = typer.Option(None, "--vote/--no-vote", help="vote across the test split's augmented copies "
                                                              "and report pass@k (default: the task's choice)"),
    submission: Path = typer.Option(None, help="write the top two voted answers per test input "
                                               "(Kaggle format) to this JSON file"),
    pool: list[Path] = typer.Option([], help="also count the votes of this run (same task and data; repeatable)"),
    halting: Halting = typer.Option(Halting.full, help="full: run every puzzle N_sup steps (accuracy at every "
                                                       "step and with learned halting); early: stop each puzzle "
                                                       "at its learned halt and drop it from the batch (the "
                                                       "halting metrics only, for less compute)"),
    plot: Path = typer.Option(None, help="write exact and cell accuracy against the supervision step as a PNG"),
    batch_size: int = typer.Option(256, min=1, help="test examples per batch"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
    progress: bool = typer.Option(True, help="show a progress bar (on stderr)"),
    device: str = typer.Option(None, help="cpu or cuda"),
    dtype: Precision = typer.Option(None, help=DTYPE_HELP),
) -> None:
    """Cell and exact accuracy at every supervision step 1..N_sup and with learned
    halting; with voting, pass@1/2/5/10 over the augmented copies of every test
    puzzle. Under torchrun each process evaluates a share and rank 0 reports."""
    from recursia.infer import evaluate, forward_autocast
    from recursia.train.checkpoint import load_run

    device = pick_device(device)
    if plot is not None:
        check_out_file(plot, "--plot")
        if halting is Halting.early:
            raise ConfigError("--plot needs --halting full (early halting has no accuracy per step)")
    if submission is not None:
        check_out_file(submission, "--submission")
    try:
        with process_group(device) as world:
            device = rank_device(device, world)
            run = load_run(run_dir, device)
            voting = run.task.votes if vote_ is None else vote_
            voting = voting or submission is not None or bool(pool)
            if voting and limit is not None:
                raise ConfigError("--limit cannot be combined with voting (every copy of a puzzle votes); "
                                  "use --no-vote or build a smaller test split")
            if voting and (halting is Halting.early or plot is not None):
                raise ConfigError(f"{'--halting early' if halting is Halting.early else '--plot'} cannot be combined "
                                  f"with voting (it votes on the answers at N_sup); use --no-vote")
            others = [load_run(other, device) for other in pool]
            for other in others:
                if other.cfg.task != run.cfg.task or other.task.seq_len != run.task.seq_len:
                    raise CheckpointError(f"--pool {other.run_dir}: trained on {other.task.describe()}, not "
                                          f"{run.task.describe()}")
            data_dir = world.staged(lambda: dataset_folder(run.cfg, data, log=_stderr))  # one build per cache
            test_dir = find_split(data_dir, "test")
            split = read_task_split(test_dir, run.task.seq_len, run.task.vocab_size, run.task.describe())
            for loaded in [run, *others]:
                check_identifiers(loaded, split, test_dir)
            show = progress and world.main
            if voting:
                return _vote(run, others, split, test_dir, submission, as_json, device, dtype, batch_size, world, show)
            total = split.num_examples if limit is None else min(limit, split.num_examples)
            with progress_bar(show, len(world.share(total)), "eval") as advance, \
                    forward_autocast(pick_dtype(dtype, run.cfg.train.dtype), device):
                res = evaluate(run.model, run.task, split, limit, batch_size, device, world=world, progress=advance,
                               halting=halting.value)
            if world.main:
                _report(run, res, halting, plot, as_json)
    except RuntimeError as e:
        if not is_out_of_memory(e):
            raise
        raise ConfigError(f"out of memory on {device} with {batch_size} test examples per batch: use a smaller "
                          f"--batch-size") from None


def _stderr(text: str) -> None:
    """Say ``text`` on stderr (stdout may be JSON)."""
    print(text, file=sys.stderr)


def _report(run: LoadedRun, res: EvalResult, halting: Halting, plot: Path | None, as_json: bool) -> None:
    """Write the plot when asked and print the metrics (JSON or text)."""
    m = res.metrics
    if plot is not None:
        plot_step_accuracy({"exact": m["exact_acc_per_step"], "cells": m["cell_acc_per_step"]}, plot,
                           f"{run.run_dir.name}: {res.examples} test puzzles ({run.task.describe()})")
    if as_json:
        print(json.dumps({"run": str(run.run_dir), "examples": res.examples, "halting": halting.value} | m, indent=1))
        return
    n = run.cfg.model.halt_max_steps
    print(f"{run.run_dir}: {res.examples} test puzzles ({run.task.describe()})")
    valid = {k: f"  valid {m[k]:.2%}" if k in m else "" for k in ("valid", "valid_halt")}
    if halting is Halting.full:
        print(f"  at N_sup={n} steps:   exact {m['exact_acc']:.2%}  cells {m['cell_acc']:.2%}{valid['valid']}")
    print(f"  with learned halting: exact {m['exact_acc_halt']:.2%}  cells {m['cell_acc_halt']:.2%}"
          f"{valid['valid_halt']}  mean steps {m['steps_halt']:.2f}")
    if halting is Halting.full:
        steps = sorted({2 ** i for i in range(n.bit_length()) if 2 ** i <= n} | {n})
        print("  exact by step:        " + "  ".join(f"{k}: {m['exact_acc_per_step'][k - 1]:.2%}" for k in steps))
    if plot is not None:
        print(f"  plot: {plot}")


@contextmanager
def progress_bar(show: bool, total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr over ``total`` examples while the block runs (so that
    stdout stays clean for ``--json``), removed when done; yields the callback that sets
    how many are done, or None when ``show`` is false or stderr is not a terminal."""
    console = Console(stderr=True)
    if not (show and console.is_terminal):
        yield None
        return
    cols = [TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TextColumn("examples"),
            TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*cols, console=console, transient=True) as bar:
        tid = bar.add_task(label, total=total)
        yield lambda done: bar.update(tid, completed=done)


def check_identifiers(run: LoadedRun, split: Split, test_dir: Path) -> None:
    """DatasetError when the split names puzzle identifiers outside the run's embedding table."""
    table = run.model.embed.puzzle
    if table is not None and len(split.puzzle_identifiers) and int(split.puzzle_identifiers.max()) >= len(table.weight):
        raise DatasetError(f"{test_dir / 'all__puzzle_identifiers.npy'}: puzzle identifier "
                           f"{int(split.puzzle_identifiers.max())}, but the embedding table of {run.run_dir} has "
                           f"{len(table.weight)} rows (was it trained on this dataset?)")


def _vote(run: LoadedRun, others: list[LoadedRun], split: Split, test_dir: Path, submission: Path | None,
          as_json: bool, device: str, dtype: Precision | None, batch_size: int, world: World, show: bool) -> None:
    """Predict with every run (each in ``dtype``, else its own train.dtype; each process
    its share, gathered), then on rank 0 vote, print pass@k and write the submission
    when asked."""
    from recursia.infer import forward_autocast
    from recursia.vote import PASS_AT, predict_split, vote, write_submission

    record = read_augmentation_record(split, test_dir)
    loaded = [run, *others]
    share = len(world.share(split.num_examples))
    runs = []
    with progress_bar(show, share * len(loaded), "predict") as advance:
        for i, model_run in enumerate(loaded):
            step = None if advance is None else (lambda done, before=i * share: advance(before + done))
            with forward_autocast(pick_dtype(dtype, model_run.cfg.train.dtype), device):
                runs.append(predict_split(model_run.model, split, batch_size, device, world=world, progress=step))
    if not world.main:
        return
    result = vote(run.task, split, record, runs, test_dir)
    if submission is not None:
        write_submission(result, submission)
    m = result.metrics
    if as_json:
        print(json.dumps({"run": str(run.run_dir), "pooled": [str(o.run_dir) for o in others]} | m, indent=1))
        return
    copies = "no augmented copies" if record is None else f"{split.num_examples} examples"
    pooled = f", pooled with {len(others)} more runs" if others else ""
    print(f"{run.run_dir}: {m['groups']} test puzzles, {m['test_inputs']} test inputs, {copies}{pooled} "
          f"({run.task.describe()})")
    print("  voted: " + "  ".join(f"pass@{k} {m[f'pass@{k}']:.2%}" for k in PASS_AT))
    if submission is not None:
        print(f"  submission: {submission}")
