"""The default small preset, as shipped (torch.compile on), is bitwise reproducible on CPU:
two runs with one seed, and a run stopped and resumed, end with the same weights."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from recursia.cli.train import resolve_config
from recursia.train.loop import train
from recursia.train.settings import uses_determinism


def quiet(*_):
    pass


def shipped(steps: int):
    """The CPU default config of `recursia train --task sudoku --mixer mlp`, only shortened."""
    cfg = resolve_config("sudoku", "mlp", None, None, [], steps, "cpu")
    assert cfg.preset == "small" and cfg.train.compile and uses_determinism(cfg, "cpu")
    cfg.train.eval_every = 0  # the test split is tiny; the final evaluation still runs
    return cfg


def states(run: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run / "train_state.safetensors"))


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, different[:5]


def test_two_runs_of_the_default_preset_give_identical_weights(data6, tmp_path):
    for name in ("a", "b"):
        train(shipped(8), tmp_path / name, data6, log=quiet)
    assert_same(states(tmp_path / "a"), states(tmp_path / "b"))
    assert_same(load_file(str(tmp_path / "a" / "model.safetensors")),
                load_file(str(tmp_path / "b" / "model.safetensors")))


def test_default_preset_resumes_bitwise(data6, tmp_path):
    train(shipped(8), tmp_path / "straight", data6, log=quiet)
    train(shipped(4), tmp_path / "resumed", data6, log=quiet)
    train(shipped(8), tmp_path / "resumed", data6, log=quiet)
    assert_same(states(tmp_path / "straight"), states(tmp_path / "resumed"))


def test_determinism_is_scoped_to_training(data6, tmp_path):
    before = torch.are_deterministic_algorithms_enabled()
    cfg = shipped(1)
    cfg.train.compile = False
    train(cfg, tmp_path / "r", data6, log=quiet)
    assert torch.are_deterministic_algorithms_enabled() == before
    cfg.train.deterministic = "auto"
    assert not uses_determinism(cfg, "cuda")
    cfg.train.deterministic = False
    assert not uses_determinism(cfg, "cpu")
