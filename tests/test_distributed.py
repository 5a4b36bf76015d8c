"""Training on several processes (torchrun, gloo on the CPU): two processes compute what
one process with the same global batch and seed computes, and a killed two-process run
resumes to where an uninterrupted one ends, with the same or another process count."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from tests.test_end_to_end import TINY, exit_code
from tests.test_guards import wait_until_logged

# a model whose every part moves visibly in a few steps (no warm-up, large learning rates)
FAST = [*TINY, "--set", "train.warmup_steps=0", "--set", "train.lr=0.01", "--set", "train.puzzle_emb_lr=0.01",
        "--set", "train.puzzle_emb_weight_decay=0.1", "--set", "train.tensorboard=false",
        "--set", "train.log_every=2", "--set", "model.puzzle_emb_len=1"]
IDS = 8  # puzzle identifiers of the dataset below (several, so the gathered sparse update is exercised)


@pytest.fixture(scope="module")
def data_ids(tmp_path_factory) -> Path:
    """A 4x4 Sudoku dataset whose training puzzles have identifiers 1..7 (as ARC's do)."""
    out = tmp_path_factory.mktemp("data-ids")
    assert exit_code("data", "build", "sudoku", "--out", str(out), "--size", "4", "--train-size", "48",
                     "--test-size", "8", "--aug", "1", "--seed", "3") == 0
    train = out / "train"
    ids = np.load(train / "all__puzzle_identifiers.npy")
    np.save(train / "all__puzzle_identifiers.npy", (np.arange(len(ids)) % (IDS - 1) + 1).astype(ids.dtype))
    meta = json.loads((train / "dataset.json").read_text())
    (train / "dataset.json").write_text(json.dumps(meta | {"num_puzzle_identifiers": IDS}))
    return out


def args(data: Path, run: Path, steps: int, *extra: str) -> list[str]:
    return ["train", "--task", "sudoku", "--mixer", "mlp", "--steps", str(steps), "--data", str(data), "--out",
            str(run), "--no-progress", "--device", "cpu", *FAST, *extra]


def recursia(*argv: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``recursia ARGV`` in a new process."""
    return subprocess.run([sys.executable, "-m", "recursia", *argv], capture_output=True, text=True, timeout=timeout)


def torchrun(*argv: str, timeout: float = 300, **popen) -> subprocess.Popen:
    """``torchrun --standalone --nproc-per-node 2 -m recursia ARGV`` (started, not awaited)."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "recursia",
           *argv]
    return subprocess.Popen(cmd, env=os.environ | {"OMP_NUM_THREADS": "1"}, text=True, **popen)


def state(run: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run / "train_state.safetensors"))


def meta(run: Path) -> dict[str, str]:
    with safe_open(str(run / "train_state.safetensors"), "pt") as f:
        return f.metadata()


def assert_close(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    """Every tensor of two training states equal: integers exactly, floats to float rounding."""
    assert a.keys() == b.keys()
    for k in a:
        if a[k].is_floating_point():
            torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5, msg=k)
        else:
            assert torch.equal(a[k], b[k]), k


def test_two_processes_compute_what_one_does(data_ids, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    assert exit_code(*args(data_ids, one, 4)) == 0
    res = recursia(*args(data_ids, two, 4, "--nproc", "2"))
    assert res.returncode == 0, res.stderr
    assert "2 processes" in res.stdout and res.stdout.count("saved ") == 1  # rank 0 alone prints
    a, b = state(one), state(two)
    table = a["model.embed.puzzle.weight"]
    assert (table.abs().sum(1) > 0).sum() == IDS - 1  # every identifier's row was trained ...
    assert_close(a, b)  # ... and weights, puzzle table, EMA, optimizer moments and carry agree
    assert {k: v for k, v in meta(one).items()} == {k: v for k, v in meta(two).items()}  # step, sampler position
    rows = [json.loads(line) for line in (two / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "loss" in r] == [2, 4]  # written once, by rank 0
    ones = [json.loads(line) for line in (one / "metrics.jsonl").read_text().splitlines()]
    for x, y in zip(ones[:2], rows[:2]):
        assert x["loss"] == pytest.approx(y["loss"], rel=1e-5) and x["halted"] == y["halted"]

    # a checkpoint of two processes resumes in one (float rounding apart, the same run)
    assert exit_code(*args(data_ids, two, 6)) == 0
    assert exit_code(*args(data_ids, one, 6)) == 0
    assert_close(state(one), state(two))


def test_batch_that_does_not_split_is_refused_before_launching(data_ids, tmp_path):
    res = recursia(*args(data_ids, tmp_path / "r", 4, "--nproc", "3"))
    assert res.returncode == 2
    assert res.stderr.strip() == ("error: train.batch_size 8 does not split evenly over 3 processes (use a multiple "
                                  "of 3)")
    assert not (tmp_path / "r").exists()


def kill_processes_of(run: Path) -> None:
    """SIGKILL every process whose command line names ``run`` (torchrun and its workers,
    which torchrun starts in sessions of their own)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if str(run).encode() in cmdline:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_killed_two_process_run_resumes_where_an_uninterrupted_one_ends(data_ids, tmp_path):
    run = tmp_path / "killed"
    proc = torchrun(*args(data_ids, run, 100_000), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while not (run / "train_state.safetensors").is_file():
            assert time.time() < deadline and proc.poll() is None, "training did not start"
            time.sleep(0.2)
        time.sleep(1.0)  # on past the first checkpoint
    finally:
        kill_processes_of(run)
        proc.wait()
    saved = int(meta(run)["step"])
    assert saved >= 2 and saved % 2 == 0
    resumed = torchrun(*args(data_ids, run, saved + 4), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert f"resuming {run} at step {saved}" in out
    straight = tmp_path / "straight"
    res = recursia(*args(data_ids, straight, saved + 4, "--nproc", "2"))
    assert res.returncode == 0, res.stderr
    a, b = state(run), state(straight)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # same process count: bitwise
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in rows if "loss" in r]
    assert steps == sorted(set(steps)) and steps[-1] == saved + 4  # no step logged twice


def test_sigterm_stops_every_process_at_one_step_with_a_checkpoint(data_ids, tmp_path):
    run = tmp_path / "term"
    cmd = [sys.executable, "-m", "recursia", *args(data_ids, run, 1_000_000, "--nproc", "2", "--set",
                                                   "train.checkpoint_every=100000")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_logged(run, proc)
        assert not (run / "train_state.safetensors").exists()  # no periodic checkpoint yet
        proc.send_signal(signal.SIGTERM)  # as a scheduler would: to the command the user started
        out, err = proc.communicate(timeout=120)
    finally:
        kill_processes_of(run)
    assert proc.returncode == 143, err
    assert err.strip() == ("error: terminated by SIGTERM (the run saved a checkpoint; train again with the same --out "
                           "to resume)")  # one line: neither torchrun's report nor a second process's copy
    saved = int(meta(run)["step"])
    assert f"terminated: saved step {saved} to {run}" in out
    resumed = recursia(*args(data_ids, run, saved + 2))  # and it resumes, here in one process
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming {run} at step {saved}" in resumed.stdout


def test_world_shares_and_devices():
    from recursia.distributed import World, rank_device
    from recursia.errors import ConfigError

    world = World(1, 3, 1)
    assert [list(world.share(10, r)) for r in range(3)] == [[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]
    assert world.share(2) == range(0, 1) and world.share(0) == range(0, 0)
    assert rank_device("cuda", world) == "cuda:1" and rank_device("cpu", world) == "cpu"
    assert rank_device("cuda:3", World()) == "cuda:3"  # one process: the GPU asked for
    with pytest.raises(ConfigError, match="with several processes use --device cuda"):
        rank_device("cuda:0", world)
