"""The grid plugin's dihedral transforms: invertible, a group of 8, valid mazes stay valid."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import recursia_grid
from recursia.data.augment import Augmentation
from recursia.plugins import load_plugins
from recursia.grids import Dihedral, compose, dihedral, inverse
from recursia_maze import grid
from tests.maze.test_grid import LABEL, MAZE, tokens

AUG = Dihedral()
KS = st.integers(0, 7)
PROPERTY = settings(max_examples=60, deadline=None)


@st.composite
def flat_grids(draw) -> np.ndarray:
    """Random token arrays (..., n*n): sides 1..9, 0-2 batch axes, any dtype the data uses."""
    n = draw(st.integers(1, 9))
    batch = draw(st.sampled_from([(), (1,), (3,), (2, 3)]))
    dtype = draw(st.sampled_from([np.uint8, np.int64]))
    return draw(hnp.arrays(dtype, batch + (n * n,), elements=st.integers(0, 9)))


def generic(n: int) -> np.ndarray:
    """A flat n x n grid whose cells all differ (so no symmetry fixes it)."""
    return np.arange(n * n)


@PROPERTY
@given(flat_grids(), KS)
def test_invert_undoes_apply(x, k):
    y = AUG.apply(x, {"k": k})
    assert y.shape == x.shape and y.dtype == x.dtype
    np.testing.assert_array_equal(AUG.invert(y, {"k": k}), x)


@PROPERTY
@given(flat_grids(), KS, KS)
def test_group_law(x, k1, k2):
    k = compose(k1, k2)
    assert k in range(8)
    np.testing.assert_array_equal(AUG.apply(AUG.apply(x, {"k": k1}), {"k": k2}), AUG.apply(x, {"k": k}))


@PROPERTY
@given(flat_grids(), KS)
def test_batches_are_transformed_grid_by_grid(x, k):
    rows = x.reshape(-1, x.shape[-1])
    expected = np.stack([AUG.apply(row, {"k": k}) for row in rows]).reshape(x.shape)
    np.testing.assert_array_equal(AUG.apply(x, {"k": k}), expected)


@pytest.mark.parametrize("k", range(8))
def test_every_transform_has_an_inverse(k):
    assert compose(k, inverse(k)) == 0 == compose(inverse(k), k)
    assert inverse(inverse(k)) == k


def test_compose_is_associative_with_identity_zero():
    for a in range(8):
        assert compose(0, a) == a == compose(a, 0)
        for b in range(8):
            for c in range(8):
                assert compose(compose(a, b), c) == compose(a, compose(b, c))


@pytest.mark.parametrize("n", [2, 3, 30])
def test_the_eight_transforms_differ_on_a_generic_grid(n):
    images = {AUG.apply(generic(n), {"k": k}).tobytes() for k in range(8)}
    assert len(images) == 8


def test_the_numbering_of_named_transforms():
    x = np.arange(6).reshape(2, 3)  # not square: the 2-D helper works on any grid
    named = {0: x, 1: np.rot90(x), 2: np.rot90(x, 2), 3: np.rot90(x, 3), 4: np.fliplr(x), 5: x.T,
             6: np.flipud(x), 7: np.rot90(x, 2).T}
    for k, expected in named.items():
        np.testing.assert_array_equal(dihedral(x, k), expected, err_msg=f"k={k}")
    batch = np.stack([x, x + 6])
    np.testing.assert_array_equal(dihedral(batch, 5), batch.transpose(0, 2, 1))


def test_sample_is_seeded_json_and_covers_all_eight():
    draws = [AUG.sample(np.random.default_rng(seed)) for seed in range(200)]
    assert json.loads(json.dumps(draws)) == draws
    assert {d["k"] for d in draws} == set(range(8))
    assert AUG.sample(np.random.default_rng(7)) == AUG.sample(np.random.default_rng(7))


@pytest.mark.parametrize("bad, message", [
    ({"k": 8}, "'k': a dihedral transform is an integer 0..7, got 8"),
    ({"k": True}, "got True"),
    ({"k": 1.0}, "got 1.0"),
    ({}, "params need the key 'k'"),
])
def test_bad_params_raise_value_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        AUG.apply(generic(3), bad)


@pytest.mark.parametrize("shape", [(10,), (2, 8), ()])
def test_grids_must_be_flat_squares(shape):
    with pytest.raises(ValueError, match="needs flat square grids"):
        AUG.apply(np.zeros(shape), {"k": 1})
    with pytest.raises(ValueError, match="at least 2 axes"):
        dihedral(np.zeros(4), 1)


@pytest.mark.parametrize("k", range(8))
def test_a_valid_maze_solution_stays_valid(k):
    pair = np.stack([tokens(MAZE), tokens(LABEL)])
    maze, label = AUG.apply(pair, {"k": k})
    assert grid.is_shortest_path(maze, label)
    assert grid.shortest_path_length(maze) == 8
    bad = np.stack([tokens(MAZE), tokens(["Sooo ", "    o", "  # o", "    o", "o   G"])])
    assert not grid.is_shortest_path(*AUG.apply(bad, {"k": k}))


def test_the_plugin_registers_the_augmentation():
    registered = []
    recursia_grid.register_augmentations(register=registered.append)
    assert [a.name for a in registered] == ["grid.dihedral"]
    assert isinstance(registered[0], Augmentation)
    registry = load_plugins()
    assert registry.owners[("augmentations", "grid.dihedral")] == "grid"
    assert isinstance(registry.augmentations["grid.dihedral"], Dihedral)
