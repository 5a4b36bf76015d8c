"""Latin squares in numpy: parsing, validation, token conversion, rendering, solving.

A square of size ``n`` (4..9) is a flat array of ``n * n`` cells in row-major order.
*Symbols* use 0 for a blank cell and 1..n for a filled one; *tokens* follow the
official HRM/TRM convention: PAD 0, blank 1, symbol ``k`` -> token ``k + 1`` (so the
vocabulary has ``n + 2`` ids). Rows and columns are numbered from 1 in messages.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from recursia.api import PuzzleError

PAD = 0
BLANK = 1
MIN_SIZE, MAX_SIZE = 4, 9
SIZES = tuple(range(MIN_SIZE, MAX_SIZE + 1))
_BLANK_CHARS = ".0"
_COUNT_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}
_MAX_REPORTED_CONFLICTS = 3
_SEARCH_NODES = 200_000  # parse() gives up proving "no completion" after this many search nodes


def check_size(n: int) -> int:
    """``n`` itself; PuzzleError when it is not 4..9."""
    if n not in SIZES:
        raise PuzzleError(f"unsupported Latin square size {n}; expected {MIN_SIZE} to {MAX_SIZE}")
    return n


def symbols_to_tokens(symbols: np.ndarray) -> np.ndarray:
    """Tokens (int64) of a symbol array: blank 0 -> 1, symbol k -> k + 1."""
    return np.asarray(symbols, dtype=np.int64) + 1


def tokens_to_symbols(tokens: np.ndarray) -> np.ndarray:
    """Symbols (int64) of a token array: PAD and blank -> 0, token t >= 2 -> t - 1."""
    return np.maximum(np.asarray(tokens, dtype=np.int64) - 1, 0)


# --- parsing -----------------------------------------------------------------------

def infer_size(obj: Any) -> int | None:
    """The size a puzzle's shape implies (16..81 cells as a string, 4..9 rows as a list), or None."""
    if isinstance(obj, str):
        cells = len(obj.strip())
        return next((n for n in SIZES if n * n == cells), None)
    if isinstance(obj, (list, tuple)) and len(obj) in SIZES:
        return len(obj)
    return None


def parse_puzzle(obj: Any, n: int) -> np.ndarray:
    """Symbols ``(n*n,)`` int64 (0 = blank) of one string of ``n*n`` characters or ``n`` row strings.

    ``.`` or ``0`` is a blank. Raises PuzzleError naming the first problem and where it is.
    """
    check_size(n)
    if isinstance(obj, str):
        text = obj.strip()
        if len(text) != n * n:
            raise PuzzleError(f"expected {n * n} cells, got {len(text)}")
    elif isinstance(obj, (list, tuple)):
        if len(obj) != n:
            raise PuzzleError(f"expected {n} rows, got {len(obj)}")
        for r, row in enumerate(obj, start=1):
            if not isinstance(row, str):
                raise PuzzleError(f"row {r} is a {type(row).__name__}, expected a string of {n} characters")
            if len(row) != n:
                raise PuzzleError(f"row {r} has {len(row)} characters, expected {n}")
        text = "".join(obj)
    else:
        raise PuzzleError(f"a {n}x{n} Latin square is a string of {n * n} characters or a list of "
                          f"{n} strings, got {type(obj).__name__}")
    allowed = _BLANK_CHARS + "".join(str(k) for k in range(1, n + 1))
    for i, ch in enumerate(text):
        if ch not in allowed:
            hint = f" (a {n}x{n} Latin square uses 1-{n} and . or 0 for a blank)" if ch.isdigit() else ""
            raise PuzzleError(f"row {i // n + 1}: unexpected character {ch!r} at column {i % n + 1}{hint}")
    return np.array([0 if ch in _BLANK_CHARS else int(ch) for ch in text], dtype=np.int64)


# --- validation --------------------------------------------------------------------

def find_conflicts(symbols: np.ndarray, n: int) -> list[str]:
    """Every repeated symbol of a row or column, e.g. ``"row 2 has two 3s"``."""
    sq = np.asarray(symbols).reshape(n, n)
    out = []
    for kind, lines in (("row", sq), ("column", sq.T)):
        counts = (lines[:, :, None] == np.arange(1, n + 1)).sum(axis=1)  # (line, symbol)
        out += [f"{kind} {i + 1} has {_COUNT_WORDS[int(counts[i, k])]} {k + 1}s"
                for i, k in zip(*np.nonzero(counts > 1))]
    return out


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
    conflicts = find_conflicts(symbols, n)
    if conflicts:
        shown = "; ".join(conflicts[:_MAX_REPORTED_CONFLICTS])
        more = len(conflicts) - _MAX_REPORTED_CONFLICTS
        raise PuzzleError(shown + (f" (and {more} more)" if more > 0 else ""))
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
    """A text picture of a square, one row a line, blanks as ``.``.

    With ``changed`` (a boolean ``(n*n,)`` mask) every cell gets a second character,
    ``*`` for a marked cell and a space otherwise, so the columns stay aligned.
    """
    sq = np.asarray(symbols).reshape(n, n)
    marks = None if changed is None else np.where(np.asarray(changed, bool), "*", " ").reshape(n, n)
    lines = []
    for r in range(n):
        cells = [str(v) if v else "." for v in sq[r]]
        if marks is not None:
            cells = [c + m for c, m in zip(cells, marks[r])]
        lines.append(" ".join(cells).rstrip())
    return "\n".join(lines)
