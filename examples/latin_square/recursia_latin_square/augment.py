"""Invertible Latin-square augmentations on token arrays of shape ``(..., n*n)``.

Every one maps a Latin square to a Latin square and a (puzzle, solution) pair to a
matching pair, so a stored augmented copy is as good a training example as the
original: symbol relabelling, row permutation, column permutation and the transpose.
PAD (0) and blank (1) tokens keep their values; the spatial ones only move them.
Parameters are plain JSON (lists of ints, a bool), as
:class:`recursia.data.augment.Augmentation` asks; each class satisfies that protocol
structurally (no base class from recursia is needed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from recursia.api import CellPermutation, GridAugmentation, GridTranspose, SymbolRelabel, permutation
from recursia_latin_square.grid import SIZES


@dataclass(frozen=True)
class LatinRelabel(SymbolRelabel):
    """Rename the symbols: ``k`` becomes ``perm[k - 1]``; params ``{"perm": [...]}`` (a permutation of 1..n)."""

    name: ClassVar[str] = "latin.symbols"
    sizes: ClassVar[tuple[int, ...]] = SIZES


@dataclass(frozen=True)
class RowPermutation(CellPermutation):
    """Reorder the rows: row ``r`` of the result is row ``rows[r]`` of the input; params ``{"rows": [...]}``."""

    name: ClassVar[str] = "latin.rows"
    sizes: ClassVar[tuple[int, ...]] = SIZES

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """A uniformly random order of the rows (0-based)."""
        return {"rows": rng.permutation(self.size).tolist()}

    def index(self, params: dict[str, Any]) -> np.ndarray:
        """The flat source cell of every destination cell under ``params``."""
        rows = permutation(params["rows"], self.size, 0, f"{self.name} 'rows'")
        return (rows[:, None] * self.size + np.arange(self.size)[None, :]).ravel()


@dataclass(frozen=True)
class ColumnPermutation(CellPermutation):
    """Reorder the columns: column ``c`` of the result is column ``cols[c]``; params ``{"cols": [...]}``."""

    name: ClassVar[str] = "latin.cols"
    sizes: ClassVar[tuple[int, ...]] = SIZES

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """A uniformly random order of the columns (0-based)."""
        return {"cols": rng.permutation(self.size).tolist()}

    def index(self, params: dict[str, Any]) -> np.ndarray:
        """The flat source cell of every destination cell under ``params``."""
        cols = permutation(params["cols"], self.size, 0, f"{self.name} 'cols'")
        return (np.arange(self.size)[:, None] * self.size + cols[None, :]).ravel()


@dataclass(frozen=True)
class Transpose(GridTranspose):
    """Swap rows and columns; params ``{"transpose": bool}``."""

    name: ClassVar[str] = "latin.transpose"
    sizes: ClassVar[tuple[int, ...]] = SIZES


def latin_augmentations(n: int) -> list[GridAugmentation]:
    """The four augmentations for ``n x n`` squares, in the order they are applied."""
    return [LatinRelabel(n), RowPermutation(n), ColumnPermutation(n), Transpose(n)]
