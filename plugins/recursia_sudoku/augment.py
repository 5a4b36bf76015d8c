"""Invertible Sudoku augmentations on token arrays of shape ``(..., n*n)``.

Each one maps valid solutions to valid solutions and a (puzzle, solution) pair to a
matching pair: digit relabelling, band/stack shuffles, row-within-band and
column-within-stack shuffles, and (for square boxes only) the transpose. PAD (0) and
blank (1) tokens keep their values; spatial augmentations only move them. Parameters
are plain JSON (lists of ints, bools), as :class:`recursia.data.augment.Augmentation`
asks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from recursia_sudoku.grid import box_shape


def _permutation(values: Any, length: int, start: int, what: str) -> np.ndarray:
    """``values`` as an int64 array after checking it permutes ``start .. start+length-1``."""
    perm = np.asarray(values, dtype=np.int64)
    if perm.shape != (length,) or not np.array_equal(np.sort(perm), np.arange(start, start + length)):
        raise ValueError(f"{what} must be a permutation of {start}..{start + length - 1}, got {values!r}")
    return perm


@dataclass(frozen=True)
class SudokuAugmentation:
    """Common part of the Sudoku augmentations: the grid size and the shape check."""

    size: int
    name: ClassVar[str]

    def __post_init__(self):
        box_shape(self.size)

    def _tokens(self, tokens: np.ndarray) -> np.ndarray:
        tokens = np.asarray(tokens)
        if tokens.ndim == 0 or tokens.shape[-1] != self.size * self.size:
            raise ValueError(f"{self.name} for {self.size}x{self.size} grids needs a last axis of "
                             f"{self.size * self.size} cells, got shape {tokens.shape}")
        return tokens


class _CellPermutation(SudokuAugmentation, ABC):
    """An augmentation that moves cells: ``out[..., i] = tokens[..., index[i]]``."""

    @abstractmethod
    def _index(self, params: dict[str, Any]) -> np.ndarray:
        """The flat source cell of every destination cell under ``params``."""

    def apply(self, tokens: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Move the cells of ``tokens`` (any leading batch axes)."""
        return self._tokens(tokens)[..., self._index(params)]

    def invert(self, tokens: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Move the cells back where :meth:`apply` took them from."""
        return self._tokens(tokens)[..., np.argsort(self._index(params))]

    def _grid_index(self, row_src: np.ndarray, col_src: np.ndarray) -> np.ndarray:
        """Flat source index of every cell when row ``r`` comes from ``row_src[r]`` (same for columns)."""
        return (row_src[:, None] * self.size + col_src[None, :]).ravel()


@dataclass(frozen=True)
class DigitRelabel(SudokuAugmentation):
    """Rename the digits: digit ``d`` becomes ``perm[d - 1]``; params ``{"perm": [...]}``."""

    name: ClassVar[str] = "sudoku.digits"

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """A uniformly random permutation of 1..n."""
        return {"perm": (rng.permutation(self.size) + 1).tolist()}

    def apply(self, tokens: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Relabel the digit tokens; every other value (PAD, blank, ignore labels) is kept."""
        return self._relabel(tokens, self._perm(params))

    def invert(self, tokens: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Undo :meth:`apply` with the inverse permutation."""
        return self._relabel(tokens, np.argsort(self._perm(params)) + 1)

    def _perm(self, params: dict[str, Any]) -> np.ndarray:
        return _permutation(params["perm"], self.size, 1, f"{self.name} 'perm'")

    def _relabel(self, tokens: np.ndarray, perm: np.ndarray) -> np.ndarray:
        """Map token ``d + 1`` to ``perm[d - 1] + 1`` for every digit ``d``."""
        tokens = self._tokens(tokens)
        lut = np.concatenate([[0, 1], perm + 1]).astype(tokens.dtype)
        is_digit = (tokens >= 2) & (tokens <= self.size + 1)
        return np.where(is_digit, lut[np.clip(tokens, 0, self.size + 1)], tokens)


@dataclass(frozen=True)
class BandStackShuffle(_CellPermutation):
    """Reorder the bands (rows of boxes) and the stacks (columns of boxes).

    Params ``{"bands": [...], "stacks": [...]}``: band ``b`` of the result is band
    ``bands[b]`` of the input, likewise for stacks.
    """

    name: ClassVar[str] = "sudoku.bands"

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """Uniformly random orders of the bands and of the stacks."""
        br, bc = box_shape(self.size)
        return {"bands": rng.permutation(self.size // br).tolist(),
                "stacks": rng.permutation(self.size // bc).tolist()}

    def _index(self, params: dict[str, Any]) -> np.ndarray:
        br, bc = box_shape(self.size)
        bands = _permutation(params["bands"], self.size // br, 0, f"{self.name} 'bands'")
        stacks = _permutation(params["stacks"], self.size // bc, 0, f"{self.name} 'stacks'")
        row_src = (bands[:, None] * br + np.arange(br)).ravel()
        col_src = (stacks[:, None] * bc + np.arange(bc)).ravel()
        return self._grid_index(row_src, col_src)


@dataclass(frozen=True)
class RowColumnShuffle(_CellPermutation):
    """Reorder the rows inside each band and the columns inside each stack.

    Params ``{"rows": [[...] per band], "cols": [[...] per stack]}``: row ``i`` of band
    ``b`` of the result is row ``rows[b][i]`` of the same band of the input.
    """

    name: ClassVar[str] = "sudoku.rows"

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """Independent uniformly random orders inside every band and every stack."""
        br, bc = box_shape(self.size)
        return {"rows": [rng.permutation(br).tolist() for _ in range(self.size // br)],
                "cols": [rng.permutation(bc).tolist() for _ in range(self.size // bc)]}

    def _index(self, params: dict[str, Any]) -> np.ndarray:
        br, bc = box_shape(self.size)
        row_src = self._within(params["rows"], br, "rows")
        col_src = self._within(params["cols"], bc, "cols")
        return self._grid_index(row_src, col_src)

    def _within(self, perms: Any, width: int, key: str) -> np.ndarray:
        """Source line of every line when group ``g`` (of ``width`` lines) is reordered by ``perms[g]``."""
        groups = self.size // width
        if len(perms) != groups:
            raise ValueError(f"{self.name} '{key}' needs {groups} permutations, got {len(perms)}")
        inner = np.stack([_permutation(p, width, 0, f"{self.name} '{key}'") for p in perms])
        return (np.arange(groups)[:, None] * width + inner).ravel()


@dataclass(frozen=True)
class Transpose(_CellPermutation):
    """Swap rows and columns (only for square boxes: 4x4 and 9x9); params ``{"transpose": bool}``."""

    name: ClassVar[str] = "sudoku.transpose"

    def __post_init__(self):
        br, bc = box_shape(self.size)
        if br != bc:
            raise ValueError(f"{self.name} needs square boxes; a {self.size}x{self.size} Sudoku has {br}x{bc} boxes")

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """Transpose with probability 1/2."""
        return {"transpose": bool(rng.integers(2))}

    def _index(self, params: dict[str, Any]) -> np.ndarray:
        cells = np.arange(self.size * self.size).reshape(self.size, self.size)
        return (cells.T if params["transpose"] else cells).ravel()


def sudoku_augmentations(n: int) -> list[SudokuAugmentation]:
    """The augmentations valid for size-``n`` grids (the transpose only for square boxes)."""
    br, bc = box_shape(n)
    augs: list[SudokuAugmentation] = [DigitRelabel(n), BandStackShuffle(n), RowColumnShuffle(n)]
    if br == bc:
        augs.append(Transpose(n))
    return augs
