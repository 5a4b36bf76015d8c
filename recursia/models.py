"""Models that ship with the package, the user's own runs, and which one answers a puzzle.

Shipped models live in the package folder ``recursia/shipped/<name>/``: ``config.json``
and ``model.safetensors`` (what ``solve`` and ``eval`` load, as from a run directory)
and ``model.json``, the record ``scripts/make_models.py`` wrote when it trained them
(the command, seed, dataset settings, accuracy on the test split and on a fixed subset
of it). :func:`find_model` picks the model for a puzzle:

1. the newest run of the task under ``runs/`` whose task options fit the puzzle
   (``Task.compatible``), as ``recursia train`` saved it;
2. else a shipped model of the task whose task options fit the puzzle;
3. else the newest run of the task even though it does not fit (``solve`` then says why);
4. else a :class:`~recursia.errors.CheckpointError` saying how to get one.

No torch here: ``recursia models`` and the commands' ``--help`` import this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from recursia.build import make_task
from recursia.errors import CheckpointError, RecursiaError
from recursia.jsonfile import read_json_object
from recursia.train.metrics_log import read_metrics
from recursia.train.run_files import CONFIG_FILE, METRICS_FILE, MODEL_FILE

SHIPPED_DIR = "shipped"  # inside the recursia package
INFO_FILE = "model.json"
INFO_FIELDS = ("name", "task", "preset", "mixer", "task_options", "seed", "steps", "command", "recursia_version",
               "date", "dataset", "parameters", "files", "size_bytes", "accuracy")


def shipped_root() -> Path:
    """The folder of the shipped models (``recursia/shipped`` in the installed package)."""
    return Path(str(resources.files("recursia").joinpath(SHIPPED_DIR)))


@dataclass
class ShippedModel:
    """One shipped model: its folder and its ``model.json``."""

    name: str
    path: Path
    info: dict[str, Any]

    @property
    def task(self) -> str:
        """The task the model was trained on."""
        return self.info["task"]

    @property
    def task_options(self) -> dict:
        """The task options it was trained with (a puzzle must fit them)."""
        return self.info["task_options"]

    def accuracy_note(self) -> str:
        """``"93.7% exact on its 1000 test puzzles with learned halting, as solve answers;
        99.7% after all 8 steps"``, from the record of the full test split."""
        test = (self.info.get("accuracy") or {}).get("test") or {}
        if "exact_acc_halt" not in test:
            return "no accuracy recorded"
        after = (f"; {test['exact_acc']:.1%} after all {len(test['exact_acc_per_step'])} steps"
                 if "exact_acc" in test and test.get("exact_acc_per_step") else "")
        return (f"{test['exact_acc_halt']:.1%} exact on its {test.get('examples', '?')} test puzzles with learned "
                f"halting, as solve answers{after}")


def read_shipped(folder: Path) -> ShippedModel:
    """The shipped model in ``folder``; CheckpointError for a missing file or a bad ``model.json``."""
    info = read_json_object(folder / INFO_FILE, CheckpointError, "model record")
    missing = [k for k in INFO_FIELDS if k not in info]
    if missing:
        raise CheckpointError(f"{folder / INFO_FILE}: missing field(s) {', '.join(missing)}")
    for name in (CONFIG_FILE, MODEL_FILE):
        if not (folder / name).is_file():
            raise CheckpointError(f"{folder}: no {name} (an incomplete shipped model)")
    return ShippedModel(str(info["name"]), folder, info)


def shipped_models(root: Path | None = None) -> list[ShippedModel]:
    """Every shipped model (folders holding a ``model.json``), by name."""
    root = shipped_root() if root is None else root
    if not root.is_dir():
        return []
    return [read_shipped(d) for d in sorted(root.iterdir()) if (d / INFO_FILE).is_file()]


def shipped_model(name: str, root: Path | None = None) -> ShippedModel:
    """The shipped model called ``name``; CheckpointError naming the ones there are."""
    found = shipped_models(root)
    for model in found:
        if model.name == name:
            return model
    names = ", ".join(m.name for m in found) or "none"
    raise CheckpointError(f"no shipped model '{name}' (shipped: {names}; `recursia models` lists them)")


@dataclass
class UserRun:
    """A run directory under ``runs/`` (``config.json`` and ``model.safetensors``)."""

    path: Path
    config: dict
    mtime: float

    @property
    def task(self) -> str:
        """The task of the run's config (``?`` when it names none)."""
        return self.config.get("task", "?")


def user_runs(runs_dir: Path, task: str | None = None) -> list[UserRun]:
    """The run directories under ``runs_dir`` (of ``task`` when given), newest first
    (by the time ``model.safetensors`` was written)."""
    try:
        folders = sorted(runs_dir.iterdir()) if runs_dir.is_dir() else []
    except OSError:  # an unreadable runs folder holds no run to pick
        return []
    found = []
    for d in folders:
        cfg_path, model_path = d / CONFIG_FILE, d / MODEL_FILE
        try:
            if not (cfg_path.is_file() and model_path.is_file()):
                continue
            saved = json.loads(cfg_path.read_text())
            if isinstance(saved, dict) and (task is None or saved.get("task") == task):
                found.append(UserRun(d, saved, model_path.stat().st_mtime))
        except (OSError, ValueError):  # unreadable or not JSON: not a run to pick
            continue
    return sorted(found, key=lambda r: (r.mtime, str(r.path)), reverse=True)


def best_evaluation(run_dir: Path) -> dict:
    """The best periodic or final test evaluation in the run's ``metrics.jsonl``:
    ``{"step", "test_exact_acc", "test_cell_acc"}``, or {} when there is none."""
    best: dict = {}
    try:
        records = read_metrics(run_dir / METRICS_FILE)
    except OSError:
        return best
    for rec in records:
        acc = rec.get("test_exact_acc") if isinstance(rec, dict) else None
        if isinstance(acc, (int, float)) and not isinstance(acc, bool) and acc == acc:
            if not best or acc > best["test_exact_acc"]:
                best = {"step": rec.get("step"), "test_exact_acc": float(acc),
                        "test_cell_acc": rec.get("test_cell_acc")}
    return best


@dataclass
class ModelChoice:
    """The model that answers: a run directory, and where it came from."""

    path: Path
    source: str  # "checkpoint" (--checkpoint), "run" (the user's runs/), "shipped"
    shipped: ShippedModel | None = None

    def describe(self) -> str:
        """One line naming the model, e.g. ``shipped sudoku-small (on its 1000 test puzzles: ...)``."""
        if self.shipped is not None:
            return f"shipped {self.shipped.name} ({self.shipped.accuracy_note()})"
        return f"{self.path}" + (" (--checkpoint)" if self.source == "checkpoint" else " (your newest fitting run)")

    def as_json(self) -> dict:
        """``{"source", "name", "path"}`` (+ ``"accuracy"``, the full test split's figures, for a shipped model)."""
        out = {"source": self.source, "name": self.shipped.name if self.shipped else self.path.name,
               "path": str(self.path)}
        if self.shipped is not None:
            test = (self.shipped.info.get("accuracy") or {}).get("test") or {}
            out["accuracy"] = {k: v for k, v in test.items() if not isinstance(v, list)}
        return out


def misfit(task_name: str, options: dict, puzzle: Any) -> str | None:
    """Why a model trained with task ``options`` cannot serve ``puzzle``, or None; as
    ``solve`` decides it (a task built from the model's options names the puzzle's)."""
    try:
        theirs = make_task(task_name, options)
        wanted = make_task(task_name, theirs.options_for_puzzle(puzzle))
        return wanted.compatible(options)
    except (RecursiaError, TypeError, ValueError) as e:
        return f"{type(e).__name__}: {e}"


def find_model(task_name: str, puzzle: Any, runs_dir: Path, root: Path | None = None) -> ModelChoice:
    """The model that answers ``puzzle`` of task ``task_name`` (precedence in the module
    docstring); CheckpointError when there is none."""
    runs = user_runs(runs_dir, task_name)
    for run in runs:
        if misfit(task_name, run.config.get("task_options") or {}, puzzle) is None:
            return ModelChoice(run.path, "run")
    shipped = [m for m in shipped_models(root) if m.task == task_name]
    for model in shipped:
        if misfit(task_name, model.task_options, puzzle) is None:
            return ModelChoice(model.path, "shipped", model)
    if runs:
        return ModelChoice(runs[0].path, "run")  # solve names the mismatch
    if shipped:  # the task's own words on the mismatch (which size to train, with which option)
        why = "; ".join(f"the shipped {m.name} does not fit this puzzle: {misfit(task_name, m.task_options, puzzle)}"
                        for m in shipped)
        raise CheckpointError(f"no trained '{task_name}' model under {runs_dir}/, and {why}; or pass "
                              f"--checkpoint RUN_DIR")
    raise CheckpointError(f"no trained '{task_name}' model under {runs_dir}/; train one with "
                          f"`recursia train --task {task_name}` or pass --checkpoint RUN_DIR")
