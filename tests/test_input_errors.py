"""Bad input found by trying the CLI as a new user would: each case gets one line on
stderr, exit code 2, no traceback, and leaves the run directory or dataset usable."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from recursia.train.run_files import remove_stale_temp_files
from tests.test_end_to_end import PUZZLE_4x4, TINY, data4, run4, run_cli  # noqa: F401 (fixtures)


def one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, (needle, err)


def digest(folder: Path) -> dict[str, str]:
    """Content hash of every file under ``folder``."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def run_copy(run4, tmp_path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(run4, copy)
    return copy


@pytest.fixture
def puzzle(tmp_path) -> Path:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(PUZZLE_4x4))
    return path


# --- 4: a refused resume leaves the run as it was ----------------------------------------

@pytest.mark.parametrize("args,needle", [
    (["--steps", "-5"], "train.steps: Input should be greater than or equal to 0"),
    (["--set", "model.hidden_size=32"], "--set model.hidden_size: cannot change when resuming"),
    (["--set", "train.eval_every=-1"], "train.eval_every: Input should be greater than or equal to 0"),
    (["--mixer", "attention"], "holds a run with mixer 'mlp', not 'attention'"),
    (["--task", "maze"], "holds a run with task 'sudoku', not 'maze'"),
])
def test_refused_resume_changes_nothing(run_copy, data4, puzzle, capsys, args, needle):
    before = digest(run_copy)
    code, _, err = run_cli(capsys, "train", "--out", str(run_copy), "--data", str(data4), "--no-progress", *args)
    one_line_error(code, err, needle)
    assert digest(run_copy) == before
    code, _, err = run_cli(capsys, "eval", str(run_copy), "--data", str(data4), "--json")
    assert code == 0, err
    code, _, err = run_cli(capsys, "solve", str(puzzle), "--checkpoint", str(run_copy))
    assert code == 0, err
    code, out, err = run_cli(capsys, "train", "--out", str(run_copy), "--data", str(data4), "--no-progress",
                             "--steps", "6", "--set", "train.log_every=1")
    assert code == 0 and "resuming" in out, err


# --- 5: tracebacks that are now one line -----------------------------------------------

def corrupt_copy(data4: Path, tmp_path: Path, split: str, key: str, change) -> Path:
    data = tmp_path / "data"
    shutil.copytree(data4, data)
    path = data / split / f"all__{key}.npy"
    array = np.load(path)
    array = change(array)
    np.save(path, array)
    return data


@pytest.mark.parametrize("split,key", [("train", "inputs"), ("train", "labels"), ("test", "inputs")])
def test_token_outside_the_vocabulary(data4, tmp_path, capsys, split, key):
    data = corrupt_copy(data4, tmp_path, split, key, lambda a: (a.__setitem__((3, 5), 200), a)[1])
    out = tmp_path / "new-run"
    code, _, err = run_cli(capsys, "train", "--task", "sudoku", "--data", str(data), "--out", str(out),
                           "--no-progress", "--steps", "2", *TINY)
    one_line_error(code, err, f"all__{key}.npy row 3: token 200 at cell 6 is outside the task's vocabulary 0..5")
    assert not out.exists()  # nothing written for a refused run


def test_eval_token_outside_the_vocabulary(run4, data4, tmp_path, capsys):
    data = corrupt_copy(data4, tmp_path, "test", "labels", lambda a: (a.__setitem__((0, 0), 9), a)[1])
    code, _, err = run_cli(capsys, "eval", str(run4), "--data", str(data))
    one_line_error(code, err, "all__labels.npy row 0: token 9 at cell 1")


def test_csv_that_is_not_utf8(tmp_path, capsys):
    path = tmp_path / "latin1.csv"
    path.write_bytes("source,question,answer,rating\ncaf\xe9,1,2,3\n".encode("latin-1"))
    code, _, err = run_cli(capsys, "data", "build", "sudoku", "--out", str(tmp_path / "d"), "--source", f"csv:{path}")
    one_line_error(code, err, "latin1.csv: not UTF-8 text")
    assert not (tmp_path / "d").exists()


def test_out_naming_a_file(tmp_path, data4, capsys):
    file = tmp_path / "a-file"
    file.write_text("x")
    code, _, err = run_cli(capsys, "train", "--task", "sudoku", "--data", str(data4), "--out", str(file),
                           "--no-progress", *TINY)
    one_line_error(code, err, f"--out {file}: {file} is a file, not a folder")
    code, _, err = run_cli(capsys, "data", "build", "sudoku", "--out", str(file / "sub"), "--size", "4")
    one_line_error(code, err, "is a file, not a folder")
    assert file.read_text() == "x"


def test_unreadable_config_json(run_copy, puzzle, capsys, monkeypatch):
    real = Path.read_text

    def denied(self, *args, **kwargs):
        if self.name == "config.json":
            raise PermissionError(13, "Permission denied")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", denied)
    code, _, err = run_cli(capsys, "solve", str(puzzle), "--checkpoint", str(run_copy))
    one_line_error(code, err, "config.json: cannot read the run config (Permission denied)")


# --- 6: accepted when it should be refused ----------------------------------------------

@pytest.mark.parametrize("limit", ["-5", "0"])
def test_eval_limit_must_be_positive(run4, data4, capsys, limit):
    code, _, err = run_cli(capsys, "eval", str(run4), "--data", str(data4), "--limit", limit)
    one_line_error(code, err, "recursia eval: Invalid value for '--limit'")


@pytest.mark.parametrize("grid", [["....", "....", "....", "...."], ["1...", "....", "....", "...."]])
def test_solve_says_a_puzzle_has_several_solutions(run4, tmp_path, capsys, grid):
    path = tmp_path / "open.json"
    path.write_text(json.dumps({"task": "sudoku", "puzzle": grid}))
    code, out, err = run_cli(capsys, "solve", str(path), "--checkpoint", str(run4), "--json")
    assert code == 0
    assert err.startswith("warning: ") and "more than one solution" in err and "the answer is one solution" in err
    assert "more than one solution" in json.loads(out)["notes"][0]
    path.write_text(json.dumps(PUZZLE_4x4))
    code, out, err = run_cli(capsys, "solve", str(path), "--checkpoint", str(run4), "--json")
    assert code == 0 and not err and json.loads(out)["notes"] == []


# --- 7: half-written checkpoint files ----------------------------------------------------

def test_stale_temp_files_are_removed_on_resume(run_copy, data4, capsys):
    for name in ("model.safetensors.tmp", "train_state.safetensors.tmp"):
        (run_copy / name).write_bytes(b"\0" * 1_000_000)
    (run_copy / "notes.tmp").write_text("mine")  # not a file of the run: left alone
    code, _, err = run_cli(capsys, "train", "--out", str(run_copy), "--data", str(data4), "--no-progress",
                           "--steps", "5")
    assert code == 0, err
    assert not list(run_copy.glob("*.safetensors.tmp")) and (run_copy / "notes.tmp").is_file()
    assert remove_stale_temp_files(run_copy) == []


# --- 8: messages that misled -------------------------------------------------------------

def test_folder_given_where_a_file_is_expected(run4, tmp_path, capsys):
    folder = tmp_path / "a-folder.json"
    folder.mkdir()
    code, _, err = run_cli(capsys, "solve", str(folder), "--checkpoint", str(run4))
    one_line_error(code, err, "a-folder.json: is a folder, expected a file")
    code, _, err = run_cli(capsys, "train", "--task", "sudoku", "--config", str(folder), "--no-progress")
    one_line_error(code, err, "is a folder, expected a config file")


def test_file_given_as_a_run_directory(puzzle, tmp_path, capsys):
    code, _, err = run_cli(capsys, "solve", str(puzzle), "--checkpoint", str(puzzle))
    one_line_error(code, err, "is a file; a checkpoint is a run directory")
    code, _, err = run_cli(capsys, "eval", str(puzzle))
    one_line_error(code, err, "is a file; a checkpoint is a run directory")


def test_unreadable_train_state(run_copy, data4, capsys, monkeypatch):
    real = Path.open

    def denied(self, *args, **kwargs):
        if self.name == "train_state.safetensors":
            raise PermissionError(13, "Permission denied")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    code, _, err = run_cli(capsys, "train", "--out", str(run_copy), "--data", str(data4), "--no-progress",
                           "--steps", "6")
    one_line_error(code, err, "train_state.safetensors: cannot read it (Permission denied)")
    assert "No such file" not in err


def test_sudoku_import_of_a_maze_folder_counts_tokens(tmp_path, capsys, shared):
    hard = shared("data", "maze-30x30-hard-1k")
    code, _, err = run_cli(capsys, "data", "build", "sudoku", "--out", str(tmp_path / "d"),
                           "--source", f"official:{hard}")
    one_line_error(code, err, "seq_len: 900 tokens, expected 16, 36 or 81")
    assert "characters" not in err


@pytest.mark.parametrize("args,needle", [
    (["eval"], "recursia eval: Missing argument"),
    (["train", "--bogus"], "recursia train: No such option: --bogus"),
    (["nosuchcommand"], "No such command 'nosuchcommand'"),
    (["data", "build", "sudoku", "--out", "x", "--train-size", "many"], "Invalid value for '--train-size'"),
])
def test_usage_errors_are_one_line(capsys, args, needle):
    code, _, err = run_cli(capsys, *args)
    one_line_error(code, err, needle)
