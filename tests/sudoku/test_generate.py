"""The Sudoku solver and the puzzle generator."""

from __future__ import annotations

import time

import numpy as np
import pytest

from recursia_sudoku import generate as gen
from recursia_sudoku import solver
from recursia_sudoku.grid import is_valid_solution

HARD_SAMPLE = 20  # puzzles per hard set: every k-th line, so the sample spans the file
EASY_9X9 = "..3.2.6..9..3.5..1..18.64....81.29..7.......8..67.82....26.95..8..2.3..9..5.1.3.."


def hard_puzzles(path, count: int) -> list[np.ndarray]:
    """``count`` puzzles spread over a one-puzzle-per-line file."""
    lines = [s.strip() for s in path.read_text().splitlines() if s.strip() and not s.startswith("#")]
    picked = lines[:: max(1, len(lines) // count)][:count]
    return [np.array([0 if c in ".0" else int(c) for c in line], dtype=np.uint8) for line in picked]


def digits(text: str) -> np.ndarray:
    """A digit array of a puzzle string (``.`` blank)."""
    return np.array([0 if c == "." else int(c) for c in text], dtype=np.uint8)


@pytest.mark.parametrize("name", ["top1465.txt", "forum_hardest_1106.txt"])
def test_solver_hard_sets(shared, name):
    for puzzle in hard_puzzles(shared("data", "sudoku-hard", name), HARD_SAMPLE):
        start = time.perf_counter()
        assert solver.count_solutions(puzzle, 9) == 1
        solution = solver.solve(puzzle, 9)
        assert time.perf_counter() - start < 2.0
        assert solution.dtype == np.uint8 and solution.shape == (81,)
        assert is_valid_solution(puzzle, solution, 9)


def test_needs_search_on_hardest_and_easy(shared):
    for puzzle in hard_puzzles(shared("data", "sudoku-hard", "forum_hardest_1106.txt"), 10):
        assert solver.needs_search(puzzle, 9)
    assert not solver.needs_search(digits(EASY_9X9), 9)


def test_count_solutions_of_empty_grids():
    assert solver.count_solutions(np.zeros(16, dtype=np.uint8), 4, limit=1000) == 288
    assert solver.count_solutions(np.zeros(36, dtype=np.uint8), 6, limit=50) == 50


def test_unsolvable_and_clashing_puzzles():
    clash = np.zeros(81, dtype=np.uint8)
    clash[[0, 1]] = 5  # two 5s in row 1
    assert solver.count_solutions(clash, 9) == 0
    assert solver.solve(clash, 9) is None
    assert solver.needs_search(clash, 9)
    stuck = np.zeros(16, dtype=np.uint8)
    stuck[[2, 3, 8, 12]] = [1, 2, 3, 4]  # no clash, but cell 0 sees every digit
    assert solver.count_solutions(stuck, 4) == 0
    assert solver.solve(stuck, 4) is None


def test_solver_rejects_bad_arguments():
    with pytest.raises(ValueError, match="unsupported Sudoku size 5"):
        solver.count_solutions(np.zeros(25), 5)
    with pytest.raises(ValueError, match="has 81 cells, got 80"):
        solver.solve(np.zeros(80), 9)
    with pytest.raises(ValueError, match="0 \\(blank\\) .. 4"):
        solver.solve(np.full(16, 5), 4)
    with pytest.raises(ValueError, match="limit"):
        solver.count_solutions(np.zeros(16), 4, limit=0)


def assert_unique_and_minimal(puzzles: np.ndarray, solutions: np.ndarray, n: int) -> None:
    """Every puzzle has exactly its solution, and losing any clue breaks uniqueness."""
    for puzzle, solution in zip(puzzles, solutions):
        assert is_valid_solution(puzzle, solution, n)
        assert solver.count_solutions(puzzle, n) == 1
        for cell in np.flatnonzero(puzzle):
            fewer = puzzle.copy()
            fewer[cell] = 0
            assert solver.count_solutions(fewer, n) == 2, f"clue at cell {cell} is removable"


@pytest.mark.parametrize("n,count", [(4, 40), (6, 12), (9, 3)])
def test_generated_puzzles_are_unique_and_minimal(n, count):
    puzzles, solutions = gen.generate(count, n, seed=3)
    assert puzzles.shape == solutions.shape == (count, n * n)
    assert puzzles.dtype == solutions.dtype == np.uint8
    assert_unique_and_minimal(puzzles, solutions, n)


def test_generation_is_reproducible():
    first = gen.generate(40, 6, seed=11)
    again = gen.generate(40, 6, seed=11)
    other = gen.generate(40, 6, seed=12)
    shorter = gen.generate(7, 6, seed=11)
    for a, b, s in zip(first, again, shorter):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a[:7], s)  # a longer run extends a shorter one
    assert not np.array_equal(first[0], other[0])


def test_workers_do_not_change_the_result():
    count = 2 * gen.CHUNK + 5
    single = gen.generate(count, 4, seed=5)
    parallel = gen.generate(count, 4, seed=5, workers=2)
    for a, b in zip(single, parallel):
        np.testing.assert_array_equal(a, b)


def test_9x9_puzzles_mostly_need_search():
    """Measured 100% of 600 with the default tries (60% with one try); Sudoku-Extreme has 17-35 clues."""
    puzzles, _ = gen.generate(32, 9, seed=0)
    needing = np.mean([solver.needs_search(p, 9) for p in puzzles])
    clues = (puzzles != 0).sum(axis=1)
    assert needing >= 0.9
    assert 17 <= clues.min() and clues.max() <= 35
    assert 22 <= clues.mean() <= 27


def test_generate_rejects_bad_arguments():
    with pytest.raises(ValueError, match="unsupported Sudoku size"):
        gen.generate(1, 8, seed=0)
    with pytest.raises(ValueError, match="count"):
        gen.generate(-1, 4, seed=0)
    with pytest.raises(ValueError, match="search_tries"):
        gen.generate(1, 4, seed=0, search_tries=0)
    puzzles, solutions = gen.generate(0, 9, seed=0)
    assert puzzles.shape == solutions.shape == (0, 81)
