"""Build a Maze dataset (``recursia data build maze``) in the official layout.

Sources: ``generate`` (the built-in Maze-Hard generator, default; see
:mod:`recursia_maze.generate`) and ``official:PATH`` (a folder in the official
layout, e.g. Maze-Hard's ``maze-30x30-hard-1k``). Generated mazes (all distinct) are
split into a test set of ``test_size`` mazes and a disjoint train set of
``train_size`` mazes; imports keep the source's own splits
(:mod:`recursia.data.select`: ``--subsample`` takes train mazes, ``--test-source``
names the test split, ``--resplit`` merges and splits again). Each train maze is
stored with ``aug`` augmented copies (one group per original; copies differ from
each other and from the original while the augmentations allow it: with the 8
dihedral transforms, ``aug=7`` stores all 8 orientations), test mazes are not
augmented. Tokens: PAD 0, wall 1, open 2, S 3,
G 4, path ``o`` 5 (labels only). Everything is seeded by ``request.seed``.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np

from recursia.api import (DataBuildRequest, DatasetError, Selection, disjoint_split, read_sources,
                          select_splits, write_augmented_split)
from recursia_maze import generate as generator
from recursia_maze.importers import read_official

IMPORTERS = {"official": read_official}
SPLIT_STREAM, AUG_STREAM, TEST_AUG_STREAM = 1, 2, 3  # independent random streams derived from the seed
DISTINCT_TRIES = 64  # augmentation draws per stored copy before a repeat is accepted
PARALLEL_CELLS = 200_000  # generate with worker processes from this many requested maze cells
MAX_WORKERS = 4


def build_maze_dataset(task, request: DataBuildRequest) -> dict:
    """Write ``request.out/{train,test}`` and ``identifiers.json``; return a summary.

    ``task`` is a :class:`recursia_maze.task.MazeTask` (its ``options.size``,
    ``options.min_path``, ``vocab_size`` and ``augmentations()`` are used). Raises
    DatasetError for an unknown source, a bad file, a size mismatch, too few mazes
    or a ``min_path`` that generated mazes cannot reach.
    """
    n = task.options.size
    if request.aug < 0:
        raise DatasetError(f"aug must be >= 0, got {request.aug}")
    started = time.perf_counter()
    chosen = select_source(request, n, task.options.min_path, task.options.unique_path)
    loaded = time.perf_counter()
    train, test = chosen.train, chosen.test
    augs = task.augmentations() if request.aug or request.test_aug else []
    rng = np.random.default_rng([request.seed, AUG_STREAM])
    out = Path(request.out)
    train_examples = write_augmented_split(out / "train", train, augs, request.aug, rng, task.vocab_size,
                                           DISTINCT_TRIES)
    test_rng = np.random.default_rng([request.seed, TEST_AUG_STREAM])
    write_augmented_split(out / "test", test, augs, request.test_aug, test_rng, task.vocab_size, DISTINCT_TRIES)
    (out / "identifiers.json").write_text(json.dumps(["<blank>"]))
    all_labels = np.concatenate([train[1], test[1]])
    return {
        "source": request.source, "size": n, "seed": request.seed, **chosen.info,
        "train_puzzles": len(train[0]), "train_examples": train_examples, "test_puzzles": len(test[0]),
        "test_examples": len(test[0]) * (request.test_aug + 1),
        **maze_statistics(all_labels),
        "load_seconds": round(loaded - started, 3), "seconds": round(time.perf_counter() - started, 3),
    }


def select_source(request: DataBuildRequest, n: int, min_path: int | None,
                  unique_path: bool) -> Selection:
    """The train and test ``(inputs, labels)`` the request names, and facts for the summary.

    ``min_path`` and ``unique_path`` select generated mazes; imported ones are taken as they are.
    """
    if request.source == "generate":
        train_size, test_size = request.generated_sizes()
        inputs, labels, info = generate_pool(train_size + test_size, n, request.seed, min_path, unique_path)
        rng = np.random.default_rng([request.seed, SPLIT_STREAM])
        train_rows, test_rows = disjoint_split(len(inputs), train_size, test_size, rng, request.source)
        return Selection((inputs[train_rows], labels[train_rows]), (inputs[test_rows], labels[test_rows]),
                         {"split": "generated", **info})
    pools = read_sources(request.source, request.test_source, IMPORTERS, "Maze")
    for pool in (pools.train, pools.test):
        if pool is not None and pool.inputs.shape[1] != n * n:
            side = math.isqrt(pool.inputs.shape[1])
            raise DatasetError(f"{pool.name} holds {side}x{side} mazes but the task is {n}x{n} "
                               f"(build with --size {side})")
    return select_splits(pools, train_size=request.train_size, test_size=request.test_size,
                         subsample=request.subsample, resplit=request.resplit, seed=request.seed)


def generate_pool(count: int, n: int, seed: int, min_path: int | None,
                  unique_path: bool) -> tuple[np.ndarray, np.ndarray, dict]:
    """``count`` distinct generated mazes; worker processes for large requests (same result)."""
    min_path = generator.default_min_path(n) if min_path is None else min_path
    workers = min(MAX_WORKERS, os.cpu_count() or 1) if count * n * n >= PARALLEL_CELLS else 1
    mazes = generator.generate(count, n, seed, min_path=min_path, unique_path=unique_path, workers=workers)
    info = {"min_path": min_path, "unique_path": unique_path, "candidates": mazes.candidates,
            "acceptance_rate": float(f"{count / max(mazes.candidates, 1):.3g}"), "clipped": mazes.clipped}
    return mazes.inputs, mazes.labels, info


def maze_statistics(labels: np.ndarray) -> dict:
    """Shortest-path lengths (moves) and wall densities of labelled mazes (P, n*n), for the summary."""
    if not len(labels):
        return {}
    moves = (labels == generator.PATH).sum(axis=1) + 1  # (P,) a path of d moves has d - 1 'o' cells
    walls = (labels == generator.WALL).mean(axis=1)  # (P,)
    return {"path_min": int(moves.min()), "path_mean": round(float(moves.mean()), 2), "path_max": int(moves.max()),
            "wall_density_min": round(float(walls.min()), 3), "wall_density_mean": round(float(walls.mean()), 3),
            "wall_density_max": round(float(walls.max()), 3)}
