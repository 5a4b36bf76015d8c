"""Optimizers in plain torch (every device): AdamATan2, and sparse SignSGD for the
puzzle-embedding table; plus the official learning-rate schedule (warm-up, then constant
or a cosine down to a floor)."""

from __future__ import annotations

import math

import torch

from recursia.model.embedding import PuzzleEmbedding


class AdamATan2(torch.optim.Optimizer):
    """Adam whose update is ``atan2(m_hat, sqrt(v_hat))``: no epsilon, bounded steps.

    Per step: ``p *= 1 - lr * wd`` (decoupled weight decay), ``m = lerp(m, g, 1 - b1)``,
    ``v = b2 * v + (1 - b2) * g^2``, ``p -= lr * atan2(m / (1 - b1^t), sqrt(v) / sqrt(1 - b2^t))``
    (the semantics of the CUDA ``adam-atan2`` package the official code uses).
    """

    def __init__(self, params, lr: float = 1e-4, betas: tuple[float, float] = (0.9, 0.95),
                 weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        """Apply one update to every parameter with a gradient; returns the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            b1, b2 = group["betas"]
            lr, wd = group["lr"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = torch.zeros((), dtype=torch.float32)
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"].item()
                m, v = state["exp_avg"], state["exp_avg_sq"]
                p.mul_(1 - lr * wd)
                m.lerp_(p.grad, 1 - b1)
                v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                denom = v.sqrt() / (1 - b2**t) ** 0.5
                p.add_(torch.atan2(m / (1 - b1**t), denom), alpha=-lr)
        return loss


class SparseSignSGD:
    """SignSGD with decoupled weight decay on the puzzle-embedding rows used in a step.

    For the ids of the step: ``w[ids] = w[ids] * (1 - lr * wd) - lr * sign(sum of the
    gradients of each id)`` (official ``CastedSparseEmbeddingSignSGD``). The sums are
    formed without a data-dependent shape (no ``unique``), so a step never waits for
    the GPU.
    """

    def __init__(self, embedding: PuzzleEmbedding, lr: float, weight_decay: float):
        self.embedding, self.lr, self.weight_decay = embedding, lr, weight_decay

    @torch.no_grad()
    def step(self, ids: torch.Tensor | None = None, grads: torch.Tensor | None = None) -> None:
        """Update the rows ``ids`` (B,) with their gradients ``grads`` (B, ndim) -- by
        default those of the last training forward (no-op without one). Several
        processes pass the ids and gradients of every process, gathered in rank order,
        so that every copy of the table makes the same update."""
        emb = self.embedding
        if ids is None:
            if emb.local is None or emb.local.grad is None:
                return
            ids, grads = emb.local_ids, emb.local.grad
        order = ids.argsort(stable=True)  # (B,) equal ids together, each in slot order
        sorted_ids = ids[order]
        first = torch.ones_like(sorted_ids, dtype=torch.bool)
        first[1:] = sorted_ids[1:] != sorted_ids[:-1]
        group = first.cumsum(0) - 1  # (B,) index of each slot's id among the distinct ids
        summed = torch.zeros_like(grads).index_add_(0, group, grads[order])  # (B, ndim): rows past the last id stay 0
        rows = emb.weight[sorted_ids] * (1 - self.lr * self.weight_decay) - self.lr * summed[group].sign()
        emb.weight[sorted_ids] = rows.to(emb.weight.dtype)  # a repeated id writes the same row again
        emb.local = emb.local_ids = None


def lr_at(step: int, base_lr: float, warmup_steps: int, total_steps: int = 0, min_ratio: float = 1.0) -> float:
    """The official schedule: linear warm-up from 0 over ``warmup_steps``, then a cosine
    from ``base_lr`` down to ``min_ratio * base_lr`` at ``total_steps`` (official
    ``lr_min_ratio``; its default 1 keeps the rate constant after the warm-up)."""
    if warmup_steps > 0 and step < warmup_steps:
        return base_lr * step / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return base_lr * (min_ratio + max(0.0, (1 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))))
