"""Generate Latin-square puzzles and write a dataset (``recursia data build latin``).

Only the ``generate`` source exists. A square is the cyclic square ``(r + c) mod n``
with its rows, columns and symbols shuffled; a puzzle blanks ``BLANK_FRACTION`` of its
cells at random and then gives back blanked cells (from the square) until the square
is its only completion, so every label is the one answer. Puzzles are de-duplicated,
then split into a test set of ``test_size`` puzzles and a disjoint train set of
``train_size``; each train puzzle is stored with ``aug`` augmented copies (one group
per original), and each test puzzle with ``test_aug`` copies (default none, for voting). Everything is seeded by
``request.seed``. The files are written with :func:`recursia.data.dataset.write_augmented_split`
(which records the parameters of every augmented copy, for voting).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from recursia.api import DataBuildRequest, DatasetError, write_augmented_split
from recursia_latin_square import grid

BLANK_FRACTION = 0.6
GENERATE_STREAM, SPLIT_STREAM, AUG_STREAM, TEST_AUG_STREAM = 0, 1, 2, 3  # independent random streams from the seed
MAX_DRAWS = 4  # generated puzzles per distinct one asked, at most


def random_square(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``n x n`` Latin square (symbols 1..n, flat): a shuffled cyclic square."""
    rows, cols, symbols = rng.permutation(n), rng.permutation(n), rng.permutation(n) + 1
    cyclic = (rows[:, None] + cols[None, :]) % n
    return symbols[cyclic].reshape(-1).astype(np.int64)


def make_puzzle(square: np.ndarray, n: int, rng: np.random.Generator,
                blank_fraction: float = BLANK_FRACTION) -> np.ndarray:
    """Blank ``blank_fraction`` of the cells of ``square``, then restore cells until it is the only completion."""
    puzzle = square.copy()
    blanks = rng.permutation(n * n)[: int(round(blank_fraction * n * n))]
    puzzle[blanks] = 0
    while True:
        found, _ = grid.solve(puzzle, n, limit=2)
        if len(found) < 2:
            return puzzle
        other = found[0] if not np.array_equal(found[0], square) else found[1]
        differ = np.flatnonzero(other != square)  # blanks where another completion disagrees
        cell = rng.choice(differ)
        puzzle[cell] = square[cell]


def generate(count: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` seeded ``(puzzles, squares)`` symbol arrays of shape ``(count, n*n)``."""
    rng = np.random.default_rng([seed, GENERATE_STREAM, n])
    puzzles = np.zeros((count, n * n), dtype=np.int64)
    squares = np.zeros((count, n * n), dtype=np.int64)
    for i in range(count):  # one square then its puzzle: the first k of a larger draw are the same
        squares[i] = random_square(n, rng)
        puzzles[i] = make_puzzle(squares[i], n, rng)
    return puzzles, squares


def dedupe(puzzles: np.ndarray, solutions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first occurrence of every distinct puzzle, in the original order."""
    if len(puzzles) == 0:
        return puzzles, solutions
    _, first = np.unique(puzzles, axis=0, return_index=True)
    keep = np.sort(first)
    return puzzles[keep], solutions[keep]


def generate_unique(count: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` distinct puzzles; DatasetError when ``MAX_DRAWS * count`` draws do not give enough."""
    drawn = count
    while True:
        puzzles, squares = dedupe(*generate(drawn, n, seed))
        if len(puzzles) >= count:
            return puzzles[:count], squares[:count]
        if drawn >= MAX_DRAWS * count:
            raise DatasetError(f"only {len(puzzles)} distinct {n}x{n} Latin-square puzzles in {drawn} "
                               f"generated, fewer than the {count} asked: ask for fewer")
        drawn = min(MAX_DRAWS * count, 2 * drawn)


def split(puzzles: np.ndarray, squares: np.ndarray, request: DataBuildRequest):
    """Seeded disjoint ``((train_p, train_s), (test_p, test_s))``."""
    train_size, test_size = request.generated_sizes()
    order = np.random.default_rng([request.seed, SPLIT_STREAM]).permutation(len(puzzles))
    test_rows = np.sort(order[:test_size])
    train_rows = np.sort(order[test_size:test_size + train_size])
    return (puzzles[train_rows], squares[train_rows]), (puzzles[test_rows], squares[test_rows])


def build_latin_dataset(task, request: DataBuildRequest) -> dict:
    """Write ``request.out/{train,test}`` and ``identifiers.json``; return a summary.

    ``task`` is a :class:`recursia_latin_square.task.LatinTask`. Raises DatasetError for
    a source other than ``generate``, negative sizes or too few distinct puzzles.
    """
    n = task.options.size
    train_size, test_size = request.generated_sizes("Latin-square")  # only 'generate'; no negative counts
    started = time.perf_counter()
    puzzles, squares = generate_unique(train_size + test_size, n, request.seed)
    train, test = split(puzzles, squares, request)
    tokens = [a.astype(np.uint8) + 1 for a in train]  # symbols -> tokens (blank 0 -> 1)
    rng = np.random.default_rng([request.seed, AUG_STREAM])
    out = Path(request.out)
    examples = write_augmented_split(out / "train", tokens, task.augmentations(), request.aug, rng, task.vocab_size)
    test_rng = np.random.default_rng([request.seed, TEST_AUG_STREAM])
    write_augmented_split(out / "test", [a.astype(np.uint8) + 1 for a in test], task.augmentations(),
                          request.test_aug, test_rng, task.vocab_size)
    (out / "identifiers.json").write_text(json.dumps(["<blank>"]))
    return {
        "source": "generate", "size": n, "seed": request.seed,
        "train_puzzles": len(train[0]), "train_examples": examples, "test_puzzles": len(test[0]),
        "mean_givens": round(float((puzzles != 0).sum(axis=1).mean()), 2) if len(puzzles) else 0.0,
        "seconds": round(time.perf_counter() - started, 3),
    }
