"""Build a Sudoku dataset (``recursia data build sudoku``) in the official layout.

Sources: ``generate`` (the built-in generator, default), ``csv:PATH`` (Sudoku-Extreme
CSV, 9x9 only; a folder holding ``train.csv`` and ``test.csv`` gives both splits),
``official:PATH`` (a folder in the official layout; its ``train/`` and ``test/`` are
kept apart) and ``lines:PATH`` (one puzzle per line). Generated puzzles are
de-duplicated and split into ``test_size`` test and a disjoint ``train_size`` train
puzzles; imports keep the source's own splits (:mod:`recursia.data.select`: ``--subsample``
takes train puzzles, ``--test-source`` names the test split, ``--resplit`` merges and
splits again). Each train puzzle is stored with ``aug`` augmented copies (one group
per original), test puzzles are not augmented. Tokens: blank 1, digit ``d`` -> ``d + 1``;
labels are the solution's tokens. Everything is seeded by ``request.seed``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from recursia.api import (DataBuildRequest, DatasetError, Selection, dedupe_rows, disjoint_split,
                          read_sources, select_splits, write_augmented_split)
from recursia_sudoku import generate as generator
from recursia_sudoku.importers import read_csv_pools, read_lines_pool, read_official

SPLIT_STREAM, AUG_STREAM, TEST_AUG_STREAM = 1, 2, 3  # independent random streams derived from the seed
MAX_DRAWS = 4  # generated puzzles per distinct one asked, at most


def build_sudoku_dataset(task, request: DataBuildRequest) -> dict:
    """Write ``request.out/{train,test}`` and ``identifiers.json``; return a summary.

    ``task`` is a :class:`recursia_sudoku.task.SudokuTask` (its ``options.size``,
    ``vocab_size`` and ``augmentations()`` are used). Raises DatasetError for an
    unknown source, a bad file, a size mismatch or too few puzzles.
    """
    n = task.options.size
    if request.aug < 0:
        raise DatasetError(f"aug must be >= 0, got {request.aug}")
    augs = task.augmentations()
    if (request.aug or request.test_aug) and not augs:
        raise DatasetError(f"the {n}x{n} Sudoku task has no augmentations; build with aug=0 and test_aug=0")
    started = time.perf_counter()
    chosen = select_source(request, n)
    loaded = time.perf_counter()
    train, test = chosen.train, chosen.test
    tokens = [a.astype(np.uint8) + 1 for a in train]  # digits -> tokens (blank 0 -> 1)
    rng = np.random.default_rng([request.seed, AUG_STREAM])
    out = Path(request.out)
    train_inputs = write_augmented_split(out / "train", tokens, augs, request.aug, rng, task.vocab_size)
    test_rng = np.random.default_rng([request.seed, TEST_AUG_STREAM])
    write_augmented_split(out / "test", [a.astype(np.uint8) + 1 for a in test], augs, request.test_aug, test_rng,
                          task.vocab_size)
    (out / "identifiers.json").write_text(json.dumps(["<blank>"]))
    done = time.perf_counter()
    both = np.concatenate([train[0], test[0]])
    return {
        "source": request.source, "size": n, "seed": request.seed, **chosen.info,
        "train_puzzles": len(train[0]), "train_examples": train_inputs, "test_puzzles": len(test[0]),
        "test_examples": len(test[0]) * (request.test_aug + 1),
        "mean_clues": round(float((both != 0).sum(axis=1).mean()), 2) if len(both) else 0.0,
        "load_seconds": round(loaded - started, 3), "seconds": round(done - started, 3),
    }


def select_source(request: DataBuildRequest, n: int) -> Selection:
    """The train and test ``(puzzles, solutions)`` digit arrays the request names."""
    if request.source == "generate":
        train_size, test_size = request.generated_sizes()
        puzzles, solutions = generate_unique(train_size + test_size, n, request.seed)
        rng = np.random.default_rng([request.seed, SPLIT_STREAM])
        train_rows, test_rows = disjoint_split(len(puzzles), train_size, test_size, rng, request.source)
        return Selection((puzzles[train_rows], solutions[train_rows]), (puzzles[test_rows], solutions[test_rows]),
                         {"split": "generated"})
    importers = {"csv": lambda path: read_csv_pools(path, n), "official": read_official, "lines": read_lines_pool}
    pools = read_sources(request.source, request.test_source, importers, "Sudoku")
    for pool in (pools.train, pools.test):
        if pool is not None and pool.inputs.shape[1] != n * n:
            grid = int(round(pool.inputs.shape[1] ** 0.5))
            raise DatasetError(f"{pool.name} holds {grid}x{grid} puzzles but the task is {n}x{n} "
                               f"(build with --size {grid})")
    return select_splits(pools, train_size=request.train_size, test_size=request.test_size,
                         subsample=request.subsample, resplit=request.resplit, seed=request.seed)


def generate_unique(count: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` distinct generated puzzles (small grids repeat: draw more until enough).

    Raises DatasetError when ``MAX_DRAWS * count`` draws do not give enough (4x4
    grids have only some tens of thousands of minimal puzzles).
    """
    drawn = count
    while True:
        puzzles, solutions = dedupe_rows(*generator.generate(drawn, n, seed))
        if len(puzzles) >= count:
            return puzzles[:count], solutions[:count]
        if drawn >= MAX_DRAWS * count:
            raise DatasetError(f"only {len(puzzles)} distinct {n}x{n} puzzles in {drawn} generated, "
                               f"fewer than the {count} asked: ask for fewer")
        drawn = min(MAX_DRAWS * count, drawn + 2 * (count - len(puzzles)) + generator.CHUNK)
