"""The speed options give the results of the reference path (fp32, eager, torch's
threads): torch.compile and another thread count to float rounding, bf16 autocast to
bf16 precision in one step and to the same accuracy after training (slow), and an
adapting thread count (train.threads auto) bitwise while nothing else runs."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import torch

from recursia.bench.workload import dataset
from recursia.cli.train import resolve_config
from recursia.train.loop import Trainer, train
from recursia.train.settings import training_settings

SMALL = ["train.dtype=float32", "model.hidden_size=32", "model.swiglu_multiple=16", "train.batch_size=32",
         "train.eval_every=0", "train.tensorboard=false", "train.warmup_steps=2"]


def run(data, steps: int, *sets: str):
    """Parameters (flattened) and losses after ``steps`` training steps of the small preset on ``data``."""
    cfg = resolve_config("sudoku", "mlp", "small", None, [*SMALL, *sets, f"data.path={data}"], None, "cpu")
    tr = Trainer(cfg, Path(tempfile.mkdtemp()), data, "cpu")
    losses = []
    with training_settings(cfg, "cpu"):
        for _ in range(steps):
            tr.train_step()
            losses.append(tr.read_stats()["loss"])
    return torch.cat([p.detach().flatten() for p in tr.model.parameters()]), torch.tensor(losses)


def test_compiled_training_matches_eager_to_float_rounding(data6):
    eager, eager_loss = run(data6, 3, "train.compile=false")
    compiled, compiled_loss = run(data6, 3, "train.compile=true")
    torch.testing.assert_close(compiled_loss, eager_loss, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(compiled, eager, rtol=1e-4, atol=1e-5)


def test_another_thread_count_matches_to_float_rounding(data6):
    two, two_loss = run(data6, 3, "train.compile=false", "train.threads=2")
    one, one_loss = run(data6, 3, "train.compile=false", "train.threads=1")
    torch.testing.assert_close(one_loss, two_loss, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(one, two, rtol=1e-4, atol=1e-5)
    again, _ = run(data6, 3, "train.compile=false", "train.threads=2")
    assert torch.equal(again, two)  # and one count repeats bitwise


def test_adapting_threads_on_an_idle_machine_is_bitwise_the_fixed_count(data6):
    fixed, _ = run(data6, 3, "train.compile=false", f"train.threads={torch.get_num_threads()}")
    auto, _ = run(data6, 3, "train.compile=false", "train.threads=auto")
    assert torch.equal(auto, fixed)


def test_bf16_autocast_step_is_fp32_to_bf16_precision(data6):
    fp32, fp32_loss = run(data6, 3, "train.compile=false", "train.dtype=float32")
    bf16, bf16_loss = run(data6, 3, "train.compile=false", "train.dtype=bfloat16")
    torch.testing.assert_close(bf16_loss, fp32_loss, rtol=2e-2, atol=0)  # bf16 keeps 8 bits of mantissa
    assert (bf16 - fp32).abs().max() < 1e-2 and not torch.equal(bf16, fp32)  # weights stay float32


@pytest.mark.slow
def test_bf16_training_reaches_the_fp32_accuracy(tmp_path, monkeypatch):
    """The Sudoku small preset, 600 steps on its default data, in fp32 and in bf16: the
    same test accuracy within 3 points (docs/benchmarks.md has the full runs)."""
    monkeypatch.setenv("RECURSIA_CACHE", str(tmp_path / "cache"))
    accuracy = {}
    for dtype in ("float32", "bfloat16"):
        cfg = resolve_config("sudoku", "mlp", "small", None, [f"train.dtype={dtype}", "train.eval_every=0"], 600,
                             "cpu")
        result = train(cfg, tmp_path / dtype, dataset(cfg), log=lambda *_: None)
        accuracy[dtype] = result.final["test_exact_acc"]
    assert accuracy["float32"] > 0.5
    assert abs(accuracy["bfloat16"] - accuracy["float32"]) < 0.03, accuracy
