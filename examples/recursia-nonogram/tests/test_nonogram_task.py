"""The nonogram rules, the solver, the generator and the task's puzzle methods (no training)."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from recursia.api import DataBuildRequest, DatasetError, PuzzleError, read_split
from recursia_nonogram import build, layout, lines
from recursia_nonogram.task import NonogramTask

PACKAGE = Path(__file__).resolve().parents[1]
HEART = {"rows": [[1, 1], [5], [5], [3], [1]], "cols": [[2], [4], [4], [4], [2]]}
HEART_ROWS = [".#.#.", "#####", "#####", ".###.", "..#.."]


def task(n: int = 5) -> NonogramTask:
    """The task for ``n x n`` grids."""
    return NonogramTask(NonogramTask.Options(size=n))


def grid_of_rows(rows: list[str]) -> np.ndarray:
    """0/1 grid of '#'/'.' row strings."""
    return np.array([[ch == "#" for ch in row] for row in rows], dtype=np.int64)


# --- lines and the solver ------------------------------------------------------------

def test_clues_and_patterns():
    assert lines.line_clue([1, 1, 0, 1, 0]) == (2, 1) and lines.line_clue([0, 0]) == ()
    assert lines.cells_needed([4, 2]) == 7 and lines.cells_needed([]) == 0
    assert sorted(lines.line_patterns((1, 1), 4)) == [0b0101, 0b1001, 0b1010]
    assert lines.line_patterns((), 5) == (0,) and lines.line_patterns((5,), 5) == (0b11111,)
    assert lines.grid_clues(grid_of_rows(HEART_ROWS)) == ([(1, 1), (5,), (5,), (3,), (1,)],
                                                          [(2,), (4,), (4,), (4,), (2,)])


def test_the_solver_counts_exactly_like_brute_force_on_4x4():
    n = 4
    grids = np.array(list(itertools.product([0, 1], repeat=n * n))).reshape(-1, n, n)  # (65536, 4, 4)
    by_clues = Counter(repr(lines.grid_clues(g)) for g in grids)
    rng = np.random.default_rng(0)
    for g in grids[rng.choice(len(grids), 150, replace=False)]:
        rows, cols = lines.grid_clues(g)
        found, complete = lines.solve(rows, cols, n, limit=50)
        assert complete and len(found) == by_clues[repr((rows, cols))]
        assert all(lines.matches(f, rows, cols) for f in found)
        assert any(np.array_equal(f, g) for f in found)


def test_the_solver_stops_at_its_limit_and_budget():
    rows = cols = [[1]] * 5  # every permutation matrix: 120 solutions
    assert lines.count_solutions(rows, cols, 5, limit=2) == 2
    found, complete = lines.solve(rows, cols, 5, limit=1000, max_nodes=3)
    assert not complete and len(found) < 1000
    assert lines.count_solutions([[5]] * 5, [[4]] * 5, 5) == 0


# --- the generator -------------------------------------------------------------------

@pytest.mark.parametrize("n", [4, 5, 7])
def test_generated_puzzles_are_unique_distinct_and_labelled(n):
    inputs, labels, drawn = build.generate(40, n, seed=1)
    assert inputs.shape == labels.shape == (40, layout.seq_len(n)) and inputs.dtype == np.uint8
    assert drawn >= 40 and len({build.canonical(layout.grid_of(y, n)) for y in labels}) == 40  # distinct up to symmetry
    t = task(n)
    for x, y in zip(inputs, labels):
        rows, cols = layout.decode_clues(x, n)
        assert lines.count_solutions(rows, cols, n, limit=3) == 1
        assert t.check(x, y) and (y[:layout.clue_len(n)] == 0).all()
        assert (x[layout.clue_len(n):] == layout.UNKNOWN).all()
    again, _, _ = build.generate(10, n, seed=1)
    np.testing.assert_array_equal(again, inputs[:10])  # seeded, and a prefix of a larger draw


def test_build_dataset_splits_are_disjoint_seeded_and_augmented(tmp_path):
    t = task(5)
    summary = t.build_dataset(DataBuildRequest(out=tmp_path / "d", train_size=30, test_size=10, aug=3, seed=2))
    assert (summary["train_puzzles"], summary["train_examples"], summary["test_puzzles"]) == (30, 120, 10)
    train, test = read_split(tmp_path / "d" / "train"), read_split(tmp_path / "d" / "test")
    assert (train.meta["vocab_size"], train.meta["seq_len"]) == (t.vocab_size, t.seq_len)
    assert np.diff(train.group_indices).tolist() == [4] * 30 and test.num_examples == 10
    for split in (train, test):
        inputs, labels = np.asarray(split.inputs), np.asarray(split.labels)
        assert all(t.check(x, y) for x, y in zip(inputs, labels))  # augmented copies too
    record = json.loads((tmp_path / "d" / "train" / "augmentations.json").read_text())
    assert "nonogram.dihedral" in json.dumps(record)
    keys = lambda s: {build.canonical(layout.grid_of(y, 5)) for y in np.asarray(s.labels)}  # noqa: E731
    assert keys(train).isdisjoint(keys(test))
    t.build_dataset(DataBuildRequest(out=tmp_path / "again", train_size=30, test_size=10, aug=3, seed=2))
    np.testing.assert_array_equal(read_split(tmp_path / "again" / "train").inputs, train.inputs)


@pytest.mark.parametrize("change, message", [
    ({"source": "csv:x.csv"}, "unknown nonogram data source 'csv:x.csv'"),
    ({"train_size": -1}, "train_size must be >= 0"),
    ({"train_size": 40}, "distinct uniquely solvable 4x4 nonograms in 45 random grids, fewer than the 45 asked"),
])
def test_build_dataset_errors(tmp_path, monkeypatch, change, message):
    monkeypatch.setattr(build, "MAX_DRAWS", 1)  # every non-unique draw is then a missing puzzle
    with pytest.raises(DatasetError, match=message):
        task(4).build_dataset(DataBuildRequest(out=tmp_path, **({"train_size": 5, "test_size": 5} | change)))


# --- the task's puzzle methods -------------------------------------------------------

def test_shapes_options_and_layout():
    t = task(5)
    assert (t.vocab_size, t.seq_len, t.describe()) == (10, 2 * 5 * 3 + 25, "nonogram 5x5")
    assert (task(10).vocab_size, task(10).seq_len, task(4).seq_len) == (15, 200, 32)
    assert NonogramTask().options.size == 5 and layout.size_of(55) == 5
    x = t.parse(HEART)
    assert x.dtype == np.int64 and x.shape == (55,)
    assert x[:6].tolist() == [layout.SLOT, 5, 5, layout.SLOT, layout.SLOT, 9]  # row 1 [1, 1], row 2 [5]
    assert x[30:].tolist() == [layout.UNKNOWN] * 25


def test_check_accepts_any_grid_matching_the_clues_and_nothing_else():
    t = task(5)
    x = t.parse(HEART)
    y = layout.label(grid_of_rows(HEART_ROWS))
    assert t.check(x, y) and t.decode(x, y) == HEART_ROWS
    wrong = y.copy()
    wrong[30] = layout.FILLED  # one more filled cell
    assert not t.check(x, wrong) and not t.check(x, x) and not t.check(x, y[:-1])
    assert not t.check(x, np.where(np.arange(55) == 31, layout.UNKNOWN, y))  # an unknown cell is no answer
    other = y.copy()
    other[:30] = 7  # clue positions of an answer are ignored
    assert t.check(x, other)
    many = t.parse({"rows": [[1]] * 5, "cols": [[1]] * 5})  # any permutation matrix
    eye = layout.label(np.eye(5, dtype=np.int64))
    flipped = layout.label(np.eye(5, dtype=np.int64)[::-1])
    assert t.check(many, eye) and t.check(many, flipped)
    assert t.notes(many) and not t.notes(x)


@pytest.mark.parametrize("puzzle, message", [
    ([[1]], "a nonogram puzzle is an object {\"rows\": [...], \"cols\": [...]} of clue lists, got list"),
    ({"rows": [[1]] * 5}, "the puzzle has no 'cols': a list of 5 column clues"),
    ({"rows": [[1]] * 5, "cols": [[1]] * 5, "size": 5}, "unexpected key 'size' in the puzzle"),
    ({"rows": [[1]] * 4, "cols": [[1]] * 5}, "expected 5 row clues for a 5x5 grid, got 4"),
    ({"rows": [[1]] * 5, "cols": "11111"}, "'cols' is a str, expected a list of 5 column clues"),
    ({"rows": [[1], [1], [4, 2], [1], [1]], "cols": [[1]] * 5}, "row 3 clue [4, 2] needs 7 cells, the grid has 5"),
    ({"rows": [[1]] * 5, "cols": [[1], [1], [1], [6], [1]]}, "column 4 clue [6] needs 6 cells, the grid has 5"),
    ({"rows": [[1], "2", [1], [1], [1]], "cols": [[1]] * 5}, "row 2 clue is a str, expected a list of run lengths"),
    ({"rows": [[1], [1, -1], [1], [1], [1]], "cols": [[1]] * 5}, "row 2 clue [1, -1]: run lengths are positive"),
    ({"rows": [[1], [1, 0], [1], [1], [1]], "cols": [[1]] * 5}, "row 2 clue [1, 0]: 0 only stands alone"),
    ({"rows": [[1], [1.5], [1], [1], [1]], "cols": [[1]] * 5}, "row 2 clue [1.5]: 1.5 is not a whole number"),
    ({"rows": [[2]] * 5, "cols": [[1]] * 5}, "the row clues fill 10 cells but the column clues fill 5"),
    ({"rows": [[5], [], [], [], []], "cols": [[1], [1], [1], [1, 1], [1]]},
     "the row clues fill 5 cells but the column clues fill 6"),
    ({"rows": [[2], [], [], [], []], "cols": [[1], [], [1], [], []]}, "the puzzle has no solution"),
])
def test_parse_errors_are_one_line_and_name_the_problem(puzzle, message):
    with pytest.raises(PuzzleError) as info:
        task(5).parse(puzzle)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_parse_accepts_empty_lines_and_bare_numbers_and_round_trips():
    t = task(5)
    plain = t.parse({"rows": [[5], [0], [], [1], [1]], "cols": [[1, 1], [1], [1], [1], [1, 1]]})
    assert t.parse({"rows": [5, 0, [], 1, [1]], "cols": [[1, 1], 1, 1, 1, [1, 1]]}).tolist() == plain.tolist()
    assert t.format_puzzle(plain) == {"rows": [[5], [], [], [1], [1]], "cols": [[1, 1], [1], [1], [1], [1, 1]]}
    inputs, _, _ = build.generate(30, 6, seed=4)
    t6 = task(6)
    for x in inputs:
        formatted = t6.format_puzzle(x)
        assert json.loads(json.dumps(formatted)) == formatted
        np.testing.assert_array_equal(t6.parse(formatted), x)


def test_render_shows_clues_cells_and_marks():
    t = task(5)
    x = t.parse(HEART)
    assert t.render(x).splitlines() == [
        "     2 4 4 4 2",
        "1 1  ? ? ? ? ?",
        "  5  ? ? ? ? ?",
        "  5  ? ? ? ? ?",
        "  3  ? ? ? ? ?",
        "  1  ? ? ? ? ?",
    ]
    y = layout.label(grid_of_rows(HEART_ROWS))
    changed = np.zeros(55, bool)
    changed[30 + 1] = True
    lines_ = t.render(x, y, changed).splitlines()
    assert lines_[0] == "     2  4  4  4  2" and lines_[1] == "1 1  .  #* .  #  ."
    tall = t.render(t.parse({"rows": [[1, 1, 1], [], [1, 1, 1], [], [1, 1, 1]],
                             "cols": [[1, 1, 1], [], [1, 1, 1], [], [1, 1, 1]]}))
    assert tall.splitlines()[:4] == ["       1   1   1"] * 3 + ["1 1 1  ? ? ? ? ?"]


def test_render_html_puts_the_clues_around_the_grid():
    t = task(5)
    x = t.parse(HEART)
    y = layout.label(grid_of_rows(HEART_ROWS))
    changed = np.zeros(55, bool)
    changed[30 + 1] = True
    html = t.render_html(x, y, changed)
    assert html.startswith('<table class="grid"') and 'data-rows="6" data-cols="7"' in html
    assert html.count("<tr>") == 6 and html.count("<td") == 42
    assert html.count("#222222") == 16  # the heart's filled cells
    assert html.count("chg") == 1
    assert "#bbbbbb" in t.render_html(x)  # unknown cells of the puzzle


def test_options_for_puzzle_and_compatibility():
    t = task(5)
    assert t.options_for_puzzle({"rows": [[1]] * 7, "cols": [[1]] * 7}) == {"size": 7}
    assert t.options_for_puzzle({"rows": [[1]] * 12}) == {"size": 5} and t.options_for_puzzle([1]) == {"size": 5}
    assert t.compatible({"size": 5}) is None
    assert "trained on 6x6" in t.compatible({"size": 6}) and "not nonogram options" in t.compatible({"size": 99})


def test_the_example_puzzle_file_is_a_unique_5x5():
    data = json.loads((PACKAGE / "puzzles" / "nonogram5.json").read_text())
    assert data["task"] == "nonogram" and task(5).options_for_puzzle(data["puzzle"]) == {"size": 5}
    rows, cols = task(5).format_puzzle(task(5).parse(data["puzzle"])).values()
    assert lines.count_solutions(rows, cols, 5, limit=3) == 1
