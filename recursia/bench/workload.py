"""What a measurement runs on: a task/preset/mixer config at a chosen batch, dtype and
compile mode, a small default dataset of the task's shape, and a :class:`Trainer`."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from recursia.build import make_task
from recursia.cli.train import resolve_config
from recursia.config import RunConfig
from recursia.data.cache import default_dataset
from recursia.errors import ConfigError
from recursia.train.loop import Trainer

DTYPES = {"fp32": "float32", "bf16": "bfloat16"}


@dataclass(frozen=True)
class Mode:
    """How the model runs: ``fp32`` or ``bf16`` (autocast), eager or ``torch.compile``."""

    dtype: str = "fp32"
    compile: bool = False

    @property
    def name(self) -> str:
        """``fp32``, ``bf16``, ``fp32+compile`` or ``bf16+compile``."""
        return self.dtype + ("+compile" if self.compile else "")

    @property
    def torch_dtype(self) -> torch.dtype:
        """The dtype the matrix products run in."""
        return torch.bfloat16 if self.dtype == "bf16" else torch.float32

    @classmethod
    def parse(cls, text: str) -> "Mode":
        """``fp32``, ``bf16``, ``fp32+compile``, ``bf16+compile`` (ConfigError otherwise)."""
        dtype, _, rest = text.strip().partition("+")
        if dtype not in DTYPES or rest not in ("", "compile"):
            raise ConfigError(f"--modes {text}: expected fp32, bf16, fp32+compile or bf16+compile")
        return cls(dtype, rest == "compile")


@dataclass(frozen=True)
class Spec:
    """The model a benchmark measures: a task's preset (and mixer) with ``--set``
    overrides, at ``batch_size``."""

    task: str = "sudoku"
    preset: str = "paper"
    mixer: str | None = "mlp"
    batch_size: int = 32
    overrides: tuple[str, ...] = ()

    def config(self, mode: Mode = Mode(), **train: object) -> RunConfig:
        """The run config of this spec in ``mode`` (periodic evaluation off; ``train``
        sets further ``train.*`` keys). Its dataset is small: benchmarks time the
        steps, not the data."""
        sets = [*self.overrides, f"train.batch_size={self.batch_size}", f"train.dtype={DTYPES[mode.dtype]}",
                f"train.compile={str(mode.compile).lower()}", "train.eval_every=0", "train.tensorboard=false",
                f"data.train_size={max(64, self.batch_size)}", "data.test_size=256", "data.aug=1"]
        sets += [f"train.{key}={value}" for key, value in train.items()]
        return resolve_config(self.task, self.mixer, self.preset, None, sets, None, "cpu")

    def describe(self) -> str:
        """``sudoku paper mlp, batch 32`` and the overrides."""
        cfg = self.config()
        extra = f", {' '.join(self.overrides)}" if self.overrides else ""
        return f"{cfg.task} {cfg.preset} {cfg.model.mixer}, batch {self.batch_size}{extra}"


def dataset(cfg: RunConfig) -> Path:
    """The folder of ``cfg``'s (small) default dataset, built into the cache when missing."""
    return default_dataset(make_task(cfg.task, cfg.task_options), cfg.data, log=lambda *a: None)


def trainer(cfg: RunConfig, device: str = "cpu") -> Trainer:
    """A :class:`Trainer` of ``cfg`` on its dataset, writing nothing (its run folder is temporary)."""
    data = dataset(cfg)
    return Trainer(cfg, Path(tempfile.mkdtemp(prefix="recursia-bench-")), data, device)
