"""The dataset cache: ``recursia train`` without ``--data`` builds the task's default
dataset once into ``$RECURSIA_CACHE`` (default ``~/.cache/recursia``) and reuses it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from pathlib import Path

from recursia.config import DataConfig
from recursia.task import Task


def cache_root() -> Path:
    """The cache folder (``$RECURSIA_CACHE`` or ``~/.cache/recursia``)."""
    return Path(os.environ.get("RECURSIA_CACHE") or Path.home() / ".cache" / "recursia")


def default_dataset(task: Task, data: DataConfig, log=print) -> Path:
    """The folder of the task's default dataset, building it first if not cached.

    ``data.train_size``/``test_size``/``aug`` override the task's defaults. The build
    goes to a temporary folder renamed when complete, so a killed build is redone.
    """
    req = task.default_dataset(Path("."), data.seed)
    for key in ("train_size", "test_size", "aug"):
        if getattr(data, key) is not None:
            setattr(req, key, getattr(data, key))
    spec = {k: v for k, v in dataclasses.asdict(req).items() if k != "out"}
    spec.update(task=task.name, options=task.options.model_dump())
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:12]
    out = cache_root() / "data" / f"{task.name}-{digest}"
    if (out / "build.json").is_file():
        return out
    tmp = out.with_name(out.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    log(f"building the default {task.name} dataset into {out} "
        f"(train {req.train_size} x{req.aug + 1} aug, test {req.test_size}) ...")
    req.out = tmp
    summary = task.build_dataset(req)
    (tmp / "build.json").write_text(json.dumps({"spec": spec, "summary": summary}, indent=1, default=str))
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    return out
