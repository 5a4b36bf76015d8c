"""The ``dwconv`` token mixer: a depthwise 1-D convolution along the sequence, then a channel SwiGLU.

Each channel is convolved with its own kernel over neighbouring positions (``groups =
hidden_size``, "same" zero padding, so the sequence keeps its length), and a SwiGLU
over the channels (:class:`recursia.api.SwiGLU`) mixes what the channels gathered. It
works for every task: it only needs ``(B, S, D)`` activations. The block normalises
over the channels after it (``norm_dim = -1``, the default).

``model.mixer_options``:

- ``kernel_size`` (odd int >= 1, default 7): positions seen on each side: ``kernel_size // 2``;
- ``dilation`` (int >= 1, default 1): spacing of the kernel taps (``--set
  model.mixer_options.dilation=5`` lets a 5x5 grid's cell see the cells above and below);
- ``channel_mix`` (bool, default true): the SwiGLU after the convolution (width from
  ``model.expansion`` and ``model.swiglu_multiple``).

This module imports torch; the plugin's ``__init__`` imports it only when a model is built.
"""

from __future__ import annotations

import torch
from torch import nn

from recursia.api import ConfigError, ModelConfig, SwiGLU

OPTIONS = ("kernel_size", "dilation", "channel_mix")
DEFAULT_KERNEL = 7


def _positive_int(options: dict, key: str, default: int) -> int:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"model.mixer_options.{key}: expected an integer >= 1, got {value!r}")
    return value


class DepthwiseConvMixer(nn.Module):
    """``(B, S, D) -> (B, S, D)``: depthwise Conv1d over positions, then an optional channel SwiGLU."""

    def __init__(self, hidden_size: int, kernel_size: int = DEFAULT_KERNEL, dilation: int = 1,
                 channel_mix: bool = True, expansion: float = 4.0, multiple: int = 256):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ConfigError(f"model.mixer_options.kernel_size: expected an odd size (same-length padding), "
                              f"got {kernel_size}")
        self.conv = nn.Conv1d(hidden_size, hidden_size, kernel_size, padding=dilation * (kernel_size // 2),
                              dilation=dilation, groups=hidden_size, bias=False)
        nn.init.normal_(self.conv.weight, std=kernel_size ** -0.5)  # fan-in of one channel's kernel
        self.channel_mix = SwiGLU(hidden_size, expansion, multiple) if channel_mix else None

    @classmethod
    def from_config(cls, hidden_size: int, seq_len: int, cfg: ModelConfig) -> "DepthwiseConvMixer":
        """The mixer factory body: reads ``cfg.mixer_options`` (see the module docstring)."""
        options = dict(cfg.mixer_options)
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise ConfigError(f"model.mixer_options.{unknown[0]}: unknown key (the dwconv mixer has: "
                              f"{', '.join(OPTIONS)})")
        channel_mix = options.get("channel_mix", True)
        if not isinstance(channel_mix, bool):
            raise ConfigError(f"model.mixer_options.channel_mix: expected true or false, got {channel_mix!r}")
        return cls(hidden_size, _positive_int(options, "kernel_size", DEFAULT_KERNEL),
                   _positive_int(options, "dilation", 1), channel_mix, cfg.expansion, cfg.swiglu_multiple)

    def flops_per_sample(self, seq_len: int, hidden_size: int) -> int:
        """Model FLOPs of one call on one sample: every weight is a multiply-add once per position."""
        return 2 * seq_len * sum(p.numel() for p in self.parameters())

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """(B, S, D) -> (B, S, D)."""
        mixed = self.conv(h.transpose(1, 2)).transpose(1, 2)  # (B, D, S) -> conv -> (B, S, D)
        if self.channel_mix is not None:
            mixed = self.channel_mix(mixed)  # (B, S, D)
        return mixed
