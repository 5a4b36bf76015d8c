"""Deep-supervision losses (official ``ACTLossHead`` semantics).

Per step: for every slot, the mean over its valid cells of the cross-entropy
(stablemax as official, softmax selectable), summed over slots; plus
``0.5 * BCE(q_halt, answer fully correct)`` summed over slots (none with ``act:
none``); plus, with ``act: halt_continue`` (HRM), ``0.5 * BCE(q_continue, bootstrapped
target)``. The caller divides by the global batch size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from recursia.model.recursion import Carry, RecursiveModel, StepOutput

IGNORE = -100


def log_stablemax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``log(s(x) / sum s(x))`` with ``s(x) = x + 1`` for x >= 0 and ``1 / (1 - x)`` below."""
    s = torch.where(x < 0, 1 / (1 - x + 1e-30), x + 1)
    return torch.log(s / s.sum(dim=dim, keepdim=True))


def stablemax_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-cell stablemax CE in float64: logits (..., V), labels/mask (...) -> (...)."""
    logp = log_stablemax(logits.to(torch.float64))
    picked = logp.gather(-1, torch.where(mask, labels, 0).unsqueeze(-1)).squeeze(-1)
    return -torch.where(mask, picked, 0)


def softmax_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-cell softmax CE in float32: logits (..., V), labels/mask (...) -> (...)."""
    flat = F.cross_entropy(logits.float().flatten(0, -2), torch.where(mask, labels, IGNORE).flatten(),
                           ignore_index=IGNORE, reduction="none")
    return flat.view(labels.shape)


LOSSES = {"stablemax": stablemax_cross_entropy, "softmax": softmax_cross_entropy}


@dataclass
class StepLoss:
    """The summed losses of one supervision step and the per-slot correctness.

    loss: lm_loss + 0.5 * (q_halt_loss + q_continue_loss), summed over slots.
    cell_correct: (B, L) bool; seq_correct: (B,) bool; valid: (B, L) bool.
    """

    loss: torch.Tensor
    lm_loss: torch.Tensor
    q_halt_loss: torch.Tensor
    q_continue_loss: torch.Tensor
    cell_correct: torch.Tensor
    seq_correct: torch.Tensor
    valid: torch.Tensor


def step_loss(logits: torch.Tensor, labels: torch.Tensor, q_halt: torch.Tensor | None, kind: str = "stablemax",
              q_continue: torch.Tensor | None = None,
              q_continue_target: torch.Tensor | None = None) -> StepLoss:
    """Loss of one step: logits (B, L, V), labels (B, L) with -100 ignored, q_* (B,);
    ``q_halt`` None (``act: none``): no halting loss."""
    valid = labels != IGNORE
    counts = valid.sum(-1)  # (B,)
    cell_correct = valid & (logits.argmax(-1) == labels)
    seq_correct = cell_correct.sum(-1) == counts
    per_cell = LOSSES[kind](logits, labels, valid)  # (B, L)
    lm_loss = (per_cell / counts.clamp_min(1).unsqueeze(-1)).sum()
    zero = torch.zeros((), dtype=torch.float32, device=logits.device)
    q_halt_loss = zero if q_halt is None else \
        F.binary_cross_entropy_with_logits(q_halt, seq_correct.to(q_halt.dtype), reduction="sum")
    q_continue_loss = zero
    if q_continue is not None and q_continue_target is not None:
        q_continue_loss = F.binary_cross_entropy_with_logits(q_continue, q_continue_target, reduction="sum")
    loss = lm_loss + 0.5 * (q_halt_loss + q_continue_loss)
    return StepLoss(loss, lm_loss, q_halt_loss, q_continue_loss, cell_correct, seq_correct, valid)


def model_step_loss(model: RecursiveModel, carry: Carry, out: StepOutput, kind: str = "stablemax") -> StepLoss:
    """The training loss of the step that gave ``carry`` and ``out``, under the model's
    ``act`` switch: no halting loss with ``none``; with ``halt_continue`` also the
    q_continue term toward :meth:`RecursiveModel.q_continue_target` (a second forward)."""
    act = model.cfg.act
    target = model.q_continue_target(carry) if act == "halt_continue" else None
    return step_loss(out.logits, carry.labels, None if act == "none" else out.q_halt, kind,
                     out.q_continue if target is not None else None, target)
