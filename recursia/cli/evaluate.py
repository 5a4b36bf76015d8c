"""``recursia eval``: accuracy of a trained run on a test split."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from recursia.cli.common import check_out_file, pick_device
from recursia.data.cache import default_dataset
from recursia.data.dataset import Split, find_split, read_augmentation_record, read_task_split
from recursia.errors import CheckpointError, ConfigError, DatasetError
from recursia.infer import evaluate
from recursia.train.checkpoint import LoadedRun, load_run
from recursia.vote import PASS_AT, predict_split, vote, write_submission


def eval_command(
    run_dir: Path = typer.Argument(..., help="run directory (holds config.json, model.safetensors)"),
    data: Path = typer.Option(None, help="dataset folder (default: the run's dataset)"),
    limit: int = typer.Option(None, min=1, help="evaluate the first N test examples only (not with voting)"),
    vote_: bool = typer.Option(None, "--vote/--no-vote", help="vote across the test split's augmented copies "
                                                              "and report pass@k (default: the task's choice)"),
    submission: Path = typer.Option(None, help="write the top two voted answers per test input "
                                               "(Kaggle format) to this JSON file"),
    pool: list[Path] = typer.Option([], help="also count the votes of this run (same task and data; repeatable)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
    device: str = typer.Option(None, help="cpu or cuda"),
) -> None:
    """Cell and exact accuracy at N_sup steps and with learned halting; with voting,
    pass@1/2/5/10 over the augmented copies of every test puzzle."""
    device = pick_device(device)
    run = load_run(run_dir, device)
    voting = run.task.votes if vote_ is None else vote_
    voting = voting or submission is not None or bool(pool)
    if voting and limit is not None:
        raise ConfigError("--limit cannot be combined with voting (every copy of a puzzle votes); "
                          "use --no-vote or build a smaller test split")
    if submission is not None:
        check_out_file(submission, "--submission")
    others = [load_run(other, device) for other in pool]
    for other in others:
        if other.cfg.task != run.cfg.task or other.task.seq_len != run.task.seq_len:
            raise CheckpointError(f"--pool {other.run_dir}: trained on {other.task.describe()}, not "
                                  f"{run.task.describe()}")
    data_dir = data or (Path(run.cfg.data.path) if run.cfg.data.path else default_dataset(run.task, run.cfg.data))
    test_dir = find_split(data_dir, "test")
    split = read_task_split(test_dir, run.task.seq_len, run.task.vocab_size, run.task.describe())
    for loaded in [run, *others]:
        check_identifiers(loaded, split, test_dir)
    if voting:
        return _vote(run, others, split, test_dir, submission, as_json, device)
    res = evaluate(run.model, run.task, split, limit, device=device)
    m = res.metrics
    if as_json:
        print(json.dumps({"run": str(run_dir), "examples": res.examples} | m, indent=1))
        return
    n = run.cfg.model.halt_max_steps
    print(f"{run_dir}: {res.examples} test puzzles ({run.task.describe()})")
    valid = {k: f"  valid {m[k]:.2%}" if k in m else "" for k in ("valid", "valid_halt")}
    print(f"  at N_sup={n} steps:   exact {m['exact_acc']:.2%}  cells {m['cell_acc']:.2%}{valid['valid']}")
    print(f"  with learned halting: exact {m['exact_acc_halt']:.2%}  cells {m['cell_acc_halt']:.2%}"
          f"{valid['valid_halt']}  mean steps {m['steps_halt']:.2f}")


def check_identifiers(run: LoadedRun, split: Split, test_dir: Path) -> None:
    """DatasetError when the split names puzzle identifiers outside the run's embedding table."""
    table = run.model.embed.puzzle
    if table is not None and len(split.puzzle_identifiers) and int(split.puzzle_identifiers.max()) >= len(table.weight):
        raise DatasetError(f"{test_dir / 'all__puzzle_identifiers.npy'}: puzzle identifier "
                           f"{int(split.puzzle_identifiers.max())}, but the embedding table of {run.run_dir} has "
                           f"{len(table.weight)} rows (was it trained on this dataset?)")


def _vote(run: LoadedRun, others: list[LoadedRun], split: Split, test_dir: Path, submission: Path | None,
          as_json: bool, device: str) -> None:
    """Predict with every run, vote, print pass@k and write the submission when asked."""
    record = read_augmentation_record(split, test_dir)
    runs = [predict_split(loaded.model, split, device=device) for loaded in [run, *others]]
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
