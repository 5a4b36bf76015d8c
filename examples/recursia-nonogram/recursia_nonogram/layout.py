"""The token layout of an n x n nonogram: clue slots of the rows, of the columns, then the cells.

Tokens (vocabulary ``n + 5``):

==========  =======  =================================================
token       value    meaning
==========  =======  =================================================
``PAD``     0        padding; also every clue position of a label (ignored)
``SLOT``    1        an unused clue slot
``UNKNOWN`` 2        a cell of the puzzle (inputs)
``EMPTY``   3        an empty cell (labels, answers)
``FILLED``  4        a filled cell (labels, answers)
clue ``k``  ``k+4``  a run of ``k`` filled cells, ``k`` = 1..n
==========  =======  =================================================

Sequence (length ``2 * n * ceil(n/2) + n * n``): every line gets ``s = ceil(n/2)`` clue
slots (the most runs an n-cell line can hold), right-aligned: the last run of a line
sits in its last slot, next to the grid, as printed nonograms show it, and unused
slots at the front are ``SLOT``. First the ``n`` rows' slots (row 0 first, each
left-to-right run order), then the ``n`` columns' slots (top-to-bottom run order), then
the ``n * n`` cells row-major. An input has its clues and ``UNKNOWN`` cells; a label
has ``PAD`` (0, "ignored") on every clue position and ``FILLED``/``EMPTY`` cells.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

PAD, SLOT, UNKNOWN, EMPTY, FILLED = 0, 1, 2, 3, 4
CLUE_BASE = 4  # clue value k is token k + CLUE_BASE
MAX_SEARCHED_SIZE = 64


def slots(n: int) -> int:
    """Clue slots per line: ``ceil(n / 2)``."""
    return (n + 1) // 2


def clue_len(n: int) -> int:
    """Tokens of the clue part (rows and columns)."""
    return 2 * n * slots(n)


def seq_len(n: int) -> int:
    """Tokens of a whole example: clue slots then cells."""
    return clue_len(n) + n * n


def vocab_size(n: int) -> int:
    """PAD, SLOT, UNKNOWN, EMPTY, FILLED and the clue values 1..n."""
    return CLUE_BASE + n + 1


def size_of(length: int) -> int:
    """The side ``n`` whose sequence length is ``length``; ValueError when there is none."""
    for n in range(1, MAX_SEARCHED_SIZE + 1):
        if seq_len(n) == length:
            return n
    raise ValueError(f"no nonogram has a sequence of {length} tokens (n=5 has {seq_len(5)}, n=6 {seq_len(6)})")


def encode_clues(clues: Sequence[Sequence[int]], n: int) -> np.ndarray:
    """Tokens ``(len(clues) * slots(n),)`` int64 of clue lists, right-aligned in their slots."""
    s = slots(n)
    out = np.full((len(clues), s), SLOT, dtype=np.int64)  # (lines, s)
    for i, clue in enumerate(clues):
        if clue:
            out[i, s - len(clue):] = np.asarray(clue, dtype=np.int64) + CLUE_BASE
    return out.reshape(-1)


def encode(row_clues: Sequence[Sequence[int]], col_clues: Sequence[Sequence[int]], n: int) -> np.ndarray:
    """Input tokens ``(seq_len(n),)`` int64 of a puzzle: its clues and ``UNKNOWN`` cells."""
    cells = np.full(n * n, UNKNOWN, dtype=np.int64)
    return np.concatenate([encode_clues(row_clues, n), encode_clues(col_clues, n), cells])


def label(grid: np.ndarray) -> np.ndarray:
    """Label tokens ``(seq_len(n),)`` int64 of a 0/1 grid ``(n, n)``: PAD clues, FILLED/EMPTY cells."""
    grid = np.asarray(grid)
    n = grid.shape[0]
    cells = np.where(grid.reshape(-1) > 0, FILLED, EMPTY)
    return np.concatenate([np.full(clue_len(n), PAD, dtype=np.int64), cells.astype(np.int64)])


def decode_clues(tokens: np.ndarray, n: int) -> tuple[list[list[int]], list[list[int]]]:
    """``(row_clues, col_clues)`` read from the clue part of ``tokens (seq_len(n),)``.

    Every token that is a clue value counts, in slot order; the others (SLOT, PAD, cell
    tokens) are skipped.
    """
    lines = np.asarray(tokens, dtype=np.int64)[:clue_len(n)].reshape(2 * n, slots(n))  # (2n, s)
    clues = [[int(t) - CLUE_BASE for t in line if CLUE_BASE < t <= CLUE_BASE + n] for line in lines]
    return clues[:n], clues[n:]


def cells(tokens: np.ndarray, n: int) -> np.ndarray:
    """The cell tokens ``(n, n)`` of a token array ``(seq_len(n),)``."""
    return np.asarray(tokens, dtype=np.int64)[clue_len(n):].reshape(n, n)


def grid_of(tokens: np.ndarray, n: int) -> np.ndarray | None:
    """The 0/1 grid ``(n, n)`` of answer tokens, or None when a cell is neither FILLED nor EMPTY."""
    c = cells(tokens, n)
    if not np.all((c == FILLED) | (c == EMPTY)):
        return None
    return (c == FILLED).astype(np.int64)
