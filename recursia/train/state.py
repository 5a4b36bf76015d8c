"""Save and restore everything a killed run needs to continue exactly (no pickle).

Tensors (raw weights, EMA, optimizer moments, the training carry, RNG states) go to
``train_state.safetensors``; scalars (step, sampler position, optimizer
hyper-parameters) go to its metadata as JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from recursia.errors import CheckpointError
from recursia.model import Carry, RecursiveModel
from recursia.train.checkpoint import atomic_save, read_tensors
from recursia.train.run_files import STATE_FILE, read_metadata


@dataclass
class TrainState:
    """The mutable parts of a training run. ``carry`` is the whole training carry
    (``train.batch_size`` slots, every process's share in rank order); a resumed one is
    on the CPU."""

    step: int
    model: RecursiveModel
    optimizer: torch.optim.Optimizer
    ema: dict[str, torch.Tensor] | None
    carry: Carry
    sampler_state: dict
    explore_rng: torch.Generator


def _flatten_optimizer(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for idx, st in sd["state"].items():
        for key, val in st.items():
            if isinstance(val, torch.Tensor):
                tensors[f"opt.{idx}.{key}"] = val
            else:
                scalars[f"{idx}.{key}"] = val
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict] = {}
    for name, val in tensors.items():
        if name.startswith("opt."):
            _, idx, key = name.split(".", 2)
            state.setdefault(int(idx), {})[key] = val
    for name, val in meta["scalars"].items():
        idx, key = name.split(".", 1)
        state.setdefault(int(idx), {})[key] = val
    return {"state": state, "param_groups": meta["param_groups"]}


def save_train_state(run_dir: Path, st: TrainState) -> None:
    """Write ``train_state.safetensors`` atomically."""
    tensors = {f"model.{k}": v for k, v in st.model.state_dict().items()}
    opt_tensors, opt_meta = _flatten_optimizer(st.optimizer)
    tensors.update(opt_tensors)
    if st.ema is not None:
        tensors.update({f"ema.{k}": v for k, v in st.ema.items()})
    tensors.update({f"carry.{k}": v for k, v in st.carry.tensors().items()})
    tensors["rng.torch"] = torch.get_rng_state()
    tensors["rng.explore"] = st.explore_rng.get_state()
    meta = {"step": str(st.step), "sampler": json.dumps(st.sampler_state), "optimizer": json.dumps(opt_meta)}
    atomic_save(tensors, run_dir / STATE_FILE, meta)


def _check_like(found: dict[str, torch.Tensor], expected: dict[str, torch.Tensor], path: Path, what: str,
                exact_dtype: bool = True) -> None:
    """CheckpointError unless ``found`` has the keys, shapes and dtypes of ``expected``."""
    missing, extra = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
    if missing or extra:
        raise CheckpointError(f"{path}: {what} does not fit this run (missing {missing[:3]}, unexpected {extra[:3]})")
    for key, ref in expected.items():
        got = found[key]
        same_kind = got.dtype == ref.dtype if exact_dtype else got.is_floating_point() == ref.is_floating_point()
        if tuple(got.shape) != tuple(ref.shape) or not same_kind:
            raise CheckpointError(f"{path}: {what} {key} is {got.dtype}{list(got.shape)}, this run needs "
                                  f"{ref.dtype}{list(ref.shape)}")


def load_train_state(run_dir: Path, st: TrainState) -> None:
    """Restore ``st`` in place from ``train_state.safetensors``.

    Every tensor is checked against the run's own (model, optimizer moments, EMA,
    carry) before anything is loaded, so a state from another run or a damaged file
    is a one-line CheckpointError, not a failure some steps later.
    """
    path = run_dir / STATE_FILE
    tensors = read_tensors(path)
    meta = read_metadata(path)
    groups: dict[str, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        group, _, key = name.partition(".")
        groups.setdefault(group, {})[key] = value
    _check_like(groups.get("model", {}), st.model.state_dict(), path, "model weight")
    if st.ema is not None:
        _check_like(groups.get("ema", {}), st.ema, path, "EMA weight")
    _check_like(groups.get("carry", {}), st.carry.tensors(), path, "carry", exact_dtype=False)
    params = [p for group in st.optimizer.param_groups for p in group["params"]]
    for key, value in groups.get("opt", {}).items():
        idx, _, name = key.partition(".")
        if not idx.isdigit() or int(idx) >= len(params):
            raise CheckpointError(f"{path}: optimizer state opt.{key} belongs to no parameter of this run")
        param = params[int(idx)]
        if value.ndim and (tuple(value.shape) != tuple(param.shape) or value.dtype != param.dtype):
            raise CheckpointError(f"{path}: optimizer state opt.{key} is {value.dtype}{list(value.shape)}, its "
                                  f"parameter {param.dtype}{list(param.shape)}")
    try:
        st.step = int(meta["step"])
        st.sampler_state = json.loads(meta["sampler"])
        opt_meta = json.loads(meta["optimizer"])
        counters = [st.step] + [st.sampler_state[k] for k in ("seed", "epoch", "pos")]
        if not all(isinstance(v, int) and v >= 0 for v in counters):
            raise ValueError(f"step and sampler position must be integers >= 0, got {counters}")
        st.model.load_state_dict(groups["model"])
        st.optimizer.load_state_dict(_unflatten_optimizer(tensors, opt_meta))
        if st.ema is not None:
            for k in st.ema:
                st.ema[k].copy_(groups["ema"][k])
        st.carry = Carry(**groups["carry"])
        torch.set_rng_state(tensors["rng.torch"])
        st.explore_rng.set_state(tensors["rng.explore"])
    except (KeyError, ValueError, RuntimeError, TypeError, AttributeError) as e:
        raise CheckpointError(f"{path}: incomplete or mismatched training state ({type(e).__name__}: {e})") from None
