"""Build a Sudoku dataset (``recursia data build sudoku``) in the official layout.

Sources: ``generate`` (the built-in generator, default), ``csv:PATH`` (Sudoku-Extreme
CSV, 9x9 only), ``official:PATH`` (a folder in the official layout) and
``lines:PATH`` (one puzzle per line). Puzzles are de-duplicated, then split into a
test set of ``test_size`` puzzles and a disjoint train set of ``train_size`` puzzles;
each train puzzle is stored with ``aug`` augmented copies (one group per original),
test puzzles are not augmented. Tokens: blank 1, digit ``d`` -> ``d + 1``; labels are
the solution's tokens. Everything is seeded by ``request.seed``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from recursia.data.augment import augmented_copies
from recursia.data.dataset import disjoint_split, subsample_rows, write_split
from recursia.errors import DatasetError
from recursia.task import DataBuildRequest
from recursia_sudoku import generate as generator
from recursia_sudoku.importers import read_csv, read_lines, read_official

IMPORTERS = {"csv": read_csv, "official": read_official, "lines": read_lines}
SPLIT_STREAM, AUG_STREAM = 1, 2  # independent random streams derived from the seed
MAX_DRAWS = 4  # generated puzzles per distinct one asked, at most


def build_sudoku_dataset(task, request: DataBuildRequest) -> dict:
    """Write ``request.out/{train,test}`` and ``identifiers.json``; return a summary.

    ``task`` is a :class:`recursia_sudoku.task.SudokuTask` (its ``options.size``,
    ``vocab_size`` and ``augmentations()`` are used). Raises DatasetError for an
    unknown source, a bad file, a size mismatch or too few puzzles.
    """
    n = task.options.size
    _check_request(request)
    started = time.perf_counter()
    puzzles, solutions = load_source(request, n)
    loaded = time.perf_counter()
    rng = np.random.default_rng([request.seed, SPLIT_STREAM])
    train_rows, test_rows = disjoint_split(len(puzzles), request.train_size, request.test_size, rng, request.source)
    train, test = (puzzles[train_rows], solutions[train_rows]), (puzzles[test_rows], solutions[test_rows])
    augs = task.augmentations()
    if request.aug and not augs:
        raise DatasetError(f"the {n}x{n} Sudoku task has no augmentations; build with aug=0")
    tokens = [a.astype(np.uint8) + 1 for a in train]  # digits -> tokens (blank 0 -> 1)
    rng = np.random.default_rng([request.seed, AUG_STREAM])
    train_inputs, train_labels, group_sizes = augmented_copies(*tokens, augs, request.aug, rng)
    out = Path(request.out)
    write_split(out / "train", train_inputs, train_labels, vocab_size=task.vocab_size, group_sizes=group_sizes)
    write_split(out / "test", test[0] + 1, test[1] + 1, vocab_size=task.vocab_size)
    (out / "identifiers.json").write_text(json.dumps(["<blank>"]))
    done = time.perf_counter()
    chosen = np.concatenate([train[0], test[0]])
    return {
        "source": request.source, "size": n, "seed": request.seed,
        "train_puzzles": len(train[0]), "train_examples": len(train_inputs), "test_puzzles": len(test[0]),
        "mean_clues": round(float((chosen != 0).sum(axis=1).mean()), 2) if len(chosen) else 0.0,
        "load_seconds": round(loaded - started, 3), "seconds": round(done - started, 3),
    }


def _check_request(request: DataBuildRequest) -> None:
    """DatasetError for negative sizes or augmentation counts."""
    for field in ("train_size", "test_size", "aug"):
        if getattr(request, field) < 0:
            raise DatasetError(f"{field} must be >= 0, got {getattr(request, field)}")


def load_source(request: DataBuildRequest, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The de-duplicated pool of ``(puzzles, solutions)`` digit arrays the request names."""
    if request.source == "generate":
        return generate_unique(request.train_size + request.test_size, n, request.seed)
    kind, _, path = request.source.partition(":")
    if kind not in IMPORTERS or not path:
        raise DatasetError(f"unknown Sudoku data source {request.source!r}: expected 'generate', "
                           f"'csv:PATH', 'official:PATH' or 'lines:PATH'")
    if kind == "csv" and n != 9:
        raise DatasetError(f"csv:{path} holds 9x9 puzzles but the task is {n}x{n} (set task size 9)")
    puzzles, solutions = IMPORTERS[kind](path)
    if puzzles.shape[1] != n * n:
        grid = int(round(puzzles.shape[1] ** 0.5))
        raise DatasetError(f"{path} holds {grid}x{grid} puzzles but the task is {n}x{n}")
    keep = subsample_rows(len(puzzles), request.subsample, request.seed, path)
    return dedupe(puzzles[keep], solutions[keep])


def generate_unique(count: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` distinct generated puzzles (small grids repeat: draw more until enough).

    Raises DatasetError when ``MAX_DRAWS * count`` draws do not give enough (4x4
    grids have only some tens of thousands of minimal puzzles).
    """
    drawn = count
    while True:
        puzzles, solutions = dedupe(*generator.generate(drawn, n, seed))
        if len(puzzles) >= count:
            return puzzles[:count], solutions[:count]
        if drawn >= MAX_DRAWS * count:
            raise DatasetError(f"only {len(puzzles)} distinct {n}x{n} puzzles in {drawn} generated, "
                               f"fewer than the {count} asked: ask for fewer")
        drawn = min(MAX_DRAWS * count, drawn + 2 * (count - len(puzzles)) + generator.CHUNK)


def dedupe(puzzles: np.ndarray, solutions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first occurrence of every distinct puzzle, in the original order."""
    _, first = np.unique(puzzles, axis=0, return_index=True)
    keep = np.sort(first)
    return puzzles[keep], solutions[keep]


