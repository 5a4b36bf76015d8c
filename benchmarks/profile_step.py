"""Where a training step's time goes: the torch profiler's op table for a few steps of a
preset in one mode (after warm-up), the matrix products' share of the total, and the
time those products would take at the measured matmul peak. Freed memory is reused as in
the ``recursia`` command (``RECURSIA_MALLOC=system`` turns that off).

    python benchmarks/profile_step.py [--task sudoku] [--preset paper] [--mixer mlp] [--batch-size 32] [--mode bf16]
        [--steps 2]
"""

from __future__ import annotations

import argparse
import time

from torch.profiler import ProfilerActivity, profile

from recursia.bench.flops import step_flops
from recursia.bench.measure import model_matmuls, peaks
from recursia.bench.workload import Mode, Spec, trainer
from recursia.memory import reuse_freed_memory
from recursia.train.settings import training_settings

MATMULS = ("aten::mm", "aten::addmm", "aten::bmm")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="sudoku")
    ap.add_argument("--preset", default="paper")
    ap.add_argument("--mixer", default="mlp")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--mode", default="bf16")
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--rows", type=int, default=20)
    args = ap.parse_args()
    reuse_freed_memory()
    spec, mode = Spec(args.task, args.preset, args.mixer, args.batch_size), Mode.parse(args.mode)
    cfg = spec.config(mode)
    tr = trainer(cfg)
    with training_settings(cfg, "cpu"):
        for _ in range(2):
            tr.train_step()
        start = time.perf_counter()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(args.steps):
                tr.train_step()
        wall = (time.perf_counter() - start) / args.steps
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events) / 1e6 / args.steps
    mm = sum(e.self_cpu_time_total for e in events if e.key in MATMULS) / 1e6 / args.steps
    flops = step_flops(tr.model).train * spec.batch_size
    ideal = flops / peaks(model_matmuls(tr.model, spec.batch_size), (mode.dtype,))[mode.dtype]
    print(f"{spec.describe()}, {mode.name}: {wall:.3f} s per step under the profiler; self time of all ops "
          f"{total:.3f} s, of the matrix products {mm:.3f} s ({mm / total:.0%}); the same products at the "
          f"measured peak: {ideal:.3f} s ({ideal / wall:.0%} of the step)")


if __name__ == "__main__":
    main()
