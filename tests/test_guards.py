"""Training guards: a non-finite step stops the run (or is skipped) and keeps the last
good checkpoint; SIGTERM saves a checkpoint before the process exits."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

import recursia.train.loop as loop
from recursia.train.checkpoint import load_run
from tests.test_end_to_end import TINY, data4, exit_code  # noqa: F401 (a fixture)


def nan_from_step(monkeypatch, first_bad: int) -> None:
    """Make the loss of every step from ``first_bad`` on NaN (the gradients follow)."""
    real, calls = loop.model_step_loss, {"n": 0}

    def poisoned(*args, **kwargs):
        res = real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] >= first_bad:
            res.loss = res.loss * float("nan")
        return res

    monkeypatch.setattr(loop, "model_step_loss", poisoned)


def train_args(data, run, steps, *extra):
    return ("train", "--task", "sudoku", "--mixer", "mlp", "--steps", str(steps), "--data", str(data), "--out",
            str(run), "--no-progress", *TINY, *extra)


def test_nonfinite_loss_stops_the_run_and_keeps_the_last_good_checkpoint(data4, tmp_path, monkeypatch, capsys):
    nan_from_step(monkeypatch, 4)
    run = tmp_path / "r"
    code = exit_code(*train_args(data4, run, 10))  # checkpoint_every 2: steps 2 saved, step 4 poisoned
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err
    assert err.startswith("error: step 4: non-finite loss (loss nan); run stopped; its last checkpoint (step 2) "
                          f"in {run} is kept")
    state = load_file(str(run / "train_state.safetensors"))
    assert all(torch.isfinite(v).all() for k, v in state.items() if v.is_floating_point())
    loaded = load_run(run)  # the checkpoint of step 2 still loads and is finite
    assert all(torch.isfinite(p).all() for p in loaded.model.parameters())
    monkeypatch.undo()
    code = exit_code(*train_args(data4, run, 6))  # and the run resumes from it
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "resuming" in out


def test_nonfinite_step_is_skipped_when_asked(data4, tmp_path, monkeypatch, capsys):
    real, calls = loop.model_step_loss, {"n": 0}

    def one_bad(*args, **kwargs):
        res = real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 3:
            res.loss = res.loss * float("inf")
        return res

    monkeypatch.setattr(loop, "model_step_loss", one_bad)
    run = tmp_path / "s"
    assert exit_code(*train_args(data4, run, 6, "--set", "train.nonfinite=skip")) == 0, capsys.readouterr().err
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if r.get("nonfinite_skipped")] == [3]
    loaded = load_run(run)
    assert all(torch.isfinite(p).all() for p in loaded.model.parameters())


def wait_until_logged(run, proc, seconds: float = 120) -> None:
    """Wait until the training process ``proc`` has written its first metrics to ``run``."""
    deadline = time.time() + seconds
    while not (run / "metrics.jsonl").is_file() or not (run / "metrics.jsonl").read_text().strip():
        assert time.time() < deadline and proc.poll() is None, "training did not start"
        time.sleep(0.2)


def test_sigterm_saves_a_checkpoint_and_exits_143(data4, tmp_path):
    run = tmp_path / "t"
    cmd = [sys.executable, "-m", "recursia", *train_args(data4, run, 1_000_000, "--set", "train.checkpoint_every=100000")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_logged(run, proc)
        assert not (run / "train_state.safetensors").exists()  # no periodic checkpoint yet
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1].startswith("error: terminated by SIGTERM")
    assert "terminated: saved step" in out
    loaded = load_run(run)
    assert loaded.model is not None
    state = load_file(str(run / "train_state.safetensors"))
    assert "rng.torch" in state


def test_keep_holds_the_last_checkpoints_and_best_the_best_evaluation(data4, tmp_path, capsys):
    run = tmp_path / "k"
    assert exit_code(*train_args(data4, run, 8, "--set", "train.keep=2", "--set", "train.eval_every=2")) == 0
    snaps = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert snaps == ["step-00000006", "step-00000008"]
    final = load_file(str(run / "model.safetensors"))
    kept = load_file(str(run / "checkpoints" / "step-00000008" / "model.safetensors"))
    assert final.keys() == kept.keys() and all(torch.equal(final[k], kept[k]) for k in final)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    evals = [(r["step"], r["test_exact_acc"]) for r in rows if "test_exact_acc" in r]
    best = json.loads((run / "best" / "best.json").read_text())
    first_best = max(evals, key=lambda e: (e[1], -e[0]))  # the earliest evaluation with the highest accuracy
    assert (best["step"], best["test_exact_acc"]) == first_best
    capsys.readouterr()
    for folder in (run / "best", run / "checkpoints" / "step-00000006"):
        assert exit_code("eval", str(folder), "--data", str(data4)) == 0, capsys.readouterr().err


def test_save_best_replaces_only_on_a_higher_accuracy(tmp_path):
    import os

    from recursia.train.checkpoint import save_best

    (tmp_path / "config.json").write_text("{}")
    for step, acc, replaced in ((2, 0.5, True), (4, 0.5, False), (6, 0.25, False), (8, 0.75, True)):
        (tmp_path / "new").write_text(f"weights of step {step}")
        os.replace(tmp_path / "new", tmp_path / "model.safetensors")  # as checkpoints are written: by rename
        assert save_best(tmp_path, step, {"test_exact_acc": acc}) == replaced
        if step == 6:  # the hard link still holds step 2's file
            assert (tmp_path / "best" / "model.safetensors").read_text() == "weights of step 2"
    assert json.loads((tmp_path / "best" / "best.json").read_text())["step"] == 8
    assert (tmp_path / "best" / "model.safetensors").read_text() == "weights of step 8"


def test_out_of_memory_gives_advice_and_keeps_the_last_checkpoint(data4, tmp_path, monkeypatch, capsys):
    real, calls = loop.Trainer.train_step, {"n": 0}

    def oom_at_step_3(self):
        calls["n"] += 1
        if calls["n"] == 3:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(self)

    monkeypatch.setattr(loop.Trainer, "train_step", oom_at_step_3)
    run = tmp_path / "oom"
    code = exit_code(*train_args(data4, run, 10))
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err
    assert err == (f"error: out of memory on cpu after step 2 with 8 training slots per process (train.batch_size 8 "
                   f"over 1 process): use fewer per process, e.g. --set train.batch_size=4 or more processes "
                   f"(several GPUs: --nproc N); its last checkpoint (step 2) is kept and resumes with --out {run}")
    assert load_run(run).model is not None


def test_out_of_memory_in_eval_says_use_a_smaller_batch(data4, tmp_path, monkeypatch, capsys):
    import recursia.infer as infer  # the eval command imports evaluate from here when it runs

    run = tmp_path / "e"
    assert exit_code(*train_args(data4, run, 2)) == 0

    def oom(*args, **kwargs):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory")

    monkeypatch.setattr(infer, "evaluate", oom)
    capsys.readouterr()
    assert exit_code("eval", str(run), "--data", str(data4), "--batch-size", "64") == 2
    assert capsys.readouterr().err.strip() == ("error: out of memory on cpu with 64 test examples per batch: use a "
                                               "smaller --batch-size")


def test_malformed_config_is_refused_whole_and_the_run_still_resumes(data4, tmp_path, capsys):
    run = tmp_path / "c"
    assert exit_code(*train_args(data4, run, 4)) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("task: sudoku\ncolour: red\nmodel:\n  hiden_size: 8\ntrain:\n  lr: fast\n")
    capsys.readouterr()
    assert exit_code("train", "--config", str(bad), "--out", str(tmp_path / "new")) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {bad}: model.hiden_size: unknown key; train.lr: Input should be a valid number, unable "
                   f"to parse string as a number; colour: unknown key")
    assert not (tmp_path / "new").exists()
    before = (run / "train_state.safetensors").read_bytes()
    assert exit_code(*train_args(data4, run, 6, "--set", "train.bogus=1")) == 2  # resuming with a bad key
    assert capsys.readouterr().err.strip().startswith("error: --set train.bogus: cannot change when resuming")
    assert (run / "train_state.safetensors").read_bytes() == before  # untouched
    assert load_run(run).model is not None
    assert exit_code(*train_args(data4, run, 6)) == 0  # and the run goes on


def test_corrupt_checkpoint_is_named_and_the_kept_one_loads(data4, tmp_path, capsys):
    run = tmp_path / "k"
    assert exit_code(*train_args(data4, run, 4, "--set", "train.keep=2")) == 0
    for name in ("model.safetensors", "train_state.safetensors"):  # truncated copies (as a broken file transfer leaves)
        data = (run / name).read_bytes()
        (run / name).unlink()
        (run / name).write_bytes(data[: len(data) // 2])
    capsys.readouterr()
    assert exit_code("eval", str(run), "--data", str(data4)) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith(f"error: {run / 'model.safetensors'}: truncated")
    assert exit_code(*train_args(data4, run, 6)) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith(f"error: {run / 'train_state.safetensors'}: truncated")
    kept = run / "checkpoints" / "step-00000004"
    assert all(torch.isfinite(p).all() for p in load_run(kept).model.parameters())
    assert exit_code("eval", str(kept), "--data", str(data4)) == 0
