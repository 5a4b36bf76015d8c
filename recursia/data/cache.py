"""Building datasets so that nothing half-done is ever left under the final name.

:func:`build_into` (``recursia data build``) builds in a temporary folder beside the
target and moves the result in when complete. The dataset cache: ``recursia train``
without ``--data`` builds the task's default dataset once into ``$RECURSIA_CACHE``
(default ``~/.cache/recursia``) and reuses it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from pathlib import Path

from recursia.config import DataConfig
from recursia.task import DataBuildRequest, Task


def cache_root() -> Path:
    """The cache folder (``$RECURSIA_CACHE`` or ``~/.cache/recursia``)."""
    return Path(os.environ.get("RECURSIA_CACHE") or Path.home() / ".cache" / "recursia")


def build_into(task: Task, request: DataBuildRequest) -> dict:
    """``task.build_dataset(request)`` built in a temporary folder, then moved into ``request.out``.

    Entries of ``request.out`` that the build writes (``train/``, ``test/``, ...) are
    replaced; anything else there is left alone. A refused or failed build removes its
    temporary folder and changes nothing in ``request.out``. Returns the build summary.
    """
    out = Path(request.out)
    tmp = out.parent / f".{out.name}.building-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        summary = task.build_dataset(dataclasses.replace(request, out=tmp))
        out.mkdir(parents=True, exist_ok=True)
        for entry in sorted(tmp.iterdir()) if tmp.is_dir() else []:
            target = out / entry.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
            os.replace(entry, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary


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
    sizes = ["default" if v is None else v for v in (req.train_size, req.test_size)]
    log(f"building the default {task.name} dataset into {out} "
        f"(train {sizes[0]} x{req.aug + 1} aug, test {sizes[1]}) ...")
    req.out = tmp
    summary = task.build_dataset(req)
    (tmp / "build.json").write_text(json.dumps({"spec": spec, "summary": summary}, indent=1, default=str))
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    return out
