"""The on-disk dataset format: round trip, official compatibility, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recursia.data.dataset import ARRAYS, IGNORE_LABEL, SplitWriter, find_split, read_split, write_split
from recursia.errors import DatasetError

DTYPES = {"inputs": np.uint8, "labels": np.uint8, "puzzle_identifiers": np.int32,
          "puzzle_indices": np.int32, "group_indices": np.int32}


def small_split(folder: Path, **kw) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    inputs = rng.integers(1, 11, size=(6, 5))
    labels = rng.integers(0, 11, size=(6, 5))
    args = dict(vocab_size=11, group_sizes=[2, 1, 3], puzzle_identifiers=np.array([0, 1, 2, 3, 4, 5]),
                num_puzzle_identifiers=6)
    write_split(folder, inputs, labels, **(args | kw))
    return inputs, labels


def _error(folder, **kw) -> str:
    with pytest.raises(DatasetError) as info:
        read_split(folder, **kw)
    msg = str(info.value)
    assert "\n" not in msg
    return msg


# --- round trip -------------------------------------------------------------------------

@pytest.mark.parametrize("mmap", [True, False])
def test_write_read_round_trip(tmp_path, mmap):
    inputs, labels = small_split(tmp_path / "train", extra_meta={"note": "x"})
    split = read_split(tmp_path / "train", mmap=mmap)
    for key, dtype in DTYPES.items():
        assert getattr(split, key).dtype == dtype, key
    assert isinstance(split.inputs, np.memmap) == mmap
    assert np.array_equal(split.inputs, inputs) and np.array_equal(split.labels, labels)
    assert split.puzzle_identifiers.tolist() == [0, 1, 2, 3, 4, 5]
    assert split.puzzle_indices.tolist() == list(range(7))
    assert split.group_indices.tolist() == [0, 2, 3, 6]
    assert split.num_examples == 6 and split.num_groups == 3
    assert split.example_puzzle_ids().tolist() == [0, 1, 2, 3, 4, 5]
    m = split.meta
    assert (m["vocab_size"], m["seq_len"], m["total_groups"], m["total_puzzles"]) == (11, 5, 3, 6)
    assert (m["num_puzzle_identifiers"], m["sets"], m["note"]) == (6, ["all"], "x")
    assert m["pad_id"] == 0 and m["ignore_label_id"] == 0
    # written atomically: no temporary file left behind
    assert sorted(p.name for p in (tmp_path / "train").iterdir()) == sorted(
        ["dataset.json"] + [f"all__{k}.npy" for k in ARRAYS])


def test_split_writer_appends_chunks_into_the_same_files(tmp_path):
    rng = np.random.default_rng(1)
    inputs = rng.integers(0, 11, size=(1000, 7)).astype(np.uint8)
    labels = rng.integers(0, 11, size=(1000, 7)).astype(np.uint8)
    write_split(tmp_path / "whole", inputs, labels, vocab_size=11, puzzle_sizes=[400, 600])
    writer = SplitWriter(tmp_path / "chunks", 7)
    for start in (0, 3, 400, 999):  # uneven chunks, one of a single row
        end = {0: 3, 3: 400, 400: 999, 999: 1000}[start]
        writer.append(inputs[start:end], labels[start:end])
    assert not (tmp_path / "chunks" / "all__inputs.npy").exists()  # only the temporary name until finish
    writer.finish(vocab_size=11, puzzle_sizes=[400, 600])
    for name in ARRAYS + ("dataset.json",):
        file = f"all__{name}.npy" if name != "dataset.json" else name
        assert (tmp_path / "whole" / file).read_bytes() == (tmp_path / "chunks" / file).read_bytes(), name
    split = read_split(tmp_path / "chunks")
    assert np.array_equal(split.inputs, inputs) and split.puzzle_indices.tolist() == [0, 400, 1000]
    assert sorted(p.name for p in (tmp_path / "chunks").iterdir()) == sorted(
        ["dataset.json"] + [f"all__{k}.npy" for k in ARRAYS])


def test_split_writer_refuses_a_structure_that_does_not_fit_its_rows(tmp_path):
    writer = SplitWriter(tmp_path, 3)
    writer.append(np.ones((4, 3)), np.ones((4, 3)))
    with pytest.raises(DatasetError, match="puzzle sizes add up to 3, not 4 examples"):
        writer.finish(vocab_size=3, puzzle_sizes=[1, 2])
    with pytest.raises(DatasetError, match=r"rows of shape \(2, 4\), expected \(R, 3\)"):
        SplitWriter(tmp_path / "b", 3).append(np.ones((2, 4)), np.ones((2, 4)))


def test_default_groups_and_identifiers(tmp_path):
    write_split(tmp_path, np.ones((4, 3)), np.ones((4, 3)), vocab_size=3)
    split = read_split(tmp_path)
    assert split.group_indices.tolist() == [0, 1, 2, 3, 4]
    assert split.puzzle_identifiers.tolist() == [0, 0, 0, 0]
    assert split.meta["total_groups"] == 4 and split.meta["num_puzzle_identifiers"] == 1


def test_overwrite_existing_split(tmp_path):
    small_split(tmp_path)
    write_split(tmp_path, np.full((2, 5), 3), np.full((2, 5), 4), vocab_size=11)
    split = read_split(tmp_path)
    assert split.num_examples == 2 and split.labels.tolist() == [[4] * 5] * 2


def test_meta_keys_and_dtypes_match_official_files(tmp_path, shared):
    official = shared("data", "sudoku-extreme-1k", "train")
    ours_dir = tmp_path / "train"
    small_split(ours_dir)
    theirs = json.loads((official / "dataset.json").read_text())
    ours = json.loads((ours_dir / "dataset.json").read_text())
    assert set(ours) == set(theirs)
    for key in ARRAYS:
        a = np.load(official / f"all__{key}.npy", mmap_mode="r")
        b = np.load(ours_dir / f"all__{key}.npy", mmap_mode="r")
        assert a.dtype == b.dtype and a.ndim == b.ndim, key
    # and the official split reads as is
    split = read_split(official)
    assert split.inputs.shape == (1000, 81) and split.num_groups == 1000
    lab = split.torch_labels(np.arange(3))
    assert lab.dtype == np.int64 and lab.min() >= 1  # Sudoku labels have no ignored cell


# --- write errors -----------------------------------------------------------------------

def test_write_rejects_bad_shapes(tmp_path):
    with pytest.raises(DatasetError, match="must be equal 2-D shapes"):
        write_split(tmp_path, np.ones((3, 4)), np.ones((3, 5)), vocab_size=3)
    with pytest.raises(DatasetError, match="must be equal 2-D shapes"):
        write_split(tmp_path, np.ones(4), np.ones(4), vocab_size=3)
    with pytest.raises(DatasetError, match="add up to 2, not 3"):
        write_split(tmp_path, np.ones((3, 4)), np.ones((3, 4)), vocab_size=3, group_sizes=[1, 1])
    assert not (tmp_path / "dataset.json").exists()


# --- read errors: one line, naming the file ---------------------------------------------

def test_missing_dataset_json(tmp_path):
    msg = _error(tmp_path)
    assert str(tmp_path) in msg and "dataset.json" in msg


@pytest.mark.parametrize("key", ARRAYS)
def test_missing_array(tmp_path, key):
    small_split(tmp_path)
    (tmp_path / f"all__{key}.npy").unlink()
    msg = _error(tmp_path)
    assert f"all__{key}.npy" in msg and str(tmp_path) in msg


def test_mismatched_seq_len(tmp_path):
    small_split(tmp_path, extra_meta={"seq_len": 81})
    msg = _error(tmp_path)
    assert "dataset.json" in msg and "81" in msg and "5" in msg and str(tmp_path) in msg


def test_inputs_and_labels_disagree(tmp_path):
    small_split(tmp_path)
    np.save(tmp_path / "all__labels.npy", np.zeros((6, 4), dtype=np.uint8))
    msg = _error(tmp_path)
    assert str(tmp_path) in msg and "(6, 5)" in msg and "(6, 4)" in msg


def test_puzzle_indices_do_not_cover_examples(tmp_path):
    small_split(tmp_path)
    np.save(tmp_path / "all__puzzle_indices.npy", np.arange(4, dtype=np.int32))
    assert "puzzle_indices" in _error(tmp_path)


@pytest.mark.parametrize("text", ['{"seq_len": 5, "voc', "", "{'seq_len': 5}"])
def test_corrupt_dataset_json(tmp_path, text):
    small_split(tmp_path)
    (tmp_path / "dataset.json").write_text(text)
    msg = _error(tmp_path)
    assert str(tmp_path / "dataset.json") in msg and "malformed JSON" in msg


@pytest.mark.parametrize("key", ["vocab_size", "seq_len"])
def test_dataset_json_missing_key(tmp_path, key):
    small_split(tmp_path)
    meta = json.loads((tmp_path / "dataset.json").read_text())
    del meta[key]
    (tmp_path / "dataset.json").write_text(json.dumps(meta))
    msg = _error(tmp_path)
    assert "dataset.json" in msg and f"'{key}'" in msg


@pytest.mark.parametrize("text", ["null", "5", "[1, 2]", '"text"'])
def test_dataset_json_not_an_object(tmp_path, text):
    small_split(tmp_path)
    (tmp_path / "dataset.json").write_text(text)
    assert "dataset.json" in _error(tmp_path)


def test_dataset_json_binary_garbage(tmp_path):
    small_split(tmp_path)
    (tmp_path / "dataset.json").write_bytes(b"\xff\xfe\x00\x93garbage")
    assert "dataset.json" in _error(tmp_path)


@pytest.mark.parametrize("mmap", [True, False])
@pytest.mark.parametrize("damage", ["garbage", "truncated", "header_only"])
def test_corrupt_array(tmp_path, mmap, damage):
    small_split(tmp_path)
    path = tmp_path / "all__inputs.npy"
    raw = path.read_bytes()
    path.write_bytes({"garbage": b"this is not an npy file", "truncated": raw[:-7],
                      "header_only": raw[:40]}[damage])
    assert str(path) in _error(tmp_path, mmap=mmap)


@pytest.mark.parametrize("mmap", [True, False])
def test_empty_array_file(tmp_path, mmap):
    small_split(tmp_path)
    (tmp_path / "all__labels.npy").write_bytes(b"")
    assert "all__labels.npy" in _error(tmp_path, mmap=mmap)


def test_pickled_array_is_refused(tmp_path):
    small_split(tmp_path)
    np.save(tmp_path / "all__puzzle_identifiers.npy", np.array([{"a": 1}] * 6, dtype=object),
            allow_pickle=True)
    assert "all__puzzle_identifiers.npy" in _error(tmp_path)


# --- labels and split lookup ------------------------------------------------------------

def test_torch_labels_maps_ignore_id_to_minus_100(tmp_path):
    labels = np.array([[0, 1, 2], [3, 0, 0], [4, 5, 6]])
    write_split(tmp_path, np.ones((3, 3)), labels, vocab_size=7)
    split = read_split(tmp_path)
    out = split.torch_labels(np.array([1, 0]))
    assert out.dtype == np.int64
    assert out.tolist() == [[3, IGNORE_LABEL, IGNORE_LABEL], [IGNORE_LABEL, 1, 2]]
    assert IGNORE_LABEL == -100
    # the on-disk labels are not modified
    assert split.labels.tolist() == labels.tolist()


def test_torch_labels_honours_ignore_label_id(tmp_path):
    write_split(tmp_path, np.ones((1, 3)), np.array([[0, 2, 5]]), vocab_size=7,
                extra_meta={"ignore_label_id": 5})
    assert read_split(tmp_path).torch_labels(np.array([0])).tolist() == [[0, 2, -100]]


def test_example_puzzle_ids_with_several_examples_per_puzzle():
    from recursia.data.dataset import Split

    split = Split(meta={}, inputs=np.zeros((5, 2), np.uint8), labels=np.zeros((5, 2), np.uint8),
                  puzzle_identifiers=np.array([7, 3, 9], np.int32),
                  puzzle_indices=np.array([0, 2, 3, 5], np.int32), group_indices=np.array([0, 3], np.int32))
    assert split.example_puzzle_ids().tolist() == [7, 7, 3, 9, 9]


def test_find_split(tmp_path):
    small_split(tmp_path / "ds" / "train")
    small_split(tmp_path / "ds" / "test")
    assert find_split(tmp_path / "ds", "train") == tmp_path / "ds" / "train"
    assert find_split(str(tmp_path / "ds"), "test") == tmp_path / "ds" / "test"
    # a split folder given directly is used as is
    assert find_split(tmp_path / "ds" / "test", "test") == tmp_path / "ds" / "test"


def test_find_split_missing(tmp_path):
    small_split(tmp_path / "ds" / "train")
    with pytest.raises(DatasetError) as info:
        find_split(tmp_path / "ds", "test")
    msg = str(info.value)
    assert "'test'" in msg and str(tmp_path / "ds" / "test" / "dataset.json") in msg
    with pytest.raises(DatasetError):
        find_split(tmp_path / "nowhere", "train")
