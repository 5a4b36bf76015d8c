"""Training speed (optimizer steps/s) of a preset on this machine, eager, with
``train.compile`` (torch.compile), each with and without ``train.deterministic``.

    python benchmarks/train_speed.py [--task sudoku] [--preset small] [--steps 30] [--repeats 3]

Builds (or reuses) the preset's default dataset, then times ``--steps`` steps after 5
warm-up steps, ``--repeats`` times per variant in one process each, and prints the
median steps/s of every variant and its ratio to eager. Every run is a fresh process,
under the torch settings training uses (``recursia.train.settings.training_settings``);
rounds alternate between the variants.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from machine_info import machine

VARIANTS = {
    "eager": ["train.compile=false"],
    "eager, deterministic off": ["train.compile=false", "train.deterministic=false"],
    "compile": ["train.compile=true"],
    "compile, deterministic off": ["train.compile=true", "train.deterministic=false"],
}  # the CPU default is deterministic (train.deterministic auto)

CHILD = r"""
import json, sys, time, torch
from pathlib import Path
from recursia.build import make_task
from recursia.cli.train import resolve_config
from recursia.data.cache import default_dataset
from recursia.train.loop import Trainer
from recursia.train.settings import training_settings
task, preset, steps, sets = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
cfg = resolve_config(task, None, preset, None, sets, None, "cpu")
data = default_dataset(make_task(cfg.task, cfg.task_options), cfg.data, log=lambda *a: None)
with training_settings(cfg, "cpu"):
    tr = Trainer(cfg, Path("/tmp/recursia-bench-run"), data, "cpu")
    for _ in range(5):
        tr.train_step()
    t = time.perf_counter()
    for _ in range(steps):
        tr.train_step()
    elapsed = time.perf_counter() - t
print(json.dumps({"steps_per_s": steps / elapsed, "params": tr.model.num_parameters()}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="sudoku")
    ap.add_argument("--preset", default="small")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    import torch

    print(f"machine: {machine()}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    runs: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.repeats):
        for name, sets in VARIANTS.items():
            out = subprocess.run([sys.executable, "-c", CHILD, args.task, args.preset, str(args.steps), *sets],
                                 capture_output=True, text=True, check=True)
            runs[name].append(json.loads(out.stdout.strip().splitlines()[-1])["steps_per_s"])
    eager = statistics.median(runs["eager"])
    for name, rates in runs.items():
        rate = statistics.median(rates)
        print(f"{name:28s} {rate:6.2f} steps/s (median of {args.repeats}: "
              f"{', '.join(f'{r:.2f}' for r in rates)})  x{rate / eager:.2f}")

if __name__ == "__main__":
    t0 = time.time()
    main()
    print(f"({time.time() - t0:.0f} s)")
