"""Seeded generator of uniquely solvable, minimal Sudoku puzzles that need search.

Recipe per puzzle: a random complete grid (randomised MRV backtracking), then the
clues are removed one at a time in random order, keeping each removal only if the
puzzle stays uniquely solvable. One pass leaves a *minimal* puzzle: removing clues
never restores uniqueness, so a clue that had to stay still has to at the end.
A removal is checked by looking for a solution in which the removed cell holds
another digit (a single search instead of counting to two).

Puzzles that naked and hidden singles alone solve are easy; with ``search_tries``
the clues of the same grid are removed again in a new random order until the
puzzle needs search (or the tries run out, keeping the last one). Measured: one try
gives ~60% of 9x9 puzzles needing search, the default 8 tries ~100%; minimal 6x6
puzzles rarely need search (~8%) and 4x4 never, so they take the first one.

Puzzles are made in chunks of :data:`CHUNK`, chunk ``k`` drawing from its own
generator seeded by ``(seed, k)``: the result depends only on ``seed`` and ``count``
(a longer run extends a shorter one) and never on the number of ``workers``.
"""

from __future__ import annotations

import multiprocessing
import random

import numpy as np

from recursia_sudoku import solver

CHUNK = 32
DEFAULT_SEARCH_TRIES = {4: 1, 6: 1, 9: 8}


def generate(count: int, n: int, seed: int, *, search_tries: int | None = None,
             workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``count`` uniquely solvable minimal ``n x n`` puzzles and their solutions.

    ``workers > 1`` uses processes started with ``spawn``: call it under
    ``if __name__ == "__main__":`` in a script.

    Args:
        count: number of puzzles.
        n: grid size, 4, 6 or 9.
        seed: the same seed gives identical arrays.
        search_tries: removal orders tried per grid to get a puzzle that needs search
            (1 = take the first minimal puzzle); default per size in
            :data:`DEFAULT_SEARCH_TRIES`.
        workers: processes to use (the result does not depend on it).

    Returns:
        ``(puzzles, solutions)``, uint8 arrays ``(count, n*n)`` of digits, 0 = blank.
    """
    solver.geometry(n)
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    tries = DEFAULT_SEARCH_TRIES[n] if search_tries is None else search_tries
    if tries < 1:
        raise ValueError(f"search_tries must be >= 1, got {tries}")
    jobs = [(n, seed, k, min(CHUNK, count - k * CHUNK), tries) for k in range(-(-count // CHUNK))]
    if workers > 1 and len(jobs) > 1:
        with multiprocessing.get_context("spawn").Pool(min(workers, len(jobs))) as pool:
            chunks = pool.starmap(generate_chunk, jobs)
    else:
        chunks = [generate_chunk(*job) for job in jobs]
    empty = np.zeros((0, n * n), dtype=np.uint8)
    puzzles = np.concatenate([p for p, _ in chunks]) if chunks else empty
    solutions = np.concatenate([s for _, s in chunks]) if chunks else empty
    return puzzles, solutions


def chunk_rng(seed: int, chunk: int) -> random.Random:
    """The random generator of chunk ``chunk`` of a run seeded with ``seed``."""
    state = np.random.SeedSequence([seed, chunk]).generate_state(4, dtype=np.uint64)
    return random.Random(int.from_bytes(state.tobytes(), "little"))


def generate_chunk(n: int, seed: int, chunk: int, size: int, search_tries: int) -> tuple[np.ndarray, np.ndarray]:
    """Puzzles and solutions ``(size, n*n)`` of chunk ``chunk`` (see :func:`generate`)."""
    rng = chunk_rng(seed, chunk)
    puzzles = np.zeros((size, n * n), dtype=np.uint8)
    solutions = np.zeros((size, n * n), dtype=np.uint8)
    for i in range(size):
        solution = solver.random_solution(n, rng)
        solutions[i] = solver.masks_to_digits(solution, n)
        puzzles[i] = solver.masks_to_digits(hard_puzzle(solution, n, rng, search_tries), n)
    return puzzles, solutions


def hard_puzzle(solution: list[int], n: int, rng: random.Random, search_tries: int) -> list[int]:
    """A minimal puzzle of ``solution``, the first of ``search_tries`` that needs search.

    Grids and puzzles are per-digit cell masks (see :func:`recursia_sudoku.solver.digit_masks`).
    """
    geo = solver.geometry(n)
    for _ in range(search_tries):
        puzzle = minimal_puzzle(solution, geo, rng)
        state = solver.state_from_masks(geo, puzzle)
        if solver.propagate(state) and state.unfilled:
            break
    return puzzle


def minimal_puzzle(solution: list[int], geo: solver.Geometry, rng: random.Random) -> list[int]:
    """Remove the clues of ``solution`` in random order while the puzzle stays unique."""
    puzzle = solution[:]
    order = list(range(geo.n * geo.n))
    rng.shuffle(order)
    for cell in order:
        bit = 1 << cell
        digit = next(d for d, mask in enumerate(puzzle) if mask & bit)
        puzzle[digit] ^= bit
        if not removal_keeps_unique(puzzle, geo, cell, digit):
            puzzle[digit] |= bit
    return puzzle


def removal_keeps_unique(puzzle: list[int], geo: solver.Geometry, cell: int, digit: int) -> bool:
    """Whether ``puzzle`` (unique with ``digit`` at the now blank ``cell``) is still unique.

    True iff no solution puts another digit in ``cell``; at once when the other
    digits all sit among the cell's peers.
    """
    peers = geo.peers[cell]
    if all(mask & peers for d, mask in enumerate(puzzle) if d != digit):
        return True
    state = solver.state_from_masks(geo, puzzle)
    state.cand[digit] &= ~(1 << cell)
    if not solver.propagate(state):
        return True
    return not solver.search(state, 1)
