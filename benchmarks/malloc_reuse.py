"""What reusing freed memory (``recursia.memory``, on in the ``recursia`` command) is worth:
evaluation and training of the paper Sudoku-MLP model with glibc's default malloc and
with reuse, switched back and forth in one process, rounds alternated, medians.

    python benchmarks/malloc_reuse.py [--rounds 3] [--batches 1,32,256] [--train-batch 32]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from recursia.bench.workload import DTYPES, Mode, Spec, trainer
from recursia.build import make_model, make_task
from recursia.infer import forward_autocast, run_steps
from recursia.memory import set_malloc
from recursia.train.settings import training_settings

MODES = ("system", "reuse")


def eval_rate(model, batch: int, dtype: str, steps: int) -> float:
    """Samples x supervision steps per second of ``run_steps`` on ``batch`` random puzzles."""
    inputs = torch.randint(1, model.vocab_size, (batch, model.seq_len))  # (B, L)
    pids = torch.zeros(batch, dtype=torch.long)  # (B,)
    with forward_autocast(DTYPES[dtype], "cpu"):
        start = time.perf_counter()
        run_steps(model, inputs, pids, steps)
        return batch * steps / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batches", default="1,32,256", help="evaluation batches")
    ap.add_argument("--train-batch", type=int, default=32)
    ap.add_argument("--train-steps", type=int, default=2)
    args = ap.parse_args()
    spec = Spec(batch_size=args.train_batch)
    cfg = spec.config()
    model = make_model(cfg, make_task(cfg.task, cfg.task_options), 1).eval()
    cases = [("eval", b, d) for b in map(int, args.batches.split(",")) for d in ("fp32", "bf16")]
    cases += [("train", args.train_batch, d) for d in ("fp32", "bf16")]
    trainers = {d: trainer(spec.config(Mode(d))) for d in ("fp32", "bf16")}
    rates: dict[tuple, list[float]] = {(c, m): [] for c in cases for m in MODES}
    for r in range(args.rounds + 1):  # the first round warms up
        for case in cases:
            for mode in MODES:
                set_malloc(mode)
                kind, batch, dtype = case
                if kind == "eval":
                    rate = eval_rate(model, batch, dtype, 16 if batch == 1 else 1)
                else:
                    tr = trainers[dtype]
                    with training_settings(tr.cfg, "cpu"):
                        start = time.perf_counter()
                        for _ in range(args.train_steps):
                            tr.train_step()
                        rate = batch * args.train_steps / (time.perf_counter() - start)
                if r:
                    rates[(case, mode)].append(rate)
        print(f"round {r}/{args.rounds} done", flush=True)
    set_malloc("reuse")
    print(f"\n{spec.describe()}: samples x steps/s, median of {args.rounds} rounds\n")
    print("| what | batch | dtype | glibc default | reuse | ratio |")
    print("| --- | --- | --- | --- | --- | --- |")
    for case in cases:
        system, reuse = (statistics.median(rates[(case, m)]) for m in MODES)
        kind, batch, dtype = case
        print(f"| {kind} | {batch} | {dtype} | {system:.2f} | {reuse:.2f} | {reuse / system:.2f} |")


if __name__ == "__main__":
    main()
