"""The CUDA path (skipped without a GPU; `bash benchmarks/gpu_smoke.sh` runs these first):
training on the GPU computes what the CPU computes, bf16 autocast keeps fp32 master
weights, torch.compile runs, checkpoints load on the CPU, and the pinned host copies
the loop relies on return what the device holds."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from recursia.train.checkpoint import load_run
from recursia.train.feeder import HostCopy
from tests.test_end_to_end import TINY, data4, exit_code  # noqa: F401 (a fixture)

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def train(data, run, device, *extra) -> dict[str, torch.Tensor]:
    assert exit_code("train", "--task", "sudoku", "--preset", "small", "--mixer", "attention", "--steps", "6", "--data", str(data),
                     "--out", str(run), "--no-progress", "--device", device, *TINY, "--set", "train.warmup_steps=0",
                     "--set", "train.lr=0.01", "--set", "train.tensorboard=false", *extra) == 0
    return load_file(str(run / "train_state.safetensors"))


def test_cuda_float32_training_matches_the_cpu(data4, tmp_path):
    cpu = train(data4, tmp_path / "cpu", "cpu", "--set", "train.dtype=float32")
    gpu = train(data4, tmp_path / "gpu", "cuda", "--set", "train.dtype=float32")
    assert cpu.keys() == gpu.keys()
    for k in cpu:
        if cpu[k].is_floating_point():
            torch.testing.assert_close(gpu[k], cpu[k], rtol=1e-3, atol=1e-4, msg=k)
        else:
            assert torch.equal(gpu[k], cpu[k]), k  # same examples, steps and halting decisions


def test_cuda_bf16_autocast_keeps_fp32_weights_and_loads_on_the_cpu(data4, tmp_path):
    state = train(data4, tmp_path / "bf16", "cuda")  # train.dtype auto: bf16 autocast on CUDA
    assert all(v.dtype == torch.float32 for k, v in state.items() if k.startswith(("model.", "ema.", "opt."))
               and v.is_floating_point())
    run = load_run(tmp_path / "bf16", "cpu")
    assert all(torch.isfinite(p).all() for p in run.model.parameters())
    assert exit_code("eval", str(tmp_path / "bf16"), "--data", str(data4), "--device", "cuda", "--no-progress") == 0


def test_cuda_compiled_training_runs(data4, tmp_path):
    state = train(data4, tmp_path / "compiled", "cuda", "--set", "train.compile=true")
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


def test_host_copy_of_a_device_tensor():
    copy = HostCopy(np.zeros(3, dtype=np.uint8))
    value = torch.tensor([1, 0, 1], dtype=torch.uint8, device="cuda")
    copy.start(value)
    value.zero_()  # queued after the copy: the copy holds the earlier values
    assert copy.get().tolist() == [1, 0, 1]
