"""Helpers shared by the CLI commands."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Callable, get_args

from recursia.build import make_task
from recursia.config import RunConfig, TrainConfig
from recursia.data.cache import default_dataset
from recursia.errors import ConfigError

_DTYPE = TrainConfig.model_fields["dtype"]
Precision = Enum("Precision", {value: value for value in get_args(_DTYPE.annotation)}, type=str)
Precision.__doc__ = "``--dtype`` of the commands that run a trained model: the values of ``train.dtype``."
DTYPE_HELP = f"precision (default: the run's train.dtype): {_DTYPE.description}"


def pick_dtype(dtype: Precision | None, trained: str) -> str:
    """The ``train.dtype`` value to run a model in: ``--dtype`` if given, else the one it was trained with."""
    return trained if dtype is None else dtype.value


def pick_device(device: str | None) -> str:
    """``cuda`` when available (or asked for), else ``cpu``; ConfigError for an unusable one."""
    import torch  # here, not at the top: the CLI starts without torch

    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"--device {device}: CUDA is not available on this machine")
    if not (device == "cpu" or device.startswith("cuda")):
        raise ConfigError(f"--device {device}: expected cpu or cuda[:N]")
    return device


def check_out_folder(out: Path, flag: str = "--out") -> None:
    """ConfigError unless ``out`` is an existing folder or can become one (no file in the way)."""
    for path in (out, *out.parents):
        if path.exists():
            if not path.is_dir():
                raise ConfigError(f"{flag} {out}: {path} is a file, not a folder")
            return


def check_out_file(path: Path, flag: str) -> None:
    """ConfigError unless ``path`` can be written as a file: not a folder, in an existing folder."""
    if path.is_dir():
        raise ConfigError(f"{flag} {path}: is a folder")
    if not path.parent.is_dir():
        raise ConfigError(f"{flag} {path}: no folder {path.parent}")


def dataset_folder(cfg: RunConfig, data: Path | None, log: Callable[[str], None] = print) -> Path:
    """The dataset of a run: ``--data``, else the config's ``data.path`` (where the run
    trained), else the task's default dataset, built into the cache first if it is not
    there (``log`` says so)."""
    if data is not None:
        return data
    if cfg.data.path:
        return Path(cfg.data.path)
    return default_dataset(make_task(cfg.task, cfg.task_options), cfg.data, log=log)
