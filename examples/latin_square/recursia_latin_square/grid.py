"""Latin squares in numpy: parsing, validation, token conversion, rendering, solving.

A square of size ``n`` (4..9) is a flat array of ``n * n`` cells in row-major order.
*Symbols* use 0 for a blank cell and 1..n for a filled one; *tokens* follow the
official HRM/TRM convention: PAD 0, blank 1, symbol ``k`` -> token ``k + 1`` (so the
vocabulary has ``n + 2`` ids). Rows and columns are numbered from 1 in messages.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from recursia.api import (PuzzleError, parse_rows, raise_conflicts, render_grid, repeats, symbols_to_tokens,
                          tokens_to_symbols)

MIN_SIZE, MAX_SIZE = 4, 9
SIZES = tuple(range(MIN_SIZE, MAX_SIZE + 1))
_SEARCH_NODES = 200_000  # parse() gives up proving "no completion" after this many search nodes
__all__ = ["symbols_to_tokens", "tokens_to_symbols", "check_size", "parse_puzzle", "find_conflicts",
           "is_latin", "is_valid_solution", "validate_puzzle", "solve", "count_solutions", "render"]


def check_size(n: int) -> int:
    """``n`` itself; PuzzleError when it is not 4..9."""
    if n not in SIZES:
        raise PuzzleError(f"unsupported Latin square size {n}; expected {MIN_SIZE} to {MAX_SIZE}")
    return n


# --- parsing -----------------------------------------------------------------------

def parse_puzzle(obj: Any, n: int) -> np.ndarray:
    """Symbols ``(n*n,)`` int64 (0 = blank) of one string of ``n*n`` characters or ``n`` row strings.

    ``.`` or ``0`` is a blank. Raises PuzzleError naming the first problem and where it is.
    """
    check_size(n)
    return parse_rows(obj, n, "123456789"[:n], f"a {n}x{n} Latin square")


# --- validation --------------------------------------------------------------------

def find_conflicts(symbols: np.ndarray, n: int) -> list[str]:
    """Every repeated symbol of a row or column, e.g. ``"row 2 has two 3s"``."""
    sq = np.asarray(symbols).reshape(n, n)
    return repeats(np.concatenate([sq, sq.T]), ["row"] * n + ["column"] * n, n)


def is_latin(symbols: np.ndarray, n: int) -> bool:
    """Whether ``symbols`` is a complete Latin square: every row and column a permutation of 1..n."""
    sq = np.asarray(symbols)
    if sq.shape != (n * n,):
        return False
    sq = sq.reshape(n, n)
    want = np.arange(1, n + 1)
    return bool(np.all(np.sort(sq, axis=1) == want) and np.all(np.sort(sq.T, axis=1) == want))


def is_valid_solution(puzzle: np.ndarray, answer: np.ndarray, n: int) -> bool:
    """Whether ``answer`` is a complete Latin square that keeps every given of ``puzzle``."""
    puzzle, answer = np.asarray(puzzle), np.asarray(answer)
    if puzzle.shape != (n * n,) or not is_latin(answer, n):
        return False
    return bool(np.all((puzzle == 0) | (puzzle == answer)))


def validate_puzzle(symbols: np.ndarray, n: int) -> None:
    """Raise PuzzleError when the givens repeat a symbol in a line or admit no completion."""
    raise_conflicts(find_conflicts(symbols, n))
    found, complete = solve(symbols, n, limit=1, max_nodes=_SEARCH_NODES)
    if complete and not found:
        raise PuzzleError("the puzzle has no solution (its givens cannot be completed to a Latin square)")


# --- solving -----------------------------------------------------------------------

def solve(symbols: np.ndarray, n: int, limit: int = 2,
          max_nodes: int | None = None) -> tuple[list[np.ndarray], bool]:
    """Up to ``limit`` completions of a partial square, and whether the search finished.

    Backtracking over bit masks (row and column sets of used symbols), branching on a
    blank cell with the fewest candidates. The search stops after ``limit`` solutions
    or ``max_nodes`` visited nodes; the flag is False when it stopped on the node budget
    (then "no solution found" proves nothing). The givens must not conflict.
    """
    grid = [int(v) for v in np.asarray(symbols).reshape(-1)]
    full = (1 << n) - 1
    rows, cols = [0] * n, [0] * n
    for i, v in enumerate(grid):
        if v:
            rows[i // n] |= 1 << (v - 1)
            cols[i % n] |= 1 << (v - 1)
    blanks = [i for i, v in enumerate(grid) if v == 0]
    found: list[np.ndarray] = []
    nodes = 0

    def search() -> bool:  # True: stop (limit or budget reached)
        nonlocal nodes
        nodes += 1
        if max_nodes is not None and nodes > max_nodes:
            return True
        best, best_mask, best_count = -1, 0, n + 1
        for i in blanks:
            if grid[i]:
                continue
            mask = full & ~(rows[i // n] | cols[i % n])
            count = mask.bit_count()
            if count < best_count:
                best, best_mask, best_count = i, mask, count
                if count <= 1:
                    break
        if best < 0:
            found.append(np.array(grid, dtype=np.int64))
            return len(found) >= limit
        r, c = divmod(best, n)
        mask = best_mask
        while mask:
            bit = mask & -mask
            mask ^= bit
            grid[best] = bit.bit_length()
            rows[r] |= bit
            cols[c] |= bit
            stop = search()
            rows[r] ^= bit
            cols[c] ^= bit
            grid[best] = 0
            if stop:
                return True
        return False

    stopped = search()
    complete = not (stopped and len(found) < limit)
    return found, complete


def count_solutions(symbols: np.ndarray, n: int, limit: int = 2) -> int:
    """Number of completions of a partial square, counted up to ``limit``."""
    return len(solve(symbols, n, limit=limit)[0])


# --- rendering ---------------------------------------------------------------------

def render(symbols: np.ndarray, n: int, changed: np.ndarray | None = None) -> str:
    """A text picture of a square, one row a line, blanks as ``.``; ``changed`` (a boolean
    ``(n*n,)`` mask) marks cells with a ``*`` (see :func:`recursia.api.render_grid`)."""
    sq = np.asarray(symbols).reshape(n, n)
    return render_grid(np.where(sq == 0, ".", sq.astype(str)), changed)
