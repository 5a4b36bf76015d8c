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


def fresh_model(data6, halt_bias: float | None = None):
    """A fresh small model of ``data6``'s task in eval mode (``halt_bias``: q_halt's bias
    set so that it halts at once (> 0) or never (< 0)), its task, and 8 test inputs."""
    from recursia.build import make_model, make_task
    from recursia.data.dataset import find_split, read_task_split

    cfg = resolve_config("sudoku", "mlp", "small", None, [*SMALL, f"data.path={data6}"], None, "cpu")
    task = make_task(cfg.task, cfg.task_options)
    torch.manual_seed(0)
    model = make_model(cfg, task, 1).eval()
    if halt_bias is not None:
        with torch.no_grad():
            model.q_head.bias.copy_(torch.tensor([halt_bias, -halt_bias]))
    split = read_task_split(find_split(data6, "test"), task.seq_len, task.vocab_size, task.describe())
    return model, task, torch.from_numpy(split.inputs[:8].astype("int64")), torch.zeros(8, dtype=torch.long)


def test_inference_under_no_grad_is_bitwise_inference_mode_also_in_bf16(data6):
    from recursia.infer import forward_autocast, run_steps

    model, _, inputs, pids = fresh_model(data6)
    for dtype in ("float32", "bfloat16"):
        with forward_autocast(dtype, "cpu"):
            fast = run_steps(model, inputs, pids, 3)  # no_grad: bf16 autocast casts each weight once
        with torch.inference_mode(), forward_autocast(dtype, "cpu"):
            slow = run_steps.__wrapped__(model, inputs, pids, 3)  # casts each weight at every product
        assert torch.equal(fast.preds, slow.preds) and torch.equal(fast.q_halt, slow.q_halt)


def test_running_until_the_halt_is_the_full_trace_cut_there(data6):
    from recursia.infer import run_steps, solve

    for bias, length in ((10.0, 1), (-10.0, 8)):  # halts at once; never halts (N_sup 8)
        model, task, inputs, pids = fresh_model(data6, bias)
        full, short = run_steps(model, inputs, pids), run_steps(model, inputs, pids, until_halt=True)
        assert short.preds.shape[0] == length
        assert torch.equal(short.preds, full.preds[:length]) and torch.equal(short.at_halt(), full.at_halt())
        puzzle = inputs[0].numpy()
        whole, cut = solve(model, task, puzzle), solve(model, task, puzzle, all_steps=False)
        assert len(whole.trace) == 8 and len(cut.trace) == length
        assert (cut.steps, cut.halted, cut.answer.tolist()) == (whole.steps, whole.halted, whole.answer.tolist())


MALLOC_PROBE = r"""
import sys, torch
from recursia.memory import set_malloc

def rss_mib():
    return int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1]) // 1024

print(set_malloc(sys.argv[1]))
before = rss_mib()
x = torch.ones(256 * 2**20 // 4)  # 256 MiB
held = rss_mib() - before
del x
print(held, rss_mib() - before)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the resident size from /proc")
def test_malloc_reuse_keeps_freed_memory_and_system_gives_it_back():
    import subprocess
    import sys

    kept = {}
    for mode in ("reuse", "system"):
        done = subprocess.run([sys.executable, "-c", MALLOC_PROBE, mode], capture_output=True, text=True, timeout=120)
        took, sizes = done.stdout.split("\n", 1)
        if took != "True":
            pytest.skip("the C library has no mallopt (not glibc)")
        held, after = map(int, sizes.split())
        assert held >= 250, done.stdout
        kept[mode] = after
    assert kept["reuse"] >= 250 and kept["system"] < 50, kept  # reuse: the freed block stays for the next tensor


def test_malloc_mode_rejects_other_values(monkeypatch):
    from recursia.errors import ConfigError
    from recursia.memory import reuse_freed_memory, set_malloc

    with pytest.raises(ValueError, match="reuse, system"):
        set_malloc("jemalloc")
    monkeypatch.setenv("RECURSIA_MALLOC", "jemalloc")
    with pytest.raises(ConfigError, match="RECURSIA_MALLOC='jemalloc': expected reuse or system"):
        reuse_freed_memory()
    monkeypatch.setenv("RECURSIA_MALLOC", "system")
    assert reuse_freed_memory() == "system"


def test_cpu_bf16_attention_meets_in_float32_close_to_bf16_attention():
    """Under CPU bf16 autocast the attention mixer's core runs in float32 (torch's bf16
    CPU flash-attention backward is 10x slower): output and gradients match the all-bf16
    core to bf16 precision, and the output is bf16 as before."""
    from recursia_mixers.attention import Attention  # the built-in mixer

    torch.manual_seed(0)
    layer = Attention(64, 82, 4, 100.0)
    h = torch.randn(8, 82, 64, requires_grad=True)
    results = {}
    for core in ("float32", "bfloat16"):
        h.grad = None
        layer.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            if core == "float32":
                out = layer(h)
            else:  # the plain path: SDPA on the bf16 tensors autocast hands it
                b, s, d = h.shape
                qkv = layer.qkv_proj(h).view(b, s, 3 * layer.num_heads, layer.head_dim)
                q, k, v = qkv.split(layer.num_heads, dim=2)
                q, k = (layer_rotary(layer, t) for t in (q, k))
                o = torch.nn.functional.scaled_dot_product_attention(*(t.transpose(1, 2) for t in (q, k, v)))
                out = layer.o_proj(o.transpose(1, 2).reshape(b, s, d))
        out.float().square().sum().backward()
        results[core] = (out.dtype, out.detach().float(), h.grad.clone(), layer.qkv_proj.weight.grad.clone())
    (dtype32, out32, dh32, dw32), (dtype16, out16, dh16, dw16) = results["float32"], results["bfloat16"]
    assert dtype32 == dtype16 == torch.bfloat16
    torch.testing.assert_close(out32, out16, rtol=2e-2, atol=2e-2)
    torch.testing.assert_close(dh32, dh16, rtol=5e-2, atol=5e-2)
    assert (dw32 - dw16).norm() / dw16.norm() < 2e-2  # summed over 656 positions in bf16: a few entries stray


def layer_rotary(layer, t):
    """RoPE as the attention layer applies it."""
    from recursia.api import apply_rotary

    return apply_rotary(t, layer.cos, layer.sin)
