"""Import mazes that users already have: a folder in the official HRM/TRM layout.

The official Maze-Hard data (``maze-30x30-hard-1k``) is one ``train`` split (and,
when built with the official script, a ``test`` split) of ``size*size`` uint8
tokens per maze: 1 wall, 2 open, 3 ``S``, 4 ``G`` in the inputs, and 5 ``o`` on the
open cells of one shortest S-G path in the labels (the path's ``d - 1`` inner cells
for a shortest path of ``d`` moves). :func:`read_official` reads it into
``(inputs, labels)`` token arrays (one pool per split) and checks every maze; each malformed maze raises
:class:`recursia.errors.DatasetError` with one line naming the file and the row.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from recursia.api import DatasetError, Pools, group_originals, read_official_pools, read_split
from recursia_maze.generate import GOAL, OPEN, PATH, START, WALL, path_lengths

CHECK_BATCH = 8192  # mazes searched at once while checking
_INPUT_TOKENS = "1 wall, 2 open, 3 S, 4 G"


def read_official(folder: str | Path) -> Pools:
    """The original mazes (inputs, labels) ``(count, size*size)`` uint8 of an official folder.

    ``folder`` is a split folder (with ``dataset.json``; one pool) or holds ``train/``
    and/or ``test/`` split folders (kept apart as the train and test pools). Only the
    first example of the first puzzle of each group is kept: the original, not its
    stored augmentations.
    """
    return read_official_pools(folder, _read_split)


def _read_split(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Original mazes and labels of one official split folder, checked."""
    split = read_split(folder, mmap=False)
    check_square(int(split.meta["seq_len"]), folder / "dataset.json")
    rows, inputs, labels = group_originals(split)
    inputs, labels = inputs.astype(np.uint8), labels.astype(np.uint8)
    check_mazes(inputs, labels, folder, rows)
    return inputs, labels


def check_square(cells: int, where: Path | str) -> None:
    """DatasetError naming ``where`` unless ``cells`` is the cell count of a square maze of side >= 2."""
    n = math.isqrt(cells)
    if n < 2 or n * n != cells:
        raise DatasetError(f"{where}: seq_len {cells} is not the number of cells of a square maze (n*n)")


def check_mazes(inputs: np.ndarray, labels: np.ndarray, folder: Path, rows: np.ndarray) -> None:
    """DatasetError naming the file and row of the first maze or label that is malformed.

    inputs, labels: (B, n*n) tokens; ``rows`` (B,) their row numbers in the files.
    """
    in_file, label_file = folder / "all__inputs.npy", folder / "all__labels.npy"
    _check_inputs(inputs, in_file, rows)
    _check_labels(inputs, labels, label_file, rows)
    for start in range(0, len(inputs), CHECK_BATCH):
        part = slice(start, start + CHECK_BATCH)
        _check_paths(inputs[part], labels[part], in_file, label_file, rows[part])


def _check_inputs(inputs: np.ndarray, path: Path, rows: np.ndarray) -> None:
    """Only wall, open, S and G tokens, and exactly one S and one G per maze."""
    bad = np.argwhere((inputs < WALL) | (inputs > GOAL))
    if len(bad):
        i, cell = bad[0]
        raise DatasetError(f"{path} row {rows[i]}: token {inputs[i, cell]} at cell {cell + 1} is not a maze "
                           f"cell ({_INPUT_TOKENS})")
    for token, name in ((START, "S"), (GOAL, "G")):
        counts = (inputs == token).sum(axis=1)  # (B,)
        wrong = np.flatnonzero(counts != 1)
        if len(wrong):
            i = wrong[0]
            raise DatasetError(f"{path} row {rows[i]}: {counts[i]} {name} cells (token {token}), expected one")


def _check_labels(inputs: np.ndarray, labels: np.ndarray, path: Path, rows: np.ndarray) -> None:
    """Labels equal to the inputs except open cells, which may be ``o``."""
    same = (labels == inputs) | ((labels == PATH) & (inputs == OPEN))  # (B, n*n)
    bad = np.argwhere(~same)
    if len(bad):
        i, cell = bad[0]
        raise DatasetError(f"{path} row {rows[i]}: token {labels[i, cell]} at cell {cell + 1} where the maze has "
                           f"{inputs[i, cell]} (a label is the maze with 5 'o' on open cells of the path)")


def _check_paths(inputs: np.ndarray, labels: np.ndarray, in_file: Path, label_file: Path, rows: np.ndarray) -> None:
    """S reaches G, and the ``o`` cells of each label are a shortest S-G path."""
    batch, cells = inputs.shape
    n = math.isqrt(cells)
    starts, goals = np.argmax(inputs == START, axis=1), np.argmax(inputs == GOAL, axis=1)
    shortest = path_lengths((inputs != WALL).reshape(batch, n, n), starts, goals)  # (B,) moves, -1 if none
    stuck = np.flatnonzero(shortest < 0)
    if len(stuck):
        raise DatasetError(f"{in_file} row {rows[stuck[0]]}: no path from S to G (walls separate them)")
    marked = labels == PATH  # (B, n*n)
    on_path = (marked | (inputs == START) | (inputs == GOAL)).reshape(batch, n, n)
    along = path_lengths(on_path, starts, goals)  # (B,) moves through the 'o' cells only
    wrong = np.flatnonzero((along != shortest) | (marked.sum(axis=1) != shortest - 1))
    if len(wrong):
        i = wrong[0]
        raise DatasetError(f"{label_file} row {rows[i]}: the {marked[i].sum()} 'o' cells are not a shortest path "
                           f"from S to G (a shortest path has {shortest[i]} moves, so {shortest[i] - 1} 'o' cells)")
