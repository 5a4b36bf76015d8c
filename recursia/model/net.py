"""The shared reasoning net ``f``: post-norm blocks of (mixer, SwiGLU)."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from recursia.config import ModelConfig
from recursia.model.layers import SwiGLU, rms_norm


class Block(nn.Module):
    """``h = rms(h + mixer(h))`` (norm along the mixer's ``norm_dim``), ``h = rms(h + swiglu(h))``."""

    def __init__(self, cfg: ModelConfig, seq_len: int, mixer_factory: Callable):
        super().__init__()
        self.eps = cfg.rms_norm_eps
        self.mixer = mixer_factory(cfg.hidden_size, seq_len, cfg)
        self.mixer_norm_dim = getattr(self.mixer, "norm_dim", -1)
        self.mlp = SwiGLU(cfg.hidden_size, cfg.expansion, cfg.swiglu_multiple)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """(B, S, D) -> (B, S, D)."""
        h = rms_norm(h + self.mixer(h), self.eps, dim=self.mixer_norm_dim)
        return rms_norm(h + self.mlp(h), self.eps)


class ReasoningNet(nn.Module):
    """``f(h, inj)``: add the injection, then apply the blocks in order."""

    def __init__(self, cfg: ModelConfig, seq_len: int, mixer_factory: Callable, n_layers: int):
        super().__init__()
        self.layers = nn.ModuleList(Block(cfg, seq_len, mixer_factory) for _ in range(n_layers))

    def forward(self, h: torch.Tensor, injection: torch.Tensor | None) -> torch.Tensor:
        """h, injection (B, S, D) -> (B, S, D) (no injection: the blocks on h alone)."""
        if injection is not None:
            h = h + injection
        for layer in self.layers:
            h = layer(h)
        return h
