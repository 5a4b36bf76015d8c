"""End to end through the CLI: build data, train a few steps, save, reload, eval, solve;
resume equivalence; one-line errors for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from recursia.cli.app import main
from recursia.cli.train import resolve_config
from recursia.train.loop import train

TINY = ["--set", "task_options.size=4", "--set", "train.compile=false", "--set", "train.dtype=float32",
        "--set", "model.hidden_size=16", "--set", "model.num_heads=2", "--set", "model.T=1", "--set", "model.n=1",
        "--set", "model.halt_max_steps=3",
        "--set", "train.batch_size=8", "--set", "train.eval_every=0", "--set", "train.checkpoint_every=2"]
PUZZLE_4x4 = {"task": "sudoku", "puzzle": ["1...", "..3.", ".4..", "...2"]}


def exit_code(*args: str) -> int:
    """Run ``recursia ARGS`` in-process; returns its exit code."""
    try:
        main(list(args))
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 1
    return 0


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``recursia ARGS`` in-process; returns (exit code, stdout, stderr)."""
    code = exit_code(*args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def data4(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("data4")
    assert exit_code("data", "build", "sudoku", "--out", str(out), "--size", "4", "--train-size", "48",
                     "--test-size", "8", "--aug", "1", "--seed", "3") == 0
    return out


@pytest.fixture(scope="module")
def run4(data4, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("runs") / "r"
    assert exit_code("train", "--task", "sudoku", "--mixer", "mlp", "--steps", "4", "--data", str(data4),
                     "--out", str(run), "--no-progress", *TINY) == 0
    return run


def test_train_writes_run_directory(run4):
    for name in ("config.json", "model.safetensors", "train_state.safetensors", "metrics.jsonl"):
        assert (run4 / name).is_file(), name
    cfg = json.loads((run4 / "config.json").read_text())
    assert cfg["task"] == "sudoku" and cfg["task_options"] == {"size": 4} and cfg["preset"] == "small"
    from safetensors import safe_open

    with safe_open(str(run4 / "model.safetensors"), "pt") as f:
        meta = f.metadata()
    assert meta["task"] == "sudoku" and meta["mixer"] == "mlp" and meta["recursia_version"]
    rows = [json.loads(line) for line in (run4 / "metrics.jsonl").read_text().splitlines()]
    assert rows[-2].get("final") and "test_exact_acc" in rows[-2]
    assert rows[-1].get("summary") and rows[-1]["steps"] == 4 and rows[-1]["parameters"] == 12_898
    assert (run4 / "plots" / "loss.png").is_file()


def test_eval_json(run4, data4, capsys):
    code, out, _ = run_cli(capsys, "eval", str(run4), "--data", str(data4), "--json")
    assert code == 0
    res = json.loads(out)
    assert res["examples"] == 8
    for key in ("exact_acc", "cell_acc", "exact_acc_halt", "steps_halt", "valid"):
        assert 0 <= res[key] <= max(1, res["steps_halt"])
    assert 1 <= res["steps_halt"] <= 3


def test_solve_json_and_steps(run4, tmp_path, capsys):
    puzzle = tmp_path / "p.json"
    puzzle.write_text(json.dumps(PUZZLE_4x4))
    code, out, _ = run_cli(capsys, "solve", str(puzzle), "--checkpoint", str(run4), "--json", "--show-steps")
    assert code == 0
    res = json.loads(out)
    assert len(res["answer"]) == 4 and all(len(r) == 4 for r in res["answer"])
    assert isinstance(res["valid"], bool) and 1 <= res["steps"] <= 3
    assert len(res["trace"]) == 3
    code, out, _ = run_cli(capsys, "solve", str(puzzle), "--checkpoint", str(run4), "--show-steps")
    assert code == 0 and "step 1:" in out and "checker" in out


def test_solve_finds_newest_run_under_runs(run4, tmp_path, capsys, monkeypatch):
    puzzle = tmp_path / "p.json"
    puzzle.write_text(json.dumps(PUZZLE_4x4))
    code, out, _ = run_cli(capsys, "solve", str(puzzle), "--runs", str(run4.parent), "--json")
    assert code == 0 and json.loads(out)["checkpoint"] == str(run4)


@pytest.mark.parametrize("content,needle", [
    ("{not json", "malformed JSON"),
    (json.dumps({"task": "sudoku"}), "missing field 'puzzle'"),
    (json.dumps({"task": "sudoku", "puzzle": "1..." * 3 + "..."}), "expected 16 cells, got 15"),
    (json.dumps({"task": "sudoku", "puzzle": ["11..", "....", "....", "...."]}), "row 1 has two 1s"),
    (json.dumps({"task": "sudoku", "puzzle": "." * 81}), "9x9"),
    (json.dumps({"task": "nosuchtask", "puzzle": "."}), "unknown task 'nosuchtask'"),
])
def test_solve_bad_input_is_one_line_exit_2(run4, tmp_path, capsys, content, needle):
    puzzle = tmp_path / "bad.json"
    puzzle.write_text(content)
    code, _, err = run_cli(capsys, "solve", str(puzzle), "--checkpoint", str(run4))
    assert code == 2
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_missing_and_corrupt_checkpoints(run4, tmp_path, capsys):
    puzzle = tmp_path / "p.json"
    puzzle.write_text(json.dumps(PUZZLE_4x4))
    code, _, err = run_cli(capsys, "solve", str(puzzle), "--checkpoint", str(tmp_path / "nope"))
    assert code == 2 and "not found" in err
    code, _, err = run_cli(capsys, "solve", str(puzzle), "--runs", str(tmp_path / "empty"))
    assert code == 2 and "no trained 'sudoku' model" in err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text((run4 / "config.json").read_text())
    (broken / "model.safetensors").write_bytes(b"\x00garbage")
    code, _, err = run_cli(capsys, "solve", str(puzzle), "--checkpoint", str(broken))
    assert code == 2 and "model.safetensors" in err and err.count("\n") == 1


def test_bad_config_key_reports_every_error(capsys, data4, tmp_path):
    code, _, err = run_cli(capsys, "train", "--task", "sudoku", "--data", str(data4), "--out", str(tmp_path / "x"),
                           "--set", "model.hiden_size=3", "--set", "train.lr=abc", "--no-progress")
    assert code == 2
    assert "model.hiden_size: unknown key" in err and "train.lr" in err and err.count("\n") == 1


def test_real_process_exit_code_and_debug_traceback(tmp_path):
    puzzle = tmp_path / "bad.json"
    puzzle.write_text("[1, 2")
    env = dict(os.environ)
    proc = subprocess.run([sys.executable, "-m", "recursia", "solve", str(puzzle)], capture_output=True,
                          text=True, env=env)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "recursia", "--debug", "solve", str(puzzle)],
                          capture_output=True, text=True, env=env)
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_resume_continues_exactly(data4, tmp_path):
    """3 steps + resume to 6 gives bitwise the weights of 6 steps in one go."""
    args = [a for a in TINY if a != "--set"] + ["train.checkpoint_every=100"]
    cfg = resolve_config("sudoku", "mlp", "small", None, args, 6, "cpu")
    log = lambda *_: None  # noqa: E731
    train(cfg, tmp_path / "straight", data4, log=log)
    cfg3 = cfg.model_copy(deep=True)
    cfg3.train.steps = 3
    train(cfg3, tmp_path / "resumed", data4, log=log)
    train(cfg, tmp_path / "resumed", data4, log=log)
    a = load_file(str(tmp_path / "straight" / "train_state.safetensors"))
    b = load_file(str(tmp_path / "resumed" / "train_state.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_hrm_configuration_trains_and_evaluates(data4, tmp_path, capsys):
    run = tmp_path / "hrm"
    code, out, err = run_cli(capsys, "train", "--task", "sudoku", "--steps", "3", "--data", str(data4), "--out",
                             str(run), "--no-progress", *TINY, "--set", "model.separate_nets=true",
                             "--set", "model.one_step_grad=true", "--set", "model.act_continue=true",
                             "--set", "model.mixer=attention")
    assert code == 0, err
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert rows[-2]["final"] and rows[-3]["step"] == 3
    state = load_file(str(run / "model.safetensors"))
    assert any(k.startswith("net_y.") for k in state)


def test_killed_run_resumes_from_its_last_checkpoint(data6, tmp_path):
    """SIGKILL mid-training (the default preset as shipped: compiled) leaves a loadable
    checkpoint; `train --out` continues from it and ends bitwise where an uninterrupted run does."""
    import signal
    import time

    from safetensors import safe_open

    run = tmp_path / "killed"
    cmd = [sys.executable, "-m", "recursia", "train", "--task", "sudoku", "--mixer", "mlp", "--steps", "100000",
           "--data", str(data6), "--out", str(run), "--no-progress", "--set", "train.checkpoint_every=2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 300
        while not (run / "train_state.safetensors").is_file() and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # let it go on past the first checkpoint
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with safe_open(str(run / "train_state.safetensors"), "pt") as f:
        saved = int(f.metadata()["step"])
    assert saved >= 2 and saved % 2 == 0
    (run / "model.safetensors.tmp").write_bytes(b"\0" * 4096)  # as a kill during a checkpoint write leaves
    resumed = subprocess.run([*cmd[:9], str(saved + 2), *cmd[10:]], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming {run} at step {saved}" in resumed.stdout
    assert not (run / "model.safetensors.tmp").exists()
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in rows if not (r.get("final") or r.get("summary"))]
    assert steps == sorted(set(steps)) and steps[-1] == saved + 2  # no step logged twice
    assert rows[-2]["final"] and rows[-1]["summary"]
    cfg = resolve_config("sudoku", "mlp", None, None, ["train.checkpoint_every=2"], saved + 2, "cpu")
    assert cfg.preset == "small" and cfg.train.compile
    train(cfg, tmp_path / "straight", data6, log=lambda *_: None)
    a = load_file(str(tmp_path / "straight" / "train_state.safetensors"))
    b = load_file(str(run / "train_state.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_data_build_extra_flags_are_task_options(tmp_path, capsys):
    code, _, err = run_cli(capsys, "data", "build", "sudoku", "--out", str(tmp_path / "d"), "--max-clues", "3")
    assert code == 2 and "max_clues: unknown key" in err
    code, _, err = run_cli(capsys, "data", "build", "sudoku", "--out", str(tmp_path / "d"), "stray")
    assert code == 2 and "unexpected argument 'stray'" in err
    code, out, _ = run_cli(capsys, "data", "build", "sudoku", "--out", str(tmp_path / "d"), "--train-size", "4",
                           "--test-size", "2", "--size=4")
    assert code == 0 and json.loads(out)["task"] == "sudoku 4x4"
