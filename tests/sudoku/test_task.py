"""The Sudoku task class and the plugin's hooks."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

import recursia_sudoku
from recursia.errors import PuzzleError
from recursia.plugins import load_plugins
from recursia.task import Task
from recursia_sudoku import grid
from recursia_sudoku.task import SudokuTask
from tests.sudoku.test_grid import PUZZLE, SOLUTION, base_grid


def task(size: int = 9) -> SudokuTask:
    """A Sudoku task of the given size."""
    return SudokuTask(SudokuTask.Options(size=size))


def _rows(n: int, digits: np.ndarray) -> list[str]:
    return ["".join(map(str, row)) for row in np.asarray(digits).reshape(n, n)]


def _parse_error(t: SudokuTask, puzzle) -> str:
    with pytest.raises(PuzzleError) as info:
        t.parse(puzzle)
    return str(info.value)


def test_options_and_shapes():
    assert SudokuTask().options.size == 9
    assert [(task(n).vocab_size, task(n).seq_len) for n in (4, 6, 9)] == [(6, 16), (8, 36), (11, 81)]
    assert SudokuTask.name == "sudoku" and SudokuTask.default_mixer == "mlp" and SudokuTask.description
    assert task(6).describe() == "sudoku 6x6"
    with pytest.raises(ValidationError):
        SudokuTask.Options(size=5)
    with pytest.raises(ValidationError):
        SudokuTask.Options(size=9, boxes=3)


def test_parse_gives_int64_tokens():
    tokens = task().parse(PUZZLE)
    assert tokens.dtype == np.int64 and tokens.shape == (81,)
    assert tokens[:9].tolist() == [6, 4, 1, 1, 8, 1, 1, 1, 1]
    np.testing.assert_array_equal(task().parse("".join(PUZZLE)), tokens)


def test_parse_matches_the_official_tokens(shared):
    folder = shared("data", "sudoku-extreme-1k", "train")
    inputs = np.load(folder / "all__inputs.npy")[:3]
    for row in inputs:
        text = "".join(str(d) if d else "." for d in grid.tokens_to_digits(row))
        np.testing.assert_array_equal(task().parse(text), row.astype(np.int64))


@pytest.mark.parametrize("puzzle, expected", [
    ("." * 80, "expected 81 cells, got 80"),
    (PUZZLE[:2] + ["1234567890"] + PUZZLE[3:], "row 3 has 10 characters, expected 9"),
    (PUZZLE[:4] + ["4..x.3..1"] + PUZZLE[5:], "row 5: unexpected character 'x' at column 4"),
    (PUZZLE[:2] + [".98...96."] + PUZZLE[3:], "row 3 has two 9s"),
    (["12345678.", "........9"] + ["........."] * 7, "the puzzle has no solution"),
])
def test_parse_errors(puzzle, expected):
    assert expected in _parse_error(task(), puzzle)


def test_parse_uses_the_task_size():
    assert _parse_error(task(4), "1234" * 4) == "column 1 has four 1s; column 2 has four 2s; column 3 has four 3s (and 9 more)"
    assert "expected 16 cells, got 81" in _parse_error(task(4), "".join(PUZZLE))


@pytest.mark.parametrize("n", [4, 6, 9])
def test_check_accepts_solutions_and_rejects_the_rest(n):
    t = task(n)
    solution = base_grid(n).ravel()
    puzzle = np.where(np.arange(n * n) % 3 == 0, solution, 0)
    inputs, answer = t.parse(_rows(n, puzzle)), grid.digits_to_tokens(solution)
    assert t.check(inputs, answer)
    assert not t.check(inputs, inputs)  # blanks left
    broken = answer.copy()
    broken[[1, 2]] = broken[[2, 1]]
    assert not t.check(inputs, broken)
    assert not t.check(inputs, np.where(np.arange(n * n) == 4, 0, answer))  # a PAD token


def test_decode_and_render():
    t = task()
    inputs, answer = t.parse(PUZZLE), t.parse(SOLUTION)
    assert t.decode(inputs, answer) == SOLUTION
    assert t.decode(inputs, inputs)[0] == "53..7...."
    assert t.render(inputs).splitlines()[0] == "5 3 . | . 7 . | . . ."
    assert t.render(inputs, answer).splitlines()[0] == "5 3 4 | 6 7 8 | 9 1 2"
    marked = t.render(inputs, answer, changed=inputs != answer).splitlines()[0]
    assert marked == "5  3  4* | 6* 7  8* | 9* 1* 2*"


def test_options_for_puzzle_follow_its_size():
    t = task()
    assert t.options_for_puzzle("." * 16) == {"size": 4}
    assert t.options_for_puzzle(["......"] * 6) == {"size": 6}
    assert t.options_for_puzzle(PUZZLE) == {"size": 9}
    assert task(6).options_for_puzzle("." * 80) == {"size": 6}


def test_compatible_explains_a_size_mismatch():
    assert task(9).compatible({"size": 9}) is None
    assert task(9).compatible({"size": 6}) == (
        "this is a 9x9 puzzle but the checkpoint was trained on 6x6 Sudoku (task option size=6); "
        "train a 9x9 model (--set task_options.size=9 or --preset paper) or pass a 6x6 puzzle")
    assert "train a 4x4 model (--set task_options.size=4) or pass a 9x9 puzzle" in task(4).compatible({"size": 9})
    assert "are not sudoku options" in task(9).compatible({"size": 9, "colours": 10})


@pytest.mark.parametrize("n, expected", [(6, 3), (9, 4)])
def test_augmentations_match_the_size(n, expected):
    augs = task(n).augmentations()
    assert len(augs) == expected and {a.size for a in augs} == {n}


def test_plugin_hooks_register_the_task_and_9x9_augmentations():
    tasks, augs = [], []
    recursia_sudoku.register_tasks(register=tasks.append)
    recursia_sudoku.register_augmentations(register=augs.append)
    assert tasks == [SudokuTask] and issubclass(SudokuTask, Task)
    assert [a.name for a in augs] == ["sudoku.digits", "sudoku.bands", "sudoku.rows", "sudoku.transpose"]
    assert {a.size for a in augs} == {9}
    registry = load_plugins()
    assert registry.task("sudoku") is SudokuTask
    assert registry.owners[("augmentations", "sudoku.transpose")] == "sudoku"
