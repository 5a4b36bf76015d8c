"""bf16 inference under ``torch.no_grad`` (what recursia runs) against ``torch.inference_mode``
(where autocast casts every weight at every product): the paper Sudoku-MLP model, fresh
weights, one process, rounds alternated, medians of seconds; freed memory is reused as in
the ``recursia`` command (``RECURSIA_MALLOC=system`` turns that off).

    python benchmarks/inference_grad_mode.py [BATCH [STEPS [DTYPE]]]   # default: 1 16 fastest
"""

from __future__ import annotations

import statistics
import sys
import time

import torch

from recursia.bench.workload import Spec
from recursia.build import make_model, make_task
from recursia.infer import forward_autocast, run_steps
from recursia.memory import reuse_freed_memory


def main() -> None:
    reuse_freed_memory()
    batch, steps = (int(a) for a in (sys.argv[1:3] + ["1", "16"][len(sys.argv[1:3]):]))
    dtype = sys.argv[3] if len(sys.argv) > 3 else "fastest"
    cfg = Spec().config()
    task = make_task(cfg.task, cfg.task_options)
    model = make_model(cfg, task, 1).eval()
    inputs = torch.randint(1, 10, (batch, task.seq_len))  # (B, L)
    pids = torch.zeros(batch, dtype=torch.long)  # (B,)
    modes = {"inference_mode": torch.inference_mode, "no_grad": torch.no_grad}
    seconds: dict[str, list[float]] = {k: [] for k in modes}
    for r in range(4):  # the first round warms up
        for name, mode in modes.items():
            with mode(), forward_autocast(dtype, "cpu"):
                start = time.perf_counter()
                run_steps.__wrapped__(model, inputs, pids, steps)
                if r:
                    seconds[name].append(time.perf_counter() - start)
    print(f"batch {batch}, {steps} steps, dtype {dtype}: " +
          ", ".join(f"{k} {statistics.median(v):.3f} s" for k, v in seconds.items()))


if __name__ == "__main__":
    main()
