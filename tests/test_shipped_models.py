"""The models that ship in recursia/shipped/ (made by scripts/make_models.py): their
records, `recursia models`, `recursia solve` with no runs of one's own, the precedence of
a user's run, and `recursia eval` reproducing the recorded accuracy on the fixed subset."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from recursia.models import INFO_FIELDS, find_model, shipped_models, shipped_root
from recursia.train.run_files import read_metadata
from tests.test_end_to_end import run_cli

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "puzzles"
EXPECTED = {"sudoku-small", "maze-small"}
SUDOKU6 = [".2....", "6.4...", ".5.6..", "3.....", "..324.", "..5.3."]


def shipped(name: str):
    (model,) = [m for m in shipped_models() if m.name == name]
    return model


def test_every_shipped_folder_holds_the_model_and_its_record():
    folders = sorted(d for d in shipped_root().iterdir() if d.is_dir() and not d.name.startswith(("_", ".")))
    assert EXPECTED <= {d.name for d in folders}
    for folder in folders:
        assert {p.name for p in folder.iterdir()} == {"config.json", "model.safetensors", "model.json"}, folder
        info = json.loads((folder / "model.json").read_text())
        assert not [k for k in INFO_FIELDS if k not in info], folder
        assert info["name"] == folder.name
        cfg = json.loads((folder / "config.json").read_text())
        assert (cfg["task"], cfg["preset"], cfg["model"]["mixer"], cfg["task_options"]) == \
            (info["task"], info["preset"], info["mixer"], info["task_options"])
        assert cfg["train"]["seed"] == info["seed"] and cfg["train"]["steps"] == info["steps"]
        assert cfg["train"]["dtype"] == "float32" and cfg["data"]["path"] is None  # eval rebuilds the data anywhere
        assert info["command"].startswith(f"recursia train --task {info['task']} --preset {info['preset']}")
        meta = read_metadata(folder / "model.safetensors")
        assert int(meta["parameters"]) == info["parameters"] and meta["task"] == info["task"]
        assert "task_plugin" in meta and "plugins" in meta
        sizes = {name: (folder / name).stat().st_size for name in ("config.json", "model.safetensors")}
        assert info["files"] == sizes and info["size_bytes"] == sum(sizes.values()) < 600_000
        test, subset = info["accuracy"]["test"], info["accuracy"]["subset"]
        assert test["examples"] == info["dataset"]["counts"]["test_examples"]
        assert subset["examples"] == subset["limit"] <= test["examples"]
        for key in ("exact_acc", "cell_acc", "exact_acc_halt", "cell_acc_halt", "steps_halt"):
            assert key in test and key in subset
    assert shipped("sudoku-small").info["accuracy"]["test"]["exact_acc"] >= 0.95


def test_models_command_lists_them(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(capsys, "models", "--json")
    assert code == 0
    listed = json.loads(out)
    assert EXPECTED <= {row["name"] for row in listed["shipped"]} and listed["runs"] == []
    row = next(r for r in listed["shipped"] if r["name"] == "sudoku-small")
    assert row["task"] == "sudoku" and row["task_options"] == {"size": 6} and row["mixer"] == "mlp"
    assert Path(row["path"]) == shipped("sudoku-small").path and row["parameters"] > 0
    code, out, _ = run_cli(capsys, "models", "--path", "sudoku-small")
    assert code == 0 and Path(out.strip()) == shipped("sudoku-small").path
    code, _, err = run_cli(capsys, "models", "--path", "nosuch")
    assert code == 2 and "no shipped model 'nosuch'" in err and err.count("\n") == 1
    shutil.copytree(shipped("sudoku-small").path, tmp_path / "runs" / "mine")
    code, out, _ = run_cli(capsys, "models")
    assert code == 0 and "sudoku-small" in out and "maze-small" in out and "runs/mine" in out


@pytest.mark.parametrize("name,puzzle", [("sudoku-small", "sudoku6.json"), ("maze-small", "maze9.json")])
def test_solve_without_runs_uses_the_shipped_model(name, puzzle, capsys, tmp_path, monkeypatch):
    """The example file gets the verdict model.json recorded for it: valid for the 6x6
    Sudoku; the maze model (23 % of its test mazes) answers maze9.json with a path the
    checker refuses, so the maze is also asked a test-split maze it solves (next test)."""
    monkeypatch.chdir(tmp_path)  # no runs/ here
    recorded = shipped(name).info["examples"]["files"][f"examples/puzzles/{puzzle}"]["valid"]
    assert recorded or name == "maze-small"
    code, out, err = run_cli(capsys, "solve", str(EXAMPLES / puzzle), "--device", "cpu")
    assert code == 0, err
    verdict = "answer is valid (checker)" if recorded else "answer is NOT valid (checker)"
    assert out.splitlines()[-1].startswith(verdict), out
    assert err.startswith(f"model: shipped {name} (") and "exact on its" in err
    code, out, err = run_cli(capsys, "solve", str(EXAMPLES / puzzle), "--device", "cpu", "--json")
    res = json.loads(out)
    assert code == 0 and res["valid"] == recorded and not err
    assert res["model"]["source"] == "shipped" and res["model"]["name"] == name
    assert res["checkpoint"] == str(shipped(name).path)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_solve_gives_a_valid_answer_to_a_test_puzzle_it_solves(name, capsys, tmp_path, monkeypatch):
    """The first puzzle of the model's test split it solves (recorded by make_models.py)."""
    monkeypatch.chdir(tmp_path)
    info = shipped(name).info
    example = info["examples"]["first_solved_test_puzzle"]
    puzzle = tmp_path / "puzzle.json"
    puzzle.write_text(json.dumps({"task": info["task"], "puzzle": example["puzzle"]}))
    code, out, err = run_cli(capsys, "solve", str(puzzle), "--device", "cpu")
    assert code == 0 and out.splitlines()[-1].startswith("answer is valid (checker)"), (out, err)
    assert err.startswith(f"model: shipped {name} (")


def test_a_run_of_ones_own_takes_precedence(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(shipped("sudoku-small").path, tmp_path / "runs" / "mine")
    code, out, err = run_cli(capsys, "solve", str(EXAMPLES / "sudoku6.json"), "--device", "cpu")
    assert code == 0 and err.startswith("model: runs/mine (your newest fitting run)"), err
    code, out, _ = run_cli(capsys, "solve", str(EXAMPLES / "sudoku6.json"), "--device", "cpu", "--json")
    assert json.loads(out)["model"] == {"source": "run", "name": "mine", "path": "runs/mine"}
    code, out, err = run_cli(capsys, "solve", str(EXAMPLES / "sudoku6.json"), "--device", "cpu", "--checkpoint",
                             str(shipped("sudoku-small").path))
    assert code == 0 and err.startswith(f"model: {shipped('sudoku-small').path} (--checkpoint)")


def test_a_run_that_does_not_fit_the_puzzle_leaves_it_to_the_shipped_model(tmp_path):
    nine = tmp_path / "runs" / "nine"
    shutil.copytree(shipped("sudoku-small").path, nine)
    cfg = json.loads((nine / "config.json").read_text())
    (nine / "config.json").write_text(json.dumps(cfg | {"task_options": {"size": 9}}))
    choice = find_model("sudoku", SUDOKU6, tmp_path / "runs")
    assert choice.source == "shipped" and choice.shipped.name == "sudoku-small"
    choice = find_model("sudoku", ["." * 9] * 9, tmp_path / "runs")  # fits the run only
    assert choice.source == "run" and choice.path == nine
    assert find_model("sudoku", ["." * 4] * 4, tmp_path / "runs").path == nine  # fits none: solve names why


def test_no_fitting_model_is_one_line_naming_the_shipped_one(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "solve", str(EXAMPLES / "sudoku9.json"))
    assert code == 2 and not out and err.count("\n") == 1
    assert "no trained 'sudoku' model under runs/" in err and "shipped sudoku-small" in err
    assert "9x9" in err and "--checkpoint" in err


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_eval_reproduces_the_recorded_subset_accuracy(name, capsys, tmp_path, monkeypatch):
    """``recursia eval FOLDER --limit N`` on the shipped folder, as a user runs it: the
    test split is rebuilt from config.json into an empty dataset cache (seeded, so the
    same examples; about 7 s for Sudoku, 11 s for the mazes). The model is float32
    (config train.dtype) and evaluated on the CPU, as when it was recorded, so the
    figures are the same up to float rounding. Tolerance: one example of the subset (a
    near tie of two tokens' logits that another CPU's kernels round the other way); on
    the machine that made the models they are equal."""
    monkeypatch.setenv("RECURSIA_CACHE", str(tmp_path / "cache"))
    model = shipped(name)
    subset = model.info["accuracy"]["subset"]
    code, out, err = run_cli(capsys, "eval", str(model.path), "--json", "--no-progress", "--device", "cpu",
                             "--limit", str(subset["limit"]))
    assert code == 0, err
    res = json.loads(out)
    assert res["examples"] == subset["examples"]
    one = 1 / subset["examples"]
    for key in ("exact_acc", "exact_acc_halt"):
        assert abs(res[key] - subset[key]) <= one + 1e-9, (key, res[key], subset[key])
    assert abs(res["cell_acc"] - subset["cell_acc"]) <= one + 1e-9


def test_solve_in_bf16_and_the_trace_past_the_halt(capsys, tmp_path, monkeypatch):
    """``--dtype`` overrides the model's float32 (bf16 gives the same answer here); the
    plain answer stops at the learned halt, ``--show-steps`` runs all 8 steps for the trace."""
    monkeypatch.chdir(tmp_path)
    answers = []
    for extra in ([], ["--dtype", "bfloat16"], ["--show-steps"]):
        code, out, err = run_cli(capsys, "solve", str(EXAMPLES / "sudoku6.json"), "--device", "cpu", "--json", *extra)
        assert code == 0, err
        answers.append(json.loads(out))
    plain, bf16, steps = answers
    assert plain["valid"] and plain["halted"] and plain["steps"] == 2
    assert {k: bf16[k] for k in ("answer", "steps", "halted")} == {k: plain[k] for k in ("answer", "steps", "halted")}
    assert len(steps["trace"]) == 8 and steps["answer"] == plain["answer"] and steps["steps"] == 2
    code, _, err = run_cli(capsys, "solve", str(EXAMPLES / "sudoku6.json"), "--dtype", "fp16")
    assert code == 2 and "'fp16' is not one of" in err and len(err.strip().splitlines()) == 1
