"""The machine's matmul peak at a model's own shapes.

:func:`step_matmuls` records the matrix products one training step runs (forward and
backward, through a torch dispatch mode); :func:`matmul_peak` times each distinct shape in
a dtype and returns their FLOPs over their time, each weighted by how often the step
runs it. That is the most a perfect implementation of the same step could reach on this
machine, so model FLOP/s over it is the MFU.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Callable

import torch
from torch.utils._python_dispatch import TorchDispatchMode

@dataclass(frozen=True)
class MatmulShape:
    """``batch`` products of an (m, k) and a (k, n) matrix."""

    batch: int
    m: int
    k: int
    n: int

    @property
    def flops(self) -> int:
        """Multiply-adds x 2."""
        return 2 * self.batch * self.m * self.k * self.n


class _MatmulRecorder(TorchDispatchMode):
    """Counts the shapes of the matrix products that run under it (forward and backward)."""

    def __init__(self):
        super().__init__()
        self.found: Counter[MatmulShape] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        packet = func._overloadpacket
        if packet in (torch.ops.aten.mm, torch.ops.aten.bmm, torch.ops.aten.addmm):
            a, b = args[1:3] if packet is torch.ops.aten.addmm else args[:2]
            if a.dim() == 3:  # bmm: (batch, m, k) @ (batch, k, n)
                self.found[MatmulShape(a.shape[0], a.shape[1], a.shape[2], b.shape[2])] += 1
            else:
                self.found[MatmulShape(1, a.shape[0], a.shape[1], b.shape[1])] += 1
        return func(*args, **(kwargs or {}))


def step_matmuls(run_step: Callable[[], object]) -> Counter[MatmulShape]:
    """How many times ``run_step()`` runs each matrix-product shape (eager, forward and backward)."""
    with _MatmulRecorder() as recorder:
        run_step()
    return recorder.found


def time_matmul(shape: MatmulShape, dtype: torch.dtype, min_seconds: float = 0.05) -> float:
    """Seconds per product of ``shape`` in ``dtype`` (into a preallocated output, after warm-up)."""
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(shape.batch, shape.m, shape.k, generator=gen).to(dtype).squeeze(0)  # (m, k) or (batch, m, k)
    b = torch.randn(shape.batch, shape.k, shape.n, generator=gen).to(dtype).squeeze(0)  # (k, n) or (batch, k, n)
    out = torch.empty(*a.shape[:-1], shape.n, dtype=dtype)
    op = torch.bmm if shape.batch > 1 else torch.mm
    for _ in range(3):
        op(a, b, out=out)
    reps, elapsed = 1, 0.0
    while True:
        start = time.perf_counter()
        for _ in range(reps):
            op(a, b, out=out)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / reps
        reps *= 2


def matmul_peak(shapes: Counter[MatmulShape], dtype: torch.dtype, min_seconds: float = 0.05) -> float:
    """FLOP/s of the products in ``shapes`` in ``dtype``: their FLOPs over their time,
    each shape weighted by its count."""
    flops = seconds = 0.0
    for shape, count in shapes.items():
        flops += count * shape.flops
        seconds += count * time_matmul(shape, dtype, min_seconds)
    return flops / seconds
