"""Nonogram rules without tokens: clues of a grid, and an exact solver that counts solutions.

A grid is an ``(n, n)`` array of 0 (empty) and 1 (filled). The clue of a line (a row
read left to right, a column read top to bottom) is the tuple of the lengths of its
runs of filled cells, ``()`` for an empty line. A line pattern is an int whose bit
``c`` is set when cell ``c`` of the line is filled.

The solver (:func:`solve`) keeps, for every row and column, the patterns that match its
clue and agree with the cells known so far; it repeats "cells on which every remaining
pattern of a line agrees are known" until nothing changes, and then branches on the
line with the fewest remaining patterns. Branches fix a whole line to different
patterns, so they never overlap and the solutions are counted exactly.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np

Clue = tuple[int, ...]


def line_clue(cells: Sequence[int]) -> Clue:
    """Run lengths of the filled cells of one line, e.g. ``[1, 1, 0, 1] -> (2, 1)``."""
    runs: list[int] = []
    previous = 0
    for cell in cells:
        if cell and previous:
            runs[-1] += 1
        elif cell:
            runs.append(1)
        previous = cell
    return tuple(runs)


def grid_clues(grid: np.ndarray) -> tuple[list[Clue], list[Clue]]:
    """``(row_clues, col_clues)`` of a 0/1 grid ``(n, n)``."""
    grid = np.asarray(grid)
    return [line_clue(row) for row in grid.tolist()], [line_clue(col) for col in grid.T.tolist()]


def cells_needed(clue: Sequence[int]) -> int:
    """Fewest cells a line with this clue spans: the runs plus one gap between neighbours."""
    return sum(clue) + max(len(clue) - 1, 0)


@lru_cache(maxsize=4096)
def line_patterns(clue: Clue, n: int) -> tuple[int, ...]:
    """Every pattern (bit ``c`` = cell ``c`` filled) of an ``n``-cell line with this clue."""
    if not clue:
        return (0,)
    first, rest = clue[0], clue[1:]
    room = n - cells_needed(clue)
    out = []
    run = (1 << first) - 1
    for start in range(room + 1):
        head = run << start
        if rest:
            offset = start + first + 1
            out.extend(head | (tail << offset) for tail in line_patterns(rest, n - offset))
        else:
            out.append(head)
    return tuple(out)


class _Search:
    """State of one solve: candidate patterns and known cells of every line (see :func:`solve`)."""

    def __init__(self, row_clues: Sequence[Clue], col_clues: Sequence[Clue], n: int, limit: int,
                 max_nodes: int | None):
        self.n, self.limit, self.max_nodes = n, limit, max_nodes
        self.full = (1 << n) - 1
        self.found: list[np.ndarray] = []
        self.nodes = 0
        # lines 0..n-1 are the rows, n..2n-1 the columns; bit c of a row is column c, of a column row c
        self.start = [list(line_patterns(tuple(c), n)) for c in [*row_clues, *col_clues]]

    def run(self) -> bool:
        """Search from the start; True when it stopped early (limit or node budget)."""
        known = [0] * (2 * self.n)
        filled = [0] * (2 * self.n)
        return self._search(self.start, known, filled)

    def _propagate(self, cands: list[list[int]], known: list[int], filled: list[int]) -> bool:
        """Narrow ``cands`` and grow ``known``/``filled`` in place until stable; False on a contradiction."""
        n, full = self.n, self.full
        dirty = set(range(2 * n))
        while dirty:
            line = dirty.pop()
            k, f = known[line], filled[line]
            kept = [p for p in cands[line] if (p ^ f) & k == 0]
            if not kept:
                return False
            cands[line] = kept
            every, some = full, 0
            for p in kept:
                every &= p
                some |= p
            new_known = (every | (full & ~some)) & ~k
            if not new_known:
                continue
            known[line] |= new_known
            filled[line] |= every & new_known
            base = n if line < n else 0  # the crossing lines
            index = line if line < n else line - n  # this line's bit in a crossing line
            bit = 1 << index
            for c in range(n):
                if new_known >> c & 1:
                    other = base + c
                    known[other] |= bit
                    if every >> c & 1:
                        filled[other] |= bit
                    dirty.add(other)
        return True

    def _search(self, cands: list[list[int]], known: list[int], filled: list[int]) -> bool:
        self.nodes += 1
        if self.max_nodes is not None and self.nodes > self.max_nodes:
            return True
        cands, known, filled = list(cands), list(known), list(filled)
        if not self._propagate(cands, known, filled):
            return False
        open_lines = [i for i in range(self.n) if len(cands[i]) > 1]
        if not open_lines:  # every row has one pattern left, and the columns agree with it
            rows = np.array([[p >> c & 1 for c in range(self.n)] for p in (cands[i][0] for i in range(self.n))])
            self.found.append(rows.astype(np.int64))
            return len(self.found) >= self.limit
        line = min(open_lines, key=lambda i: len(cands[i]))
        for pattern in cands[line]:
            cands[line] = [pattern]
            if self._search(cands, known, filled):
                return True
        return False


def solve(row_clues: Sequence[Sequence[int]], col_clues: Sequence[Sequence[int]], n: int, limit: int = 2,
          max_nodes: int | None = None) -> tuple[list[np.ndarray], bool]:
    """Up to ``limit`` grids ``(n, n)`` (0/1) matching every clue, and whether the search finished.

    The flag is False when the search stopped on the ``max_nodes`` budget before
    finding ``limit`` solutions (then "fewer found" proves nothing). Each clue must fit
    its line (:func:`cells_needed` <= n).
    """
    search = _Search([tuple(c) for c in row_clues], [tuple(c) for c in col_clues], n, limit, max_nodes)
    stopped = search.run()
    return search.found, not (stopped and len(search.found) < limit)


def count_solutions(row_clues: Sequence[Sequence[int]], col_clues: Sequence[Sequence[int]], n: int,
                    limit: int = 2) -> int:
    """Number of grids matching the clues, counted up to ``limit``."""
    return len(solve(row_clues, col_clues, n, limit)[0])


def matches(grid: np.ndarray, row_clues: Sequence[Sequence[int]], col_clues: Sequence[Sequence[int]]) -> bool:
    """Whether a 0/1 grid ``(n, n)`` has exactly these row and column clues."""
    rows, cols = grid_clues(grid)
    return rows == [tuple(c) for c in row_clues] and cols == [tuple(c) for c in col_clues]
