"""Import Sudoku puzzles that users already have.

Three formats, each read into ``(puzzles, solutions)``: uint8 digit arrays
``(count, n*n)`` with 0 for a blank; the ``*_pool(s)`` readers wrap them as
:class:`recursia.data.select.Pools` for ``data build``, keeping a source's own splits.

- the Sudoku-Extreme CSV (header ``source,question,answer,rating``; 81-character
  ``question`` with ``.`` blanks and ``answer`` strings): :func:`read_csv`; a folder
  holding the real set's ``train.csv`` and ``test.csv`` gives both splits
  (:func:`read_csv_pools`);
- a folder in the official HRM/TRM layout (``DIR/train``, ``DIR/test`` or one split
  folder; tokens digit+1, blank 1): :func:`read_official`;
- one puzzle per line (16, 36 or 81 characters, ``.`` or ``0`` blank, ``#`` comment
  lines), solved here: :func:`read_lines`.

Every malformed input raises :class:`recursia.errors.DatasetError` with one line that
names the file and the line (or row) at fault.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path
from typing import Callable

import numpy as np

from recursia.api import DatasetError, Pool, Pools, group_originals, read_official_pools, read_split, subsample_rows
from recursia_sudoku import solver
from recursia_sudoku.grid import find_conflicts, units

CSV_COLUMNS = ("question", "answer")
SIZES = (4, 6, 9)
_CHECK_BATCH = 65536


CSV_SPLITS = ("train.csv", "test.csv")


def read_csv_pools(path: str | Path, n: int = 9) -> Pools:
    """A Sudoku-Extreme CSV file as one pool, or a folder's ``train.csv`` and ``test.csv``
    as the train and test pools; DatasetError unless the task is 9x9 (``n``)."""
    path = Path(path)
    if n != 9:
        raise DatasetError(f"csv:{path} holds 9x9 puzzles but the task is {n}x{n} (build with --size 9)")
    if not path.is_dir():
        return Pools(Pool(*read_csv(path), f"csv:{path}"))
    found = {name: path / name for name in CSV_SPLITS if (path / name).is_file()}
    if "train.csv" not in found:
        raise DatasetError(f"{path}: a folder given as csv: source needs a train.csv (and a test.csv)")
    test = found.get("test.csv")
    return Pools(Pool(*read_csv(found["train.csv"]), f"csv:{found['train.csv']}"),
                 None if test is None else Pool(*read_csv(test), f"csv:{test}"))


def read_lines_pool(path: str | Path) -> Pools:
    """A one-puzzle-per-line file (:func:`read_lines`) as a single pool."""
    return Pools(Pool(*read_lines(path), f"lines:{path}"))


def read_csv(path: str | Path, subsample: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Puzzles and solutions ``(count, 81)`` of a Sudoku-Extreme CSV file.

    ``subsample`` keeps a seeded random subset of that many rows (in file order).
    A ``.`` or ``0`` in ``question`` is a blank.
    """
    path = Path(path)
    lines, questions, answers = _csv_columns(path)
    if not questions:
        raise DatasetError(f"{path}: no puzzles after the header")
    for line, question, answer in zip(lines, questions, answers):
        _check_text(question, 81, 9, f"{path} line {line}: question", blanks=True)
        _check_text(answer, 81, 9, f"{path} line {line}: answer", blanks=False)
    keep = subsample_rows(len(questions), subsample, seed, str(path))
    puzzles = _digits([questions[i] for i in keep], 81)
    solutions = _digits([answers[i] for i in keep], 81)
    check_pairs(puzzles, solutions, 9, lambda i: f"{path} line {lines[keep[i]]}")
    return puzzles, solutions


def _csv_columns(path: Path) -> tuple[list[int], list[str], list[str]]:
    """Line numbers, questions and answers of the rows of a CSV file (unchecked)."""
    handle = open_text(path)
    try:
        with handle:
            return _csv_rows(path, handle)
    except UnicodeDecodeError as e:
        raise DatasetError(f"{path}: not UTF-8 text (byte {e.start + 1} is {e.object[e.start:e.start + 1]!r}); "
                           f"a Sudoku CSV is plain text") from None
    except csv.Error as e:
        raise DatasetError(f"{path}: not a readable CSV ({e})") from None


def open_text(path: Path):
    """``path`` opened for reading text; DatasetError for a missing, unreadable or non-file path."""
    if path.is_dir():
        raise DatasetError(f"{path}: is a folder, expected a file")
    try:
        return path.open(newline="", encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except OSError as e:
        raise DatasetError(f"{path}: cannot open ({e.strerror or e})") from None


def _csv_rows(path: Path, handle) -> tuple[list[int], list[str], list[str]]:
    """Line numbers, questions and answers of an open CSV file (unchecked)."""
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        raise DatasetError(f"{path}: empty file (expected a header such as source,question,answer,rating)")
    header = [name.strip() for name in header]
    for name in CSV_COLUMNS:
        if name not in header:
            raise DatasetError(f"{path}: missing column '{name}' (header: {','.join(header)})")
    q, a = header.index("question"), header.index("answer")
    lines, questions, answers = [], [], []
    for row in reader:
        if not row:
            continue
        if len(row) != len(header):
            raise DatasetError(f"{path} line {reader.line_num}: {len(row)} fields, "
                               f"expected {len(header)} as in the header")
        lines.append(reader.line_num)
        questions.append(row[q].strip())
        answers.append(row[a].strip())
    return lines, questions, answers


def read_lines(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Puzzles of a one-puzzle-per-line file and their solutions, found by the solver.

    Lines have 16, 36 or 81 characters (4x4, 6x6, 9x9; all lines the same size), ``.``
    or ``0`` for a blank; empty lines and lines starting with ``#`` are skipped. A
    puzzle without exactly one solution is an error.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(f"{path}: cannot read ({e})") from None
    entries = [(i + 1, line.strip()) for i, line in enumerate(text.splitlines())
               if line.strip() and not line.lstrip().startswith("#")]
    if not entries:
        raise DatasetError(f"{path}: no puzzles (only empty or '#' comment lines)")
    n = _size_of(len(entries[0][1]), f"{path} line {entries[0][0]}")
    for line, puzzle in entries:
        _check_text(puzzle, n * n, n, f"{path} line {line}: puzzle", blanks=True)
    puzzles = _digits([puzzle for _, puzzle in entries], n * n)
    solutions = np.stack([_unique_solution(p, n, f"{path} line {line}")
                          for (line, _), p in zip(entries, puzzles)])
    return puzzles, solutions


def _size_of(cells: int, where: str, unit: str = "characters") -> int:
    """The grid size with ``cells`` cells; DatasetError naming ``where`` otherwise."""
    n = math.isqrt(cells)
    if n * n != cells or n not in SIZES:
        raise DatasetError(f"{where}: {cells} {unit}, expected 16, 36 or 81 (a 4x4, 6x6 or 9x9 grid)")
    return n


def _unique_solution(puzzle: np.ndarray, n: int, where: str) -> np.ndarray:
    """The only solution of ``puzzle``; DatasetError naming ``where`` if it has none or several."""
    conflicts = find_conflicts(puzzle, n)
    if conflicts:
        raise DatasetError(f"{where}: the givens clash ({conflicts[0]})")
    found = solver.solutions(puzzle, n, limit=2)
    if not found:
        raise DatasetError(f"{where}: the puzzle has no solution")
    if len(found) > 1:
        raise DatasetError(f"{where}: the puzzle has more than one solution")
    return found[0]


def read_official(folder: str | Path) -> Pools:
    """The original puzzles of a dataset in the official layout, with their solutions.

    ``folder`` is a split folder (with ``dataset.json``; one pool) or holds ``train/``
    and/or ``test/`` split folders (kept apart as the train and test pools). Only the
    first example of the first puzzle of each group is kept: the original, not its
    stored augmentations.
    """
    return read_official_pools(folder, _read_official_split)


def _read_official_split(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Original puzzles and solutions of one official split folder, checked."""
    split = read_split(folder, mmap=False)
    n = _size_of(int(split.meta["seq_len"]), f"{folder / 'dataset.json'}: seq_len", "tokens")
    rows, inputs, labels = group_originals(split)
    inputs, labels = inputs.astype(np.int64), labels.astype(np.int64)
    _check_tokens(inputs, 1, n + 1, folder / "all__inputs.npy", rows)
    _check_tokens(labels, 2, n + 1, folder / "all__labels.npy", rows)
    puzzles = (inputs - 1).astype(np.uint8)
    solutions = (labels - 1).astype(np.uint8)
    check_pairs(puzzles, solutions, n, lambda i: f"{folder} example {rows[i]}")
    return puzzles, solutions


def _check_tokens(tokens: np.ndarray, low: int, high: int, path: Path, rows: np.ndarray) -> None:
    """DatasetError naming the first example of ``tokens`` with a value outside ``low..high``."""
    bad = np.argwhere((tokens < low) | (tokens > high))
    if len(bad):
        i, cell = bad[0]
        raise DatasetError(f"{path} row {rows[i]}: token {tokens[i, cell]} at cell {cell + 1} is outside "
                           f"{low}..{high} (blank 1, digits 2..{high})")


def _check_text(text: str, cells: int, n: int, where: str, blanks: bool) -> None:
    """DatasetError naming ``where`` unless ``text`` is ``cells`` digits 1..n (or ``.``/``0`` if ``blanks``)."""
    allowed = f"1-{n}" + (".0" if blanks else "")
    if re.fullmatch(f"[{allowed}]{{{cells}}}", text):
        return
    if len(text) != cells:
        raise DatasetError(f"{where} has {len(text)} characters, expected {cells}")
    pos, char = next((i, c) for i, c in enumerate(text) if not re.fullmatch(f"[{allowed}]", c))
    wanted = f"1-{n}" + (", '.' or '0' for a blank" if blanks else "")
    raise DatasetError(f"{where} has {char!r} at position {pos + 1}, expected {wanted}")


def _digits(texts: list[str], cells: int) -> np.ndarray:
    """Checked strings as a ``(len(texts), cells)`` uint8 digit array, blanks 0."""
    if not texts:
        return np.zeros((0, cells), dtype=np.uint8)
    raw = np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8).reshape(len(texts), cells)  # (N, cells)
    return np.where(raw == ord("."), 0, raw - ord("0")).astype(np.uint8)


def check_pairs(puzzles: np.ndarray, solutions: np.ndarray, n: int, where: Callable[[int], str]) -> None:
    """DatasetError (prefixed by ``where(i)``) for the first solution that is no solved grid or drops a clue."""
    for start in range(0, len(puzzles), _CHECK_BATCH):
        chunk_p = puzzles[start:start + _CHECK_BATCH]
        chunk_s = solutions[start:start + _CHECK_BATCH]
        in_units = np.sort(chunk_s[:, units(n)], axis=-1)  # (B, 3n, n)
        broken = np.flatnonzero(np.any(in_units != np.arange(1, n + 1), axis=(1, 2)))
        if len(broken):
            i = int(broken[0])
            problems = find_conflicts(chunk_s[i], n) or ["it has blanks"]
            raise DatasetError(f"{where(start + i)}: the solution is not a solved grid ({problems[0]})")
        dropped = np.argwhere((chunk_p != 0) & (chunk_p != chunk_s))
        if len(dropped):
            i, cell = (int(v) for v in dropped[0])
            raise DatasetError(f"{where(start + i)}: the solution has {chunk_s[i, cell]} at cell {cell + 1} "
                               f"where the puzzle gives {chunk_p[i, cell]}")
