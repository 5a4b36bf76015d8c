"""The ARC augmentation: the official dihedral numbering, colour permutations, inversion, versions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recursia.data.augment import Augmentation, compose_apply, compose_invert
from recursia_arc.augment import (DIHEDRAL_INVERSE, DihedralColour, base_name, dihedral, grids_hash,
                                  inverse_dihedral, task_versions)

SETTINGS = settings(max_examples=80, deadline=None)
AUG = DihedralColour()


def official(g: np.ndarray, k: int) -> np.ndarray:
    """The official ``dihedral_transform`` (dataset/common.py), written out."""
    return [g, np.rot90(g, k=1), np.rot90(g, k=2), np.rot90(g, k=3), np.fliplr(g), np.flipud(g), g.T,
            np.fliplr(np.rot90(g, k=1))][k]


@st.composite
def grids(draw):
    h, w = draw(st.integers(1, 30)), draw(st.integers(1, 30))
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).integers(0, 10, (h, w)).astype(np.uint8)


params = st.builds(lambda k, perm: {"k": k, "colours": [0] + [int(p) + 1 for p in perm]},
                   st.integers(0, 7), st.permutations(range(9)))


def test_numbering_is_the_official_one():
    g = np.arange(12).reshape(3, 4)
    for k in range(8):
        assert np.array_equal(dihedral(g, k), official(g, k)), k
        assert np.array_equal(inverse_dihedral(dihedral(g, k), k), g)
        assert np.array_equal(dihedral(official(g, k), DIHEDRAL_INVERSE[k]), g)
    assert list(DIHEDRAL_INVERSE) == [0, 3, 2, 1, 4, 5, 6, 7]
    with pytest.raises(ValueError):
        dihedral(g, 8)
    with pytest.raises(ValueError):
        dihedral(np.arange(3), 1)


@SETTINGS
@given(grids(), params)
def test_apply_then_invert_is_the_identity(g, p):
    out = AUG.apply(g, p)
    assert out.dtype == np.uint8
    assert np.array_equal(out, official(np.asarray(p["colours"])[g], p["k"]))  # colours first, then the transform
    assert np.array_equal(AUG.invert(out, p), g)
    assert np.array_equal(compose_invert([AUG], compose_apply([AUG], g, [p]), [p]), g)
    assert np.array_equal(out == 0, official(g == 0, p["k"]))  # colour 0 stays 0


@SETTINGS
@given(st.integers(0, 2**32 - 1))
def test_sample_is_json_and_keeps_colour_0(seed):
    p = AUG.sample(np.random.default_rng(seed))
    assert json.loads(json.dumps(p)) == p
    assert 0 <= p["k"] < 8 and p["colours"][0] == 0 and sorted(p["colours"]) == list(range(10))
    assert AUG.params_from_name(AUG.version_name("abc", p)) == p


def test_protocol_names_and_batches():
    assert isinstance(AUG, Augmentation) and AUG.name == "arc.dihedral_colour"
    p = {"k": 1, "colours": [0, 2, 3, 4, 5, 6, 7, 8, 9, 1]}
    batch = np.random.default_rng(1).integers(0, 10, (3, 4, 5)).astype(np.uint8)
    out = AUG.apply(batch, p)
    assert out.shape == (3, 5, 4) and np.array_equal(out[2], AUG.apply(batch[2], p))
    assert AUG.invert(np.zeros((0, 0), np.uint8), p).shape == (0, 0)  # an empty prediction inverts
    assert AUG.version_name("007bbfb7", p) == "007bbfb7|||t1|||0234567891"
    assert AUG.version_name("007bbfb7", None) == "007bbfb7" and AUG.params_from_name("007bbfb7") is None
    assert base_name("007bbfb7|||t1|||0234567891") == "007bbfb7"
    for bad in ("x|||t9|||0123456789", "x|||t1|||1023456789", "x|||k1|||0123456789", "x|||t1|||012"):
        with pytest.raises(ValueError):
            AUG.params_from_name(bad)
    with pytest.raises(ValueError):
        AUG.apply(batch, {"k": 0, "colours": [1, 0, 2, 3, 4, 5, 6, 7, 8, 9]})


def test_versions_are_distinct_and_stop_at_count():
    rng = np.random.default_rng(0)
    pairs = [(rng.integers(0, 10, (3, 4)).astype(np.uint8), rng.integers(0, 10, (2, 2)).astype(np.uint8))]
    params, versions = task_versions(pairs, 10, np.random.default_rng(0))
    assert params[0] is None and len(params) == len(versions) == 11
    assert len({grids_hash(v) for v in versions}) == 11
    for p, v in zip(params[1:], versions[1:]):
        assert np.array_equal(AUG.invert(v[0][0], p), pairs[0][0]) and np.array_equal(AUG.invert(v[0][1], p),
                                                                                      pairs[0][1])
    assert task_versions(pairs, 0, np.random.default_rng(0))[0] == [None]


def test_versions_dedupe_symmetric_tasks():
    # all colour 0 and square: every transform and permutation gives the original back
    blank = [(np.zeros((3, 3), np.uint8), np.zeros((3, 3), np.uint8))]
    assert len(task_versions(blank, 20, np.random.default_rng(0))[0]) == 1
    # one cell of colour 1 in the centre: the dihedral group does nothing, the colour can be 1..9
    dot = np.zeros((3, 3), np.uint8)
    dot[1, 1] = 1
    params, versions = task_versions([(dot, dot)], 20, np.random.default_rng(0))
    assert len(params) == 9
    assert sorted(int(v[0][0][1, 1]) for v in versions) == list(range(1, 10))
    # unknown test outputs (None) are allowed and stay None
    params, versions = task_versions([(dot, None)], 3, np.random.default_rng(0))
    assert all(v[0][1] is None for v in versions) and len(params) == 4
