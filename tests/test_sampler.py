"""EpochSampler: seeded, complete epochs, chunking across epochs, exact resume."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from recursia.data.dataset import Split
from recursia.data.sampler import EpochSampler


def make_split(group_sizes, examples_per_puzzle=None) -> Split:
    """A Split with ``group_sizes[g]`` puzzles in group g and the given examples per puzzle."""
    n_puzzles = int(sum(group_sizes))
    if examples_per_puzzle is None:
        examples_per_puzzle = [1] * n_puzzles
    puzzle_indices = np.concatenate([[0], np.cumsum(examples_per_puzzle)]).astype(np.int32)
    group_indices = np.concatenate([[0], np.cumsum(group_sizes)]).astype(np.int32)
    n = int(puzzle_indices[-1])
    tokens = np.arange(n * 2, dtype=np.uint8).reshape(n, 2)
    return Split(meta={"seq_len": 2, "vocab_size": 256}, inputs=tokens, labels=tokens,
                 puzzle_identifiers=np.zeros(n_puzzles, dtype=np.int32),
                 puzzle_indices=puzzle_indices, group_indices=group_indices)


def owners(split: Split):
    """(examples,) puzzle of each example and (puzzles,) group of each puzzle."""
    ex_puzzle = np.repeat(np.arange(len(split.puzzle_indices) - 1), np.diff(split.puzzle_indices))
    pz_group = np.repeat(np.arange(len(split.group_indices) - 1), np.diff(split.group_indices))
    return ex_puzzle, pz_group


def epochs_one_by_one(split: Split, seed: int, n_epochs: int) -> list[list[int]]:
    """The example indices of the first ``n_epochs`` epochs, split at epoch boundaries."""
    s = EpochSampler(split, seed)
    out: list[list[int]] = [[]]
    while len(out) <= n_epochs:
        epoch = s.state()["epoch"]
        (i,) = s.take(1)
        out[epoch].append(int(i))
        if s.state()["epoch"] != epoch:
            out.append([])
    return out[:n_epochs]


SINGLE = make_split([1] * 17)
GROUPED = make_split([1, 3, 2, 1, 4, 1])
MULTI = make_split([2, 1, 3], examples_per_puzzle=[2, 1, 3, 1, 4, 2])


def test_same_seed_same_sequence_different_seed_different():
    for split in (SINGLE, GROUPED, MULTI):
        a = EpochSampler(split, 7).take(200)
        b = EpochSampler(split, 7).take(200)
        c = EpochSampler(split, 8).take(200)
        assert a.dtype == np.int64
        assert np.array_equal(a, b)
        assert not np.array_equal(a, c)


def test_single_example_groups_every_group_once_per_epoch():
    n = SINGLE.num_groups
    s = EpochSampler(SINGLE, 3)
    orders = [s.take(n) for _ in range(6)]
    for order in orders:
        assert sorted(order.tolist()) == list(range(n))
    # the order changes from epoch to epoch
    assert len({tuple(o.tolist()) for o in orders}) == len(orders)


@pytest.mark.parametrize("split", [GROUPED, MULTI], ids=["grouped", "multi-example"])
def test_each_epoch_one_whole_puzzle_of_every_group(split):
    ex_puzzle, pz_group = owners(split)
    for epoch in epochs_one_by_one(split, seed=11, n_epochs=12):
        puzzles = ex_puzzle[epoch]
        # runs of the same puzzle, each run being ALL of that puzzle's examples in order
        starts = [0] + [i for i in range(1, len(puzzles)) if puzzles[i] != puzzles[i - 1]]
        visited = []
        for k, a in enumerate(starts):
            b = starts[k + 1] if k + 1 < len(starts) else len(puzzles)
            p = puzzles[a]
            lo, hi = split.puzzle_indices[p], split.puzzle_indices[p + 1]
            assert epoch[a:b] == list(range(lo, hi))
            visited.append(pz_group[p])
        assert sorted(visited) == list(range(split.num_groups))  # every group exactly once


@pytest.mark.parametrize("split", [SINGLE, GROUPED, MULTI], ids=["single", "grouped", "multi-example"])
@pytest.mark.parametrize("chunk", [1, 4, 5, 16, 37, 200])
def test_take_across_epoch_boundaries_is_one_stream(split, chunk):
    total = 400
    stream = EpochSampler(split, 5).take(total)
    s = EpochSampler(split, 5)
    pieces = [s.take(chunk) for _ in range(-(-total // chunk))]
    assert all(len(p) == chunk for p in pieces)
    assert np.array_equal(np.concatenate(pieces)[:total], stream)
    # and the stream is the concatenation of whole epochs
    epochs = epochs_one_by_one(split, seed=5, n_epochs=3)
    flat = sum(epochs, [])
    assert stream[:len(flat)].tolist() == flat


def test_take_zero():
    s = EpochSampler(SINGLE, 0)
    out = s.take(0)
    assert out.shape == (0,) and out.dtype == np.int64
    assert s.state() == {"seed": 0, "epoch": 0, "pos": 0}


def test_epoch_counter_advances():
    s = EpochSampler(SINGLE, 0)
    s.take(SINGLE.num_groups * 2 + 3)
    assert s.state() == {"seed": 0, "epoch": 2, "pos": 3}


@pytest.mark.parametrize("split", [SINGLE, MULTI], ids=["single", "multi-example"])
@pytest.mark.parametrize("first", [0, 1, 13, 16, 17, 40])
def test_state_resume_continues_identically(split, first):
    a = EpochSampler(split, 21)
    a.take(first)
    state = json.loads(json.dumps(a.state()))  # must survive a JSON round trip
    b = EpochSampler(split, 999)  # a different seed: the state carries the seed
    b.load_state(state)
    assert b.state() == a.state()
    assert np.array_equal(b.take(123), a.take(123))
    # the resumed stream equals the uninterrupted one
    c = EpochSampler(split, 0)
    c.load_state(state)
    assert np.array_equal(c.take(123), EpochSampler(split, 21).take(first + 123)[first:])


def test_groups_with_several_puzzles_pick_among_them():
    split = make_split([1, 3, 2])  # puzzles 0 | 1 2 3 | 4 5
    s = EpochSampler(split, 0)
    counts: Counter = Counter()
    for _ in range(600):
        counts.update(s.take(3).tolist())  # one epoch = one example per group
    assert counts[0] == 600
    assert sum(counts[p] for p in (1, 2, 3)) == 600 and sum(counts[p] for p in (4, 5)) == 600
    for p in (1, 2, 3):
        assert 140 < counts[p] < 260, counts  # ~200 each
    for p in (4, 5):
        assert 230 < counts[p] < 370, counts  # ~300 each
