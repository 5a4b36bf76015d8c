"""Which imported puzzles go to which split: the source's own splits, kept as they are.

An import gives one or two *pools* of ``(inputs, labels)`` rows: a source's train
pool and, when it has one (an official folder's ``test/``, a ``test.csv`` beside
``train.csv``, or ``--test-source``), its test pool. :func:`select_splits` follows the
official builders:

- two pools: train from train, test from test. ``subsample`` (or ``train_size``)
  takes a seeded subset of the train pool; ``test_size`` a seeded subset of the test
  pool; by default each is kept whole. Test puzzles that also occur in the train pool
  are counted and reported, never moved.
- one pool (a single CSV or split folder): ``test_size`` puzzles (default
  :data:`DEFAULT_SIZE`) are held out of it at random, the train split is the rest (or
  a seeded subset of it), and the summary says so.
- ``resplit``: both pools are merged and split at random as one pool, only when asked.

Every pool is de-duplicated first (first occurrence kept, original order). The
returned ``info`` says where each split came from and lists warnings for the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from recursia.errors import DatasetError

DEFAULT_SIZE = 1000  # test puzzles held out of a single pool when no test_size is given


@dataclass
class Pool:
    """Rows of one imported split: inputs, labels (P, L) and a name for messages."""

    inputs: np.ndarray
    labels: np.ndarray
    name: str


@dataclass
class Pools:
    """What a source holds: a train pool and, when the source is split, a test pool."""

    train: Pool
    test: Pool | None = None


@dataclass
class Selection:
    """The chosen rows: train and test ``(inputs, labels)`` and facts for the summary."""

    train: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    info: dict = field(default_factory=dict)


def read_sources(source: str, test_source: str | None, importers: dict[str, Callable[[str], Pools]],
                 what: str, others: tuple[str, ...] = ("generate",)) -> Pools:
    """The pools of ``source`` (``KIND:PATH``), with the test pool from ``test_source`` when given.

    ``importers`` maps each KIND to a reader of PATH; ``what`` (the task) and ``others``
    (its sources that are not imports) are named in the error for an unknown one. A ``test_source`` that is itself split gives its
    test pool. DatasetError when ``source`` has a test split of its own and a
    ``test_source`` is given too, or when their grids differ.
    """
    pools = _read_source(source, importers, what, others)
    if test_source is None:
        return pools
    if pools.test is not None:
        raise DatasetError(f"{source} has its own test split ({pools.test.name}); drop --test-source, "
                           f"or name only its train split as --source")
    other = _read_source(test_source, importers, what, ())
    test = other.test or other.train
    if test.inputs.shape[1] != pools.train.inputs.shape[1]:
        raise DatasetError(f"{test.name} has {test.inputs.shape[1]} cells per puzzle but {pools.train.name} "
                           f"has {pools.train.inputs.shape[1]}")
    return Pools(pools.train, test)


def _read_source(source: str, importers: dict[str, Callable[[str], Pools]], what: str,
                 others: tuple[str, ...]) -> Pools:
    """The pools of one ``KIND:PATH`` source; DatasetError for an unknown KIND."""
    kind, _, path = source.partition(":")
    if kind not in importers or not path:
        expected = [f"'{name}'" for name in others] + [f"'{k}:PATH'" for k in importers]
        raise DatasetError(f"unknown {what} data source {source!r}: expected {', '.join(expected)}")
    return importers[kind](path)


def dedupe_rows(inputs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first occurrence of every distinct input row, in the original order."""
    if not len(inputs):
        return inputs, labels
    _, first = np.unique(inputs, axis=0, return_index=True)
    keep = np.sort(first)
    return inputs[keep], labels[keep]


def subsample_rows(total: int, subsample: int | None, seed: int, what: str) -> np.ndarray:
    """Indices (ascending) of a seeded random subset of ``subsample`` of ``total`` rows; all if None."""
    if subsample is None:
        return np.arange(total)
    if not 0 <= subsample <= total:
        raise DatasetError(f"{what}: cannot take {subsample} of its {total} distinct puzzles")
    return np.sort(np.random.default_rng(seed).choice(total, size=subsample, replace=False))


def disjoint_split(total: int, train_size: int, test_size: int, rng: np.random.Generator,
                   what: str) -> tuple[np.ndarray, np.ndarray]:
    """Seeded disjoint ``(train_rows, test_rows)`` of ``total`` distinct puzzles, each ascending."""
    if train_size + test_size > total:
        raise DatasetError(f"{what}: {total} distinct puzzles, fewer than "
                           f"train_size {train_size} + test_size {test_size}")
    order = rng.permutation(total)
    return np.sort(order[test_size:train_size + test_size]), np.sort(order[:test_size])


def train_count(subsample: int | None, train_size: int | None) -> int | None:
    """The train puzzles an import asks for: ``subsample`` or ``train_size`` (None = all)."""
    if subsample is not None and train_size is not None and subsample != train_size:
        raise DatasetError(f"subsample {subsample} and train_size {train_size} both choose the imported "
                           f"train puzzles: give one of them")
    return subsample if subsample is not None else train_size


def select_splits(pools: Pools, *, train_size: int | None, test_size: int | None, subsample: int | None,
                  resplit: bool, seed: int) -> Selection:
    """Train and test rows of an import (module docstring); DatasetError when too few."""
    for name, value in (("train_size", train_size), ("test_size", test_size), ("subsample", subsample)):
        if value is not None and value < 0:
            raise DatasetError(f"{name} must be >= 0, got {value}")
    wanted = train_count(subsample, train_size)
    train = Pool(*dedupe_rows(pools.train.inputs, pools.train.labels), pools.train.name)
    test = None if pools.test is None else Pool(*dedupe_rows(pools.test.inputs, pools.test.labels),
                                                pools.test.name)
    if test is not None and resplit:
        merged = dedupe_rows(np.concatenate([train.inputs, test.inputs]), np.concatenate([train.labels, test.labels]))
        train, test = Pool(*merged, f"{train.name} + {test.name}"), None
        how = "resplit"
    else:
        how = "held out" if test is None else "kept"
    if test is None:
        return _hold_out(train, wanted, DEFAULT_SIZE if test_size is None else test_size, seed, how)
    train_rows = subsample_rows(len(train.inputs), wanted, seed, train.name)
    test_rows = subsample_rows(len(test.inputs), test_size, seed + 1, test.name)
    chosen_train = (train.inputs[train_rows], train.labels[train_rows])
    chosen_test = (test.inputs[test_rows], test.labels[test_rows])
    info = {"split": how, "train_from": _describe(train, len(train_rows)),
            "test_from": _describe(test, len(test_rows))}
    overlap = _overlap(chosen_test[0], train.inputs)
    info["test_in_train"] = overlap
    if overlap:
        info["warnings"] = [f"{overlap} of the {len(test_rows)} test puzzles of {test.name} also occur in "
                            f"{train.name}; the source's splits are kept as they are"]
    return Selection(chosen_train, chosen_test, info)


def _hold_out(pool: Pool, wanted: int | None, test_size: int, seed: int, how: str) -> Selection:
    """A single pool: ``test_size`` held out at random, train = the rest or ``wanted`` of it."""
    total = len(pool.inputs)
    rest = total - test_size
    fix = "give a smaller --test-size, or name a test source with --test-source"
    if rest < 0 or (wanted is not None and wanted > rest):
        asked = f"{test_size} for test" + (f" + {wanted} for train" if wanted is not None else "")
        raise DatasetError(f"{pool.name}: {total} distinct puzzles, fewer than the {asked}; {fix}")
    if wanted is None and rest == 0 and total:
        raise DatasetError(f"{pool.name}: holding out {test_size} test puzzles leaves none of its {total} "
                           f"for train; {fix}")
    rng = np.random.default_rng([seed, 1])
    train_rows, test_rows = disjoint_split(total, rest if wanted is None else wanted, test_size, rng, pool.name)
    info = {"split": how, "train_from": _describe(pool, len(train_rows)),
            "test_from": f"{len(test_rows)} held out of {pool.name} at random (seed {seed})", "test_in_train": 0}
    if how == "held out":
        info["warnings"] = [f"{pool.name} has no test split: {len(test_rows)} of its puzzles were held out "
                            f"for test (name one with --test-source to keep a source's own test set)"]
    else:
        info["warnings"] = [f"--resplit: the train and test puzzles of the source were merged and split again "
                            f"at random ({len(train_rows)} train, {len(test_rows)} test)"]
    return Selection((pool.inputs[train_rows], pool.labels[train_rows]),
                     (pool.inputs[test_rows], pool.labels[test_rows]), info)


def _describe(pool: Pool, chosen: int) -> str:
    """``"csv:train.csv (all 9000)"`` or ``"... (1000 of 9000, seeded subset)"``."""
    total = len(pool.inputs)
    return f"{pool.name} (all {total})" if chosen == total else f"{pool.name} ({chosen} of {total}, seeded subset)"


def _overlap(test_inputs: np.ndarray, train_inputs: np.ndarray) -> int:
    """How many rows of ``test_inputs`` (T, L) also occur in ``train_inputs`` (P, L)."""
    if not len(test_inputs) or not len(train_inputs):
        return 0
    seen = {row.tobytes() for row in np.ascontiguousarray(train_inputs)}
    return sum(row.tobytes() in seen for row in np.ascontiguousarray(test_inputs))
