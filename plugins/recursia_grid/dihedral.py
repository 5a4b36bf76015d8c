"""The 8 dihedral transforms of a square (rotations and reflections), on numpy grids.

Transform ``k`` (0..7) is "flip, then rotate": ``k = 4 * f + r`` reflects the grid
left-right when ``f == 1`` and then turns it ``r`` quarter-turns counter-clockwise
(``np.rot90``). ``k = 0`` is the identity, 1-3 are the rotations by 90, 180 and 270
degrees, 4 is the left-right mirror, 6 the up-down mirror, 5 the transpose and 7 the
anti-transpose.

The group law in this numbering, with ``F`` the flip and ``R`` the quarter-turn
(``F R = R^-1 F``): doing ``(f1, r1)`` and then ``(f2, r2)`` is
``(f1 xor f2, r2 + (-1)^f2 * r1 mod 4)``, and the inverse of ``(f, r)`` is ``(0, -r)``
for a rotation and itself for a reflection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

COUNT = 8


def _check_k(k: Any) -> int:
    """``k`` as an int after checking it names one of the 8 transforms."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < COUNT:
        raise ValueError(f"a dihedral transform is an integer 0..7, got {k!r}")
    return int(k)


def dihedral(grid: np.ndarray, k: int) -> np.ndarray:
    """Transform ``k`` of ``grid`` over its last two axes (any leading batch axes, any height and width)."""
    flip, turns = divmod(_check_k(k), 4)
    grid = np.asarray(grid)
    if grid.ndim < 2:
        raise ValueError(f"a dihedral transform needs a grid of at least 2 axes, got shape {grid.shape}")
    if flip:
        grid = np.flip(grid, axis=-1)
    return np.rot90(grid, turns, axes=(-2, -1))


def compose(k1: int, k2: int) -> int:
    """The single transform equal to doing ``k1`` and then ``k2``."""
    f1, r1 = divmod(_check_k(k1), 4)
    f2, r2 = divmod(_check_k(k2), 4)
    return 4 * (f1 ^ f2) + (r2 + (-r1 if f2 else r1)) % 4


def inverse(k: int) -> int:
    """The transform that undoes ``k``: reflections undo themselves, rotations turn back."""
    k = _check_k(k)
    flip, turns = divmod(k, 4)
    return k if flip else (-turns) % 4


def grid_side(tokens: np.ndarray) -> int:
    """The side ``n`` of flat square grids ``(..., n*n)``; ValueError when the last axis is no square."""
    tokens = np.asarray(tokens)
    cells = tokens.shape[-1] if tokens.ndim else 0
    n = math.isqrt(cells)
    if cells == 0 or n * n != cells:
        raise ValueError(f"grid.dihedral needs flat square grids (..., n*n), got shape {tokens.shape}")
    return n


@dataclass(frozen=True)
class Dihedral:
    """The augmentation ``grid.dihedral``: one of the 8 symmetries of a square grid.

    Acts on flat row-major grids ``(..., n*n)`` of any side ``n`` (inferred from the
    last axis) with any leading batch axes; params ``{"k": 0..7}`` (see :func:`dihedral`).
    Cells are only moved, so every token value (PAD included) is kept.
    """

    name: ClassVar[str] = "grid.dihedral"

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """One of the 8 transforms, uniformly."""
        return {"k": int(rng.integers(COUNT))}

    def apply(self, tokens: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Transform ``k = params["k"]`` of every grid in ``tokens``."""
        return self._transform(tokens, self._k(params))

    def invert(self, tokens: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Undo :meth:`apply` with the inverse transform."""
        return self._transform(tokens, inverse(self._k(params)))

    def _k(self, params: dict[str, Any]) -> int:
        if "k" not in params:
            raise ValueError(f"{self.name} params need the key 'k', got {params!r}")
        try:
            return _check_k(params["k"])
        except ValueError as e:
            raise ValueError(f"{self.name} 'k': {e}") from None

    @staticmethod
    def _transform(tokens: np.ndarray, k: int) -> np.ndarray:
        tokens = np.asarray(tokens)
        n = grid_side(tokens)
        squares = tokens.reshape(*tokens.shape[:-1], n, n)
        return np.ascontiguousarray(dihedral(squares, k)).reshape(tokens.shape)
