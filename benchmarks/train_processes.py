"""Training throughput with one and with several processes on this machine
(``recursia train --nproc N``; gloo on the CPU, NCCL with ``--device cuda``).

    python benchmarks/train_processes.py [--task sudoku] [--preset small] [--nproc 1 2] [--steps 300] [--repeats 2]

Each run trains the preset from scratch in a fresh run directory for ``--steps`` steps
(no evaluation, no periodic checkpoint) and logs every 20 steps; its throughput is the
median samples/s of the logged windows after the first two (which hold start-up and
compilation). Rounds alternate between the process counts; the table gives the median
over ``--repeats`` rounds and the ratio to the first count. On the CPU each process gets
an equal share of the cores (``OMP_NUM_THREADS``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine_info import machine


def run(task: str, preset: str, nproc: int, steps: int, device: str, out: Path) -> float:
    """Median window samples/s of one training run with ``nproc`` processes."""
    cmd = [sys.executable, "-m", "recursia", "train", "--task", task, "--preset", preset, "--steps", str(steps),
           "--out", str(out), "--no-progress", "--device", device, "--nproc", str(nproc),
           "--set", "train.eval_every=0", "--set", "train.checkpoint_every=1000000", "--set", "train.log_every=20",
           "--set", "train.tensorboard=false"]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    rates = [r["samples_per_s"] for r in rows if "samples_per_s" in r and not r.get("summary")][2:]
    return statistics.median(rates)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="sudoku")
    ap.add_argument("--preset", default="small")
    ap.add_argument("--nproc", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    rates: dict[int, list[float]] = {n: [] for n in args.nproc}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            for n in args.nproc:
                rates[n].append(run(args.task, args.preset, n, args.steps, args.device, Path(tmp) / f"{n}-{r}"))
    first = statistics.median(rates[args.nproc[0]])
    for n, values in rates.items():
        rate = statistics.median(values)
        print(f"{args.task} {args.preset}, {n} process{'es' if n > 1 else ''}: {rate:8.1f} samples/s (median of "
              f"{args.repeats}: {', '.join(f'{v:.1f}' for v in values)})  x{rate / first:.2f}")


if __name__ == "__main__":
    t0 = time.time()
    main()
    print(f"({time.time() - t0:.0f} s)")
