"""``recursia eval``: accuracy of a trained run on a test split."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from recursia.cli.common import pick_device
from recursia.data.cache import default_dataset
from recursia.data.dataset import find_split, read_task_split
from recursia.errors import DatasetError
from recursia.infer import evaluate
from recursia.train.checkpoint import load_run


def eval_command(
    run_dir: Path = typer.Argument(..., help="run directory (holds config.json, model.safetensors)"),
    data: Path = typer.Option(None, help="dataset folder (default: the run's dataset)"),
    limit: int = typer.Option(None, min=1, help="evaluate the first N test examples only"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
    device: str = typer.Option(None, help="cpu or cuda"),
) -> None:
    """Cell and exact accuracy at N_sup steps and with learned halting."""
    device = pick_device(device)
    run = load_run(run_dir, device)
    data_dir = data or (Path(run.cfg.data.path) if run.cfg.data.path else default_dataset(run.task, run.cfg.data))
    test_dir = find_split(data_dir, "test")
    split = read_task_split(test_dir, run.task.seq_len, run.task.vocab_size, run.task.describe())
    table = run.model.embed.puzzle
    if table is not None and len(split.puzzle_identifiers) and int(split.puzzle_identifiers.max()) >= len(table.weight):
        raise DatasetError(f"{test_dir / 'all__puzzle_identifiers.npy'}: puzzle identifier "
                           f"{int(split.puzzle_identifiers.max())}, but the run's embedding table has "
                           f"{len(table.weight)} rows (was it trained on this dataset?)")
    res = evaluate(run.model, run.task, split, limit, device=device)
    m = res.metrics
    if as_json:
        print(json.dumps({"run": str(run_dir), "examples": res.examples} | m, indent=1))
        return
    n = run.cfg.model.halt_max_steps
    print(f"{run_dir}: {res.examples} test puzzles ({run.task.describe()})")
    print(f"  at N_sup={n} steps:   exact {m['exact_acc']:.2%}  cells {m['cell_acc']:.2%}  valid {m['valid']:.2%}")
    print(f"  with learned halting: exact {m['exact_acc_halt']:.2%}  cells {m['cell_acc_halt']:.2%}  "
          f"valid {m['valid_halt']:.2%}  mean steps {m['steps_halt']:.2f}")
