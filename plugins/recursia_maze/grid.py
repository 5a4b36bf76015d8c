"""Mazes in numpy: parsing, validation, breadth-first search, the checker, text pictures.

A maze of side ``n`` is a flat row-major array of ``n * n`` tokens, as in the official
Maze-Hard data: PAD 0, wall ``#`` 1, open `` `` 2, start ``S`` 3, goal ``G`` 4 and path
``o`` 5 (labels only: the label is the maze with the open cells of one shortest S-G
path turned into ``o``). Moves go up, down, left and right. A path's *length* is its
number of moves, so a shortest path of length ``d`` has ``d - 1`` ``o`` cells. Rows
and columns are numbered from 1 in messages.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from recursia.api import PuzzleError, parse_rows

PAD, WALL, OPEN, START, GOAL, PATH = range(6)
VOCAB_SIZE = 6
_TOKEN_CHARS = np.array(list("?# SGo"))  # index = token; PAD (and any unknown token) shows as "?"


# --- parsing and validation -----------------------------------------------------------

def parse_maze(obj: Any, n: int | None = None) -> np.ndarray:
    """Tokens ``(n*n,)`` int64 of a maze given as ``n`` row strings over ``# SG``.

    ``n`` defaults to the number of rows. Raises PuzzleError naming the first problem:
    not a list of strings, a wrong row count or length, an unknown character, not
    exactly one ``S`` and one ``G``, or no path from ``S`` to ``G``.
    """
    if not isinstance(obj, (list, tuple)) or not obj:
        kind = "an empty list" if isinstance(obj, (list, tuple)) else f"a {type(obj).__name__}"
        raise PuzzleError(f"expected a list of row strings over '# SG', got {kind}")
    n = len(obj) if n is None else n
    tokens = parse_rows(obj, n, "# SG", "a maze", blanks="",
                        hint="a maze uses '#' wall, ' ' open, 'S' start, 'G' goal")
    validate_maze(tokens)
    return tokens


def validate_maze(tokens: np.ndarray) -> None:
    """Raise PuzzleError unless the maze has one ``S``, one ``G`` and a path between them."""
    tokens = np.asarray(tokens)
    for token, char in ((START, "S"), (GOAL, "G")):
        count = int(np.count_nonzero(tokens == token))
        if count != 1:
            raise PuzzleError(f"the maze has {count} {char} cells, expected exactly one")
    if shortest_path_length(tokens) is None:
        raise PuzzleError("no path from S to G (walls '#' separate them)")


# --- search ----------------------------------------------------------------------------

def side(tokens: np.ndarray) -> int:
    """The side ``n`` of a flat ``(n*n,)`` maze; ValueError otherwise."""
    shape = np.asarray(tokens).shape
    n = math.isqrt(shape[0]) if len(shape) == 1 else 0
    if n == 0 or n * n != shape[0]:
        raise ValueError(f"a maze is a flat array of n*n tokens, got shape {shape}")
    return n


def bfs_distances(walls: np.ndarray, start: tuple[int, int]) -> np.ndarray:
    """Moves from ``start`` to every cell of a grid, ``-1`` where it cannot be reached.

    ``walls`` is a boolean ``(h, w)`` array (True = blocked); moves go up, down, left
    and right through unblocked cells. ``start`` is at distance 0 and can be left even if blocked.
    Returns int64 ``(h, w)``. The search expands the whole frontier with array shifts,
    one distance per iteration.
    """
    free = ~np.asarray(walls, dtype=bool)
    dist = np.full(free.shape, -1, dtype=np.int64)
    frontier = np.zeros(free.shape, dtype=bool)
    frontier[start] = True
    dist[start] = 0
    d = 0
    while frontier.any():
        d += 1
        reach = np.zeros_like(frontier)
        reach[1:] |= frontier[:-1]
        reach[:-1] |= frontier[1:]
        reach[:, 1:] |= frontier[:, :-1]
        reach[:, :-1] |= frontier[:, 1:]
        frontier = reach & free & (dist < 0)
        dist[frontier] = d
    return dist


def endpoints(tokens: np.ndarray) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """``((row, col) of S, (row, col) of G)`` of a flat maze, or None unless each occurs once."""
    tokens = np.asarray(tokens)
    n = side(tokens)
    starts, goals = np.flatnonzero(tokens == START), np.flatnonzero(tokens == GOAL)
    if len(starts) != 1 or len(goals) != 1:
        return None
    return divmod(int(starts[0]), n), divmod(int(goals[0]), n)


def shortest_path_length(tokens: np.ndarray) -> int | None:
    """Moves of a shortest S-G path of a flat ``(n*n,)`` maze (inputs or labels), None if none.

    Every cell but walls and PAD can be crossed. ValueError unless the maze has exactly
    one ``S`` and one ``G``.
    """
    tokens = np.asarray(tokens)
    ends = endpoints(tokens)
    if ends is None:
        raise ValueError("a maze needs exactly one S and one G to have a shortest path")
    (start, goal), n = ends, side(tokens)
    blocked = np.isin(tokens, (WALL, PAD)).reshape(n, n)
    d = int(bfs_distances(blocked, start)[goal])
    return None if d < 0 else d


# --- the checker ---------------------------------------------------------------------

def is_shortest_path(inputs: np.ndarray, answer: np.ndarray) -> bool:
    """Whether ``answer`` is the maze ``inputs`` with a shortest S-G path drawn in ``o``.

    Accepted when the answer keeps every cell of the maze except open cells, which it
    may mark ``o``; the ``o`` cells connect S to G; and there are exactly ``d - 1`` of
    them for the shortest path length ``d``. Together these make the ``o`` cells one
    shortest path (any of them, not only the label's).
    """
    inputs, answer = np.asarray(inputs), np.asarray(answer)
    if inputs.shape != answer.shape or inputs.ndim != 1:
        return False
    ends = endpoints(inputs)
    if ends is None:
        return False
    is_open = inputs == OPEN
    marked = answer == PATH
    if not np.array_equal(np.where(is_open & marked, OPEN, answer), inputs):
        return False
    shortest = shortest_path_length(inputs)
    if shortest is None or int(marked.sum()) != shortest - 1:
        return False
    (start, goal), n = ends, side(inputs)
    blocked = ~(marked | (inputs == START) | (inputs == GOAL)).reshape(n, n)
    return int(bfs_distances(blocked, start)[goal]) == shortest


# --- text ------------------------------------------------------------------------------

def to_rows(tokens: np.ndarray) -> list[str]:
    """Row strings of a flat maze: ``#`` wall, `` `` open, ``S``, ``G``, ``o`` path, ``?`` other tokens."""
    tokens = np.asarray(tokens)
    n = side(tokens)
    known = (tokens >= 0) & (tokens < len(_TOKEN_CHARS))
    chars = _TOKEN_CHARS[np.where(known, tokens, PAD)]
    return ["".join(row) for row in chars.reshape(n, n)]


def render(tokens: np.ndarray, changed: np.ndarray | None = None) -> str:
    """A framed text picture of a maze (path cells ``o``).

    With ``changed`` (a boolean ``(n*n,)`` mask) every cell gets a second character,
    ``*`` for a marked cell and a space otherwise, so the columns stay aligned.
    """
    rows = to_rows(tokens)
    if changed is not None:
        n = len(rows)
        marks = np.where(np.asarray(changed, dtype=bool), "*", " ").reshape(n, n)
        rows = ["".join(c + m for c, m in zip(row, mark_row)) for row, mark_row in zip(rows, marks)]
    edge = "+" + "-" * len(rows[0]) + "+"
    return "\n".join([edge, *(f"|{row}|" for row in rows), edge])
