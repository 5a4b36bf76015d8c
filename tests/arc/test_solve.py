"""ARC through the CLI: train a tiny model on hand-made tasks, eval votes by default and
writes a submission, solve adapts to an unseen task and prints two attempts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors.torch import load_file

from tests.arc.test_build import EVALUATION, TRAINING, write_tasks
from tests.test_end_to_end import exit_code, run_cli

TINY_ARC = ["--set", "train.compile=false", "--set", "model.hidden_size=16", "--set", "model.num_heads=2",
            "--set", "model.T=1", "--set", "model.n=1", "--set", "model.halt_max_steps=2",
            "--set", "train.batch_size=8", "--set", "train.eval_every=0", "--set", "train.checkpoint_every=10",
            "--set", "task_options.canvas=10"]
UNSEEN = {"task": "arc", "puzzle": {
    "train": [{"input": [[1, 0], [0, 0]], "output": [[0, 1], [0, 0]]},
              {"input": [[0, 0], [3, 0]], "output": [[0, 0], [0, 3]]}],
    "test": [{"input": [[5, 0], [0, 0]], "output": [[0, 5], [0, 0]]}]}}


@pytest.fixture(scope="module")
def arc_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("arc_cli")
    write_tasks(root / "src" / "training", TRAINING)
    write_tasks(root / "src" / "evaluation", EVALUATION)
    data = root / "data"
    assert exit_code("data", "build", "arc", "--out", str(data), "--source", f"json:{root / 'src'}", "--aug", "3",
                     "--canvas", "10") == 0
    run = root / "run"
    assert exit_code("train", "--task", "arc", "--steps", "3", "--data", str(data), "--out", str(run),
                     "--no-progress", *TINY_ARC) == 0
    return run


def test_eval_votes_by_default_and_writes_a_submission(arc_run, tmp_path, capsys):
    sub = tmp_path / "submission.json"
    code, out, err = run_cli(capsys, "eval", str(arc_run), "--submission", str(sub), "--json")
    assert code == 0, err
    metrics = json.loads(out)
    assert {"pass@1", "pass@2"} <= set(metrics) and metrics["groups"] == len(EVALUATION)
    written = json.loads(sub.read_text())
    assert set(written) == set(EVALUATION)
    assert len(written["evflip"]) == 2 and set(written["evflip"][0]) == {"attempt_1", "attempt_2"}


def test_eval_without_voting_reports_no_validity_for_arc(arc_run, capsys):
    """ARC has no checker that judges an answer from the input alone, so no "valid" figure."""
    code, out, err = run_cli(capsys, "eval", str(arc_run), "--no-vote", "--json")
    assert code == 0, err
    metrics = json.loads(out)
    assert "exact_acc" in metrics and not any(k.startswith("valid") for k in metrics)
    code, out, err = run_cli(capsys, "eval", str(arc_run), "--no-vote")
    assert code == 0 and "exact" in out and "valid" not in out


def test_solve_adapts_only_the_new_rows_and_prints_two_attempts(arc_run, tmp_path, capsys):
    puzzle = tmp_path / "task.json"
    puzzle.write_text(json.dumps(UNSEEN))
    before = load_file(str(arc_run / "model.safetensors"))
    code, out, err = run_cli(capsys, "solve", str(puzzle), "--checkpoint", str(arc_run), "--adapt-steps", "3",
                             "--versions", "4", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["adapt"] == "rows" and result["versions"] == 4 and result["adapt_steps"] == 3
    assert len(result["tests"]) == 1 and 1 <= len(result["tests"][0]["attempts"]) <= 2
    assert result["tests"][0]["correct"] in (True, False)
    assert sum(a["votes"] for a in result["tests"][0]["attempts"]) <= 4
    after = load_file(str(arc_run / "model.safetensors"))
    assert all((before[k] == after[k]).all() for k in before)  # the run on disk is never changed
    bare = tmp_path / "bare.json"  # a standard ARC task file, without the {"task", "puzzle"} wrapper
    bare.write_text(json.dumps(UNSEEN["puzzle"]))
    png = tmp_path / "attempts.png"
    code, out, err = run_cli(capsys, "solve", str(bare), "--checkpoint", str(arc_run), "--no-adapt", "--png", str(png))
    assert code == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "not adapted" in out and "attempt 1" in out
    code, out, err = run_cli(capsys, "solve", str(bare), "--checkpoint", str(arc_run), "--adapt-steps", "1",
                             "--versions", "2", "--show-steps")
    assert code == 0, err
    assert "test 1, step 2:" in out and "attempt 1" in out  # N_sup = 2 steps of the original, then the vote
    code, out, err = run_cli(capsys, "solve", str(puzzle), "--checkpoint", str(arc_run), "--adapt", "full",
                             "--adapt-steps", "2", "--versions", "2", "--json")
    assert code == 0, err
    assert json.loads(out)["adapt"] == "full"


def test_solve_names_the_bad_field_of_an_arc_task(arc_run, tmp_path, capsys):
    bad = {"task": "arc", "puzzle": {"train": [{"input": [[1, 2], [3]], "output": [[1]]}], "test": [{"input": [[1]]}]}}
    puzzle = tmp_path / "bad.json"
    puzzle.write_text(json.dumps(bad))
    code, _, err = run_cli(capsys, "solve", str(puzzle), "--checkpoint", str(arc_run))
    assert code == 2 and "train[0].input" in err and len(err.strip().splitlines()) == 1
