"""Sudoku augmentations: invertible, structure-preserving, JSON parameters."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from recursia.data.augment import Augmentation, compose_apply, compose_invert, compose_sample
from recursia_sudoku import grid
from recursia_sudoku.augment import (BandStackShuffle, DigitRelabel, RowColumnShuffle, Transpose,
                                     sudoku_augmentations)
from tests.sudoku.test_grid import base_grid, pairs

SIZES = (4, 6, 9)
ALL = [aug for n in SIZES for aug in sudoku_augmentations(n)]
IDS = [f"{aug.size}-{aug.name}" for aug in ALL]
SEEDS = st.integers(0, 2**32 - 1)
PROPERTY = settings(max_examples=40, deadline=None)


def tokens_of(n: int, batch_shape=st.sampled_from([(), (3,), (2, 2)]), dtype=np.int64):
    """Random token arrays (..., n*n) over PAD, blank and every digit token."""
    return batch_shape.flatmap(lambda shape: hnp.arrays(dtype, shape + (n * n,), elements=st.integers(0, n + 1)))


def params_of(aug, seed: int) -> dict:
    """Parameters drawn by ``aug`` from a seeded generator."""
    return aug.sample(np.random.default_rng(seed))


def test_offered_augmentations_per_size():
    names = {n: [a.name for a in sudoku_augmentations(n)] for n in SIZES}
    assert names[9] == names[4] == ["sudoku.digits", "sudoku.bands", "sudoku.rows", "sudoku.transpose"]
    assert names[6] == ["sudoku.digits", "sudoku.bands", "sudoku.rows"]
    assert all(isinstance(a, Augmentation) for a in ALL)
    with pytest.raises(ValueError, match="needs square boxes; a 6x6 Sudoku has 2x3 boxes"):
        Transpose(6)


# --- properties --------------------------------------------------------------------

@pytest.mark.parametrize("aug", ALL, ids=IDS)
@PROPERTY
@given(data=st.data(), seed=SEEDS)
def test_invert_undoes_apply(aug, data, seed):
    dtype = data.draw(st.sampled_from([np.int64, np.uint8]))
    tokens = data.draw(tokens_of(aug.size, dtype=dtype))
    params = params_of(aug, seed)
    out = aug.apply(tokens, params)
    assert out.shape == tokens.shape and out.dtype == tokens.dtype
    np.testing.assert_array_equal(aug.invert(out, params), tokens)
    np.testing.assert_array_equal(aug.apply(aug.invert(tokens, params), params), tokens)


@pytest.mark.parametrize("aug", ALL, ids=IDS)
@PROPERTY
@given(data=st.data(), seed=SEEDS)
def test_pad_and_blank_tokens_are_kept(aug, data, seed):
    tokens = data.draw(tokens_of(aug.size))
    out = aug.apply(tokens, params_of(aug, seed))
    for special in (grid.PAD, grid.BLANK):
        np.testing.assert_array_equal((out == special).sum(-1), (tokens == special).sum(-1))
    if aug.name == "sudoku.digits":
        np.testing.assert_array_equal(out <= 1, tokens <= 1)


@pytest.mark.parametrize("aug", ALL, ids=IDS)
@PROPERTY
@given(data=st.data(), seed=SEEDS)
def test_solutions_and_pairs_stay_valid(aug, data, seed):
    n = aug.size
    puzzle, solution = data.draw(pairs(n))
    params = params_of(aug, seed)
    new_puzzle, new_solution = (grid.tokens_to_digits(aug.apply(grid.digits_to_tokens(d), params))
                                for d in (puzzle, solution))
    assert grid.is_valid_solution(np.zeros(n * n), new_solution, n)
    assert grid.is_valid_solution(new_puzzle, new_solution, n)
    assert (new_puzzle == 0).sum() == (puzzle == 0).sum()


@pytest.mark.parametrize("aug", ALL, ids=IDS)
@PROPERTY
@given(seed=SEEDS)
def test_params_are_json_and_batches_act_row_by_row(aug, seed):
    params = params_of(aug, seed)
    again = json.loads(json.dumps(params))
    assert again == params
    batch = np.stack([grid.digits_to_tokens(base_grid(aug.size).ravel())] * 2)
    batch[1, ::3] = grid.BLANK
    out = aug.apply(batch, again)
    np.testing.assert_array_equal(out, np.stack([aug.apply(row, params) for row in batch]))


@pytest.mark.parametrize("aug", ALL, ids=IDS)
def test_augmentations_change_grids(aug):
    tokens = grid.digits_to_tokens(base_grid(aug.size).ravel())
    changed = [not np.array_equal(aug.apply(tokens, params_of(aug, seed)), tokens) for seed in range(20)]
    assert 5 <= sum(changed) <= 20


# --- what each parameter means -------------------------------------------------------

def _grid_tokens(n: int) -> np.ndarray:
    return grid.digits_to_tokens(base_grid(n)).reshape(n, n)


def test_digit_relabel_maps_digits_only():
    tokens = np.array([0, 1, 2, 3, 4, 5, -100] + [1] * 9, dtype=np.int64)
    out = DigitRelabel(4).apply(tokens, {"perm": [3, 1, 4, 2]})
    assert out[:7].tolist() == [0, 1, 4, 2, 5, 3, -100]


def test_transpose_swaps_rows_and_columns():
    g = _grid_tokens(9)
    np.testing.assert_array_equal(Transpose(9).apply(g.ravel(), {"transpose": True}), g.T.ravel())
    np.testing.assert_array_equal(Transpose(9).apply(g.ravel(), {"transpose": False}), g.ravel())


def test_band_stack_shuffle_moves_whole_bands_and_stacks():
    g = _grid_tokens(6)  # 3 bands of 2 rows, 2 stacks of 3 columns
    out = BandStackShuffle(6).apply(g.ravel(), {"bands": [2, 0, 1], "stacks": [1, 0]}).reshape(6, 6)
    np.testing.assert_array_equal(out, g[[4, 5, 0, 1, 2, 3]][:, [3, 4, 5, 0, 1, 2]])


def test_row_column_shuffle_stays_inside_bands_and_stacks():
    g = _grid_tokens(6)
    params = {"rows": [[1, 0], [0, 1], [1, 0]], "cols": [[2, 0, 1], [0, 1, 2]]}
    out = RowColumnShuffle(6).apply(g.ravel(), params).reshape(6, 6)
    np.testing.assert_array_equal(out, g[[1, 0, 2, 3, 5, 4]][:, [2, 0, 1, 3, 4, 5]])


@pytest.mark.parametrize("aug, params, message", [
    (DigitRelabel(4), {"perm": [1, 1, 2, 3]}, "sudoku.digits 'perm' must be a permutation of 1..4"),
    (BandStackShuffle(9), {"bands": [0, 1], "stacks": [0, 1, 2]}, "'bands' must be a permutation of 0..2"),
    (RowColumnShuffle(9), {"rows": [[0, 1, 2]] * 2, "cols": [[0, 1, 2]] * 3}, "'rows' needs 3 permutations, got 2"),
])
def test_bad_params_are_refused(aug, params, message):
    with pytest.raises(ValueError, match=message):
        aug.apply(np.ones(aug.size ** 2, dtype=np.int64), params)


def test_wrong_cell_count_is_refused():
    with pytest.raises(ValueError, match=r"sudoku.rows for 9x9 grids needs a last axis of 81 cells, got shape \(2, 36\)"):
        RowColumnShuffle(9).apply(np.ones((2, 36)), {"rows": [[0, 1, 2]] * 3, "cols": [[0, 1, 2]] * 3})


# --- real puzzles --------------------------------------------------------------------

def test_composed_augmentations_keep_real_pairs_valid(shared):
    folder = shared("data", "sudoku-extreme-1k", "train")
    inputs = np.load(folder / "all__inputs.npy")[:64]
    labels = np.load(folder / "all__labels.npy")[:64]
    augs = sudoku_augmentations(9)
    rng = np.random.default_rng(0)
    for _ in range(4):
        params = compose_sample(augs, rng)
        new_inputs, new_labels = compose_apply(augs, inputs, params), compose_apply(augs, labels, params)
        assert new_inputs.dtype == np.uint8
        assert all(grid.is_valid_solution(grid.tokens_to_digits(x), grid.tokens_to_digits(y), 9)
                   for x, y in zip(new_inputs, new_labels))
        np.testing.assert_array_equal(compose_invert(augs, new_inputs, params), inputs)
