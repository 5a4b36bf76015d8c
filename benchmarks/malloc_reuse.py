"""What reusing freed memory (``recursia.memory``, on in the ``recursia`` command) is worth:
evaluation and training of the paper Sudoku-MLP model with glibc's malloc as it comes
and with reuse, each in a fresh process (the malloc state is the process's: a heap grown
under reuse keeps serving blocks after switching back), processes alternated over
rounds, medians.

    python benchmarks/malloc_reuse.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

MODES = ("system", "reuse")
CASES = [("eval", 1, "bf16"), ("eval", 32, "bf16"), ("eval", 256, "fp32"), ("eval", 256, "bf16"),
         ("train", 32, "fp32"), ("train", 32, "bf16")]


def measure() -> None:
    """In this process (malloc mode from RECURSIA_MALLOC): one JSON line of samples x
    steps/s per case, after one untimed run of each."""
    from recursia.memory import reuse_freed_memory

    reuse_freed_memory()
    import torch

    from recursia.bench.workload import DTYPES, Mode, Spec, trainer
    from recursia.build import make_model, make_task
    from recursia.infer import forward_autocast, run_steps
    from recursia.train.settings import training_settings

    spec = Spec()
    cfg = spec.config()
    model = make_model(cfg, make_task(cfg.task, cfg.task_options), 1).eval()
    trainers = {d: trainer(spec.config(Mode(d))) for d in ("fp32", "bf16")}

    def rate(kind: str, batch: int, dtype: str) -> float:
        if kind == "eval":
            steps = 16 if batch == 1 else 1
            inputs = torch.randint(1, model.vocab_size, (batch, model.seq_len))  # (B, L)
            pids = torch.zeros(batch, dtype=torch.long)  # (B,)
            with forward_autocast(DTYPES[dtype], "cpu"):
                start = time.perf_counter()
                run_steps(model, inputs, pids, steps)
        else:
            tr, steps = trainers[dtype], 2
            with training_settings(tr.cfg, "cpu"):
                start = time.perf_counter()
                for _ in range(steps):
                    tr.train_step()
        return batch * steps / (time.perf_counter() - start)

    out = {}
    for case in CASES:
        rate(*case)  # warm-up
        out["/".join(map(str, case))] = rate(*case)
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return measure()
    runs: dict[str, list[dict]] = {m: [] for m in MODES}
    for r in range(args.rounds):
        for mode in MODES:
            done = subprocess.run([sys.executable, __file__, "--child"], capture_output=True, text=True, check=True,
                                  env=os.environ | {"RECURSIA_MALLOC": mode})
            runs[mode].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"round {r + 1}/{args.rounds}: {mode} done", file=sys.stderr, flush=True)
    print(f"\nsudoku paper mlp: samples x steps/s, median of {args.rounds} processes per mode\n")
    print("| what | batch | dtype | glibc as it comes | reuse | ratio |")
    print("| --- | --- | --- | --- | --- | --- |")
    for case in CASES:
        key = "/".join(map(str, case))
        system, reuse = (statistics.median(run[key] for run in runs[m]) for m in MODES)
        print(f"| {case[0]} | {case[1]} | {case[2]} | {system:.2f} | {reuse:.2f} | {reuse / system:.2f} |")


if __name__ == "__main__":
    main()
