"""Building blocks shared by the core net and by mixer plugins.

Everything follows the official TRM layers: weightless RMSNorm (eps inside the square
root, computed in fp32), bias-free linear layers with truncated-normal LeCun init, the
fused SwiGLU and rotary position embeddings in the half-split layout.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def trunc_normal_(tensor: torch.Tensor, std: float = 1.0, lower: float = -2.0,
                  upper: float = 2.0) -> torch.Tensor:
    """Fill ``tensor`` with a normal truncated to [lower, upper] std devs whose *actual*
    standard deviation is ``std`` (the JAX-style init the official code uses)."""
    with torch.no_grad():
        if std == 0:
            return tensor.zero_()
        sqrt2 = math.sqrt(2.0)
        a, b = math.erf(lower / sqrt2), math.erf(upper / sqrt2)
        z = (b - a) / 2
        c = (2 * math.pi) ** -0.5
        pdf_u, pdf_l = c * math.exp(-0.5 * lower**2), c * math.exp(-0.5 * upper**2)
        comp_std = std / math.sqrt(1 - (upper * pdf_u - lower * pdf_l) / z - ((pdf_u - pdf_l) / z) ** 2)
        tensor.uniform_(a, b).erfinv_().mul_(sqrt2 * comp_std).clip_(lower * comp_std, upper * comp_std)
    return tensor


def rms_norm(x: torch.Tensor, eps: float, dim: int = -1) -> torch.Tensor:
    """Weightless RMSNorm along ``dim``: ``x * rsqrt(mean(x^2) + eps)``, computed in fp32."""
    dtype = x.dtype
    x = x.float()
    x = x * torch.rsqrt(x.square().mean(dim, keepdim=True) + eps)
    return x.to(dtype)


def linear(in_features: int, out_features: int, bias: bool = False) -> nn.Linear:
    """A linear layer with the official LeCun truncated-normal init (std 1/sqrt(fan_in))."""
    layer = nn.Linear(in_features, out_features, bias=bias)
    trunc_normal_(layer.weight, std=1.0 / math.sqrt(in_features))
    if bias:
        nn.init.zeros_(layer.bias)
    return layer


def swiglu_width(width: int, expansion: float, multiple: int = 256) -> int:
    """Inner width of a SwiGLU over ``width`` features: ``round(expansion*width*2/3)``
    rounded up to a multiple of ``multiple`` (official: 256; Python round, half-to-even)."""
    return multiple * math.ceil(round(expansion * width * 2 / 3) / multiple)


class SwiGLU(nn.Module):
    """``(silu(g) * a) @ W_down^T`` with ``[g | a] = u @ W_gate_up^T`` over the last axis."""

    def __init__(self, width: int, expansion: float, multiple: int = 256):
        super().__init__()
        inner = swiglu_width(width, expansion, multiple)
        self.gate_up_proj = linear(width, 2 * inner)
        self.down_proj = linear(inner, width)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """(..., width) -> (..., width)."""
        gate, up = self.gate_up_proj(u).chunk(2, dim=-1)  # (..., inner) each
        return self.down_proj(F.silu(gate) * up)


def rotary_tables(seq_len: int, head_dim: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin tables ``(seq_len, head_dim)`` for RoPE in the half-split layout."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    ang = torch.outer(torch.arange(seq_len, dtype=torch.float32), inv_freq)  # (S, hd/2)
    emb = torch.cat([ang, ang], dim=-1)  # (S, hd)
    return emb.cos(), emb.sin()


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate ``x (B, S, heads, hd)`` by tables ``(S, hd)``: dim j pairs with j + hd/2."""
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    cos, sin = cos[:, None, :].to(x.dtype), sin[:, None, :].to(x.dtype)  # (S, 1, hd)
    return x * cos + rotated * sin
