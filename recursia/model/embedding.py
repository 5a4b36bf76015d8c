"""Input embedding: scaled token embeddings behind a learned per-puzzle prefix."""

from __future__ import annotations

import math

import torch
from torch import nn

from recursia.model.layers import trunc_normal_


class PuzzleEmbedding(nn.Module):
    """One learned vector per puzzle identifier, zero-initialised.

    The table is a persistent *buffer* (as in the official code), trained by the sparse
    SignSGD optimizer (:class:`recursia.train.optim.SparseSignSGD`): in training mode
    ``forward`` returns a per-row copy ``local`` that receives the gradient, and
    remembers the ids it came from.
    """

    def __init__(self, num_ids: int, dim: int):
        super().__init__()
        self.register_buffer("weight", torch.zeros(num_ids, dim))
        self.local: torch.Tensor | None = None
        self.local_ids: torch.Tensor | None = None

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (B,) -> (B, dim)."""
        rows = self.weight[ids]
        if self.training and torch.is_grad_enabled():
            rows = rows.detach().requires_grad_(True)
            self.local, self.local_ids = rows, ids
        return rows


class InputEmbedding(nn.Module):
    """``x = sqrt(D) * [puzzle prefix (P positions) ; token_emb(tokens)]``.

    The puzzle vector (``ndim`` values) is zero-padded to ``P * D`` and reshaped to P
    prefix positions (official: P = 16 even when ndim = D).
    """

    def __init__(self, vocab_size: int, hidden: int, num_puzzle_ids: int, emb_ndim: int, prefix_len: int):
        super().__init__()
        self.hidden, self.emb_ndim, self.prefix_len = hidden, emb_ndim, prefix_len
        self.scale = math.sqrt(hidden)
        self.tokens = nn.Embedding(vocab_size, hidden)
        trunc_normal_(self.tokens.weight, std=1.0 / self.scale)
        self.puzzle = PuzzleEmbedding(num_puzzle_ids, emb_ndim) if emb_ndim > 0 else None

    def forward(self, tokens: torch.Tensor, puzzle_ids: torch.Tensor) -> torch.Tensor:
        """tokens (B, L), puzzle_ids (B,) -> x (B, P + L, D)."""
        x = self.tokens(tokens)  # (B, L, D)
        if self.prefix_len > 0:
            b = tokens.shape[0]
            if self.puzzle is not None:
                pe = self.puzzle(puzzle_ids)  # (B, ndim)
                pad = self.prefix_len * self.hidden - self.emb_ndim
                pe = nn.functional.pad(pe, (0, pad)) if pad > 0 else pe
            else:
                pe = x.new_zeros(b, self.prefix_len * self.hidden)
            x = torch.cat([pe.view(b, self.prefix_len, self.hidden).to(x.dtype), x], dim=1)  # (B, P+L, D)
        return self.scale * x
