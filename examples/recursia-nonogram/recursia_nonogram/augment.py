"""``nonogram.dihedral``: the 8 symmetries of the square, acting on cells *and* clues.

Transform ``k`` (0..7) moves the cells exactly as :func:`recursia.api.dihedral` does
(``k = 4 * flip + quarter_turns``; 4 is the left-right mirror, 5 the transpose). The
clues follow the lines: every line of the new grid is some row or column of the old
one, read forwards or backwards. Its clue slots are that old line's slots, and when the
line is read backwards the clue values are reversed among themselves (they keep the
slots they occupy, so a right-aligned clue stays right-aligned). The transpose thus
swaps the row and column clue blocks; the left-right mirror reverses every row's clue
and the order of the columns.

Both parts are bijections of any token array (moving blocks, and reversing the values
other than PAD/SLOT inside a block, which keeps where those values are), so
``invert(apply(x, p), p) == x`` for every array, not only for well-formed puzzles; PAD
stays PAD. The side ``n`` is read from the last axis (:func:`recursia_nonogram.layout.size_of`),
so one object serves every size. Params ``{"k": 0..7}`` (JSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from recursia.api import dihedral, inverse
from recursia_nonogram import layout

TRANSFORMS = 8


@lru_cache(maxsize=256)
def line_sources(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For transform ``k`` of an ``n x n`` grid: ``(source (2n,), backwards (2n,))``.

    Line ``i`` of the result (rows 0..n-1, then columns n..2n-1) is line ``source[i]`` of
    the original, read backwards where ``backwards[i]``.
    """
    index = dihedral(np.arange(n * n).reshape(n, n), k)  # (n, n): original cell of each new cell
    source = np.zeros(2 * n, dtype=np.int64)
    backwards = np.zeros(2 * n, dtype=bool)
    new_lines = [index[i, :] for i in range(n)] + [index[:, j] for j in range(n)]
    for i, line in enumerate(new_lines):
        first, second = int(line[0]), int(line[-1])
        if n == 1 or first // n == second // n:  # an original row
            source[i] = first // n
        else:  # an original column
            source[i] = n + first % n
        backwards[i] = second < first
    return source, backwards


def reverse_values(blocks: np.ndarray) -> np.ndarray:
    """Reverse, in every block ``(..., s)``, the order of the values that are neither PAD nor SLOT.

    Those values keep the positions they occupy: ``[SLOT, a, b, c] -> [SLOT, c, b, a]``.
    An involution of any array.
    """
    is_value = blocks > layout.SLOT  # (..., s)
    count = is_value.sum(axis=-1, keepdims=True)  # (..., 1)
    rank = np.cumsum(is_value, axis=-1) - 1  # (..., s) rank among the values, where is_value
    positions = np.argsort(~is_value, axis=-1, kind="stable")  # (..., s) value positions first, in order
    mirror = np.take_along_axis(positions, np.clip(count - 1 - rank, 0, None), axis=-1)  # (..., s)
    source = np.where(is_value, mirror, np.arange(blocks.shape[-1]))  # (..., s)
    return np.take_along_axis(blocks, source, axis=-1)


@dataclass(frozen=True)
class NonogramDihedral:
    """The augmentation ``nonogram.dihedral`` (see the module docstring); params ``{"k": 0..7}``."""

    name: ClassVar[str] = "nonogram.dihedral"

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """One of the 8 transforms, uniformly."""
        return {"k": int(rng.integers(TRANSFORMS))}

    def apply(self, tokens: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Transform ``params["k"]`` of every example in ``tokens (..., seq_len)``."""
        return self._transform(tokens, self.transform(params))

    def invert(self, tokens: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Undo :meth:`apply`: the inverse transform."""
        return self._transform(tokens, inverse(self.transform(params)))

    def transform(self, params: dict[str, Any]) -> int:
        """``params["k"]`` after checking it is an int 0..7 (ValueError naming the key otherwise)."""
        k = params.get("k") if isinstance(params, dict) else None
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < TRANSFORMS:
            raise ValueError(f"{self.name} 'k' must be an integer 0..7, got {params!r}")
        return int(k)

    @staticmethod
    def _transform(tokens: np.ndarray, k: int) -> np.ndarray:
        tokens = np.asarray(tokens)
        if tokens.ndim == 0:
            raise ValueError("nonogram.dihedral needs token arrays (..., seq_len), got a scalar")
        n = layout.size_of(tokens.shape[-1])
        lead, s, split = tokens.shape[:-1], layout.slots(n), layout.clue_len(n)
        clue_lines = tokens[..., :split].reshape(*lead, 2 * n, s)  # (..., 2n, s)
        source, backwards = line_sources(n, k)
        moved = clue_lines[..., source, :]  # (..., 2n, s)
        moved = np.where(backwards[:, None], reverse_values(moved), moved)  # (..., 2n, s)
        grid = tokens[..., split:].reshape(*lead, n, n)  # (..., n, n)
        turned = dihedral(grid, k).reshape(*lead, n * n)  # (..., n*n)
        return np.concatenate([moved.reshape(*lead, split), turned], axis=-1)
