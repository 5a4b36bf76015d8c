"""The process-wide torch settings a run trains under, set for the duration of training
and restored afterwards: deterministic algorithms (``train.deterministic``), the CPU
thread count (``train.threads``) and, on the CPU, denormal floats flushed to zero
(``train.flush_denormal``)."""

from __future__ import annotations

from contextlib import contextmanager

import torch

from recursia.config import RunConfig


@contextmanager
def deterministic_algorithms(enabled: bool):
    """``torch.use_deterministic_algorithms(enabled)`` (warnings, not errors, for an op
    without a deterministic kernel) for the duration, then the previous setting.

    It makes compiled CPU kernels deterministic: without it inductor lowers the
    embedding backward to a scatter-add whose float sums follow the threads' timing.
    Uninitialised memory is not filled (it is never read), so eager speed is unchanged.
    """
    before = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
              torch.utils.deterministic.fill_uninitialized_memory)
    torch.use_deterministic_algorithms(enabled, warn_only=True)
    torch.utils.deterministic.fill_uninitialized_memory = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        torch.utils.deterministic.fill_uninitialized_memory = before[2]


@contextmanager
def denormals_flushed(enabled: bool):
    """Treat denormal floats as zero on the CPU for the duration (then as IEEE-754 says)."""
    if enabled:
        torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if enabled:
            torch.set_flush_denormal(False)


def uses_determinism(cfg: RunConfig, device: str | torch.device) -> bool:
    """Whether ``train.deterministic`` asks for deterministic algorithms on ``device``."""
    wanted = cfg.train.deterministic
    return torch.device(device).type == "cpu" if wanted == "auto" else bool(wanted)


@contextmanager
def cpu_threads(count: int | str | None):
    """``torch.set_num_threads(count)`` for the duration (None or ``auto``: start from
    torch's setting); torch's setting is restored afterwards."""
    before = torch.get_num_threads()
    if isinstance(count, int):
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def training_settings(cfg: RunConfig, device: str | torch.device):
    """The process-wide torch settings ``cfg`` trains under on ``device``, for the
    duration: deterministic algorithms (``train.deterministic``), ``train.threads`` and,
    on the CPU, flushed denormals (``train.flush_denormal``)."""
    flush = cfg.train.flush_denormal and torch.device(device).type == "cpu"
    with deterministic_algorithms(uses_determinism(cfg, device)), denormals_flushed(flush), \
            cpu_threads(cfg.train.threads):
        yield
