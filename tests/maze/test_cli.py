"""The Maze task through the CLI with its defaults: `recursia train --task maze` builds its
default dataset (no data given), then `eval` and `solve examples/puzzles/maze.json`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recursia.data.dataset import read_split
from recursia_maze.generate import unique_shortest_path
from tests.test_end_to_end import exit_code, run_cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "puzzles" / "maze.json"
# the small preset, shrunk to seconds: fewer mazes, a narrower and shallower net, no compile
FAST = ["--set", "data.train_size=40", "--set", "data.test_size=10", "--set", "train.compile=false",
        "--set", "model.hidden_size=16", "--set", "model.num_heads=2", "--set", "model.n=1",
        "--set", "train.batch_size=8", "--set", "train.eval_every=0"]


@pytest.fixture(scope="module")
def maze_run(tmp_path_factory) -> tuple[Path, Path]:
    """(run, dataset cache) of 3 steps of `recursia train --task maze --mixer attention`, default preset."""
    cache = tmp_path_factory.mktemp("cache")
    run = tmp_path_factory.mktemp("runs") / "maze"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RECURSIA_CACHE", str(cache))
        assert exit_code("train", "--task", "maze", "--mixer", "attention", "--steps", "3", "--out", str(run),
                         "--no-progress", "--device", "cpu", *FAST) == 0
    return run, cache


def test_train_builds_the_small_presets_dataset(maze_run):
    run, cache = maze_run
    cfg = json.loads((run / "config.json").read_text())
    assert (cfg["preset"], cfg["model"]["mixer"]) == ("small", "attention")
    assert cfg["task_options"] == {"size": 9, "min_path": 10, "unique_path": True}
    (built,) = (cache / "data").iterdir()
    for split, count in (("train", 80), ("test", 10)):  # 40 train mazes x 2 stored orientations
        data = read_split(built / split)
        assert len(data.inputs) == count and data.meta["seq_len"] == 81
        assert unique_shortest_path(data.inputs).all()
    assert (run / "model.safetensors").is_file()


def test_eval_reports_exact_and_valid_path_rates(maze_run, capsys, monkeypatch):
    run, cache = maze_run
    monkeypatch.setenv("RECURSIA_CACHE", str(cache))
    code, out, err = run_cli(capsys, "eval", str(run), "--json", "--device", "cpu")
    assert code == 0, err
    metrics = json.loads(out)
    assert metrics["examples"] == 10
    for key in ("exact_acc", "valid", "exact_acc_halt", "valid_halt"):
        assert 0.0 <= metrics[key] <= 1.0


def test_solve_the_example_maze(maze_run, capsys, tmp_path):
    run, _ = maze_run
    code, out, err = run_cli(capsys, "solve", str(EXAMPLE), "--checkpoint", str(run), "--device", "cpu",
                             "--png", str(tmp_path / "maze.png"))
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 9 + 2 + 1  # framed 9x9 picture, then the verdict
    assert lines[-1].startswith(("answer is valid (checker)", "answer is NOT valid (checker)"))
    assert (tmp_path / "maze.png").stat().st_size > 0
    code, out, err = run_cli(capsys, "solve", str(EXAMPLE), "--checkpoint", str(run), "--json", "--device", "cpu")
    answer = json.loads(out)
    assert code == 0 and len(answer["answer"]) == 9 and isinstance(answer["valid"], bool)
