"""Nonogram puzzles in their natural form: the ``{"rows": [...], "cols": [...]}`` JSON field.

``rows`` lists the clue of every row (top to bottom), ``cols`` of every column (left to
right); a clue is a list of run lengths (``[2, 1]``), and ``[]`` or ``[0]`` is an empty
line (a bare integer ``k`` is read as ``[k]``). :func:`read_clues` checks the shape and
every clue and raises one-line :class:`recursia.api.PuzzleError` messages naming the
line; :func:`validate` then asks the solver whether any grid matches.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from recursia.api import PuzzleError, render_grid
from recursia_nonogram import layout, lines

KEYS = ("rows", "cols")
KIND = {"rows": "row", "cols": "column"}
SEARCH_NODES = 200_000  # parse gives up proving "no solution" after this many search nodes
CELL_CHARS = {layout.FILLED: "#", layout.EMPTY: ".", layout.UNKNOWN: "?"}


def infer_size(puzzle: Any) -> int | None:
    """The side a puzzle implies: the number of row clues, when ``rows`` is a list; else None."""
    if isinstance(puzzle, dict) and isinstance(puzzle.get("rows"), list):
        return len(puzzle["rows"])
    return None


def _clue(value: Any, where: str, n: int) -> list[int]:
    """One clue as a list of positive run lengths; PuzzleError naming ``where`` ("row 3")."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list):
        raise PuzzleError(f"{where} clue is a {type(value).__name__}, expected a list of run lengths such as [2, 1]")
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int):
            raise PuzzleError(f"{where} clue {value!r}: {v!r} is not a whole number")
        if v < 0:
            raise PuzzleError(f"{where} clue {value!r}: run lengths are positive, got {v}")
    if value == [0]:
        return []
    if 0 in value:
        raise PuzzleError(f"{where} clue {value!r}: 0 only stands alone, as [0] for an empty line")
    need = lines.cells_needed(value)
    if need > n:
        raise PuzzleError(f"{where} clue {value!r} needs {need} cells, the grid has {n}")
    return list(value)


def read_clues(puzzle: Any, n: int) -> tuple[list[list[int]], list[list[int]]]:
    """``(row_clues, col_clues)`` of the puzzle field of an ``n x n`` nonogram, checked.

    Raises PuzzleError for a wrong shape, a bad clue, a clue longer than its line, or
    row and column clues that fill different numbers of cells.
    """
    if not isinstance(puzzle, dict):
        raise PuzzleError(f"a nonogram puzzle is an object {{\"rows\": [...], \"cols\": [...]}} of clue lists, "
                          f"got {type(puzzle).__name__}")
    extra = sorted(set(puzzle) - set(KEYS))
    if extra:
        raise PuzzleError(f"unexpected key {extra[0]!r} in the puzzle (it has 'rows' and 'cols')")
    out = []
    for key in KEYS:
        if key not in puzzle:
            raise PuzzleError(f"the puzzle has no {key!r}: a list of {n} {KIND[key]} clues")
        given = puzzle[key]
        if not isinstance(given, list):
            raise PuzzleError(f"{key!r} is a {type(given).__name__}, expected a list of {n} {KIND[key]} clues")
        if len(given) != n:
            raise PuzzleError(f"expected {n} {KIND[key]} clues for a {n}x{n} grid, got {len(given)}")
        out.append([_clue(v, f"{KIND[key]} {i}", n) for i, v in enumerate(given, start=1)])
    rows, cols = out
    by_rows, by_cols = sum(map(sum, rows)), sum(map(sum, cols))
    if by_rows != by_cols:
        raise PuzzleError(f"the row clues fill {by_rows} cells but the column clues fill {by_cols}")
    return rows, cols


def validate(rows: Sequence[Sequence[int]], cols: Sequence[Sequence[int]], n: int) -> None:
    """PuzzleError when the solver proves that no grid matches every clue."""
    found, complete = lines.solve(rows, cols, n, limit=1, max_nodes=SEARCH_NODES)
    if complete and not found:
        raise PuzzleError("the puzzle has no solution: no grid matches every row and column clue")


def format_clues(tokens: np.ndarray, n: int) -> dict[str, list[list[int]]]:
    """The puzzle field of input tokens ``(seq_len(n),)``: the inverse of parsing."""
    rows, cols = layout.decode_clues(tokens, n)
    return {"rows": rows, "cols": cols}


def _clue_text(clue: Sequence[int]) -> str:
    return " ".join(str(v) for v in clue)


def render(tokens_clues: np.ndarray, tokens_cells: np.ndarray, n: int, changed: np.ndarray | None = None) -> str:
    """A text picture: the column clues stacked above the grid, each row's clue at its left.

    ``tokens_clues`` gives the clues (input tokens), ``tokens_cells`` the cells shown
    (``#`` filled, ``.`` empty, ``?`` unknown, ``!`` any other token); ``changed`` is a
    boolean mask of the cells ``(n*n,)`` to mark with ``*``.
    """
    rows, cols = layout.decode_clues(tokens_clues, n)
    width = max([1] + [len(str(v)) for clue in rows + cols for v in clue])  # digits of the widest clue value
    shown = np.array([[CELL_CHARS.get(int(t), "!").rjust(width) for t in row]
                      for row in layout.cells(tokens_cells, n)], dtype=object)  # (n, n)
    body = render_grid(shown, changed).splitlines()
    margin = max(len(_clue_text(clue)) for clue in rows)
    height = max(len(clue) for clue in cols)
    mark = "" if changed is None else " "
    header = []
    for level in range(height):  # bottom-aligned: the last run of a column sits next to the grid
        row = []
        for clue in cols:
            at = level - (height - len(clue))
            row.append((str(clue[at]) if at >= 0 else "").rjust(width) + mark)
        header.append((" " * (margin + 2) + " ".join(row)).rstrip())
    grid = [(_clue_text(clue).rjust(margin) + "  " + line).rstrip() for clue, line in zip(rows, body)]
    return "\n".join(header + grid)
