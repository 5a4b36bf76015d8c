"""Voting across augmented test copies (recursia.vote) for Sudoku and Maze, through the
same task-agnostic code ARC uses; `recursia eval --vote --submission` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recursia.build import make_task
from recursia.data.augment import compose_apply
from recursia.data.dataset import read_augmentation_record, read_split
from recursia.errors import DatasetError
from recursia.vote import Predictions, submission, vote
from tests.test_end_to_end import TINY, exit_code, run_cli


@pytest.fixture(scope="module")
def voted4(tmp_path_factory) -> Path:
    """4x4 Sudoku: 40 train puzzles, 6 test puzzles each stored with 7 augmented copies."""
    out = tmp_path_factory.mktemp("voted4")
    assert exit_code("data", "build", "sudoku", "--out", str(out), "--size", "4", "--train-size", "40",
                     "--test-size", "6", "--test-aug", "7", "--seed", "2") == 0
    return out


@pytest.fixture(scope="module")
def maze_voted(tmp_path_factory) -> Path:
    """7x7 mazes: each test maze with its 7 other dihedral copies."""
    out = tmp_path_factory.mktemp("maze_voted")
    assert exit_code("data", "build", "maze", "--out", str(out), "--size", "7", "--min-path", "4",
                     "--train-size", "10", "--test-size", "5", "--test-aug", "7", "--seed", "1") == 0
    return out


def _loaded(folder: Path, task_name: str, options: dict):
    task = make_task(task_name, options)
    split = read_split(folder / "test")
    return task, split, read_augmentation_record(split, folder / "test")


def test_test_aug_stores_copies_with_the_parameters_that_invert_them(voted4):
    task, split, record = _loaded(voted4, "sudoku", {"size": 4})
    assert split.num_groups == 6 and split.num_examples == 6 * 8
    assert record is not None and record.augmentations == [a.name for a in task.augmentations()]
    augs = task.augmentations()
    starts = np.asarray(split.group_indices)
    for g in range(split.num_groups):
        original = split.inputs[starts[g]], split.labels[starts[g]]
        assert record.params[starts[g]] is None
        for p in range(starts[g] + 1, starts[g + 1]):
            pair = np.stack(original).astype(np.int64)
            np.testing.assert_array_equal(compose_apply(augs, pair, record.params[p]),
                                          np.stack([split.inputs[p], split.labels[p]]))


def test_a_perfect_model_scores_one_and_a_copying_model_zero(voted4):
    task, split, record = _loaded(voted4, "sudoku", {"size": 4})
    perfect = Predictions(np.asarray(split.labels).astype(np.int64), np.full(split.num_examples, 0.9))
    result = vote(task, split, record, [perfect])
    assert all(result.metrics[f"pass@{k}"] == 1.0 for k in (1, 2, 5, 10))
    assert all(len(cands) == 1 and cands[0].votes == 8 for group in result.ranked for cands in group)
    copying = Predictions(np.asarray(split.inputs).astype(np.int64), np.full(split.num_examples, 0.9))
    assert vote(task, split, record, [copying]).metrics["pass@1"] == 0.0


def test_the_majority_of_inverted_answers_wins_over_a_confident_original(voted4):
    """The original copy answers wrongly with high confidence; the 7 augmented copies answer
    right in their own frames: inverted, they agree and win pass@1; the wrong one is 2nd."""
    task, split, record = _loaded(voted4, "sudoku", {"size": 4})
    tokens = np.asarray(split.labels).astype(np.int64).copy()
    conf = np.full(split.num_examples, 0.1)
    starts = np.asarray(split.group_indices)[:-1]
    tokens[starts] = np.asarray(split.inputs)[starts]  # wrong: the puzzle itself
    conf[starts] = 0.99
    result = vote(task, split, record, [Predictions(tokens, conf)])
    assert result.metrics["pass@1"] == 1.0
    for group in result.ranked:
        assert [c.votes for c in group[0]] == [7, 1]


def test_ties_are_broken_by_mean_confidence(voted4):
    task, split, record = _loaded(voted4, "sudoku", {"size": 4})
    tokens = np.asarray(split.labels).astype(np.int64).copy()
    starts = np.asarray(split.group_indices)
    conf = np.full(split.num_examples, 0.2)
    for g in range(split.num_groups):  # half of each group copies its input, with more confidence
        rows = np.arange(starts[g], starts[g] + 4)
        tokens[rows] = np.asarray(split.inputs)[rows]
        conf[rows] = 0.8
    result = vote(task, split, record, [Predictions(tokens, conf)])
    assert result.metrics["pass@1"] == 0.0 and result.metrics["pass@2"] == 1.0


def test_dihedral_copies_of_mazes_vote_back_to_one_answer(maze_voted):
    """Every one of a maze's 8 dihedral copies answers its own (transformed) label: all
    invert to the original path and give a single candidate with 8 votes."""
    task, split, record = _loaded(maze_voted, "maze", {"size": 7})
    assert split.num_examples == 5 * 8
    perfect = Predictions(np.asarray(split.labels).astype(np.int64), np.linspace(0.1, 0.9, split.num_examples))
    result = vote(task, split, record, [perfect])
    assert result.metrics["pass@1"] == 1.0
    assert all(len(g[0]) == 1 and g[0][0].votes == 8 for g in result.ranked)
    np.testing.assert_array_equal(result.ranked[0][0][0].answer, split.labels[0])


def test_pooling_runs_counts_both(voted4):
    task, split, record = _loaded(voted4, "sudoku", {"size": 4})
    good = Predictions(np.asarray(split.labels).astype(np.int64), np.full(split.num_examples, 0.5))
    bad = Predictions(np.asarray(split.inputs).astype(np.int64), np.full(split.num_examples, 0.5))
    result = vote(task, split, record, [good, bad, good])
    assert result.metrics["votes"] == 3 * split.num_examples
    assert [c.votes for c in result.ranked[0][0]] == [16, 8]


def test_submission_holds_two_attempts_per_test_input(voted4):
    task, split, record = _loaded(voted4, "sudoku", {"size": 4})
    perfect = Predictions(np.asarray(split.labels).astype(np.int64), np.full(split.num_examples, 0.5))
    sub = submission(vote(task, split, record, [perfect]))
    assert list(sub) == [str(g) for g in range(6)]
    first = sub["0"][0]
    assert first["attempt_1"] == first["attempt_2"] == np.asarray(split.labels[0]).tolist()


def test_a_record_that_does_not_fit_the_split_is_refused(voted4, tmp_path):
    folder = tmp_path / "test"
    folder.mkdir()
    for f in (voted4 / "test").iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    data = json.loads((folder / "augmentations.json").read_text())
    data["params"] = data["params"][:-1]
    (folder / "augmentations.json").write_text(json.dumps(data))
    split = read_split(folder)
    with pytest.raises(DatasetError, match="one entry per puzzle"):
        read_augmentation_record(split, folder)


def test_eval_vote_writes_a_submission(voted4, tmp_path, capsys):
    run = tmp_path / "run"
    assert exit_code("train", "--task", "sudoku", "--mixer", "mlp", "--steps", "2", "--data", str(voted4),
                     "--out", str(run), "--no-progress", *TINY) == 0
    capsys.readouterr()
    # `train --data` records the folder, so eval without --data uses it (it used to build a default dataset)
    assert json.loads((run / "config.json").read_text())["data"]["path"] == str(voted4.resolve())
    sub = tmp_path / "sub.json"
    code, out, err = run_cli(capsys, "eval", str(run), "--vote", "--submission", str(sub), "--json")
    assert code == 0, err
    metrics = json.loads(out)
    assert metrics["groups"] == 6 and metrics["test_inputs"] == 6 and metrics["votes"] == 48
    assert 0.0 <= metrics["pass@1"] <= metrics["pass@2"] <= metrics["pass@10"] <= 1.0
    assert set(json.loads(sub.read_text())) == {str(g) for g in range(6)}
    code, out, err = run_cli(capsys, "eval", str(run), "--pool", str(run), "--json")
    assert code == 0, err
    assert json.loads(out)["votes"] == 96
    code, _, err = run_cli(capsys, "eval", str(run), "--vote", "--limit", "3")
    assert code == 2 and "--limit cannot be combined with voting" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(capsys, "eval", str(run), "--submission", str(tmp_path))
    assert code == 2 and "is a folder" in err
