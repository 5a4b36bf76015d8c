"""Choosing the splits of an import: a source's own splits are kept, re-splitting only when asked."""

from __future__ import annotations

import numpy as np
import pytest

from recursia.data.select import Pool, Pools, dedupe_rows, read_sources, select_splits
from recursia.errors import DatasetError


def pool(start: int, count: int, name: str, cells: int = 3) -> Pool:
    """``count`` distinct rows numbered from ``start`` (row i is [i, i, ...]); labels = inputs + 1."""
    inputs = np.repeat(np.arange(start, start + count)[:, None], cells, axis=1)
    return Pool(inputs, inputs + 1, name)


def ids(rows: np.ndarray) -> set[int]:
    return set(int(v) for v in rows[:, 0])


def select(pools: Pools, **kw):
    args = dict(train_size=None, test_size=None, subsample=None, resplit=False, seed=0) | kw
    return select_splits(pools, **args)


def test_two_pools_are_kept_apart_whole():
    chosen = select(Pools(pool(0, 50, "a/train"), pool(100, 20, "a/test")))
    assert ids(chosen.train[0]) == set(range(50)) and ids(chosen.test[0]) == set(range(100, 120))
    np.testing.assert_array_equal(chosen.train[1], chosen.train[0] + 1)
    assert chosen.info["split"] == "kept" and chosen.info["test_in_train"] == 0 and "warnings" not in chosen.info
    assert chosen.info["train_from"] == "a/train (all 50)" and chosen.info["test_from"] == "a/test (all 20)"


def test_subsample_takes_train_only_and_test_size_a_subset_of_test():
    pools = Pools(pool(0, 50, "tr"), pool(100, 20, "te"))
    chosen = select(pools, subsample=10, test_size=5, seed=3)
    assert len(chosen.train[0]) == 10 and ids(chosen.train[0]) <= set(range(50))
    assert len(chosen.test[0]) == 5 and ids(chosen.test[0]) <= set(range(100, 120))
    again = select(pools, subsample=10, test_size=5, seed=3)
    np.testing.assert_array_equal(chosen.train[0], again.train[0])
    assert ids(select(pools, subsample=10, seed=4).train[0]) != ids(chosen.train[0])
    assert chosen.info["train_from"] == "tr (10 of 50, seeded subset)"
    assert len(select(pools, train_size=10).train[0]) == 10  # train_size is the same as subsample for imports
    with pytest.raises(DatasetError, match="subsample 10 and train_size 20 both choose"):
        select(pools, subsample=10, train_size=20)
    with pytest.raises(DatasetError, match="te: cannot take 30 of its 20 distinct puzzles"):
        select(pools, test_size=30)


def test_overlap_between_the_splits_is_reported_not_moved():
    chosen = select(Pools(pool(0, 50, "tr"), pool(45, 10, "te")))
    assert ids(chosen.test[0]) == set(range(45, 55))
    assert chosen.info["test_in_train"] == 5 and "5 of the 10 test puzzles of te also occur in tr" in \
        chosen.info["warnings"][0]


def test_single_pool_holds_out_a_disjoint_test_set_and_says_so():
    chosen = select(Pools(pool(0, 1500, "one")))
    assert len(chosen.test[0]) == 1000 and len(chosen.train[0]) == 500
    assert not ids(chosen.train[0]) & ids(chosen.test[0])
    assert chosen.info["split"] == "held out" and "has no test split" in chosen.info["warnings"][0]
    small = select(Pools(pool(0, 60, "one")), test_size=10, subsample=20)
    assert (len(small.train[0]), len(small.test[0])) == (20, 10)
    assert not ids(small.train[0]) & ids(small.test[0])
    with pytest.raises(DatasetError, match="one: holding out 1000 test puzzles leaves none of its 1000 for train"):
        select(Pools(pool(0, 1000, "one")))
    with pytest.raises(DatasetError, match="one: 60 distinct puzzles, fewer than the 10 for test \\+ 55 for train"):
        select(Pools(pool(0, 60, "one")), test_size=10, subsample=55)
    assert len(select(Pools(pool(0, 60, "one")), test_size=60, train_size=0).test[0]) == 60


def test_resplit_merges_only_when_asked():
    pools = Pools(pool(0, 50, "tr"), pool(100, 50, "te"))
    chosen = select(pools, resplit=True, test_size=40, seed=1)
    assert chosen.info["split"] == "resplit" and "--resplit" in chosen.info["warnings"][0]
    assert len(chosen.test[0]) == 40 and len(chosen.train[0]) == 60
    assert ids(chosen.test[0]) & set(range(50)) and ids(chosen.test[0]) & set(range(100, 150))


def test_pools_are_deduplicated_first():
    rows = np.array([[1, 1], [2, 2], [1, 1], [3, 3]])
    inputs, labels = dedupe_rows(rows, rows * 10)
    np.testing.assert_array_equal(inputs, [[1, 1], [2, 2], [3, 3]])
    np.testing.assert_array_equal(labels, [[10, 10], [20, 20], [30, 30]])
    chosen = select(Pools(Pool(rows, rows, "dup"), Pool(rows[:1], rows[:1], "t")))
    assert len(chosen.train[0]) == 3


def test_negative_sizes_are_refused():
    with pytest.raises(DatasetError, match="test_size must be >= 0, got -1"):
        select(Pools(pool(0, 5, "x")), test_size=-1)


def test_read_sources_combines_a_test_source():
    importers = {"a": lambda path: Pools(pool(0, 10, f"a:{path}")),
                 "b": lambda path: Pools(pool(0, 10, f"b:{path}/train"), pool(50, 5, f"b:{path}/test")),
                 "w": lambda path: Pools(pool(0, 10, f"w:{path}", cells=4))}
    pools = read_sources("a:x", "b:y", importers, "Thing")
    assert pools.train.name == "a:x" and pools.test.name == "b:y/test"
    assert read_sources("a:x", "a:z", importers, "Thing").test.name == "a:z"
    with pytest.raises(DatasetError, match="b:y has its own test split \\(b:y/test\\); drop --test-source"):
        read_sources("b:y", "a:x", importers, "Thing")
    with pytest.raises(DatasetError, match="w:z has 4 cells per puzzle but a:x has 3"):
        read_sources("a:x", "w:z", importers, "Thing")
    with pytest.raises(DatasetError, match="unknown Thing data source 'c:x': expected 'generate', 'a:PATH', "
                                           "'b:PATH', 'w:PATH'"):
        read_sources("c:x", None, importers, "Thing")
