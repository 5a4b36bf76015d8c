"""Sudoku grids in numpy: parsing, validation, token conversion and text rendering.

A grid of size ``n`` (4, 6 or 9) is a flat array of ``n * n`` cells in row-major
order. *Digits* use 0 for a blank cell and 1..n for a filled one; *tokens* follow the
official HRM/TRM convention: PAD 0, blank 1, digit ``d`` -> token ``d + 1`` (so the
vocabulary has ``n + 2`` ids). Boxes are 2x2 (n=4), 2 rows x 3 columns (n=6) and 3x3
(n=9); rows, columns and boxes are numbered from 1, boxes left to right, top to
bottom.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from recursia.api import (PuzzleError, infer_side, parse_rows, raise_conflicts, render_grid, repeats, symbols_to_tokens,
                          tokens_to_symbols)

PAD = 0
BLANK = 1
SIZES = (4, 6, 9)
_BOXES = {4: (2, 2), 6: (2, 3), 9: (3, 3)}
digits_to_tokens = symbols_to_tokens  # the digits are the grid's symbols: blank 0 -> 1, d -> d + 1
tokens_to_digits = tokens_to_symbols


def box_shape(n: int) -> tuple[int, int]:
    """``(box_rows, box_cols)`` of a size-``n`` Sudoku; PuzzleError for other sizes."""
    if n not in _BOXES:
        raise PuzzleError(f"unsupported Sudoku size {n}; expected 4, 6 or 9")
    return _BOXES[n]


def vocab_size(n: int) -> int:
    """Number of token ids of a size-``n`` grid: PAD, blank and the ``n`` digits."""
    box_shape(n)
    return n + 2


# --- parsing -----------------------------------------------------------------------

def infer_size(obj: Any) -> int | None:
    """The Sudoku size a puzzle's shape implies (16/36/81 cells, 4/6/9 rows), or None."""
    return infer_side(obj, SIZES)


def parse_puzzle(obj: Any, n: int | None = None) -> np.ndarray:
    """Digits ``(n*n,)`` int64 (0 = blank) of a puzzle in its natural form.

    ``obj`` is one string of ``n*n`` characters or a list of ``n`` strings of ``n``
    characters, with ``.`` or ``0`` for a blank. ``n`` defaults to the size the shape
    implies. Raises PuzzleError naming the first problem and where it is.
    """
    if n is None:
        n = infer_size(obj)
        if n is None:
            raise PuzzleError(_shape_problem(obj))
    box_shape(n)
    return parse_rows(obj, n, "123456789"[:n], f"a {n}x{n} Sudoku")


def _shape_problem(obj: Any) -> str:
    """Why ``obj`` has no Sudoku shape (used when the size is not given)."""
    if isinstance(obj, str):
        return f"expected 16, 36 or 81 cells, got {len(obj.strip())}"
    if isinstance(obj, (list, tuple)):
        return f"expected 4, 6 or 9 rows, got {len(obj)}"
    return f"a Sudoku is a string of 81 characters or a list of 9 strings, got {type(obj).__name__}"


# --- validation --------------------------------------------------------------------

@lru_cache(maxsize=None)
def units(n: int) -> np.ndarray:
    """``(3n, n)`` cell indices of the rows, then the columns, then the boxes."""
    br, bc = box_shape(n)
    cells = np.arange(n * n).reshape(n, n)
    boxes = cells.reshape(n // br, br, n // bc, bc).transpose(0, 2, 1, 3).reshape(n, n)
    out = np.concatenate([cells, cells.T, boxes])
    out.flags.writeable = False
    return out


def find_conflicts(digits: np.ndarray, n: int) -> list[str]:
    """Every repeated digit of a row, column or box, e.g. ``"row 3 has two 5s"``."""
    return repeats(np.asarray(digits)[units(n)], ["row"] * n + ["column"] * n + ["box"] * n, n)


def is_valid_solution(puzzle_digits: np.ndarray, answer_digits: np.ndarray, n: int) -> bool:
    """Whether ``answer_digits`` fills every row, column and box with 1..n and keeps the givens."""
    puzzle = np.asarray(puzzle_digits)
    answer = np.asarray(answer_digits)
    if answer.shape != (n * n,) or puzzle.shape != (n * n,):
        return False
    complete = np.array_equal(np.sort(answer[units(n)], axis=1),
                              np.broadcast_to(np.arange(1, n + 1), (3 * n, n)))
    givens_kept = bool(np.all((puzzle == 0) | (puzzle == answer)))
    return complete and givens_kept


def validate_puzzle(digits: np.ndarray, n: int) -> None:
    """Raise PuzzleError when the givens repeat a digit or leave the puzzle without a solution."""
    raise_conflicts(find_conflicts(digits, n))
    from recursia_sudoku.solver import count_solutions

    if count_solutions(np.asarray(digits, dtype=np.int64), n, limit=1) == 0:
        raise PuzzleError("the puzzle has no solution")


# --- rendering ---------------------------------------------------------------------

def render(digits: np.ndarray, n: int, changed: np.ndarray | None = None) -> str:
    """A text picture of a grid with box separators; blanks are ``.``; ``changed`` (a
    boolean ``(n*n,)`` mask) marks cells with a ``*`` (see :func:`recursia.api.render_grid`)."""
    digits = np.asarray(digits).reshape(n, n)
    return render_grid(np.where(digits == 0, ".", digits.astype(str)), changed, box=box_shape(n))
