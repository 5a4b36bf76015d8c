"""The official-layout maze importer and the dataset builder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recursia.data.dataset import ARRAYS, read_split, write_split
from recursia.errors import DatasetError
from recursia.task import DataBuildRequest
from recursia.grids import dihedral
from recursia_maze.build import build_maze_dataset
from recursia_maze.generate import GOAL, OPEN, PATH, START, WALL, path_labels, unique_shortest_path
from recursia_maze.grid import is_shortest_path, shortest_path_length
from recursia_maze.importers import read_official
from recursia_maze.task import MazeTask


@pytest.fixture
def hard(shared) -> Path:
    return shared("data", "maze-30x30-hard-1k")


def task(size: int = 30, **options) -> MazeTask:
    return MazeTask(MazeTask.Options(size=size, **options))


def small_copy(hard: Path, out: Path) -> Path:
    """A writable official folder ``out/train`` with three of the shared mazes."""
    build_maze_dataset(task(), DataBuildRequest(out=out, source=f"official:{hard}", train_size=3, test_size=0))
    return out / "train"


def edit(folder: Path, key: str, change) -> None:
    """Apply ``change`` to the array ``all__{key}.npy`` of ``folder`` in place."""
    array = np.load(folder / f"all__{key}.npy")
    change(array)
    np.save(folder / f"all__{key}.npy", array)


# --- official folders ----------------------------------------------------------------

def test_read_official_shared_mazes(hard):
    raw_inputs = np.load(hard / "train" / "all__inputs.npy")
    for folder in (hard, hard / "train"):
        pools = read_official(folder)
        assert pools.test is None
        inputs, labels = pools.train.inputs, pools.train.labels
        assert inputs.shape == labels.shape == (1000, 900)
        assert inputs.dtype == labels.dtype == np.uint8
        np.testing.assert_array_equal(inputs, raw_inputs)
    assert all(shortest_path_length(x) == np.count_nonzero(y == PATH) + 1 for x, y in zip(inputs[:20], labels[:20]))


def test_official_round_trip_is_identical(hard, tmp_path):
    summary = build_maze_dataset(task(), DataBuildRequest(out=tmp_path, source=f"official:{hard}",
                                                          train_size=1000, test_size=0))
    assert (summary["train_puzzles"], summary["test_puzzles"]) == (1000, 0)
    assert (summary["path_min"], summary["path_max"]) == (109, 146)
    assert 0.27 < summary["wall_density_min"] < summary["wall_density_mean"] < summary["wall_density_max"] <= 0.45
    for key in ARRAYS:
        ours = np.load(tmp_path / "train" / f"all__{key}.npy", allow_pickle=False)
        theirs = np.load(hard / "train" / f"all__{key}.npy", allow_pickle=False)
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)
    ours = json.loads((tmp_path / "train" / "dataset.json").read_text())
    theirs = json.loads((hard / "train" / "dataset.json").read_text())
    assert {key: ours[key] for key in theirs} == theirs
    assert json.loads((tmp_path / "identifiers.json").read_text()) == ["<blank>"]


def test_official_build_with_split_and_all_eight_orientations(hard, tmp_path):
    request = DataBuildRequest(out=tmp_path, source=f"official:{hard}", train_size=30, test_size=20,
                               aug=7, seed=4)
    summary = build_maze_dataset(task(), request)
    assert (summary["train_puzzles"], summary["train_examples"], summary["test_puzzles"]) == (30, 240, 20)
    train, test = read_split(tmp_path / "train"), read_split(tmp_path / "test")
    np.testing.assert_array_equal(train.group_indices, np.arange(0, 241, 8))
    assert test.num_groups == 20 and test.num_examples == 20
    assert not {bytes(r) for r in test.inputs} & {bytes(r) for r in train.inputs[::8]}
    groups = np.asarray(train.inputs).reshape(30, 8, 30, 30)  # (mazes, orientations, rows, columns)
    for group in groups:
        expected = {dihedral(group[0], k).tobytes() for k in range(8)}
        assert {orientation.tobytes() for orientation in group} == expected
    inputs, labels = np.asarray(train.inputs), np.asarray(train.labels)
    assert all(is_shortest_path(x, y) for x, y in zip(inputs[:40], labels[:40]))


def test_official_errors(tmp_path, hard):
    with pytest.raises(DatasetError, match="nope: no such folder"):
        read_official(tmp_path / "nope")
    with pytest.raises(DatasetError, match="no dataset.json"):
        read_official(tmp_path)
    with pytest.raises(DatasetError, match="holds 30x30 mazes but the task is 11x11 \\(build with --size 30\\)"):
        build_maze_dataset(task(11), DataBuildRequest(out=tmp_path / "o", source=f"official:{hard}"))


@pytest.mark.parametrize("key,change,message", [
    ("inputs", lambda a: a.__setitem__((1, 4), 7), r"all__inputs.npy row 1: token 7 at cell 5 is not a maze cell"),
    ("inputs", lambda a: a.__setitem__((2, np.flatnonzero(a[2] == OPEN)[0]), START),
     r"all__inputs.npy row 2: 2 S cells \(token 3\), expected one"),
    ("inputs", lambda a: a.__setitem__((0, np.flatnonzero(a[0] == GOAL)[0]), OPEN),
     r"all__inputs.npy row 0: 0 G cells \(token 4\), expected one"),
    ("labels", lambda a: a.__setitem__((1, np.flatnonzero(a[1] == WALL)[0]), PATH),
     r"all__labels.npy row 1: token 5 at cell \d+ where the maze has 1"),
    ("labels", lambda a: a.__setitem__((2, np.flatnonzero(a[2] == PATH)[3]), OPEN),
     r"all__labels.npy row 2: the \d+ 'o' cells are not a shortest path from S to G \(a shortest path has \d+ moves"),
])
def test_malformed_rows(tmp_path, hard, key, change, message):
    folder = small_copy(hard, tmp_path)
    edit(folder, key, change)
    with pytest.raises(DatasetError, match=message):
        read_official(tmp_path)


def test_unreachable_goal(tmp_path, hard):
    folder = small_copy(hard, tmp_path)
    goal = int(np.flatnonzero(np.load(folder / "all__inputs.npy")[0] == GOAL)[0])
    r, c = divmod(goal, 30)
    around = [rr * 30 + cc for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1))
              if 0 <= rr < 30 and 0 <= cc < 30]
    for key in ("inputs", "labels"):
        edit(folder, key, lambda a: a.__setitem__((0, around), WALL))
    with pytest.raises(DatasetError, match=r"all__inputs.npy row 0: no path from S to G"):
        read_official(folder)


def test_path_cells_must_connect(tmp_path, hard):
    folder = small_copy(hard, tmp_path)

    def move_one_cell(labels):
        path, open_cells = np.flatnonzero(labels[1] == PATH), np.flatnonzero(labels[1] == OPEN)
        labels[1, path[len(path) // 2]] = OPEN
        labels[1, open_cells[-1]] = PATH  # same count, broken path

    edit(folder, "labels", move_one_cell)
    with pytest.raises(DatasetError, match=r"all__labels.npy row 1: the \d+ 'o' cells are not a shortest path"):
        read_official(folder)


def test_bad_layout(tmp_path, hard):
    folder = small_copy(hard, tmp_path)
    edit(folder, "group_indices", lambda g: g.__setitem__(1, 0))
    with pytest.raises(DatasetError, match="all__group_indices.npy: not a strictly increasing range of puzzles"):
        read_official(folder)
    odd = tmp_path / "odd"
    write_split(odd, np.full((2, 12), OPEN), np.full((2, 12), OPEN), vocab_size=6)
    with pytest.raises(DatasetError, match="odd/dataset.json: seq_len 12 is not the number of cells of a square maze"):
        read_official(odd)


# --- generated datasets ------------------------------------------------------------

def test_generated_build_is_reproducible_and_disjoint(tmp_path):
    request = DataBuildRequest(out=tmp_path / "a", train_size=40, test_size=30, aug=3, seed=9)
    summary = build_maze_dataset(task(7, min_path=14), request)
    assert (summary["train_puzzles"], summary["train_examples"], summary["test_puzzles"]) == (40, 160, 30)
    assert summary["min_path"] == 14 and summary["path_min"] >= 14
    assert summary["candidates"] > 70 and 0 < summary["acceptance_rate"] < 1 and summary["clipped"] == 0
    build_maze_dataset(task(7, min_path=14), DataBuildRequest(out=tmp_path / "b", train_size=40, test_size=30,
                                                              aug=3, seed=9))
    for split in ("train", "test"):
        for key in ARRAYS:
            a = np.load(tmp_path / "a" / split / f"all__{key}.npy", allow_pickle=False)
            b = np.load(tmp_path / "b" / split / f"all__{key}.npy", allow_pickle=False)
            np.testing.assert_array_equal(a, b)
    train, test = read_split(tmp_path / "a" / "train"), read_split(tmp_path / "a" / "test")
    assert train.meta["vocab_size"] == 6 and train.meta["seq_len"] == 49
    originals = {bytes(row) for row in train.inputs[::4]}
    assert len(originals) == 40 and not originals & {bytes(row) for row in test.inputs}
    copies = np.asarray(train.inputs).reshape(40, 4, 49)
    assert all(len({bytes(row) for row in group}) == 4 for group in copies)
    assert all(is_shortest_path(x, y) for x, y in zip(train.inputs, train.labels))
    read_official(tmp_path / "a")  # a generated dataset passes the importer's checks


def test_unique_path_build(tmp_path):
    request = DataBuildRequest(out=tmp_path, train_size=30, test_size=20, aug=2, seed=1)
    summary = build_maze_dataset(task(7, min_path=8, unique_path=True), request)
    assert summary["unique_path"] is True and summary["path_min"] >= 8
    for split in ("train", "test"):
        data = read_split(tmp_path / split)
        assert unique_shortest_path(data.inputs).all()  # the dihedral copies keep the one path
        np.testing.assert_array_equal(data.labels, path_labels(data.inputs))


def test_default_min_path_of_the_task(tmp_path):
    summary = build_maze_dataset(task(5), DataBuildRequest(out=tmp_path, train_size=10, test_size=5))
    assert summary["min_path"] == 13 and summary["path_min"] >= 13


def test_build_request_errors(tmp_path, hard):
    with pytest.raises(DatasetError, match="unknown Maze data source 'csv:x'"):
        build_maze_dataset(task(), DataBuildRequest(out=tmp_path, source="csv:x"))
    with pytest.raises(DatasetError, match="unknown Maze data source 'official:'"):
        build_maze_dataset(task(), DataBuildRequest(out=tmp_path, source="official:"))
    with pytest.raises(DatasetError, match="aug must be >= 0, got -1"):
        build_maze_dataset(task(), DataBuildRequest(out=tmp_path, aug=-1))
    with pytest.raises(DatasetError, match="holding out 1000 test puzzles leaves none of its 1000 for train"):
        build_maze_dataset(task(), DataBuildRequest(out=tmp_path, source=f"official:{hard}"))
    with pytest.raises(DatasetError, match="1000 distinct puzzles, fewer than the 10 for test \\+ 5000 for train"):
        build_maze_dataset(task(), DataBuildRequest(out=tmp_path, source=f"official:{hard}", subsample=5000,
                                                    test_size=10))
    with pytest.raises(DatasetError, match="subsample applies to imported sources"):
        build_maze_dataset(task(), DataBuildRequest(out=tmp_path, subsample=5))


def test_official_train_and_test_are_kept_apart(hard, tmp_path):
    source = tmp_path / "official"
    build_maze_dataset(task(), DataBuildRequest(out=source, source=f"official:{hard}", test_size=400, seed=2))
    official_test = {bytes(row) for row in read_split(source / "test").inputs}
    summary = build_maze_dataset(task(), DataBuildRequest(out=tmp_path / "out", source=f"official:{source}",
                                                          aug=7, subsample=50))
    assert summary["split"] == "kept" and (summary["train_puzzles"], summary["test_puzzles"]) == (50, 400)
    train, test = read_split(tmp_path / "out" / "train"), read_split(tmp_path / "out" / "test")
    assert {bytes(row) for row in test.inputs} == official_test
    assert not {bytes(row) for row in train.inputs} & official_test  # no test maze in any orientation
    with pytest.raises(DatasetError, match="has its own test split"):
        build_maze_dataset(task(), DataBuildRequest(out=tmp_path / "o", source=f"official:{source}",
                                                    test_source=f"official:{hard}"))
    split = build_maze_dataset(task(), DataBuildRequest(out=tmp_path / "t", source=f"official:{source / 'train'}",
                                                        test_source=f"official:{source / 'test'}"))
    assert split["split"] == "kept" and split["test_puzzles"] == 400
