"""The ``attention`` mixer: non-causal multi-head self-attention with RoPE.

Rotary embeddings (theta from the config) cover every position, the puzzle prefix
included, in the half-split layout; no mask, not even for PAD positions (official).

On the CPU, bf16 queries, keys and values (bf16 autocast) meet in float32: torch's CPU
flash-attention backward takes 10x longer in bf16 than in float32 (31 against 3.1 ms per
call at the maze ``small`` shapes, ``benchmarks/profile_step.py --task maze --preset
small --mixer attention --batch-size 64 --mode bf16``), which made bf16 training slower
than float32. The projections around it stay bf16; on CUDA nothing changes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from recursia.api import ConfigError, ModelConfig, apply_rotary, linear, rotary_tables


class Attention(nn.Module):
    """``(B, S, D) -> (B, S, D)`` with a fused QKV projection and an output projection."""

    def __init__(self, hidden_size: int, seq_len: int, num_heads: int, rope_theta: float | None):
        super().__init__()
        if hidden_size % num_heads:
            raise ConfigError(f"model.hidden_size {hidden_size} is not a multiple of model.num_heads {num_heads}")
        self.num_heads, self.head_dim = num_heads, hidden_size // num_heads
        self.qkv_proj = linear(hidden_size, 3 * hidden_size)
        self.o_proj = linear(hidden_size, hidden_size)
        self.rope = rope_theta is not None
        if self.rope:
            cos, sin = rotary_tables(seq_len, self.head_dim, rope_theta)
            self.register_buffer("cos", cos, persistent=False)
            self.register_buffer("sin", sin, persistent=False)

    @classmethod
    def from_config(cls, hidden_size: int, seq_len: int, cfg: ModelConfig) -> "Attention":
        """The mixer factory. ``mixer_options.rope`` (default true) switches RoPE off."""
        unknown = sorted(set(cfg.mixer_options) - {"rope"})
        if unknown:
            raise ConfigError(f"model.mixer_options.{unknown[0]}: unknown key (the attention mixer has: rope)")
        rope = cfg.mixer_options.get("rope", True)
        if not isinstance(rope, bool):
            raise ConfigError(f"model.mixer_options.rope: expected true or false, got {rope!r}")
        return cls(hidden_size, seq_len, cfg.num_heads, cfg.rope_theta if rope else None)

    def flops_per_sample(self, seq_len: int, hidden_size: int) -> int:
        """Model FLOPs of one call on one sample (DESIGN section 8): the projections'
        multiply-adds once per position, plus 4*S^2*D for the scores and the values."""
        return 2 * seq_len * sum(p.numel() for p in self.parameters()) + 4 * seq_len ** 2 * hidden_size

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """(B, S, D) -> (B, S, D)."""
        b, s, d = h.shape
        qkv = self.qkv_proj(h).view(b, s, 3 * self.num_heads, self.head_dim)  # (B, S, 3H, hd)
        q, k, v = qkv.split(self.num_heads, dim=2)  # (B, S, H, hd) each
        if self.rope:
            q, k = apply_rotary(q, self.cos, self.sin), apply_rotary(k, self.cos, self.sin)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # (B, H, S, hd)
        if q.device.type == "cpu" and q.dtype == torch.bfloat16:
            with torch.autocast("cpu", enabled=False):  # autocast would cast them back to bf16
                out = F.scaled_dot_product_attention(q.float(), k.float(), v.float()).to(q.dtype)  # (B, H, S, hd)
        else:
            out = F.scaled_dot_product_attention(q, k, v)  # (B, H, S, hd)
        return self.o_proj(out.transpose(1, 2).reshape(b, s, d))
