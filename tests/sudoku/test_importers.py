"""Sudoku importers (CSV, official folders, puzzle lines) and the dataset builder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recursia.data.dataset import ARRAYS, read_split
from recursia.errors import DatasetError
from recursia.task import DataBuildRequest
from recursia_sudoku import solver
from recursia_sudoku.build import build_sudoku_dataset
from recursia_sudoku.grid import is_valid_solution
from recursia_sudoku.importers import read_csv, read_lines, read_official
from recursia_sudoku.task import SudokuTask

HEADER = "source,question,answer,rating"


def text(digits: np.ndarray) -> str:
    """A digit array as a puzzle string, ``.`` for a blank."""
    return "".join(str(d) if d else "." for d in digits)


@pytest.fixture
def extreme(shared) -> Path:
    return shared("data", "sudoku-extreme-1k")


@pytest.fixture
def pairs(extreme):
    """The first 5 puzzles and solutions of the shared Sudoku-Extreme sample."""
    pool = read_official(extreme).train
    return pool.inputs[:5], pool.labels[:5]


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def csv_rows(puzzles, solutions) -> list[str]:
    return [f"test,{text(p)},{text(s)},{i}" for i, (p, s) in enumerate(zip(puzzles, solutions))]


def task(size: int = 9) -> SudokuTask:
    return SudokuTask(SudokuTask.Options(size=size))


def assert_pairs_valid(puzzles, solutions, n):
    for puzzle, solution in zip(puzzles, solutions):
        assert is_valid_solution(puzzle, solution, n)


# --- official folders ----------------------------------------------------------------

def test_read_official_shared_sample(extreme):
    for folder in (extreme, extreme / "train"):
        pools = read_official(folder)
        assert pools.test is None and pools.train.name == f"official:{extreme / 'train'}"
        puzzles, solutions = pools.train.inputs, pools.train.labels
        assert puzzles.shape == solutions.shape == (1000, 81)
        assert puzzles.dtype == solutions.dtype == np.uint8
        clues = (puzzles != 0).sum(axis=1)
        assert clues.min() >= 17 and clues.max() <= 35 and 24.5 < clues.mean() < 26
        assert_pairs_valid(puzzles[:50], solutions[:50], 9)


def test_official_round_trip_is_identical(extreme, tmp_path):
    request = DataBuildRequest(out=tmp_path, source=f"official:{extreme}", train_size=1000, test_size=0)
    summary = build_sudoku_dataset(task(), request)
    assert summary["train_puzzles"] == 1000 and summary["test_puzzles"] == 0
    for key in ARRAYS:
        ours = np.load(tmp_path / "train" / f"all__{key}.npy", allow_pickle=False)
        theirs = np.load(extreme / "train" / f"all__{key}.npy", allow_pickle=False)
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)
    assert json.loads((tmp_path / "train" / "dataset.json").read_text()) == \
        json.loads((extreme / "train" / "dataset.json").read_text())
    assert json.loads((tmp_path / "identifiers.json").read_text()) == ["<blank>"]


def test_official_build_with_split_and_augmentation(extreme, tmp_path):
    request = DataBuildRequest(out=tmp_path, source=f"official:{extreme}", test_size=40, aug=2, seed=4,
                               subsample=60)
    summary = build_sudoku_dataset(task(), request)
    assert (summary["train_puzzles"], summary["train_examples"], summary["test_puzzles"]) == (60, 180, 40)
    assert summary["split"] == "held out" and "no test split" in summary["warnings"][0]
    original = json.loads((extreme / "train" / "dataset.json").read_text())
    train, test = read_split(tmp_path / "train"), read_split(tmp_path / "test")
    for split in (train, test):
        assert set(split.meta) == set(original)
        assert split.inputs.dtype == split.labels.dtype == np.uint8
        for key in ("puzzle_identifiers", "puzzle_indices", "group_indices"):
            assert getattr(split, key).dtype == np.int32
    np.testing.assert_array_equal(train.group_indices, np.arange(0, 181, 3))
    assert test.num_groups == 40
    assert not {bytes(row) for row in test.inputs} & {bytes(row) for row in train.inputs[::3]}
    assert_pairs_valid(np.asarray(train.inputs) - 1, np.asarray(train.labels) - 1, 9)
    copies = np.asarray(train.inputs).reshape(60, 3, 81)  # (puzzles, original + 2 copies, cells)
    assert not np.array_equal(copies[:, 0], copies[:, 1])


def test_official_errors(tmp_path, extreme):
    with pytest.raises(DatasetError, match="nope: no such folder"):
        read_official(tmp_path / "nope")
    with pytest.raises(DatasetError, match="no dataset.json"):
        read_official(tmp_path)
    bad = tmp_path / "bad"
    request = DataBuildRequest(out=bad, source=f"official:{extreme}", train_size=3, test_size=0)
    build_sudoku_dataset(task(), request)
    labels = np.load(bad / "train" / "all__labels.npy")
    labels[1, 4] = 1  # a blank in a solution
    np.save(bad / "train" / "all__labels.npy", labels)
    with pytest.raises(DatasetError, match=r"all__labels.npy row 1: token 1 at cell 5 is outside 2..10"):
        read_official(bad)
    labels[1, 4] = labels[1, 5]  # a repeated digit
    np.save(bad / "train" / "all__labels.npy", labels)
    with pytest.raises(DatasetError, match=r"example 1: the solution is not a solved grid \(row 1 has two"):
        read_official(bad)


# --- CSV ---------------------------------------------------------------------------

def test_read_csv_and_subsample(tmp_path, pairs):
    path = write_csv(tmp_path / "data.csv", csv_rows(*pairs))
    puzzles, solutions = read_csv(path)
    np.testing.assert_array_equal(puzzles, pairs[0])
    np.testing.assert_array_equal(solutions, pairs[1])
    sub = read_csv(path, subsample=3, seed=1)
    assert sub[0].shape == (3, 81)
    np.testing.assert_array_equal(sub[0], read_csv(path, subsample=3, seed=1)[0])
    assert {bytes(r) for r in sub[0]} <= {bytes(r) for r in pairs[0]}


def test_csv_zero_blanks_and_column_order(tmp_path, pairs):
    p, s = pairs
    path = tmp_path / "reordered.csv"
    path.write_text("answer,question\n" + f"{text(s[0])},{text(p[0]).replace('.', '0')}\n")
    puzzles, _ = read_csv(path)
    np.testing.assert_array_equal(puzzles[0], p[0])


def test_build_from_csv(tmp_path, pairs):
    path = write_csv(tmp_path / "data.csv", csv_rows(*pairs))
    summary = build_sudoku_dataset(task(), DataBuildRequest(out=tmp_path / "out", source=f"csv:{path}",
                                                            train_size=3, test_size=2))
    assert (summary["train_puzzles"], summary["test_puzzles"]) == (3, 2)
    with pytest.raises(DatasetError, match="holds 9x9 puzzles but the task is 6x6"):
        build_sudoku_dataset(task(6), DataBuildRequest(out=tmp_path / "o6", source=f"csv:{path}"))
    with pytest.raises(DatasetError, match="5 distinct puzzles, fewer than the 1000 for test; give a smaller"):
        build_sudoku_dataset(task(), DataBuildRequest(out=tmp_path / "o", source=f"csv:{path}"))


@pytest.mark.parametrize("edit,message", [
    (lambda q, a: (q[:80], a), "data.csv line 4: question has 80 characters, expected 81"),
    (lambda q, a: ("x" + q[1:], a), "data.csv line 4: question has 'x' at position 1, expected 1-9, '.' or '0'"),
    (lambda q, a: (q, "." + a[1:]), "data.csv line 4: answer has '.' at position 1, expected 1-9$"),
    (lambda q, a: (q, a[1] + a[0] + a[2:]), "data.csv line 4: the solution is not a solved grid"),
])
def test_csv_row_errors(tmp_path, pairs, edit, message):
    rows = csv_rows(*pairs)
    fields = rows[2].split(",")
    fields[1], fields[2] = edit(fields[1], fields[2])
    rows[2] = ",".join(fields)
    with pytest.raises(DatasetError, match=message):
        read_csv(write_csv(tmp_path / "data.csv", rows))


def test_csv_answer_must_keep_the_clues(tmp_path, pairs):
    p, s = pairs
    cell = int(np.flatnonzero(p[0])[0])
    d, e = int(p[0][cell]), int(p[0][cell]) % 9 + 1
    relabelled = np.where(s[0] == d, e, np.where(s[0] == e, d, s[0]))  # still a solved grid
    rows = csv_rows(*pairs)
    rows[0] = f"test,{text(p[0])},{text(relabelled)},0"
    with pytest.raises(DatasetError, match=f"data.csv line 2: the solution has {e} at cell {cell + 1} "
                                           f"where the puzzle gives {d}"):
        read_csv(write_csv(tmp_path / "data.csv", rows))


def test_csv_file_errors(tmp_path, pairs):
    with pytest.raises(DatasetError, match="missing.csv: no such file"):
        read_csv(tmp_path / "missing.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DatasetError, match="empty.csv: empty file"):
        read_csv(empty)
    no_answer = tmp_path / "no_answer.csv"
    no_answer.write_text("source,question,rating\nx,1,2\n")
    with pytest.raises(DatasetError, match="no_answer.csv: missing column 'answer' \\(header: source,question,rating\\)"):
        read_csv(no_answer)
    header_only = write_csv(tmp_path / "header.csv", [])
    with pytest.raises(DatasetError, match="header.csv: no puzzles after the header"):
        read_csv(header_only)
    rows = csv_rows(*pairs)
    rows[1] = rows[1] + ",extra"
    with pytest.raises(DatasetError, match="short.csv line 3: 5 fields, expected 4 as in the header"):
        read_csv(write_csv(tmp_path / "short.csv", rows))
    with pytest.raises(DatasetError, match="cannot take 9 of its 5 distinct puzzles"):
        read_csv(write_csv(tmp_path / "data.csv", csv_rows(*pairs)), subsample=9)


# --- puzzle lines ------------------------------------------------------------------

def test_read_lines_solves_hard_puzzles(tmp_path, shared):
    lines = shared("data", "sudoku-hard", "top1465.txt").read_text().splitlines()
    sample = tmp_path / "hard.txt"
    sample.write_text("\n".join(lines[:2] + lines[2:200:40]) + "\n\n")  # the '#' header, then 5 puzzles
    puzzles, solutions = read_lines(sample)
    assert puzzles.shape == solutions.shape == (5, 81)
    assert_pairs_valid(puzzles, solutions, 9)
    np.testing.assert_array_equal(puzzles[0], [0 if c == "." else int(c) for c in lines[2]])


def test_build_from_lines_of_6x6(tmp_path):
    from recursia_sudoku.generate import generate

    puzzles, solutions = generate(6, 6, seed=2)
    path = tmp_path / "six.txt"
    path.write_text("# six 6x6 puzzles\n" + "\n".join(text(p) for p in puzzles) + "\n")
    read = read_lines(path)
    np.testing.assert_array_equal(read[1], solutions)
    summary = build_sudoku_dataset(task(6), DataBuildRequest(out=tmp_path / "out", source=f"lines:{path}",
                                                             train_size=4, test_size=2, aug=1))
    assert (summary["train_examples"], summary["test_puzzles"]) == (8, 2)
    with pytest.raises(DatasetError, match="holds 6x6 puzzles but the task is 9x9"):
        build_sudoku_dataset(task(9), DataBuildRequest(out=tmp_path / "o9", source=f"lines:{path}"))


@pytest.mark.parametrize("line,message", [
    ("." * 80, "p.txt line 2: 80 characters, expected 16, 36 or 81"),
    ("3" + "." * 11 + "3" + "." * 3, r"p.txt line 2: the givens clash \(column 1 has two 3s\)"),
    ("." * 16, "p.txt line 2: the puzzle has more than one solution"),
    ("..12" + "." * 4 + "3" + "." * 3 + "4...", "p.txt line 2: the puzzle has no solution"),
    ("." * 15 + "7", "p.txt line 2: puzzle has '7' at position 16, expected 1-4, '.' or '0'"),
])
def test_lines_errors(tmp_path, line, message):
    path = tmp_path / "p.txt"
    path.write_text(f"# comment\n{line}\n")
    with pytest.raises(DatasetError, match=message):
        read_lines(path)


def test_lines_file_errors(tmp_path):
    with pytest.raises(DatasetError, match="gone.txt: no such file"):
        read_lines(tmp_path / "gone.txt")
    comments = tmp_path / "c.txt"
    comments.write_text("# nothing\n\n")
    with pytest.raises(DatasetError, match="c.txt: no puzzles"):
        read_lines(comments)
    mixed = tmp_path / "m.txt"
    mixed.write_text("." * 16 + "\n" + "." * 36 + "\n")
    with pytest.raises(DatasetError, match="m.txt line 2: puzzle has 36 characters, expected 16"):
        read_lines(mixed)


# --- generated datasets ------------------------------------------------------------

def test_generated_build_is_reproducible_and_disjoint(tmp_path):
    request = DataBuildRequest(out=tmp_path / "a", train_size=40, test_size=30, aug=3, seed=9)
    summary = build_sudoku_dataset(task(4), request)
    assert (summary["train_puzzles"], summary["train_examples"], summary["test_puzzles"]) == (40, 160, 30)
    build_sudoku_dataset(task(4), DataBuildRequest(out=tmp_path / "b", train_size=40, test_size=30, aug=3, seed=9))
    for split in ("train", "test"):
        for key in ARRAYS:
            a = np.load(tmp_path / "a" / split / f"all__{key}.npy", allow_pickle=False)
            b = np.load(tmp_path / "b" / split / f"all__{key}.npy", allow_pickle=False)
            np.testing.assert_array_equal(a, b)
    train, test = read_split(tmp_path / "a" / "train"), read_split(tmp_path / "a" / "test")
    assert train.meta["vocab_size"] == 6 and train.meta["seq_len"] == 16
    originals = {bytes(row) for row in train.inputs[::4]}
    assert len(originals) == 40 and not originals & {bytes(row) for row in test.inputs}
    for puzzle in np.asarray(test.inputs) - 1:
        assert solver.count_solutions(puzzle, 4) == 1


def test_build_request_errors(tmp_path):
    with pytest.raises(DatasetError, match="unknown Sudoku data source 'zip:x'"):
        build_sudoku_dataset(task(), DataBuildRequest(out=tmp_path, source="zip:x"))
    with pytest.raises(DatasetError, match="unknown Sudoku data source 'csv:'"):
        build_sudoku_dataset(task(), DataBuildRequest(out=tmp_path, source="csv:"))
    with pytest.raises(DatasetError, match="aug must be >= 0, got -1"):
        build_sudoku_dataset(task(), DataBuildRequest(out=tmp_path, aug=-1))


def test_generation_that_keeps_repeating_is_an_error(tmp_path, monkeypatch):
    from recursia_sudoku import build

    one = build.generator.generate(1, 4, seed=0)

    def repeating(count, n, seed):
        return one[0].repeat(count, axis=0), one[1].repeat(count, axis=0)

    monkeypatch.setattr(build.generator, "generate", repeating)
    with pytest.raises(DatasetError, match="only 1 distinct 4x4 puzzles in 40 generated, fewer than the 10 asked"):
        build.generate_unique(10, 4, seed=0)


# --- a source's own splits ----------------------------------------------------------

def official_with_both_splits(extreme: Path, out: Path) -> Path:
    """An official folder whose train/ holds 700 of the shared puzzles (2 stored copies each)
    and whose test/ holds the other 300."""
    build_sudoku_dataset(task(), DataBuildRequest(out=out, source=f"official:{extreme}", test_size=300, aug=2,
                                                  seed=1))
    return out


def test_official_train_and_test_are_kept_apart(extreme, tmp_path):
    source = official_with_both_splits(extreme, tmp_path / "official")
    official_test = {bytes(row) for row in read_split(source / "test").inputs}
    summary = build_sudoku_dataset(task(), DataBuildRequest(out=tmp_path / "out", source=f"official:{source}",
                                                            subsample=100, aug=1))
    assert summary["split"] == "kept" and summary["test_in_train"] == 0 and "warnings" not in summary
    assert (summary["train_puzzles"], summary["test_puzzles"]) == (100, 300)
    train, test = read_split(tmp_path / "out" / "train"), read_split(tmp_path / "out" / "test")
    assert {bytes(row) for row in test.inputs} == official_test  # the whole official test split
    assert not {bytes(row) for row in train.inputs} & official_test  # no test puzzle (nor copy) in train
    official_train = {bytes(row) for row in read_split(source / "train").inputs}
    assert {bytes(row) for row in train.inputs[::2]} <= official_train
    resplit = build_sudoku_dataset(task(), DataBuildRequest(out=tmp_path / "re", source=f"official:{source}",
                                                            test_size=300, resplit=True))
    assert resplit["split"] == "resplit" and "--resplit" in resplit["warnings"][0]
    mixed = {bytes(row) for row in read_split(tmp_path / "re" / "train").inputs}
    assert mixed & official_test  # only when asked


def test_real_format_train_and_test_csv_import_as_the_official_build(extreme, tmp_path):
    pool = read_official(extreme).train
    rows = csv_rows(pool.inputs, pool.labels)
    folder = tmp_path / "csv"
    folder.mkdir()
    write_csv(folder / "train.csv", rows[:800])
    write_csv(folder / "test.csv", rows[800:])
    for source, test_source in ((f"csv:{folder}", None), (f"csv:{folder / 'train.csv'}", f"csv:{folder / 'test.csv'}")):
        out = tmp_path / "out"
        summary = build_sudoku_dataset(task(), DataBuildRequest(out=out, source=source, test_source=test_source,
                                                                subsample=50, aug=3, seed=2))
        assert (summary["train_puzzles"], summary["train_examples"], summary["test_puzzles"]) == (50, 200, 200)
        test = read_split(out / "test")
        np.testing.assert_array_equal(np.asarray(test.inputs) - 1, pool.inputs[800:])  # kept whole, in order
        originals = np.asarray(read_split(out / "train").inputs)[::4] - 1
        assert {bytes(r) for r in originals} <= {bytes(r) for r in pool.inputs[:800]}
    with pytest.raises(DatasetError, match="has its own test split"):
        build_sudoku_dataset(task(), DataBuildRequest(out=tmp_path / "o", source=f"csv:{folder}",
                                                      test_source=f"csv:{folder / 'test.csv'}"))
    (folder / "train.csv").rename(folder / "other.csv")
    with pytest.raises(DatasetError, match="needs a train.csv"):
        build_sudoku_dataset(task(), DataBuildRequest(out=tmp_path / "o", source=f"csv:{folder}"))
