"""Exponential moving average of the trainable weights (what is evaluated and saved)."""

from __future__ import annotations

import torch
from torch import nn


class EMA:
    """``ema = rate * ema + (1 - rate) * p`` after every optimizer step."""

    def __init__(self, model: nn.Module, rate: float):
        self.rate = rate
        self.shadow = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Fold the current weights into the average."""
        for n, p in model.named_parameters():
            if n in self.shadow:
                self.shadow[n].lerp_(p.detach(), 1 - self.rate)

    def state(self) -> dict[str, torch.Tensor]:
        """The averaged weights by parameter name."""
        return self.shadow
