"""``nonogram.dihedral``: invertible on any token array, and it maps valid (puzzle, solution) pairs to valid pairs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recursia.api import Augmentation, dihedral
from recursia_nonogram import layout, lines
from recursia_nonogram.augment import NonogramDihedral, reverse_values
from recursia_nonogram.task import NonogramTask

AUG = NonogramDihedral()


def random_pair(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random grid's puzzle and label tokens, stacked ``(2, seq_len(n))`` (not necessarily unique)."""
    grid = (rng.random((n, n)) < rng.uniform(0.2, 0.8)).astype(np.int64)
    rows, cols = lines.grid_clues(grid)
    return np.stack([layout.encode(rows, cols, n), layout.label(grid)]), grid


def test_it_follows_the_protocol_and_is_registered(registry):
    assert isinstance(AUG, Augmentation) and AUG.name == "nonogram.dihedral"
    assert isinstance(registry.augmentations["nonogram.dihedral"], NonogramDihedral)
    assert NonogramTask().augmentations() == [AUG]


@settings(max_examples=80, deadline=None)
@given(n=st.integers(4, 10), seed=st.integers(0, 2**32 - 1))
def test_an_augmented_pair_is_a_valid_pair_and_inverts(n, seed):
    rng = np.random.default_rng(seed)
    pair, grid = random_pair(n, rng)
    params = json.loads(json.dumps(AUG.sample(rng)))  # parameters survive JSON
    moved = AUG.apply(pair, params)  # (2, L): a batch axis is allowed
    np.testing.assert_array_equal(AUG.invert(moved, params), pair)
    np.testing.assert_array_equal(AUG.apply(AUG.invert(pair, params), params), pair)
    task = NonogramTask(NonogramTask.Options(size=n))
    assert task.check(moved[0], moved[1])  # the checker accepts the augmented label for the augmented input
    turned = dihedral(grid, params["k"])
    np.testing.assert_array_equal(layout.grid_of(moved[1], n), turned)  # the cells move as recursia's dihedral
    assert layout.decode_clues(moved[0], n) == tuple(list(map(list, c)) for c in lines.grid_clues(turned))
    assert (moved[1, :layout.clue_len(n)] == layout.PAD).all()  # ignored label positions stay ignored


@settings(max_examples=60, deadline=None)
@given(n=st.integers(4, 9), k=st.integers(0, 7), seed=st.integers(0, 2**32 - 1), batch=st.integers(1, 3))
def test_any_token_array_round_trips(n, k, seed, batch):
    tokens = np.random.default_rng(seed).integers(0, layout.vocab_size(n), size=(batch, layout.seq_len(n)))
    out = AUG.apply(tokens, {"k": k})
    assert out.shape == tokens.shape and sorted(out.ravel()) == sorted(tokens.ravel())
    np.testing.assert_array_equal(AUG.invert(out, {"k": k}), tokens)
    zeros = np.zeros(layout.seq_len(n), dtype=np.int64)
    np.testing.assert_array_equal(AUG.apply(zeros, {"k": k}), zeros)  # PAD stays PAD


def test_transpose_swaps_the_clue_blocks_and_the_mirror_reverses_row_clues():
    n = 5
    task = NonogramTask()
    grid = np.array([[1, 0, 1, 1, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0], [0, 1, 1, 1, 0], [0, 0, 0, 0, 1]])
    x = layout.encode(*lines.grid_clues(grid), n)
    rows, cols = task.format_puzzle(x).values()
    assert task.format_puzzle(AUG.apply(x, {"k": 5})) == {"rows": cols, "cols": rows}
    mirrored = task.format_puzzle(AUG.apply(x, {"k": 4}))
    assert mirrored == {"rows": [c[::-1] for c in rows], "cols": cols[::-1]}
    assert layout.decode_clues(AUG.apply(x, {"k": 0}), n) == layout.decode_clues(x, n)


def test_reverse_values_keeps_slots_and_pad():
    blocks = np.array([[1, 1, 5, 6, 7], [0, 0, 0, 0, 0], [5, 1, 6, 0, 7]])
    assert reverse_values(blocks).tolist() == [[1, 1, 7, 6, 5], [0, 0, 0, 0, 0], [7, 1, 6, 0, 5]]
    np.testing.assert_array_equal(reverse_values(reverse_values(blocks)), blocks)


@pytest.mark.parametrize("params, shape, message", [
    ({"k": 8}, (55,), "'k' must be an integer 0..7"),
    ({"k": True}, (55,), "'k' must be an integer 0..7"),
    ({}, (55,), "'k' must be an integer 0..7"),
    ({"k": 1}, (54,), "no nonogram has a sequence of 54 tokens"),
])
def test_bad_params_and_shapes_are_refused(params, shape, message):
    with pytest.raises(ValueError, match=message):
        AUG.apply(np.zeros(shape, dtype=np.int64), params)
