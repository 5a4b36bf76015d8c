"""Invertible Sudoku augmentations on token arrays of shape ``(..., n*n)``.

Each one maps valid solutions to valid solutions and a (puzzle, solution) pair to a
matching pair: digit relabelling, band/stack shuffles, row-within-band and
column-within-stack shuffles, and (for square boxes only) the transpose. PAD (0) and
blank (1) tokens keep their values; spatial augmentations only move them. Parameters
are plain JSON (lists of ints, bools), as :class:`recursia.data.augment.Augmentation`
asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from recursia.api import CellPermutation, GridAugmentation, GridTranspose, SymbolRelabel, permutation
from recursia_sudoku.grid import SIZES, box_shape


@dataclass(frozen=True)
class DigitRelabel(SymbolRelabel):
    """Rename the digits: digit ``d`` becomes ``perm[d - 1]``; params ``{"perm": [...]}``."""

    name: ClassVar[str] = "sudoku.digits"
    sizes: ClassVar[tuple[int, ...]] = SIZES


@dataclass(frozen=True)
class BandStackShuffle(CellPermutation):
    """Reorder the bands (rows of boxes) and the stacks (columns of boxes).

    Params ``{"bands": [...], "stacks": [...]}``: band ``b`` of the result is band
    ``bands[b]`` of the input, likewise for stacks.
    """

    name: ClassVar[str] = "sudoku.bands"
    sizes: ClassVar[tuple[int, ...]] = SIZES

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """Uniformly random orders of the bands and of the stacks."""
        br, bc = box_shape(self.size)
        return {"bands": rng.permutation(self.size // br).tolist(),
                "stacks": rng.permutation(self.size // bc).tolist()}

    def index(self, params: dict[str, Any]) -> np.ndarray:
        """The flat source cell of every destination cell under ``params``."""
        br, bc = box_shape(self.size)
        bands = permutation(params["bands"], self.size // br, 0, f"{self.name} 'bands'")
        stacks = permutation(params["stacks"], self.size // bc, 0, f"{self.name} 'stacks'")
        row_src = (bands[:, None] * br + np.arange(br)).ravel()
        col_src = (stacks[:, None] * bc + np.arange(bc)).ravel()
        return self.grid_index(row_src, col_src)


@dataclass(frozen=True)
class RowColumnShuffle(CellPermutation):
    """Reorder the rows inside each band and the columns inside each stack.

    Params ``{"rows": [[...] per band], "cols": [[...] per stack]}``: row ``i`` of band
    ``b`` of the result is row ``rows[b][i]`` of the same band of the input.
    """

    name: ClassVar[str] = "sudoku.rows"
    sizes: ClassVar[tuple[int, ...]] = SIZES

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """Independent uniformly random orders inside every band and every stack."""
        br, bc = box_shape(self.size)
        return {"rows": [rng.permutation(br).tolist() for _ in range(self.size // br)],
                "cols": [rng.permutation(bc).tolist() for _ in range(self.size // bc)]}

    def index(self, params: dict[str, Any]) -> np.ndarray:
        """The flat source cell of every destination cell under ``params``."""
        br, bc = box_shape(self.size)
        row_src = self._within(params["rows"], br, "rows")
        col_src = self._within(params["cols"], bc, "cols")
        return self.grid_index(row_src, col_src)

    def _within(self, perms: Any, width: int, key: str) -> np.ndarray:
        """Source line of every line when group ``g`` (of ``width`` lines) is reordered by ``perms[g]``."""
        groups = self.size // width
        if len(perms) != groups:
            raise ValueError(f"{self.name} '{key}' needs {groups} permutations, got {len(perms)}")
        inner = np.stack([permutation(p, width, 0, f"{self.name} '{key}'") for p in perms])
        return (np.arange(groups)[:, None] * width + inner).ravel()


@dataclass(frozen=True)
class Transpose(GridTranspose):
    """Swap rows and columns (only for square boxes: 4x4 and 9x9); params ``{"transpose": bool}``."""

    name: ClassVar[str] = "sudoku.transpose"
    sizes: ClassVar[tuple[int, ...]] = SIZES

    def __post_init__(self):
        super().__post_init__()
        br, bc = box_shape(self.size)
        if br != bc:
            raise ValueError(f"{self.name} needs square boxes; a {self.size}x{self.size} Sudoku has {br}x{bc} boxes")


def sudoku_augmentations(n: int) -> list[GridAugmentation]:
    """The augmentations valid for size-``n`` grids (the transpose only for square boxes)."""
    br, bc = box_shape(n)
    augs: list[GridAugmentation] = [DigitRelabel(n), BandStackShuffle(n), RowColumnShuffle(n)]
    if br == bc:
        augs.append(Transpose(n))
    return augs
