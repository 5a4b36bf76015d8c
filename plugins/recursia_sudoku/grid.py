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

from recursia.api import PuzzleError

PAD = 0
BLANK = 1
SIZES = (4, 6, 9)
_BOXES = {4: (2, 2), 6: (2, 3), 9: (3, 3)}
_BLANK_CHARS = ".0"
_COUNT_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}
_MAX_REPORTED_CONFLICTS = 3


def box_shape(n: int) -> tuple[int, int]:
    """``(box_rows, box_cols)`` of a size-``n`` Sudoku; PuzzleError for other sizes."""
    if n not in _BOXES:
        raise PuzzleError(f"unsupported Sudoku size {n}; expected 4, 6 or 9")
    return _BOXES[n]


def vocab_size(n: int) -> int:
    """Number of token ids of a size-``n`` grid: PAD, blank and the ``n`` digits."""
    box_shape(n)
    return n + 2


def digits_to_tokens(digits: np.ndarray) -> np.ndarray:
    """Tokens (int64) of a digit array: blank 0 -> 1, digit d -> d + 1."""
    return np.asarray(digits, dtype=np.int64) + 1


def tokens_to_digits(tokens: np.ndarray) -> np.ndarray:
    """Digits (int64) of a token array: PAD and blank -> 0, token t >= 2 -> t - 1."""
    return np.maximum(np.asarray(tokens, dtype=np.int64) - 1, 0)


# --- parsing -----------------------------------------------------------------------

def infer_size(obj: Any) -> int | None:
    """The Sudoku size a puzzle's shape implies (16/36/81 cells, 4/6/9 rows), or None."""
    if isinstance(obj, str):
        cells = len(obj.strip())
        return next((n for n in SIZES if n * n == cells), None)
    if isinstance(obj, (list, tuple)) and len(obj) in SIZES:
        return len(obj)
    return None


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
    if isinstance(obj, str):
        text = obj.strip()
        if len(text) != n * n:
            raise PuzzleError(f"expected {n * n} cells, got {len(text)}")
    elif isinstance(obj, (list, tuple)):
        text = _join_rows(obj, n)
    else:
        raise PuzzleError(f"a {n}x{n} Sudoku is a string of {n * n} characters or a list of "
                          f"{n} strings, got {type(obj).__name__}")
    return _digits_of(text, n)


def _shape_problem(obj: Any) -> str:
    """Why ``obj`` has no Sudoku shape (used when the size is not given)."""
    if isinstance(obj, str):
        return f"expected 16, 36 or 81 cells, got {len(obj.strip())}"
    if isinstance(obj, (list, tuple)):
        return f"expected 4, 6 or 9 rows, got {len(obj)}"
    return f"a Sudoku is a string of 81 characters or a list of 9 strings, got {type(obj).__name__}"


def _join_rows(rows: list | tuple, n: int) -> str:
    """The rows of a list-form puzzle as one string, after checking their count and lengths."""
    if len(rows) != n:
        raise PuzzleError(f"expected {n} rows, got {len(rows)}")
    for r, row in enumerate(rows, start=1):
        if not isinstance(row, str):
            raise PuzzleError(f"row {r} is a {type(row).__name__}, expected a string of {n} characters")
        if len(row) != n:
            raise PuzzleError(f"row {r} has {len(row)} characters, expected {n}")
    return "".join(rows)


def _digits_of(text: str, n: int) -> np.ndarray:
    """Digits of ``n*n`` characters; PuzzleError at the first character that is no cell."""
    allowed = _BLANK_CHARS + "".join(str(d) for d in range(1, n + 1))
    for i, ch in enumerate(text):
        if ch not in allowed:
            hint = f" (a {n}x{n} Sudoku uses the digits 1-{n} and . or 0 for a blank)" if ch.isdigit() else ""
            raise PuzzleError(f"row {i // n + 1}: unexpected character {ch!r} at column {i % n + 1}{hint}")
    codes = np.frombuffer(text.replace(".", "0").encode("ascii"), dtype=np.uint8)
    return (codes - ord("0")).astype(np.int64)


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
    values = np.asarray(digits)[units(n)]
    counts = (values[:, :, None] == np.arange(1, n + 1)).sum(axis=1)
    kinds = ("row", "column", "box")
    return [f"{kinds[u // n]} {u % n + 1} has {_COUNT_WORDS[int(counts[u, d])]} {d + 1}s"
            for u, d in zip(*np.nonzero(counts > 1))]


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
    conflicts = find_conflicts(digits, n)
    if conflicts:
        shown = "; ".join(conflicts[:_MAX_REPORTED_CONFLICTS])
        more = len(conflicts) - _MAX_REPORTED_CONFLICTS
        raise PuzzleError(shown + (f" (and {more} more)" if more > 0 else ""))
    from recursia_sudoku.solver import count_solutions

    if count_solutions(np.asarray(digits, dtype=np.int64), n, limit=1) == 0:
        raise PuzzleError("the puzzle has no solution")


# --- rendering ---------------------------------------------------------------------

def render(digits: np.ndarray, n: int, changed: np.ndarray | None = None) -> str:
    """A text picture of a grid with box separators; blanks are ``.``.

    With ``changed`` (a boolean ``(n*n,)`` mask) every cell gets a second character,
    ``*`` for a marked cell and a space otherwise, so the columns stay aligned.
    """
    br, bc = box_shape(n)
    digits = np.asarray(digits).reshape(n, n)
    marks = None if changed is None else np.where(np.asarray(changed, bool), "*", " ").reshape(n, n)
    lines = []
    for r in range(n):
        cells = [str(d) if d else "." for d in digits[r]]
        if marks is not None:
            cells = [c + m for c, m in zip(cells, marks[r])]
        line = " | ".join(" ".join(cells[s:s + bc]) for s in range(0, n, bc))
        if r and r % br == 0:
            lines.append("".join("+" if ch == "|" else "-" for ch in line))
        lines.append(line.rstrip())
    return "\n".join(lines)
