"""Several processes through ``torch.distributed`` (started by ``torchrun``).

A process learns its place from torchrun's environment (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT``); :func:`process_group` joins the
default group (NCCL on CUDA, gloo on the CPU) and yields a :class:`World`. A lone
process (no torchrun) gets the one-process world, whose collectives do nothing, so
training and evaluation have one code path for one process and for many.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Callable, Iterator, TypeVar

from recursia.errors import ConfigError

if TYPE_CHECKING:  # torch is imported where a collective runs: the CLI starts without it
    import torch

T = TypeVar("T")
# How long a collective may wait for the slowest process: long enough for rank 0 to build a
# default dataset while the others wait (NCCL's own default is 10 minutes).
TIMEOUT = timedelta(hours=1)


@dataclass(frozen=True)
class World:
    """This process's rank among ``size`` processes (``local_rank``: its index on its host)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Whether this is rank 0, the only process that writes files and prints progress."""
        return self.rank == 0

    def share(self, n: int, rank: int | None = None) -> range:
        """The contiguous share of ``n`` items of ``rank`` (default: this process); shares
        differ in length by at most one and cover ``range(n)`` in rank order."""
        r = self.rank if rank is None else rank
        return range(n * r // self.size, n * (r + 1) // self.size)

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over all processes, in place; returns it."""
        if self.size > 1:
            import torch.distributed as dist
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def all_gather(self, tensor: torch.Tensor) -> torch.Tensor:
        """(size * N, ...) the equally shaped (N, ...) tensors of every process, in rank order."""
        if self.size == 1:
            return tensor
        import torch
        import torch.distributed as dist
        parts = [torch.empty_like(tensor) for _ in range(self.size)]
        dist.all_gather(parts, tensor.contiguous())
        return torch.cat(parts)

    def gather_rows(self, tensor: torch.Tensor) -> torch.Tensor:
        """(sum of N_r, ...) every process's (N_r, ...) tensor, in rank order; the row
        counts N_r may differ (shorter ones are padded for the transfer)."""
        if self.size == 1:
            return tensor
        import torch
        counts = self.all_gather(torch.tensor([tensor.shape[0]], device=tensor.device)).tolist()
        padded = tensor.new_zeros((max(counts), *tensor.shape[1:]))
        padded[:tensor.shape[0]] = tensor
        parts = self.all_gather(padded).split(max(counts))
        return torch.cat([part[:n] for part, n in zip(parts, counts)])

    def gather_to_main(self, tensor: torch.Tensor) -> torch.Tensor | None:
        """On rank 0: (size * N, ...) every process's equally shaped (N, ...) tensor, in
        rank order; elsewhere ``None`` (every process must call it)."""
        if self.size == 1:
            return tensor
        import torch
        import torch.distributed as dist
        parts = [torch.empty_like(tensor) for _ in range(self.size)] if self.main else None
        dist.gather(tensor.contiguous(), parts, dst=0)
        return torch.cat(parts) if self.main else None

    def staged(self, fn: Callable[[], T]) -> T:
        """``fn()`` in every process, in three turns with a barrier between them: rank 0,
        then the first process of every other host, then the rest. For work that fills
        a cache (building the default dataset): rank 0 fills a cache that every host
        shares, one process per host fills a cache of its own, and the others find it."""
        if self.main:
            result = fn()
        self.barrier()
        if not self.main and self.local_rank == 0:
            result = fn()
        self.barrier()
        if self.local_rank != 0:
            result = fn()
        return result

    def barrier(self) -> None:
        """Wait until every process gets here."""
        if self.size > 1:
            import torch.distributed as dist
            dist.barrier()


SINGLE = World()


def world_from_env() -> World:
    """The world torchrun describes in the environment (one process without it)."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return SINGLE
    return World(int(os.environ["RANK"]), size, int(os.environ.get("LOCAL_RANK", "0")))


def rank_device(device: str, world: World) -> str:
    """``device`` for this process: under torchrun ``cuda`` is the GPU of the local rank
    (ConfigError for one GPU named for all processes)."""
    if world.size == 1 or not device.startswith("cuda"):
        return device
    if device != "cuda":
        raise ConfigError(f"--device {device}: with several processes use --device cuda (each process takes the "
                          f"GPU of its local rank; choose GPUs with CUDA_VISIBLE_DEVICES)")
    return f"cuda:{world.local_rank}"


@contextmanager
def process_group(device: str) -> Iterator[World]:
    """Join the default process group torchrun describes (NCCL for CUDA, gloo for the
    CPU) for the duration, and yield this process's :class:`World`; without torchrun
    yield the one-process world and do nothing."""
    world = world_from_env()
    if world.size == 1:
        yield world
        return
    import torch
    import torch.distributed as dist
    if dist.is_initialized():
        yield world
        return
    cuda = device.startswith("cuda")
    if cuda:
        if world.local_rank >= torch.cuda.device_count():
            raise ConfigError(f"local rank {world.local_rank} has no GPU (this host has {torch.cuda.device_count()}); "
                              f"start at most that many processes per node")
        torch.cuda.set_device(world.local_rank)
    dist.init_process_group("nccl" if cuda else "gloo", timeout=TIMEOUT)
    try:
        yield world
        dist.barrier()  # no process leaves while another still talks to it (gloo aborts then)
    finally:
        dist.destroy_process_group()
