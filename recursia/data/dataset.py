"""Datasets on disk in the official HRM/TRM "puzzle dataset" layout.

A split folder (``DIR/train``, ``DIR/test``) holds ``dataset.json`` and, for the set
``all``, the arrays ``all__inputs.npy`` and ``all__labels.npy`` (examples x seq_len,
uint8 tokens), ``all__puzzle_identifiers.npy`` (per puzzle, int32),
``all__puzzle_indices.npy`` (#puzzles+1, int32: each puzzle's example range) and
``all__group_indices.npy`` (#groups+1, int32: each group's puzzle range; a group is one
original puzzle and its stored augmentations). ``.npy`` files are read with
``allow_pickle=False`` and memory-mapped, so no pickle is ever involved.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from recursia.data.augment import Augmentation, AugmentationRecord, augmented_copies
from recursia.data.select import Pool, Pools
from recursia.errors import DatasetError
from recursia.jsonfile import read_json_object

ARRAYS = ("inputs", "labels", "puzzle_identifiers", "puzzle_indices", "group_indices")
IGNORE_LABEL = -100


@dataclass
class Split:
    """One split of a dataset, arrays memory-mapped.

    Attributes:
        meta: the ``dataset.json`` content.
        inputs, labels: (examples, seq_len) token arrays.
        puzzle_identifiers: (puzzles,) embedding id of each puzzle.
        puzzle_indices: (puzzles+1,) example range of each puzzle.
        group_indices: (groups+1,) puzzle range of each group.
    """

    meta: dict
    inputs: np.ndarray
    labels: np.ndarray
    puzzle_identifiers: np.ndarray
    puzzle_indices: np.ndarray
    group_indices: np.ndarray

    @property
    def num_examples(self) -> int:
        """Number of examples (rows)."""
        return int(self.inputs.shape[0])

    @property
    def num_groups(self) -> int:
        """Number of groups (original puzzles)."""
        return int(self.group_indices.shape[0] - 1)

    def example_puzzle_ids(self, rows: np.ndarray | range | None = None) -> np.ndarray:
        """(R,) int64 puzzle identifier of the examples ``rows`` (default: every example),
        found by binary search in ``puzzle_indices``: asking for a few rows makes no
        per-example array of the whole split."""
        index = np.asarray(self.puzzle_indices)  # (P+1,) example offsets, non-decreasing
        examples = np.arange(self.num_examples) if rows is None else np.asarray(rows)
        puzzles = np.searchsorted(index, examples.astype(index.dtype), side="right") - 1  # (R,)
        return np.asarray(self.puzzle_identifiers[puzzles], dtype=np.int64)

    def torch_labels(self, rows: np.ndarray) -> np.ndarray:
        """Labels of ``rows`` as int64 with the ignore id mapped to -100."""
        lab = np.asarray(self.labels[rows]).astype(np.int64)
        lab[lab == self.meta.get("ignore_label_id", 0)] = IGNORE_LABEL
        return lab


NPY_HEADER_BYTES = 128  # fixed .npy header size of a SplitWriter array: room for any row count


def _npy_header(shape: tuple[int, ...], dtype: np.dtype) -> bytes:
    """A version 1.0 ``.npy`` header of exactly :data:`NPY_HEADER_BYTES` bytes."""
    text = repr({"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape})
    body_len = NPY_HEADER_BYTES - 10  # magic (6) + version (2) + header length (2)
    body = text.encode("latin1").ljust(body_len - 1) + b"\n"
    if len(body) != body_len:
        raise ValueError(f"npy header for shape {shape} is longer than {NPY_HEADER_BYTES} bytes")
    return np.lib.format.magic(1, 0) + body_len.to_bytes(2, "little") + body


class RowFile:
    """A 2-D uint8 ``.npy`` file written by appending rows, so memory stays bounded.

    The header is written with a placeholder row count and rewritten with the real one
    by :meth:`close`; the file is built under ``path``'s ``.tmp.npy`` name and renamed
    into place only then.
    """

    def __init__(self, path: Path, width: int):
        self.path, self.width, self.rows = Path(path), int(width), 0
        self.tmp = self.path.with_name(self.path.name.removesuffix(".npy") + ".tmp.npy")
        self.file = open(self.tmp, "wb")
        self.file.write(_npy_header((0, self.width), np.uint8))

    def append(self, rows: np.ndarray) -> None:
        """Append ``rows`` (R, width) as uint8."""
        rows = np.ascontiguousarray(rows, dtype=np.uint8)
        if rows.ndim != 2 or rows.shape[1] != self.width:
            raise DatasetError(f"{self.path}: rows of shape {rows.shape}, expected (R, {self.width})")
        self.file.write(rows.data)
        self.rows += len(rows)

    def close(self) -> None:
        """Write the final header and move the file to its name."""
        self.file.seek(0)
        self.file.write(_npy_header((self.rows, self.width), np.uint8))
        self.file.close()
        os.replace(self.tmp, self.path)


class SplitWriter:
    """Write one split in the official layout, its token rows appended in chunks.

    ``append(inputs, labels)`` as often as needed (each (E, seq_len)), then
    :meth:`finish` with the puzzle and group structure of all appended rows. A build of
    millions of examples (ARC with 1000 augmentations) never holds them all in memory.
    Files are written to temporary names and renamed, so a killed build leaves no
    half-written array under the final name.
    """

    def __init__(self, folder: Path, seq_len: int):
        self.folder, self.seq_len = Path(folder), int(seq_len)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.inputs = RowFile(self.folder / "all__inputs.npy", seq_len)
        self.labels = RowFile(self.folder / "all__labels.npy", seq_len)

    @property
    def examples(self) -> int:
        """Rows appended so far."""
        return self.inputs.rows

    def append(self, inputs: np.ndarray, labels: np.ndarray) -> None:
        """Append examples: inputs and labels (E, seq_len) tokens below 256."""
        if np.shape(inputs) != np.shape(labels):
            raise DatasetError(f"{self.folder}: inputs {np.shape(inputs)} and labels {np.shape(labels)} must be "
                               f"equal 2-D shapes")
        self.inputs.append(inputs)
        self.labels.append(labels)

    def finish(self, *, vocab_size: int, group_sizes: list[int] | np.ndarray | None = None,
               puzzle_identifiers: np.ndarray | None = None, num_puzzle_identifiers: int = 1,
               extra_meta: dict | None = None, puzzle_sizes: list[int] | np.ndarray | None = None,
               record: AugmentationRecord | None = None) -> None:
        """Check the structure against the appended rows and write the index arrays,
        ``augmentations.json`` (``record``) and ``dataset.json``; see :func:`write_split`."""
        examples, folder = self.examples, self.folder
        self.inputs.close()
        self.labels.close()
        puzzle_sizes = (np.ones(examples, dtype=np.int64) if puzzle_sizes is None
                        else np.asarray(puzzle_sizes, np.int64))
        if puzzle_sizes.sum() != examples or np.any(puzzle_sizes < 1):
            raise DatasetError(f"{folder}: puzzle sizes add up to {puzzle_sizes.sum()}, not {examples} examples")
        n = len(puzzle_sizes)
        group_sizes = np.ones(n, dtype=np.int64) if group_sizes is None else np.asarray(group_sizes, np.int64)
        if group_sizes.sum() != n:
            raise DatasetError(f"{folder}: group sizes add up to {group_sizes.sum()}, not {n} puzzles")
        if record is not None and len(record.params) != n:
            raise DatasetError(f"{folder}: the augmentation record has {len(record.params)} entries, not {n}")
        if puzzle_identifiers is None:
            puzzle_identifiers = np.zeros(n, dtype=np.int32)
        arrays = {
            "puzzle_identifiers": np.asarray(puzzle_identifiers, dtype=np.int32),
            "puzzle_indices": np.concatenate([[0], np.cumsum(puzzle_sizes)]).astype(np.int32),
            "group_indices": np.concatenate([[0], np.cumsum(group_sizes)]).astype(np.int32),
        }
        meta = {
            "pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0,
            "vocab_size": int(vocab_size), "seq_len": self.seq_len,
            "num_puzzle_identifiers": int(num_puzzle_identifiers),
            "total_groups": int(len(group_sizes)), "mean_puzzle_examples": examples / max(n, 1),
            "total_puzzles": int(n), "sets": ["all"],
        }
        meta.update(extra_meta or {})
        for key, arr in arrays.items():
            tmp = folder / f"all__{key}.tmp.npy"
            np.save(tmp, arr, allow_pickle=False)
            os.replace(tmp, folder / f"all__{key}.npy")
        if record is not None:
            record.write(folder)
        tmp = folder / "dataset.json.tmp"
        tmp.write_text(json.dumps(meta, indent=1))
        os.replace(tmp, folder / "dataset.json")


def write_split(folder: Path, inputs: np.ndarray, labels: np.ndarray, *,
                vocab_size: int, group_sizes: list[int] | np.ndarray | None = None,
                puzzle_identifiers: np.ndarray | None = None,
                num_puzzle_identifiers: int = 1, extra_meta: dict | None = None,
                puzzle_sizes: list[int] | np.ndarray | None = None,
                record: AugmentationRecord | None = None) -> None:
    """Write one split in the official layout from whole arrays (a :class:`SplitWriter`
    with one append).

    inputs, labels: (examples, seq_len) tokens. ``puzzle_sizes[p]`` is the number of
    consecutive examples of puzzle ``p`` (default: one example per puzzle);
    ``group_sizes[g]`` the number of consecutive puzzles in group ``g`` (an original
    puzzle and its stored augmentations; default: every puzzle its own group).
    ``record`` (how each puzzle was augmented) is written as ``augmentations.json``.
    """
    inputs, labels = np.asarray(inputs), np.asarray(labels)
    if inputs.shape != labels.shape or inputs.ndim != 2:
        raise DatasetError(f"{folder}: inputs {inputs.shape} and labels {labels.shape} must be equal 2-D shapes")
    writer = SplitWriter(folder, inputs.shape[1])
    writer.append(inputs, labels)
    writer.finish(vocab_size=vocab_size, group_sizes=group_sizes, puzzle_identifiers=puzzle_identifiers,
                  num_puzzle_identifiers=num_puzzle_identifiers, extra_meta=extra_meta,
                  puzzle_sizes=puzzle_sizes, record=record)


def read_split(folder: str | Path, mmap: bool = True) -> Split:
    """Read one split folder; raises DatasetError naming the missing or bad file.

    Checks that ``dataset.json`` holds sane sizes and that the arrays fit together
    (shapes, integer dtypes, index arrays that are increasing ranges ending where the
    next array ends, puzzle identifiers inside the table); token values are checked
    against a task by :func:`check_tokens`.
    """
    folder = Path(folder)
    meta_path = folder / "dataset.json"
    if not meta_path.is_file():
        raise DatasetError(f"{folder}: no dataset.json (not a dataset split folder)")
    meta = read_json_object(meta_path, DatasetError)
    for key, low in (("vocab_size", 1), ("seq_len", 1), ("num_puzzle_identifiers", 0), ("ignore_label_id", 0)):
        value = meta.get(key, low)
        if key in ("vocab_size", "seq_len") and key not in meta:
            raise DatasetError(f"{meta_path}: missing key '{key}'")
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise DatasetError(f"{meta_path}: '{key}' must be an integer >= {low}, got {value!r}")
    arrays = {}
    for key in ARRAYS:
        path = folder / f"all__{key}.npy"
        if not path.is_file():
            raise DatasetError(f"{folder}: missing {path.name}")
        try:
            arrays[key] = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
        except (ValueError, EOFError, OSError) as e:
            raise DatasetError(f"{path}: unreadable array ({type(e).__name__}: {e})") from None
        if arrays[key].dtype.kind not in "iu":
            raise DatasetError(f"{path}: dtype {arrays[key].dtype}, expected integers")
    split = Split(meta=meta, **arrays)
    _check_layout(split, folder)
    return split


def _check_layout(split: Split, folder: Path) -> None:
    """DatasetError naming the file whose shape or index values do not fit the others."""
    def where(key: str) -> Path:
        return folder / f"all__{key}.npy"

    if split.inputs.ndim != 2 or split.inputs.shape != split.labels.shape:
        raise DatasetError(f"{folder}: inputs {split.inputs.shape} and labels {split.labels.shape} must be equal "
                           f"2-D shapes (examples, seq_len)")
    if split.inputs.shape[1] != split.meta["seq_len"]:
        raise DatasetError(f"{folder}: seq_len {split.meta['seq_len']} in dataset.json but arrays have "
                           f"{split.inputs.shape[1]}")
    for key in ("puzzle_indices", "group_indices", "puzzle_identifiers"):
        if getattr(split, key).ndim != 1:
            raise DatasetError(f"{where(key)}: shape {getattr(split, key).shape}, expected one dimension")
    for key, end, what in (("puzzle_indices", split.num_examples, "examples"),
                           ("group_indices", len(split.puzzle_indices) - 1, "puzzles")):
        index = np.asarray(getattr(split, key)).astype(np.int64)
        if len(index) < 1 or index[0] != 0 or np.any(np.diff(index) < 1) or index[-1] != end:
            raise DatasetError(f"{where(key)}: not a strictly increasing range of {what} from 0 to {end}")
    ids = np.asarray(split.puzzle_identifiers)
    if len(ids) != len(split.puzzle_indices) - 1:
        raise DatasetError(f"{where('puzzle_identifiers')}: {len(ids)} identifiers for "
                           f"{len(split.puzzle_indices) - 1} puzzles")
    table = split.meta.get("num_puzzle_identifiers", 1)
    if len(ids) and (ids.min() < 0 or ids.max() >= max(table, 1)):
        raise DatasetError(f"{where('puzzle_identifiers')}: identifiers {int(ids.min())}..{int(ids.max())} outside "
                           f"0..{max(table, 1) - 1} (num_puzzle_identifiers {table} in dataset.json)")


def check_tokens(split: Split, folder: str | Path, vocab_size: int) -> None:
    """DatasetError naming the file and row of the first token outside ``0..vocab_size-1``.

    ``vocab_size`` is the task's; ``dataset.json`` may not claim a larger one.
    """
    folder = Path(folder)
    if split.meta["vocab_size"] > vocab_size:
        raise DatasetError(f"{folder / 'dataset.json'}: vocab_size {split.meta['vocab_size']}, more than the "
                           f"task's {vocab_size}")
    for key in ("inputs", "labels"):
        array = getattr(split, key)
        if not array.size:
            continue
        low, high = int(array.min()), int(array.max())
        if low < 0 or high >= vocab_size:
            rows, cells = np.nonzero((np.asarray(array) < 0) | (np.asarray(array) >= vocab_size))
            raise DatasetError(f"{folder / f'all__{key}.npy'} row {rows[0]}: token {int(array[rows[0], cells[0]])} "
                               f"at cell {cells[0] + 1} is outside the task's vocabulary 0..{vocab_size - 1}")


def read_task_split(folder: str | Path, seq_len: int, vocab_size: int, what: str) -> Split:
    """:func:`read_split` checked against a task: its sequence length and vocabulary.

    ``what`` describes the task in the error (e.g. ``"sudoku 6x6"``).
    """
    split = read_split(folder)
    if split.meta["seq_len"] != seq_len:
        raise DatasetError(f"{folder}: seq_len {split.meta['seq_len']} does not match the task ({what}, "
                           f"seq_len {seq_len})")
    check_tokens(split, folder, vocab_size)
    return split


def find_split(data_dir: str | Path, name: str) -> Path:
    """The folder of split ``name`` under ``data_dir`` (or ``data_dir`` itself if it is one)."""
    data_dir = Path(data_dir)
    if (data_dir / name / "dataset.json").is_file():
        return data_dir / name
    if (data_dir / "dataset.json").is_file():
        return data_dir
    raise DatasetError(f"{data_dir}: no '{name}' split (expected {data_dir / name / 'dataset.json'})")


def official_split_folders(folder: str | Path) -> dict[str, Path]:
    """The split folders of an official dataset by name: ``{"train": folder}`` if
    ``folder`` is itself a split, else those of its ``train/`` and ``test/`` that exist;
    DatasetError if none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such folder" if not folder.exists() else f"{folder}: not a folder")
    if (folder / "dataset.json").is_file():
        return {"train": folder}
    splits = {name: folder / name for name in ("train", "test") if (folder / name / "dataset.json").is_file()}
    if not splits:
        raise DatasetError(f"{folder}: no dataset.json in it nor in train/ or test/ (not an official dataset)")
    return splits


def read_official_pools(folder: str | Path, read_one: Callable[[Path], tuple[np.ndarray, np.ndarray]],
                        kind: str = "official") -> Pools:
    """``read_one(split_folder) -> (inputs, labels)`` of each split of an official folder,
    as :class:`recursia.data.select.Pools` (its own train and test kept apart); a folder
    with only ``test/`` gives that as the single pool. DatasetError when the splits'
    grids have different cell counts."""
    splits = official_split_folders(folder)
    pools = {name: Pool(*read_one(path), f"{kind}:{path}") for name, path in splits.items()}
    sizes = {pool.inputs.shape[1] for pool in pools.values()}
    if len(sizes) > 1:
        raise DatasetError(f"{folder}: the splits have different grid sizes ({sorted(sizes)} cells)")
    if "train" not in pools:
        return Pools(pools["test"])
    return Pools(pools["train"], pools.get("test"))


def group_originals(split: Split) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rows, inputs, labels)`` of the first example of each group's first puzzle: the
    originals, not their stored augmentations. rows (G,), inputs/labels (G, L) as stored
    (:func:`read_split` has checked the index arrays)."""
    groups = np.asarray(split.group_indices)
    rows = np.asarray(split.puzzle_indices)[groups[:-1]]
    return rows, np.asarray(split.inputs)[rows], np.asarray(split.labels)[rows]


def read_augmentation_record(split: Split, folder: str | Path) -> AugmentationRecord | None:
    """The :class:`AugmentationRecord` stored with ``split`` in ``folder`` (None when absent)."""
    return AugmentationRecord.read(Path(folder), len(split.puzzle_identifiers), split.num_groups, split.num_examples)


def write_augmented_split(folder: Path, pairs: tuple[np.ndarray, np.ndarray] | list[np.ndarray],
                          augs: list[Augmentation], copies: int, rng: np.random.Generator, vocab_size: int,
                          distinct_tries: int = 1) -> int:
    """Write a split of one-example puzzles, each followed by ``copies`` augmented copies
    in its group (:func:`recursia.data.augment.augmented_copies`), with their
    :class:`AugmentationRecord` when ``copies`` > 0; returns the number of examples.

    pairs: ``(inputs, labels)`` token arrays (P, L). DatasetError when copies are asked
    of a task without augmentations.
    """
    if copies and not augs:
        raise DatasetError(f"{folder}: {copies} augmented copies asked but the task has no augmentations")
    inputs, labels, group_sizes, params = augmented_copies(*pairs, augs, copies, rng, distinct_tries)
    record = AugmentationRecord([a.name for a in augs], params) if copies else None
    write_split(folder, inputs, labels, vocab_size=vocab_size, group_sizes=group_sizes, record=record)
    return len(inputs)
