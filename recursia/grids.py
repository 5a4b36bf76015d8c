"""Helpers for puzzles on a grid of cells, so that a new grid task is mostly its rules.

- tokens: the official convention for symbol grids, PAD 0, blank 1, symbol ``k`` ->
  token ``k + 1`` (:func:`symbols_to_tokens`, :func:`tokens_to_symbols`);
- parsing: :func:`parse_rows` turns one string or a list of row strings into symbols,
  with one-line errors naming the row and column; :func:`infer_side`;
- validation: :func:`repeats` says which row/column/box repeats a symbol,
  :func:`raise_conflicts` turns that into one :class:`recursia.errors.PuzzleError`;
- rendering: :func:`render_grid`, a text picture with box separators and marked cells;
  :func:`format_rows`, symbol grids as row strings (a puzzle file's form);
- :class:`SquareGridTask`, the base of tasks on an ``n x n`` grid with the option ``size``
  (the size, describe, options from a puzzle's shape, checkpoint compatibility);
- augmentations: :class:`SymbolRelabel` (rename the symbols), :class:`CellPermutation`
  (any re-ordering of cells, inverted by the inverse permutation), :class:`GridTranspose`, :class:`Dihedral`
  (the 8 symmetries of a square, ``grid.dihedral``) with :func:`dihedral`,
  :func:`compose`, :func:`inverse` and :func:`grid_side`; :func:`permutation` checks
  permutation parameters.

The dihedral transforms: transform ``k`` (0..7) is "flip, then rotate": ``k = 4 * f + r``
reflects the grid left-right when ``f == 1`` and then turns it ``r`` quarter-turns
counter-clockwise (``np.rot90``). ``k = 0`` is the identity, 1-3 are the rotations by
90, 180 and 270 degrees, 4 is the left-right mirror, 6 the up-down mirror, 5 the
transpose and 7 the anti-transpose. The group law in this numbering, with ``F`` the flip
and ``R`` the quarter-turn (``F R = R^-1 F``): doing ``(f1, r1)`` and then ``(f2, r2)``
is ``(f1 xor f2, r2 + (-1)^f2 * r1 mod 4)``, and the inverse of ``(f, r)`` is ``(0, -r)``
for a rotation and itself for a reflection.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

import numpy as np

from pydantic import ValidationError

from recursia.errors import PuzzleError
from recursia.task import Task

PAD = 0
BLANK = 1
BLANK_CHARS = ".0"
COUNT = 8
MAX_REPORTED_CONFLICTS = 3
_COUNT_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}


# --- tokens ------------------------------------------------------------------------

def symbols_to_tokens(symbols: np.ndarray) -> np.ndarray:
    """Tokens (int64) of a symbol array: blank 0 -> 1, symbol k -> k + 1."""
    return np.asarray(symbols, dtype=np.int64) + 1


def tokens_to_symbols(tokens: np.ndarray) -> np.ndarray:
    """Symbols (int64) of a token array: PAD and blank -> 0, token t >= 2 -> t - 1."""
    return np.maximum(np.asarray(tokens, dtype=np.int64) - 1, 0)


# --- parsing -----------------------------------------------------------------------

def infer_side(obj: Any, sides: Sequence[int]) -> int | None:
    """The side ``n`` (one of ``sides``) that a puzzle's shape implies: a string of ``n*n``
    cells or a list of ``n`` rows; None when it implies none of them."""
    if isinstance(obj, str):
        cells = len(obj.strip())
        return next((n for n in sides if n * n == cells), None)
    if isinstance(obj, (list, tuple)) and len(obj) in sides:
        return len(obj)
    return None


def parse_rows(obj: Any, n: int, alphabet: str, what: str, blanks: str = BLANK_CHARS,
               cols: int | None = None, hint: str | None = None) -> np.ndarray:
    """Symbols ``(n*cols,)`` int64 of a grid given as one string or a list of ``n`` row strings.

    The character ``alphabet[i]`` is symbol ``i + 1`` and every character of ``blanks``
    is 0 (a blank cell); ``cols`` defaults to ``n`` (a square). ``what`` names the
    puzzle in messages ("a 6x6 Sudoku"); ``hint`` follows an unexpected character in
    parentheses (default: the symbols, for a digit). Raises :class:`recursia.errors.PuzzleError`
    naming the first problem and where it is (rows and columns counted from 1).
    """
    cols = n if cols is None else cols
    if isinstance(obj, str):
        text = obj.strip()
        if len(text) != n * cols:
            raise PuzzleError(f"expected {n * cols} cells, got {len(text)}")
    elif isinstance(obj, (list, tuple)):
        if len(obj) != n:
            raise PuzzleError(f"expected {n} rows, got {len(obj)}")
        for r, row in enumerate(obj, start=1):
            if not isinstance(row, str):
                raise PuzzleError(f"row {r} is a {type(row).__name__}, expected a string of {cols} characters")
            if len(row) != cols:
                raise PuzzleError(f"row {r} has {len(row)} characters, expected {cols}")
        text = "".join(obj)
    else:
        raise PuzzleError(f"{what} is a string of {n * cols} characters or a list of {n} strings, "
                          f"got {type(obj).__name__}")
    value = {ch: i + 1 for i, ch in enumerate(alphabet)} | {ch: 0 for ch in blanks}
    for i, ch in enumerate(text):
        if ch not in value:
            symbols = f"{alphabet[0]}-{alphabet[-1]}" if alphabet.isdigit() and len(alphabet) > 2 else " ".join(alphabet)
            why = hint or (f"{what} uses {symbols} and {' or '.join(blanks)} for a blank" if ch.isdigit() else "")
            raise PuzzleError(f"row {i // cols + 1}: unexpected character {ch!r} at column {i % cols + 1}"
                              + (f" ({why})" if why else ""))
    return np.fromiter((value[ch] for ch in text), dtype=np.int64, count=len(text))


# --- validation --------------------------------------------------------------------

def repeats(lines: np.ndarray, kinds: Sequence[str], symbols: int) -> list[str]:
    """Every symbol repeated in a line, e.g. ``"row 3 has two 5s"``.

    ``lines`` is ``(L, m)``: the symbols of ``L`` lines (rows, columns, boxes, ...; 0 is
    blank); ``kinds[i]`` names the kind of line ``i`` ("row"), lines of one kind numbered
    from 1 in order; symbols are ``1..symbols``.
    """
    lines = np.asarray(lines)
    counts = (lines[:, :, None] == np.arange(1, symbols + 1)).sum(axis=1)  # (L, symbols)
    number = {}
    names = []
    for kind in kinds:
        number[kind] = number.get(kind, 0) + 1
        names.append(f"{kind} {number[kind]}")
    return [f"{names[u]} has {_COUNT_WORDS.get(int(counts[u, k]), int(counts[u, k]))} {k + 1}s"
            for u, k in zip(*np.nonzero(counts > 1))]


def raise_conflicts(conflicts: list[str]) -> None:
    """Raise one PuzzleError listing the first few ``conflicts`` (and how many more); nothing when empty."""
    if conflicts:
        shown = "; ".join(conflicts[:MAX_REPORTED_CONFLICTS])
        more = len(conflicts) - MAX_REPORTED_CONFLICTS
        raise PuzzleError(shown + (f" (and {more} more)" if more > 0 else ""))


# --- rendering ---------------------------------------------------------------------

def render_grid(cells: np.ndarray, changed: np.ndarray | None = None,
                box: tuple[int, int] | None = None) -> str:
    """A text picture of a grid of one-character cells ``(rows, cols)`` (str array or nested lists).

    With ``changed`` (a boolean mask, flat or 2-D) every cell gets a second character,
    ``*`` for a marked cell and a space otherwise, so the columns stay aligned. With
    ``box = (box_rows, box_cols)`` the boxes are separated by ``|`` and ``-+-`` lines.
    """
    cells = np.asarray(cells, dtype=object)
    rows, cols = cells.shape
    marks = None if changed is None else np.where(np.asarray(changed, bool), "*", " ").reshape(rows, cols)
    br, bc = box if box is not None else (rows, cols)
    lines = []
    for r in range(rows):
        shown = [str(c) for c in cells[r]]
        if marks is not None:
            shown = [c + m for c, m in zip(shown, marks[r])]
        line = " | ".join(" ".join(shown[s:s + bc]) for s in range(0, cols, bc))
        if r and r % br == 0:
            lines.append("".join("+" if ch == "|" else "-" for ch in line))
        lines.append(line.rstrip())
    return "\n".join(lines)


def format_rows(symbols: np.ndarray, size: int) -> list[str]:
    """``size`` row strings of a flat symbol grid ``(size*size,)``: symbols 1..9 as digits, blank ``.``."""
    grid = np.asarray(symbols).reshape(size, size)
    return ["".join(str(int(v)) if v else "." for v in row) for row in grid]


# --- tasks on a square grid --------------------------------------------------------

class SquareGridTask(Task):
    """Base of a task whose puzzle is an ``n x n`` grid, ``n`` being the task option ``size``.

    Gives :attr:`size`, ``seq_len = size * size`` (override it when the sequence holds
    more than the cells), :meth:`describe`, :meth:`options_for_puzzle` (the side a
    string of ``n*n`` cells or a list of ``n`` rows implies, among :attr:`sides`) and
    :meth:`compatible` (only the size must match; the message names both sizes and the
    option to train with). Class attributes: ``sides``, the sizes a puzzle's shape may
    imply; ``noun``, the singular and plural used in messages (``("maze", "mazes")``).
    """

    sides: ClassVar[Sequence[int]] = ()
    noun: ClassVar[tuple[str, str]] = ("puzzle", "puzzles")

    @property
    def size(self) -> int:
        """Side of the grid."""
        return self.options.size

    @property
    def seq_len(self) -> int:
        """One token per cell."""
        return self.size * self.size

    def describe(self) -> str:
        """E.g. ``"sudoku 9x9"``."""
        return f"{self.name} {self.size}x{self.size}"

    def options_for_puzzle(self, puzzle: Any) -> dict:
        """The current options with ``size`` from the puzzle's row or cell count (unchanged if it implies none)."""
        n = infer_side(puzzle, self.sides)
        return self.options.model_dump() | ({} if n is None else {"size": n})

    def compatible(self, other_options: dict) -> str | None:
        """Why a checkpoint trained with ``other_options`` cannot solve a puzzle of this size, or None."""
        try:
            theirs = self.Options(**other_options).size
        except ValidationError as e:
            return f"the checkpoint's task options {other_options} are not {self.name} options: {e.errors()[0]['msg']}"
        if theirs == self.size:
            return None
        n, (one, many) = self.size, self.noun
        paper = self.presets().get("paper", {}).get("task_options", {}).get("size")
        how = f"--set task_options.size={n}" + (" or --preset paper" if n == paper else "")
        return (f"this is a {n}x{n} {one} but the checkpoint was trained on {theirs}x{theirs} {many} "
                f"(task option size={theirs}); train a {n}x{n} model ({how}) or pass a {theirs}x{theirs} {one}")


# --- augmentations -----------------------------------------------------------------

def permutation(values: Any, length: int, start: int, what: str) -> np.ndarray:
    """``values`` as an int64 array after checking it permutes ``start .. start+length-1``
    (ValueError naming ``what`` otherwise)."""
    perm = np.asarray(values, dtype=np.int64)
    if perm.shape != (length,) or not np.array_equal(np.sort(perm), np.arange(start, start + length)):
        raise ValueError(f"{what} must be a permutation of {start}..{start + length - 1}, got {values!r}")
    return perm


@dataclass(frozen=True)
class GridAugmentation:
    """Common part of augmentations of flat ``size x size`` grids: the size and shape checks.

    Subclasses set the class attribute ``name`` (and ``sizes``, the sides they may be
    built for); ``size`` is the side of the grid.
    """

    size: int
    name: ClassVar[str]
    sizes: ClassVar[Sequence[int] | None] = None  # the sides it may be built for; None: any

    def __post_init__(self):
        if self.sizes is not None and self.size not in self.sizes:
            raise ValueError(f"{self.name} is for sizes {', '.join(map(str, self.sizes))}, not {self.size}")

    def tokens(self, tokens: np.ndarray) -> np.ndarray:
        """``tokens`` as an array after checking its last axis holds ``size * size`` cells."""
        tokens = np.asarray(tokens)
        if tokens.ndim == 0 or tokens.shape[-1] != self.size * self.size:
            raise ValueError(f"{self.name} for {self.size}x{self.size} grids needs a last axis of "
                             f"{self.size * self.size} cells, got shape {tokens.shape}")
        return tokens


@dataclass(frozen=True)
class SymbolRelabel(GridAugmentation):
    """Rename the symbols of a symbol grid: symbol ``k`` (token ``k + 1``) becomes ``perm[k - 1]``.

    Params ``{"perm": [...]}``, a permutation of ``1..size``. PAD, blank and any other
    token value (ignored labels) are kept. Subclass it with your own ``name``.
    """

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """A uniformly random permutation of 1..size."""
        return {"perm": (rng.permutation(self.size) + 1).tolist()}

    def apply(self, tokens: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Relabel the symbol tokens."""
        return self._relabel(tokens, self._perm(params))

    def invert(self, tokens: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Undo :meth:`apply` with the inverse permutation."""
        return self._relabel(tokens, np.argsort(self._perm(params)) + 1)

    def _perm(self, params: dict[str, Any]) -> np.ndarray:
        return permutation(params["perm"], self.size, 1, f"{self.name} 'perm'")

    def _relabel(self, tokens: np.ndarray, perm: np.ndarray) -> np.ndarray:
        """Map token ``k + 1`` to ``perm[k - 1] + 1`` for every symbol ``k``."""
        tokens = self.tokens(tokens)
        lut = np.concatenate([[PAD, BLANK], perm + 1]).astype(tokens.dtype)
        is_symbol = (tokens >= 2) & (tokens <= self.size + 1)
        return np.where(is_symbol, lut[np.clip(tokens, 0, self.size + 1)], tokens)


class CellPermutation(GridAugmentation, ABC):
    """An augmentation that moves cells: ``out[..., i] = tokens[..., index(params)[i]]``;
    :meth:`invert` moves them back with the inverse permutation."""

    @abstractmethod
    def index(self, params: dict[str, Any]) -> np.ndarray:
        """The flat source cell of every destination cell under ``params``."""

    def apply(self, tokens: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Move the cells of ``tokens`` (any leading batch axes)."""
        return self.tokens(tokens)[..., self.index(params)]

    def invert(self, tokens: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Move the cells back where :meth:`apply` took them from."""
        return self.tokens(tokens)[..., np.argsort(self.index(params))]

    def grid_index(self, row_src: np.ndarray, col_src: np.ndarray) -> np.ndarray:
        """Flat source index of every cell when row ``r`` comes from ``row_src[r]`` (same for columns)."""
        return (np.asarray(row_src)[:, None] * self.size + np.asarray(col_src)[None, :]).ravel()


@dataclass(frozen=True)
class GridTranspose(CellPermutation):
    """Swap rows and columns with probability 1/2; params ``{"transpose": bool}``.
    Subclass it with your own ``name`` (and ``sizes``)."""

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """Transpose with probability 1/2."""
        return {"transpose": bool(rng.integers(2))}

    def index(self, params: dict[str, Any]) -> np.ndarray:
        """The transposed cell order, or the identity."""
        if not isinstance(params.get("transpose"), bool):
            raise ValueError(f"{self.name} 'transpose' must be true or false, got {params.get('transpose')!r}")
        cells = np.arange(self.size * self.size).reshape(self.size, self.size)
        return (cells.T if params["transpose"] else cells).ravel()


# --- the dihedral group ------------------------------------------------------------


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
