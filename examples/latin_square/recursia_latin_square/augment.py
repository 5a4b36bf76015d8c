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

from recursia_latin_square.grid import check_size


def _permutation(values: Any, length: int, start: int, what: str) -> np.ndarray:
    """``values`` as an int64 array after checking it permutes ``start .. start+length-1``."""
    perm = np.asarray(values, dtype=np.int64)
    if perm.shape != (length,) or not np.array_equal(np.sort(perm), np.arange(start, start + length)):
        raise ValueError(f"{what} must be a permutation of {start}..{start + length - 1}, got {values!r}")
    return perm


@dataclass(frozen=True)
class _LatinAugmentation:
    """Common part: the square size and the shape check of the token array."""

    size: int
    name: ClassVar[str]

    def __post_init__(self):
        check_size(self.size)

    def _tokens(self, tokens: np.ndarray) -> np.ndarray:
        tokens = np.asarray(tokens)
        if tokens.ndim == 0 or tokens.shape[-1] != self.size * self.size:
            raise ValueError(f"{self.name} for {self.size}x{self.size} squares needs a last axis of "
                             f"{self.size * self.size} cells, got shape {tokens.shape}")
        return tokens


class _CellPermutation(_LatinAugmentation):
    """An augmentation that moves cells: ``out[..., i] = tokens[..., index[i]]``."""

    def _index(self, params: dict[str, Any]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def apply(self, tokens: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Move the cells of ``tokens`` (any leading batch axes)."""
        return self._tokens(tokens)[..., self._index(params)]

    def invert(self, tokens: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Move the cells back where :meth:`apply` took them from."""
        return self._tokens(tokens)[..., np.argsort(self._index(params))]


@dataclass(frozen=True)
class SymbolRelabel(_LatinAugmentation):
    """Rename the symbols: ``k`` becomes ``perm[k - 1]``; params ``{"perm": [...]}`` (a permutation of 1..n)."""

    name: ClassVar[str] = "latin.symbols"

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """A uniformly random permutation of 1..n."""
        return {"perm": (rng.permutation(self.size) + 1).tolist()}

    def apply(self, tokens: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Relabel the symbol tokens; every other value (PAD, blank) is kept."""
        return self._relabel(tokens, self._perm(params))

    def invert(self, tokens: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Undo :meth:`apply` with the inverse permutation."""
        return self._relabel(tokens, np.argsort(self._perm(params)) + 1)

    def _perm(self, params: dict[str, Any]) -> np.ndarray:
        return _permutation(params["perm"], self.size, 1, f"{self.name} 'perm'")

    def _relabel(self, tokens: np.ndarray, perm: np.ndarray) -> np.ndarray:
        """Map token ``k + 1`` to ``perm[k - 1] + 1`` for every symbol ``k``."""
        tokens = self._tokens(tokens)
        lut = np.concatenate([[0, 1], perm + 1]).astype(tokens.dtype)
        is_symbol = (tokens >= 2) & (tokens <= self.size + 1)
        return np.where(is_symbol, lut[np.clip(tokens, 0, self.size + 1)], tokens)


@dataclass(frozen=True)
class RowPermutation(_CellPermutation):
    """Reorder the rows: row ``r`` of the result is row ``rows[r]`` of the input; params ``{"rows": [...]}``."""

    name: ClassVar[str] = "latin.rows"

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """A uniformly random order of the rows (0-based)."""
        return {"rows": rng.permutation(self.size).tolist()}

    def _index(self, params: dict[str, Any]) -> np.ndarray:
        rows = _permutation(params["rows"], self.size, 0, f"{self.name} 'rows'")
        return (rows[:, None] * self.size + np.arange(self.size)[None, :]).ravel()


@dataclass(frozen=True)
class ColumnPermutation(_CellPermutation):
    """Reorder the columns: column ``c`` of the result is column ``cols[c]``; params ``{"cols": [...]}``."""

    name: ClassVar[str] = "latin.cols"

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """A uniformly random order of the columns (0-based)."""
        return {"cols": rng.permutation(self.size).tolist()}

    def _index(self, params: dict[str, Any]) -> np.ndarray:
        cols = _permutation(params["cols"], self.size, 0, f"{self.name} 'cols'")
        return (np.arange(self.size)[:, None] * self.size + cols[None, :]).ravel()


@dataclass(frozen=True)
class Transpose(_CellPermutation):
    """Swap rows and columns; params ``{"transpose": bool}``."""

    name: ClassVar[str] = "latin.transpose"

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """Transpose with probability 1/2."""
        return {"transpose": bool(rng.integers(2))}

    def _index(self, params: dict[str, Any]) -> np.ndarray:
        if not isinstance(params.get("transpose"), bool):
            raise ValueError(f"{self.name} 'transpose' must be true or false, got {params.get('transpose')!r}")
        cells = np.arange(self.size * self.size).reshape(self.size, self.size)
        return (cells.T if params["transpose"] else cells).ravel()


def latin_augmentations(n: int) -> list[_LatinAugmentation]:
    """The four augmentations for ``n x n`` squares, in the order they are applied."""
    return [SymbolRelabel(n), RowPermutation(n), ColumnPermutation(n), Transpose(n)]
