"""Evaluation at scale: accuracy at every supervision step, early halting with a
compacted batch (the same halting metrics for less compute), `recursia eval`'s
--json/--plot/--halting, and two processes under torchrun giving the numbers of one
(plain evaluation and voting)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from recursia.data.dataset import read_split
from recursia.distributed import World
from recursia.infer import evaluate, run_steps
from recursia.train.checkpoint import load_run
from tests.test_end_to_end import TINY, exit_code, run_cli

N_SUP = 5
HALT_KEYS = {"cell_acc_halt", "exact_acc_halt", "valid_halt", "steps_halt"}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """4x4 Sudoku: 20 test puzzles, each stored with one augmented copy (40 test examples, voting works)."""
    out = tmp_path_factory.mktemp("data")
    assert exit_code("data", "build", "sudoku", "--out", str(out), "--size", "4", "--train-size", "48",
                     "--test-size", "20", "--test-aug", "1", "--aug", "1", "--seed", "3") == 0
    return out


@pytest.fixture(scope="module")
def run(data, tmp_path_factory) -> Path:
    """A tiny model trained for 6 steps with N_sup 5."""
    out = tmp_path_factory.mktemp("runs") / "r"
    assert exit_code("train", "--task", "sudoku", "--mixer", "mlp", "--steps", "6", "--data", str(data),
                     "--out", str(out), "--no-progress", *TINY, "--set", f"model.halt_max_steps={N_SUP}") == 0
    return out


@pytest.fixture
def loaded(run, data):
    """(model, task, test split) of the run, loaded afresh (tests change the model)."""
    r = load_run(run, "cpu")
    return r.model, r.task, read_split(data / "test")


def _whole_split_trace(model, split):
    """The Trace of every test example in one batch (the reference the batched code must match)."""
    inputs = torch.from_numpy(np.asarray(split.inputs).astype(np.int64))
    pids = torch.from_numpy(split.example_puzzle_ids())
    return run_steps(model, inputs, pids)


def _mix_halting(model, split) -> None:
    """Shift q_head's halting bias so that the learned halt comes at different steps for
    different examples: half of them halt by step 2, the shift half-way between two
    q_halt values so that no example sits on the threshold."""
    q = _whole_split_trace(model, split).q_halt  # (N, E)
    sorted_q = q[1].sort().values
    mid = len(sorted_q) // 2
    with torch.no_grad():
        model.q_head.bias[0] -= (sorted_q[mid - 1] + sorted_q[mid]) / 2


def test_accuracy_at_every_step(loaded):
    model, task, split = loaded
    done = []
    res = evaluate(model, task, split, batch_size=16, progress=done.append)
    m = res.metrics
    assert res.examples == split.num_examples == 40 and done == [16, 32, 40]
    assert len(m["exact_acc_per_step"]) == len(m["cell_acc_per_step"]) == N_SUP
    assert m["exact_acc_per_step"][-1] == m["exact_acc"] and m["cell_acc_per_step"][-1] == m["cell_acc"]
    trace = _whole_split_trace(model, split)
    labels = torch.from_numpy(split.torch_labels(np.arange(split.num_examples)))
    right = (trace.preds == labels).double().mean(-1)  # (N, E): every 4x4 cell is labelled
    assert m["cell_acc_per_step"] == pytest.approx(right.mean(1).tolist(), abs=1e-12)
    assert m["exact_acc_per_step"] == pytest.approx((right == 1).double().mean(1).tolist(), abs=1e-12)
    assert len(set(m["cell_acc_per_step"])) > 1  # the steps differ: the test can tell them apart


def test_early_halting_gives_the_full_runs_halting_metrics_for_fewer_network_rows(loaded, monkeypatch):
    model, task, split = loaded
    _mix_halting(model, split)
    rows = []
    forward = model.forward

    def counting(carry):
        rows.append(carry.inputs.shape[0])
        return forward(carry)

    monkeypatch.setattr(model, "forward", counting)
    full = evaluate(model, task, split, batch_size=16).metrics
    full_rows, rows[:] = sum(rows), []
    early = evaluate(model, task, split, batch_size=16, halting="early").metrics
    assert 1 < full["steps_halt"] < N_SUP  # some examples halt early, some do not
    assert set(early) == HALT_KEYS
    assert early == {k: full[k] for k in HALT_KEYS}
    assert full_rows == split.num_examples * N_SUP
    assert sum(rows) == round(early["steps_halt"] * split.num_examples) < full_rows


class _Rank(World):
    """One rank of a pretend world whose sums the test adds up itself."""

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor


@pytest.mark.parametrize("limit", [None, 29])
def test_the_shares_of_three_ranks_add_up_to_one_process(loaded, limit):
    model, task, split = loaded
    single = evaluate(model, task, split, limit, batch_size=8).metrics
    parts = [evaluate(model, task, split, limit, batch_size=8, world=_Rank(r, 3)).metrics for r in range(3)]
    for key, value in single.items():
        assert np.sum([p[key] for p in parts], axis=0) == pytest.approx(value, abs=1e-12), key


def test_eval_json_text_and_early_through_the_cli(run, data, capsys):
    code, out, err = run_cli(capsys, "eval", str(run), "--data", str(data), "--json", "--batch-size", "16")
    assert code == 0 and err == ""
    full = json.loads(out)
    assert full["halting"] == "full" and full["examples"] == 40
    assert len(full["exact_acc_per_step"]) == len(full["cell_acc_per_step"]) == N_SUP
    assert full["exact_acc_per_step"][-1] == full["exact_acc"]
    code, out, _ = run_cli(capsys, "eval", str(run), "--data", str(data), "--json", "--halting", "early")
    early = json.loads(out)
    assert code == 0 and "exact_acc_per_step" not in early and {k: early[k] for k in HALT_KEYS} == {
        k: full[k] for k in HALT_KEYS}
    code, out, _ = run_cli(capsys, "eval", str(run), "--data", str(data), "--no-progress")
    assert code == 0 and "exact by step:" in out and "  5: " in out


def test_the_progress_bar_goes_to_a_terminals_stderr_only(run, data, capsys, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich takes the captured stderr for a terminal
    code, out, err = run_cli(capsys, "eval", str(run), "--data", str(data), "--json", "--batch-size", "16")
    assert code == 0 and json.loads(out)["examples"] == 40 and "examples" in err
    code, out, err = run_cli(capsys, "eval", str(run), "--data", str(data), "--json", "--no-progress")
    assert code == 0 and json.loads(out)["examples"] == 40 and err == ""


def test_plot_writes_a_png_of_accuracy_per_step(run, data, tmp_path, capsys):
    png = tmp_path / "steps.png"
    code, out, _ = run_cli(capsys, "eval", str(run), "--data", str(data), "--plot", str(png))
    assert code == 0 and str(png) in out
    with Image.open(png) as img:
        assert img.format == "PNG" and len(img.convert("RGB").getcolors(1 << 20)) > 1


@pytest.mark.parametrize("args,needle", [
    (["--plot", "steps.png", "--halting", "early"], "--plot needs --halting full"),
    (["--vote", "--halting", "early"], "--halting early cannot be combined with voting"),
    (["--vote", "--plot", "steps.png"], "--plot cannot be combined with voting"),
    (["--plot", "no/such/folder/steps.png"], "--plot"),
])
def test_refused_combinations_write_nothing(run, data, tmp_path, capsys, monkeypatch, args, needle):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "eval", str(run), "--data", str(data), *args)
    assert code == 2 and needle in err and out == "" and list(tmp_path.iterdir()) == []


def _torchrun(*args: str) -> dict:
    """``recursia ARGS`` in 2 processes under torchrun (gloo, CPU); returns rank 0's JSON."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                           "--master-port", str(port), "-m", "recursia", *args, "--json", "--device", "cpu"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)  # only rank 0 prints: one JSON object


def _assert_close(two: dict, one: dict) -> None:
    """The same keys and values, numbers (and lists of them) to float rounding."""
    assert two.keys() == one.keys()
    for key, value in one.items():
        if isinstance(value, str):
            assert two[key] == value, key
        else:
            assert two[key] == pytest.approx(value, abs=1e-12), key


def test_two_processes_under_torchrun_give_the_numbers_of_one(run, data, capsys):
    args = ["eval", str(run), "--data", str(data), "--limit", "29", "--batch-size", "8"]
    code, out, _ = run_cli(capsys, *args, "--json", "--device", "cpu")
    assert code == 0
    one, two = json.loads(out), _torchrun(*args)
    assert two["examples"] == one["examples"] == 29
    _assert_close(two, one)


def test_two_processes_vote_on_all_the_predictions(run, data, capsys):
    args = ["eval", str(run), "--data", str(data), "--vote", "--batch-size", "8"]
    code, out, _ = run_cli(capsys, *args, "--json", "--device", "cpu")
    assert code == 0
    one, two = json.loads(out), _torchrun(*args)
    assert one["votes"] == 40 and one["test_inputs"] == 20
    _assert_close(two, one)
