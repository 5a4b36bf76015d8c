"""Adapting a trained model to a puzzle it never saw, before predicting (``solve``).

A puzzle that brings its own demonstration pairs (an ARC task) gets puzzle-embedding
rows of its own: one row per augmented version of the puzzle, initialised to the mean
of the trained rows. Those rows are trained on the version's demonstration pairs with
the training loop's semantics (the carry, deep supervision, ACT halting with
exploration, the training loss, sparse SignSGD on the rows); the network stays frozen
unless ``full`` (then it is fine-tuned too, with the run's optimizer settings: the
test-time-training recipe). The task says how to build the versions
(:meth:`recursia.task.Task.adaptation_set`); the predictions of every version's test
inputs are then voted (:mod:`recursia.vote`).
"""

from __future__ import annotations

import numpy as np
import torch

from recursia.config import RunConfig
from recursia.data.dataset import IGNORE_LABEL
from recursia.errors import ConfigError
from recursia.model import RecursiveModel
from recursia.task import AdaptationSet
from recursia.train.loop import make_optimizer
from recursia.train.losses import model_step_loss
from recursia.train.optim import SparseSignSGD

MAX_BATCH = 256  # slots of the adaptation carry at most


def add_puzzle_rows(model: RecursiveModel, count: int) -> int:
    """Append ``count`` rows to the puzzle-embedding table, each the mean of the trained
    rows (row 0, the blank identifier, left out when there are others); returns the
    id of the first new row. ConfigError when the model has no puzzle embedding."""
    emb = model.embed.puzzle
    if emb is None:
        raise ConfigError("the model has no puzzle embedding (model.puzzle_emb_ndim 0): nothing to adapt; "
                          "use --no-adapt")
    trained = emb.weight[1:] if len(emb.weight) > 1 else emb.weight  # (N, ndim)
    first = len(emb.weight)
    rows = trained.mean(0, keepdim=True).expand(count, -1)  # (count, ndim)
    emb.weight = torch.cat([emb.weight, rows.to(emb.weight.dtype)])
    return first


def adapt(model: RecursiveModel, cfg: RunConfig, data: AdaptationSet, steps: int, full: bool = False,
          seed: int = 0, device: str | torch.device = "cpu") -> list[float]:
    """Add one embedding row per version, train it (and the network when ``full``) for
    ``steps`` optimizer steps on the demonstration pairs; returns the loss of every step.

    Afterwards ``data.test.puzzle_identifiers`` name the new rows and the model is in
    eval mode. Without ``full`` the network's weights are not changed.
    """
    first = add_puzzle_rows(model, data.versions)
    data.test.puzzle_identifiers = first + np.arange(data.versions, dtype=np.int64)
    t = cfg.train
    inputs = torch.from_numpy(data.demo_inputs.astype(np.int64)).to(device)  # (D, L)
    labels = torch.from_numpy(data.demo_labels.astype(np.int64)).to(device)  # (D, L)
    labels[labels == 0] = IGNORE_LABEL
    pids = torch.from_numpy(first + data.demo_version.astype(np.int64)).to(device)  # (D,)
    batch = min(MAX_BATCH, t.batch_size, len(inputs))
    frozen = {name: p.requires_grad for name, p in model.named_parameters()}
    for p in model.parameters():
        p.requires_grad_(full)
    sparse = SparseSignSGD(model.embed.puzzle, t.puzzle_emb_lr, t.puzzle_emb_weight_decay)
    optimizer = make_optimizer(cfg, model) if full else None
    rng = torch.Generator().manual_seed(seed)
    explore = torch.Generator().manual_seed(seed + 1)
    carry = model.initial_carry(batch, device)
    losses = []
    model.train()
    try:
        for _ in range(steps):
            rows = torch.randint(len(inputs), (batch,), generator=rng).to(device)  # (B,) refills of halted slots
            carry = model.refill(carry, inputs[rows], labels[rows], pids[rows])
            carry, out = model(carry)
            res = model_step_loss(model, carry, out, t.loss)
            (res.loss / batch).backward()
            if optimizer is not None:
                for group in optimizer.param_groups:
                    group["lr"] = t.lr
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            sparse.step()
            carry = model.update_halting(carry, out, training=True, generator=explore)
            losses.append(res.loss.item() / batch)
    finally:
        for name, p in model.named_parameters():
            p.requires_grad_(frozen[name])
            p.grad = None
        model.eval()
    return losses
