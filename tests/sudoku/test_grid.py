"""Grid logic of the Sudoku plugin: parsing, conflicts, validity, rendering."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recursia.errors import PuzzleError
from recursia_sudoku import grid

SIZES = (4, 6, 9)

# A classic 9x9 puzzle and its solution (row strings).
PUZZLE = ["53..7....", "6..195...", ".98....6.", "8...6...3", "4..8.3..1",
          "7...2...6", ".6....28.", "...419..5", "....8..79"]
SOLUTION = ["534678912", "672195348", "198342567", "859761423", "426853791",
            "713924856", "961537284", "287419635", "345286179"]


def base_grid(n: int) -> np.ndarray:
    """The pattern solution ``(r*box_cols + r//box_rows + c) % n + 1`` as (n, n) digits."""
    br, bc = grid.box_shape(n)
    r, c = np.divmod(np.arange(n * n), n)
    return ((r * bc + r // br + c) % n + 1).reshape(n, n)


def _line_order(draw, n: int, width: int) -> list[int]:
    """Lines reordered by groups of ``width`` (bands or stacks), then inside each group."""
    order = []
    for group in draw(st.permutations(range(n // width))):
        for i in draw(st.permutations(range(width))):
            order.append(group * width + i)
    return order


@st.composite
def solutions(draw, n: int) -> np.ndarray:
    """A random valid solved grid (n*n,) built from :func:`base_grid` by symmetry moves.

    Written with plain loops, independently of the plugin's augmentations.
    """
    br, bc = grid.box_shape(n)
    relabel = np.array(draw(st.permutations(range(1, n + 1))))
    g = relabel[base_grid(n) - 1]
    g = g[_line_order(draw, n, br)][:, _line_order(draw, n, bc)]
    if br == bc and draw(st.booleans()):
        g = g.T
    return g.ravel()


@st.composite
def pairs(draw, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A (puzzle, solution) pair of digits: a random solution with random cells blanked."""
    solution = draw(solutions(n))
    blank = np.array(draw(st.lists(st.booleans(), min_size=n * n, max_size=n * n)))
    return np.where(blank, 0, solution), solution


def _digits(rows: list[str]) -> np.ndarray:
    return grid.parse_puzzle(rows)


def _error(obj, n=None) -> str:
    with pytest.raises(PuzzleError) as info:
        grid.parse_puzzle(obj, n)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- shapes and tokens -------------------------------------------------------------

def test_box_shapes():
    assert [grid.box_shape(n) for n in SIZES] == [(2, 2), (2, 3), (3, 3)]
    assert [grid.vocab_size(n) for n in SIZES] == [6, 8, 11]
    with pytest.raises(PuzzleError, match="unsupported Sudoku size 5; expected 4, 6 or 9"):
        grid.box_shape(5)


def test_token_conversion_round_trip():
    digits = np.array([0, 1, 5, 9])
    tokens = grid.digits_to_tokens(digits)
    assert tokens.dtype == np.int64 and tokens.tolist() == [1, 2, 6, 10]
    assert grid.tokens_to_digits(tokens).tolist() == digits.tolist()
    assert grid.tokens_to_digits(np.array([0, 1], dtype=np.uint8)).tolist() == [0, 0]


def test_units_cover_rows_columns_and_boxes():
    u = grid.units(6)
    assert u.shape == (18, 6)
    assert u[1].tolist() == [6, 7, 8, 9, 10, 11]
    assert u[6 + 2].tolist() == [2, 8, 14, 20, 26, 32]
    assert u[12 + 1].tolist() == [3, 4, 5, 9, 10, 11]  # box 2: rows 1-2, columns 4-6
    assert u[12 + 2].tolist() == [12, 13, 14, 18, 19, 20]


# --- parsing -----------------------------------------------------------------------

def test_parse_string_and_rows_agree():
    from_rows = grid.parse_puzzle(PUZZLE)
    from_string = grid.parse_puzzle("".join(PUZZLE).replace(".", "0") + "\n", 9)
    assert from_rows.dtype == np.int64 and from_rows.shape == (81,)
    assert from_rows.tolist() == from_string.tolist()
    assert from_rows[:9].tolist() == [5, 3, 0, 0, 7, 0, 0, 0, 0]


@pytest.mark.parametrize("n", SIZES)
def test_parse_infers_size_from_cells_and_rows(n):
    rows = ["".join(map(str, row)) for row in base_grid(n)]
    assert grid.infer_size(rows) == n and grid.infer_size("".join(rows)) == n
    assert grid.parse_puzzle("".join(rows)).tolist() == base_grid(n).ravel().tolist()
    assert grid.parse_puzzle(tuple(rows)).tolist() == base_grid(n).ravel().tolist()


def test_infer_size_of_shapeless_puzzles():
    assert grid.infer_size("1" * 80) is None
    assert grid.infer_size(["1" * 9] * 8) is None
    assert grid.infer_size({"rows": 9}) is None


@pytest.mark.parametrize("obj, n, expected", [
    ("." * 80, 9, "expected 81 cells, got 80"),
    ("." * 80, None, "expected 16, 36 or 81 cells, got 80"),
    (PUZZLE[:8], 9, "expected 9 rows, got 8"),
    (PUZZLE[:8], None, "expected 4, 6 or 9 rows, got 8"),
    (PUZZLE[:2] + ["1234567890"] + PUZZLE[3:], 9, "row 3 has 10 characters, expected 9"),
    (PUZZLE[:2] + [123] + PUZZLE[3:], 9, "row 3 is a int, expected a string of 9 characters"),
    (PUZZLE[:4] + ["4..x.3..1"] + PUZZLE[5:], 9, "row 5: unexpected character 'x' at column 4"),
    ("." * 40 + "x" + "." * 40, 9, "row 5: unexpected character 'x' at column 5"),
    ("..7." + "." * 12, 4, "row 1: unexpected character '7' at column 3 (a 4x4 Sudoku uses 1-4"),
    ({"rows": PUZZLE}, 9, "a 9x9 Sudoku is a string of 81 characters or a list of 9 strings, got dict"),
    (None, None, "a Sudoku is a string of 81 characters or a list of 9 strings, got NoneType"),
])
def test_parse_errors_name_the_problem_and_place(obj, n, expected):
    assert expected in _error(obj, n)


# --- conflicts and validity ----------------------------------------------------------

def test_find_conflicts_names_row_column_and_box():
    digits = _digits(PUZZLE)
    assert grid.find_conflicts(digits, 9) == []
    digits[2 * 9 + 0] = 5  # row 3, column 1: a second 5 in column 1 and in box 1
    assert grid.find_conflicts(digits, 9) == ["column 1 has two 5s", "box 1 has two 5s"]
    digits = _digits(PUZZLE)
    digits[2 * 9 + 6] = 9  # row 3, column 7: a second 9 in row 3 only
    assert grid.find_conflicts(digits, 9) == ["row 3 has two 9s"]


def test_find_conflicts_counts_and_boxes_of_6x6():
    digits = np.zeros(36, dtype=np.int64)
    digits[[0, 1, 2]] = 4  # three 4s in row 1 and in box 1
    digits[3 * 6 + 5] = 2  # row 4, column 6: box 4
    digits[5 * 6 + 4] = 2  # row 6, column 5: box 6 (with 3x2 boxes it would share box 4's)
    assert grid.find_conflicts(digits, 6) == ["row 1 has three 4s", "box 1 has three 4s"]
    digits[4 * 6 + 3] = 2  # row 5, column 4: box 6 again
    assert grid.find_conflicts(digits, 6)[2:] == ["box 6 has two 2s"]


def test_validate_puzzle_reports_conflicts_on_one_line():
    digits = _digits(PUZZLE)
    digits[2 * 9 + 6] = 9
    with pytest.raises(PuzzleError, match="^row 3 has two 9s$"):
        grid.validate_puzzle(digits, 9)
    many = np.ones(81, dtype=np.int64)
    with pytest.raises(PuzzleError) as info:
        grid.validate_puzzle(many, 9)
    assert str(info.value) == "row 1 has nine 1s; row 2 has nine 1s; row 3 has nine 1s (and 24 more)"


def test_validate_puzzle_reports_a_puzzle_without_solution():
    digits = _digits(["12345678.", "........9"] + ["........."] * 7)  # cell (1, 9) must be a 9
    assert grid.find_conflicts(digits, 9) == []
    with pytest.raises(PuzzleError, match="^the puzzle has no solution$"):
        grid.validate_puzzle(digits, 9)
    grid.validate_puzzle(_digits(PUZZLE), 9)


@pytest.mark.parametrize("n", SIZES)
def test_base_grid_is_a_valid_solution(n):
    assert grid.is_valid_solution(np.zeros(n * n), base_grid(n).ravel(), n)


def test_is_valid_solution_rejects_bad_answers():
    puzzle, answer = _digits(PUZZLE), _digits(SOLUTION)
    assert grid.is_valid_solution(puzzle, answer, 9)
    swapped = answer.copy()
    swapped[[0, 1]] = swapped[[1, 0]]  # row stays a permutation, columns do not
    assert not grid.is_valid_solution(np.zeros(81), swapped, 9)
    blank = answer.copy()
    blank[40] = 0
    assert not grid.is_valid_solution(puzzle, blank, 9)
    other_givens = puzzle.copy()
    other_givens[2] = 1  # a given the answer does not keep
    assert not grid.is_valid_solution(other_givens, answer, 9)
    assert not grid.is_valid_solution(puzzle, answer[:80], 9)


@pytest.mark.parametrize("n", SIZES)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_random_solutions_are_valid_and_break_under_one_change(n, data):
    puzzle, solution = data.draw(pairs(n))
    assert grid.is_valid_solution(puzzle, solution, n)
    assert grid.find_conflicts(puzzle, n) == []
    cell = data.draw(st.integers(0, n * n - 1))
    changed = solution.copy()
    changed[cell] = changed[cell] % n + 1
    assert not grid.is_valid_solution(np.zeros(n * n), changed, n)
    assert grid.find_conflicts(changed, n)


# --- rendering ---------------------------------------------------------------------

def test_render_9x9_puzzle():
    lines = grid.render(_digits(PUZZLE), 9).splitlines()
    assert len(lines) == 11
    assert lines[0] == "5 3 . | . 7 . | . . ."
    assert lines[3] == lines[7] == "------+-------+------"
    assert lines[10] == ". . . | . 8 . | . 7 9"


def test_render_6x6_has_2x3_boxes():
    assert grid.render(base_grid(6).ravel(), 6) == "\n".join([
        "1 2 3 | 4 5 6",
        "4 5 6 | 1 2 3",
        "------+------",
        "2 3 4 | 5 6 1",
        "5 6 1 | 2 3 4",
        "------+------",
        "3 4 5 | 6 1 2",
        "6 1 2 | 3 4 5",
    ])


def test_render_marks_changed_cells_and_stays_aligned():
    changed = np.zeros(81, dtype=bool)
    changed[[1, 9 + 8, 80]] = True
    lines = grid.render(_digits(SOLUTION), 9, changed).splitlines()
    assert lines[0] == "5  3* 4  | 6  7  8  | 9  1  2"
    assert lines[1].endswith("8*")
    assert lines[10].endswith("9*")
    assert sum(line.count("*") for line in lines) == 3
    bars = {tuple(i for i, ch in enumerate(line) if ch in "|+") for line in lines}
    assert len(bars) == 1  # every box separator in the same columns
