"""Training metrics summed on the device and read once per logging window.

Reading a number from a GPU makes the host wait for it, so a step only adds its
metrics to a small device tensor; :meth:`StepStats.read` (every ``train.log_every``
steps) sums the windows of every process and turns them into one record.
"""

from __future__ import annotations

import math

import torch

from recursia.distributed import World
from recursia.train.losses import StepLoss

# the sums kept per window, in this order
SUMS = ("loss", "lm_loss", "q_halt_loss", "cell_acc", "exact_acc", "halted", "halted_exact", "halted_steps")


class StepStats:
    """Sums of the steps of the current logging window (this process's slots)."""

    def __init__(self, device: torch.device):
        self.sums = torch.zeros(len(SUMS), dtype=torch.float64, device=device)  # (len(SUMS),)
        self.steps = 0

    @torch.no_grad()
    def add(self, res: StepLoss, halted: torch.Tensor, steps: torch.Tensor) -> None:
        """Add one step: its loss terms (summed over slots), and per slot (B,) whether it
        halted after the step and the steps it had taken then."""
        cell = res.cell_correct.sum(-1) / res.valid.sum(-1).clamp_min(1)  # (B,)
        exact = res.seq_correct.float()  # (B,)
        done = halted.float()  # (B,)
        self.sums += torch.stack([res.loss.detach().float(), res.lm_loss.detach().float(),
                                  res.q_halt_loss.detach().float(), cell.sum(), exact.sum(), done.sum(),
                                  (exact * done).sum(), (steps.float() * done).sum()]).double()
        self.steps += 1

    def read(self, world: World, global_batch: int) -> dict[str, float]:
        """The window's means over all processes (one collective, the same in every
        process), then a new window: ``loss``, ``lm_loss``, ``q_halt_loss`` per slot and
        step (as the loss is divided by the global batch); ``cell_acc``, ``exact_acc``
        over slots; ``halted`` slots per step; ``halted_exact_acc`` and ``halted_steps``
        (the mean halting step) over the slots that halted (NaN when none did)."""
        sums = dict(zip(SUMS, world.all_reduce_sum(self.sums.clone()).tolist()))
        n = max(self.steps, 1)
        self.sums.zero_()
        self.steps = 0
        per_slot = global_batch * n
        halted = sums["halted"]
        return {
            "loss": sums["loss"] / per_slot, "lm_loss": sums["lm_loss"] / per_slot,
            "q_halt_loss": sums["q_halt_loss"] / per_slot,
            "cell_acc": sums["cell_acc"] / per_slot, "exact_acc": sums["exact_acc"] / per_slot,
            "halted": halted / n,
            "halted_exact_acc": sums["halted_exact"] / halted if halted else math.nan,
            "halted_steps": sums["halted_steps"] / halted if halted else math.nan,
        }
