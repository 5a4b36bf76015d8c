"""Run directories and checkpoints: safetensors + JSON only, written atomically.

A run directory holds ``config.json`` (the resolved RunConfig), ``model.safetensors``
(the weights to evaluate: EMA when enabled; metadata: recursia version, task, task
options, mixer, plugin versions, shapes), ``train_state.safetensors`` (everything to
resume: raw weights, optimizer moments, the training carry, RNG states; scalars in its
metadata) and ``metrics.jsonl``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

import recursia
from recursia.build import make_model, make_task
from recursia.config import RunConfig, load_json
from recursia.errors import CheckpointError, RecursiaError
from recursia.model import RecursiveModel
from recursia.plugins import PluginInfo, Registry, get_registry
from recursia.task import Task
from recursia.train.run_files import (CONFIG_FILE, MODEL_FILE, TEMP_SUFFIX, atomic_write_text,
                                      check_safetensors_file, read_metadata)

def atomic_save(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> None:
    """Write a safetensors file under a temporary name, then rename it over ``path``."""
    tmp = path.with_name(path.name + TEMP_SUFFIX)
    save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(tmp), metadata=metadata)
    os.replace(tmp, path)


def model_metadata(cfg: RunConfig, model: RecursiveModel, num_puzzle_ids: int) -> dict[str, str]:
    """The metadata stored in ``model.safetensors`` (all values strings)."""
    reg = get_registry()
    return {
        "recursia_version": recursia.__version__,
        "task": cfg.task,
        "task_options": json.dumps(cfg.task_options),
        "mixer": cfg.model.mixer,
        "plugins": json.dumps({p.name: p.version for p in reg.plugins}),
        "task_plugin": json.dumps(plugin_record(reg.provider("tasks", cfg.task))),
        "mixer_plugin": json.dumps(plugin_record(reg.provider("mixers", cfg.model.mixer))),
        "vocab_size": str(model.vocab_size),
        "seq_len": str(model.seq_len),
        "num_puzzle_ids": str(num_puzzle_ids),
        "parameters": str(model.num_parameters()),
    }


def plugin_record(info: PluginInfo) -> dict[str, str]:
    """What a checkpoint records of the plugin that provides its task or mixer."""
    return {"plugin": info.name, "package": info.package, "version": info.version}


def missing_plugin(meta: dict[str, str], cfg: RunConfig, registry: Registry) -> str | None:
    """Why the installed plugins cannot rebuild a checkpoint's model (its task or mixer is
    not registered), naming the package to install; None when both are there."""
    for kind, what, name, key in (("tasks", "task", cfg.task, "task_plugin"),
                                  ("mixers", "mixer", cfg.model.mixer, "mixer_plugin")):
        if name in getattr(registry, kind):
            continue
        try:
            record = json.loads(meta.get(key, "{}"))
        except json.JSONDecodeError:
            record = {}
        package = record.get("package") if isinstance(record, dict) else None
        failure = registry.failures.get(record.get("plugin", "")) if isinstance(record, dict) else None
        if failure:
            return (f"the model's {what} '{name}' comes from the plugin '{record['plugin']}', which is installed but "
                    f"failed to load: {failure}")
        if package:
            return (f"the model's {what} '{name}' comes from the plugin '{record.get('plugin', '?')}' of the package "
                    f"{package} {record.get('version', '')}".rstrip() + f", which is not installed: pip install {package}")
        return f"the model's {what} '{name}' is not provided by any installed plugin"
    return None


def save_model(run_dir: Path, cfg: RunConfig, model: RecursiveModel,
               weights: dict[str, torch.Tensor] | None = None) -> None:
    """Write ``config.json`` and ``model.safetensors``; ``weights`` overrides parameters (EMA)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    state = dict(model.state_dict())
    state.update(weights or {})
    num_ids = model.embed.puzzle.weight.shape[0] if model.embed.puzzle is not None else 0
    atomic_write_text(run_dir / CONFIG_FILE, json.dumps(cfg.model_dump(), indent=2))
    atomic_save(state, run_dir / MODEL_FILE, model_metadata(cfg, model, num_ids))


SNAPSHOT_DIR = "checkpoints"  # step-NNNNNNNN/ folders of the last train.keep checkpoints
BEST_DIR = "best"  # the model of the best periodic evaluation, with best.json


def link_or_copy(src: Path, dst: Path) -> None:
    """``dst`` as a hard link to ``src`` (no extra disk: checkpoints are replaced by
    rename, so the link keeps the old file), or a copy where links are not possible."""
    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        import shutil

        shutil.copyfile(src, dst)


def snapshot(run_dir: Path, step: int, keep: int) -> None:
    """Keep the run's current ``model.safetensors`` and ``config.json`` as
    ``checkpoints/step-NNNNNNNN/`` (a run directory ``eval`` and ``solve`` accept) and
    delete all but the newest ``keep`` of them."""
    root = run_dir / SNAPSHOT_DIR
    folder = root / f"step-{step:08d}"
    folder.mkdir(parents=True, exist_ok=True)
    for name in (CONFIG_FILE, MODEL_FILE):
        link_or_copy(run_dir / name, folder / name)
    for old in sorted(p for p in root.iterdir() if p.name.startswith("step-"))[:-keep or None]:
        for f in old.iterdir():
            f.unlink()
        old.rmdir()


def save_best(run_dir: Path, step: int, metrics: dict) -> bool:
    """Make ``best/`` hold the run's current model when ``metrics['test_exact_acc']``
    beats the one recorded in ``best/best.json`` (the first evaluation always does);
    returns whether it did."""
    folder = run_dir / BEST_DIR
    record = folder / "best.json"
    if record.is_file():
        previous = json.loads(record.read_text())
        if metrics["test_exact_acc"] <= previous["test_exact_acc"]:
            return False
    folder.mkdir(parents=True, exist_ok=True)
    for name in (CONFIG_FILE, MODEL_FILE):
        link_or_copy(run_dir / name, folder / name)
    atomic_write_text(record, json.dumps({"step": step, "test_exact_acc": metrics["test_exact_acc"],
                                          "test_cell_acc": metrics.get("test_cell_acc")}))
    return True


def read_tensors(path: Path) -> dict[str, torch.Tensor]:
    """All tensors of a safetensors file; CheckpointError when missing or corrupt."""
    check_safetensors_file(path)
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path}: corrupt or unreadable checkpoint ({e})") from None


@dataclass
class LoadedRun:
    """A run directory loaded for evaluation or solving."""

    run_dir: Path
    cfg: RunConfig
    task: Task
    model: RecursiveModel
    metadata: dict[str, str]


def load_run(run_dir: str | Path, device: str | torch.device = "cpu") -> LoadedRun:
    """Load ``config.json`` + ``model.safetensors`` into a model in eval mode."""
    run_dir = Path(run_dir)
    if run_dir.is_file():
        raise CheckpointError(f"{run_dir}: is a file; a checkpoint is a run directory (holding {CONFIG_FILE} "
                              f"and {MODEL_FILE})")
    if not run_dir.is_dir():
        raise CheckpointError(f"{run_dir}: checkpoint directory not found")
    if not (run_dir / CONFIG_FILE).is_file():
        raise CheckpointError(f"{run_dir}: no {CONFIG_FILE} (not a recursia run directory)")
    if not (run_dir / MODEL_FILE).is_file():
        raise CheckpointError(f"{run_dir}: no {MODEL_FILE} (training has not saved a model yet)")
    try:
        cfg = load_json(run_dir / CONFIG_FILE)
    except RecursiaError as e:
        raise CheckpointError(str(e)) from None
    meta = read_metadata(run_dir / MODEL_FILE)
    missing = missing_plugin(meta, cfg, get_registry())
    if missing:
        raise CheckpointError(f"{run_dir}: {missing}")
    try:
        task = make_task(cfg.task, cfg.task_options)
        model = make_model(cfg, task, int(meta.get("num_puzzle_ids", "1")))
    except ValueError:
        raise CheckpointError(f"{run_dir / MODEL_FILE}: metadata num_puzzle_ids "
                              f"{meta.get('num_puzzle_ids')!r} is not a count") from None
    except RecursiaError as e:
        raise CheckpointError(f"{run_dir / CONFIG_FILE}: {e}") from None
    state = read_tensors(run_dir / MODEL_FILE)
    load_state(model, state, str(run_dir / MODEL_FILE))
    model.to(device).eval()
    return LoadedRun(run_dir, cfg, task, model, meta)


def load_state(model: RecursiveModel, state: dict[str, torch.Tensor], where: str) -> None:
    """Load a state dict strictly; CheckpointError naming missing/unexpected/mis-shaped keys."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
    dtypes = [k for k in own if k in state and own[k].is_floating_point() != state[k].is_floating_point()]
    if missing or unexpected or shapes or dtypes:
        parts = []
        if missing:
            parts.append(f"missing {missing[:3]}")
        if unexpected:
            parts.append(f"unexpected {unexpected[:3]}")
        if shapes:
            k = shapes[0]
            parts.append(f"shape of {k} is {tuple(state[k].shape)}, model needs {tuple(own[k].shape)}")
        if dtypes:
            k = dtypes[0]
            parts.append(f"{k} holds {state[k].dtype}, model needs {own[k].dtype}")
        raise CheckpointError(f"{where}: weights do not fit the configured model ({'; '.join(parts)})")
    model.load_state_dict(state)
