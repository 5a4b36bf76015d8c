"""The run's metrics log: ``metrics.jsonl`` and, optionally, TensorBoard event files;
and reading it back (:func:`read_metrics`, :func:`series`).

Every record is appended to ``run_dir/metrics.jsonl`` as one JSON line and flushed.
With TensorBoard on, the numbers of a record that has a ``"step"`` are also written
as scalars at that step to ``run_dir/tensorboard/``, tagged with their key
(``loss``, ``test_exact_acc``, ...); a list of numbers (``test_exact_acc_per_step``)
becomes ``KEY/step_1``, ``KEY/step_2``, ... (supervision steps from 1). Booleans
(``final``, ``summary``), strings and non-finite values (a NaN ``halted_steps`` when
no slot halted) are not written to TensorBoard; metrics.jsonl keeps everything.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from typing import Literal

from recursia.errors import ConfigError
from recursia.train.run_files import METRICS_FILE

TENSORBOARD_DIR = "tensorboard"


def read_metrics(path: Path) -> list[dict]:
    """The records of a metrics.jsonl (unparseable lines, e.g. from a kill, are skipped)."""
    rows = []
    for line in path.read_text().splitlines() if path.is_file() else []:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def series(rows: list[dict], key: str, positive: bool = False) -> tuple[list[int], list[float]]:
    """(steps, values) of ``key`` over the records that have it with a finite number
    (and > 0 when ``positive``), skipping the ``"summary": true`` record."""
    steps, values = [], []
    for r in rows:
        v = r.get(key)
        if r.get("summary") or "step" not in r or isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        if math.isfinite(v) and (v > 0 or not positive):
            steps.append(r["step"]), values.append(float(v))
    return steps, values


def tensorboard_available() -> bool:
    """Whether the ``tensorboard`` package is installed."""
    return importlib.util.find_spec("tensorboard") is not None


def scalars(record: dict) -> dict[str, float]:
    """The TensorBoard scalars of ``record``: tag -> finite value (see the module docstring)."""
    out = {}
    for key, value in record.items():
        items = ([(f"{key}/step_{k}", v) for k, v in enumerate(value, 1)] if isinstance(value, list)
                 else [(key, value)])
        for tag, v in items:
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                out[tag] = float(v)
    return out


class MetricsLog:
    """Appends records to ``run_dir/metrics.jsonl``; mirrors them to TensorBoard.

    Args:
        run_dir: the run directory (created if missing).
        tensorboard: ``"auto"`` writes TensorBoard events when the package is
            installed; ``True`` requires it (ConfigError naming the install command
            when it is missing); ``False`` writes metrics.jsonl only.
        purge_step: for a resumed run, the first step not yet kept (checkpoint step
            + 1): TensorBoard hides the events a killed session logged from there on,
            as the loop drops those records from metrics.jsonl.

    The TensorBoard event file is created at the first record with a step, so a run
    refused before it logs anything leaves none. Use as a context manager, or call
    :meth:`close`.
    """

    def __init__(self, run_dir: Path, tensorboard: bool | Literal["auto"] = "auto", purge_step: int | None = None):
        self.run_dir, self.purge_step = Path(run_dir), purge_step
        self.tensorboard = tensorboard_available() if tensorboard == "auto" else bool(tensorboard)
        if self.tensorboard and not tensorboard_available():
            raise ConfigError("TensorBoard logging needs the tensorboard package, which is not installed: "
                              "pip install 'recursia[tensorboard]'")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.writer = None
        self.file = (self.run_dir / METRICS_FILE).open("a")

    def write(self, record: dict) -> None:
        """Append ``record`` as one JSON line (flushed) and, with TensorBoard on and a
        ``"step"`` in it, its scalars at that step."""
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()
        if self.tensorboard and isinstance(record.get("step"), int):
            if self.writer is None:
                from torch.utils.tensorboard import SummaryWriter

                self.writer = SummaryWriter(log_dir=str(self.run_dir / TENSORBOARD_DIR), purge_step=self.purge_step)
            for tag, value in scalars({k: v for k, v in record.items() if k != "step"}).items():
                self.writer.add_scalar(tag, value, record["step"])
            self.writer.flush()

    def close(self) -> None:
        """Close metrics.jsonl and the TensorBoard writer (idempotent)."""
        self.file.close()
        self.tensorboard = False
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def __enter__(self) -> MetricsLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
