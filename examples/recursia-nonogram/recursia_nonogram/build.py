"""Generate uniquely solvable nonograms and write a dataset (``recursia data build nonogram``).

Only the ``generate`` source exists. A puzzle is a random ``n x n`` grid (each cell
filled with a probability drawn per grid from ``DENSITY``) and the clues of its rows
and columns; it is kept only when the exact solver finds exactly one grid matching
those clues (solutions are counted up to 2), so every label is *the* answer. Grids are
de-duplicated up to the 8 symmetries of the square (a test puzzle is never a rotated
or mirrored train puzzle), then split into a test set of ``test_size`` and a disjoint
train set of ``train_size`` with a seeded generator. Each train puzzle is stored with
``aug`` copies transformed by ``nonogram.dihedral`` (one group per original), each
test puzzle with ``test_aug`` (default none), through
:func:`recursia.api.write_augmented_split`, which records the parameters of every copy.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from recursia.api import DataBuildRequest, DatasetError, dedupe_rows, dihedral, disjoint_split, write_augmented_split
from recursia_nonogram import layout, lines

DENSITY = (0.35, 0.7)  # the fill probability of a grid is drawn uniformly from this range
GENERATE_STREAM, SPLIT_STREAM, AUG_STREAM, TEST_AUG_STREAM = 0, 1, 2, 3  # independent random streams
MAX_DRAWS = 20  # random grids drawn per puzzle asked, at most
STALL_DRAWS = 50_000  # give up after this many draws in a row without a new puzzle (small grids run out)
DISTINCT_TRIES = 4  # redraw an augmented copy that repeats an earlier one of its group, up to this often


def canonical(grid: np.ndarray) -> bytes:
    """A key shared by a 0/1 grid ``(n, n)`` and its 7 rotations and mirror images."""
    return min(np.ascontiguousarray(dihedral(grid, k)).astype(np.uint8).tobytes() for k in range(8))


def generate(count: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """``count`` seeded uniquely solvable puzzles, distinct up to symmetry.

    Returns ``(inputs, labels, drawn)``: uint8 tokens ``(count, seq_len(n))`` and the
    number of random grids drawn. Grids are drawn one after another from one stream, so
    the first ``k`` puzzles of a larger request are the same. DatasetError when
    ``MAX_DRAWS * count`` draws, or ``STALL_DRAWS`` draws in a row, give no more.
    """
    rng = np.random.default_rng([seed, GENERATE_STREAM, n])
    seen: set[bytes] = set()
    inputs, labels = [], []
    drawn = last_new = 0
    while len(inputs) < count:
        if drawn >= MAX_DRAWS * count or drawn - last_new >= STALL_DRAWS:
            raise DatasetError(f"only {len(inputs)} distinct uniquely solvable {n}x{n} nonograms in {drawn} "
                               f"random grids, fewer than the {count} asked: ask for fewer")
        drawn += 1
        grid = (rng.random((n, n)) < rng.uniform(*DENSITY)).astype(np.int64)  # (n, n)
        key = canonical(grid)
        if key in seen:
            continue
        seen.add(key)
        rows, cols = lines.grid_clues(grid)
        if lines.count_solutions(rows, cols, n, limit=2) != 1:
            continue
        last_new = drawn
        inputs.append(layout.encode(rows, cols, n))
        labels.append(layout.label(grid))
    shape = (0, layout.seq_len(n))
    as_array = (lambda rows: np.stack(rows).astype(np.uint8) if rows else np.zeros(shape, np.uint8))
    return as_array(inputs), as_array(labels), drawn


def build_nonogram_dataset(task, request: DataBuildRequest) -> dict:
    """Write ``request.out/{train,test}`` and ``identifiers.json``; return a summary.

    ``task`` is a :class:`recursia_nonogram.task.NonogramTask`. Raises DatasetError for
    a source other than ``generate``, negative sizes or too few distinct puzzles.
    """
    n = task.options.size
    train_size, test_size = request.generated_sizes("nonogram")  # only 'generate'; no negative counts
    started = time.perf_counter()
    inputs, labels, drawn = generate(train_size + test_size, n, request.seed)
    inputs, labels = dedupe_rows(inputs, labels)  # a no-op: distinct grids have distinct clues when unique
    train_rows, test_rows = disjoint_split(len(inputs), train_size, test_size,
                                           np.random.default_rng([request.seed, SPLIT_STREAM]), f"nonogram {n}x{n}")
    out = Path(request.out)
    augs = task.augmentations()
    examples = write_augmented_split(out / "train", (inputs[train_rows], labels[train_rows]), augs, request.aug,
                                     np.random.default_rng([request.seed, AUG_STREAM]), task.vocab_size,
                                     distinct_tries=DISTINCT_TRIES)
    write_augmented_split(out / "test", (inputs[test_rows], labels[test_rows]), augs, request.test_aug,
                          np.random.default_rng([request.seed, TEST_AUG_STREAM]), task.vocab_size,
                          distinct_tries=DISTINCT_TRIES)
    (out / "identifiers.json").write_text(json.dumps(["<blank>"]))
    filled = (labels[:, layout.clue_len(n):] == layout.FILLED).mean() if len(labels) else 0.0
    return {
        "source": "generate", "size": n, "seed": request.seed,
        "train_puzzles": int(len(train_rows)), "train_examples": int(examples), "test_puzzles": int(len(test_rows)),
        "filled_cells": round(float(filled), 3), "unique_rate": round(len(inputs) / max(drawn, 1), 3),
        "seconds": round(time.perf_counter() - started, 3),
    }
