"""The ``mlp`` mixer: a SwiGLU along the sequence axis (official ``mlp_t``).

For small fixed-length inputs such as Sudoku: every channel is mixed across all
``S = P + L`` positions by the same weights, and the block normalises along positions.
"""

from __future__ import annotations

import torch
from torch import nn

from recursia.api import ConfigError, ModelConfig, SwiGLU


class SequenceMLP(nn.Module):
    """``(B, S, D) -> (B, S, D)``: a SwiGLU of width S applied to each channel."""

    norm_dim = -2  # the block's RMSNorm after this mixer runs over positions

    def __init__(self, seq_len: int, expansion: float, multiple: int = 256):
        super().__init__()
        self.swiglu = SwiGLU(seq_len, expansion, multiple)

    @classmethod
    def from_config(cls, hidden_size: int, seq_len: int, cfg: ModelConfig) -> "SequenceMLP":
        """The mixer factory: uses ``cfg.expansion`` and ``cfg.swiglu_multiple`` (no mixer_options)."""
        if cfg.mixer_options:
            raise ConfigError(f"model.mixer_options.{sorted(cfg.mixer_options)[0]}: unknown key "
                              f"(the mlp mixer has no options)")
        return cls(seq_len, cfg.expansion, cfg.swiglu_multiple)

    def flops_per_sample(self, seq_len: int, hidden_size: int) -> int:
        """Model FLOPs of one call on one sample (DESIGN section 8): every weight is a
        multiply-add once per channel."""
        return 2 * hidden_size * sum(p.numel() for p in self.parameters())

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """(B, S, D) -> (B, S, D)."""
        return self.swiglu(h.transpose(1, 2)).transpose(1, 2)
