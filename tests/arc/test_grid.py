"""ARC tokens: the canvas encoding, the official crop, parsing errors, text rendering."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recursia.errors import PuzzleError
from recursia_arc import grid

SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def placed_grid(draw, max_canvas: int = 30):
    """(canvas, grid, offset): a random grid of random shape at a random offset that fits."""
    canvas = draw(st.integers(2, max_canvas))
    h, w = draw(st.integers(1, canvas)), draw(st.integers(1, canvas))
    seed = draw(st.integers(0, 2**32 - 1))
    g = np.random.default_rng(seed).integers(0, 10, (h, w)).astype(np.uint8)
    offset = (draw(st.integers(0, canvas - h)), draw(st.integers(0, canvas - w)))
    return canvas, g, offset


@SETTINGS
@given(placed_grid())
def test_encode_then_crop_round_trip(case):
    canvas, g, (r, c) = case
    tokens = grid.encode_grid(g, canvas, (r, c))
    assert tokens.shape == (canvas * canvas,) and tokens.dtype == np.uint8
    board = tokens.reshape(canvas, canvas)
    h, w = g.shape
    assert np.array_equal(board[r:r + h, c:c + w], g + 2)
    # EOS just below and just right of the grid, where inside the canvas; PAD everywhere else
    eos = np.zeros_like(board, dtype=bool)
    if r + h < canvas:
        eos[r + h, c:c + w] = True
    if c + w < canvas:
        eos[r:r + h, c + w] = True
    assert np.all(board[eos] == grid.EOS)
    inside = np.zeros_like(eos)
    inside[r:r + h, c:c + w] = True
    assert np.all(board[~eos & ~inside] == grid.PAD)
    # the crop from the grid's corner gives the grid back; at the top-left the crop of the canvas does
    assert np.array_equal(grid.crop(board[r:, c:]), g)
    if (r, c) == (0, 0):
        assert np.array_equal(grid.crop(tokens), g)


def test_crop_of_a_canvas_without_eos():
    g = np.random.default_rng(0).integers(0, 10, (30, 30)).astype(np.uint8)
    tokens = grid.encode_grid(g, 30)
    assert not np.any(tokens == grid.EOS)
    assert np.array_equal(grid.crop(tokens), g)
    # a grid filling the canvas's width only: EOS row below, no EOS column
    h = grid.encode_grid(g[:5], 30).reshape(30, 30)
    assert np.all(h[5] == grid.EOS) and np.array_equal(grid.crop(h.reshape(-1)), g[:5])


def test_crop_of_garbage_predictions():
    empty = grid.crop(np.zeros(900, dtype=np.int64))
    assert empty.shape == (0, 0) and empty.dtype == np.uint8
    assert grid.crop(np.full(900, grid.EOS)).shape == (0, 0)
    assert grid.crop(np.full(900, 99)).shape == (0, 0)  # out-of-vocabulary tokens are no colours
    # rows get narrower: the running minimum of the colour runs, best area wins
    board = np.zeros((30, 30), dtype=np.int64)
    board[0, :6] = 5  # a run of 6
    board[1, :8] = 5  # 8, capped at 6
    board[2, :2] = 5  # 2
    assert grid.crop_size(board.reshape(-1)) == (2, 6)  # 2x6 = 12 beats 3x2 = 6
    board[3:15, :2] = 7
    assert grid.crop_size(board.reshape(-1)) == (15, 2)  # 15x2 = 30
    assert grid.crop(board.reshape(-1)).max() == 5
    assert grid.crop(np.arange(900) % 12).shape == (0, 0)  # starts with PAD
    with pytest.raises(ValueError):
        grid.crop(np.zeros(50))


def test_encode_pair_shares_the_offset_and_checks_the_fit():
    a, b = np.ones((2, 3), np.uint8), np.full((4, 1), 9, np.uint8)
    i, o = grid.encode_pair(a, b, 10, (3, 5))
    assert i.reshape(10, 10)[3, 5] == 3 and o.reshape(10, 10)[3, 5] == 11
    assert grid.max_offset([(2, 3), (4, 1)], 10) == (6, 7)
    with pytest.raises(ValueError):
        grid.encode_grid(np.zeros((11, 2), np.uint8), 10)
    with pytest.raises(ValueError):
        grid.encode_grid(a, 10, (9, 0))


TASK = {"train": [{"input": [[1, 2], [3, 4]], "output": [[4, 3], [2, 1]]}],
        "test": [{"input": [[0, 1, 2]], "output": [[2, 1, 0]]}, {"input": [[5]], "output": [[5]]}]}


def test_parse_task():
    train, tests, outputs = grid.parse_task(TASK)
    assert len(train) == 1 and np.array_equal(train[0][1], [[4, 3], [2, 1]]) and train[0][0].dtype == np.uint8
    assert [t.shape for t in tests] == [(1, 3), (1, 1)] and [o.tolist() for o in outputs] == [[[2, 1, 0]], [[5]]]
    unsolved = {"train": TASK["train"], "test": [{"input": [[1]]}]}
    assert grid.parse_task(unsolved)[2] is None
    obj = grid.task_object(train, tests, outputs)
    assert obj == TASK


@pytest.mark.parametrize("puzzle,message", [
    ([1, 2], "an ARC task is an object"),
    ({"test": [{"input": [[1]]}]}, "train: expected a list"),
    ({"train": [], "test": [{"input": [[1]]}]}, "train: the list is empty"),
    ({"train": TASK["train"], "test": "x"}, "test: expected a list"),
    ({"train": [{"input": [[1]]}], "test": [{"input": [[1]]}]}, "train[0]: missing 'output'"),
    ({"train": [3], "test": [{"input": [[1]]}]}, "train[0]: expected an object"),
    ({"train": TASK["train"], "test": [{"input": [[1, 2, 3, 4], [1, 2, 3]]}]},
     "test[0].input: row 2 has 3 cells, row 1 has 4"),
    ({"train": TASK["train"] + [{"input": [[1]], "output": [[1, 1, 12]]}], "test": [{"input": [[1]]}]},
     "train[1].output: colour 12 at row 1, column 3 is not 0-9"),
    ({"train": TASK["train"], "test": [{"input": [[1, True]]}]}, "test[0].input: colour True"),
    ({"train": TASK["train"], "test": [{"input": [[1.5]]}]}, "test[0].input: colour 1.5"),
    ({"train": TASK["train"], "test": [{"input": []}]}, "test[0].input: the grid has no rows"),
    ({"train": TASK["train"], "test": [{"input": [[]]}]}, "test[0].input: row 1 is empty"),
    ({"train": TASK["train"], "test": [{"input": "0120"}]}, "test[0].input: expected a list of rows"),
    ({"train": TASK["train"], "test": [{"input": [1, 2]}]}, "test[0].input: row 1 is not a list"),
    ({"train": TASK["train"], "test": [{"input": [[0] * 31]}]}, "test[0].input: a 1x31 grid does not fit the 30x30"),
    ({"train": TASK["train"], "test": [{"input": [[1]], "output": [[1]]}, {"input": [[1]]}]},
     "test[1]: no 'output' while test[0] has one"),
])
def test_parse_errors_name_the_field(puzzle, message):
    with pytest.raises(PuzzleError) as e:
        grid.parse_task(puzzle)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_parse_checks_the_canvas_it_is_given():
    big = {"train": [{"input": [[1] * 12], "output": [[1]]}], "test": [{"input": [[1]]}]}
    with pytest.raises(PuzzleError, match=r"train\[0\]\.input: a 1x12 grid does not fit the 11x11 canvas"):
        grid.parse_task(big, canvas=11)
    assert grid.parse_task(big, canvas=None)[0][0][0].shape == (1, 12)


def test_render_grid_and_marks():
    g = np.array([[0, 1], [2, 3]])
    assert grid.render_grid(g) == "01\n23"
    marks = np.array([[True, False], [False, True]])
    assert grid.render_grid(g, marks) == "0*1\n2 3*"
    assert grid.render_grid(np.zeros((0, 0))) == "(empty grid)"
