"""The CLI fuzzed with malformed input (hypothesis), through the real entry point in-process.

Every generated input is malformed by construction: puzzle files (random JSON values,
wrong shapes, random bytes, huge inputs), datasets (wrong dtypes, out-of-range tokens,
inconsistent index arrays, truncated arrays, bad dataset.json), checkpoints (truncated,
zero-length, headers lying about sizes, tensors of the wrong shape or dtype, another
task's weights) and configs (unknown keys, wrong types, out-of-range values, broken
files). Each must get exit code 2 and one line on stderr that names the file or the
key, no traceback, and leave every file of the run directory and dataset folder as it was.

The default run draws a few hundred examples in all; ``pytest --runslow`` ten times as
many. To replay a failure: rerun the same test (hypothesis keeps failing examples in
``.hypothesis/`` and tries them first), or paste the ``@reproduce_failure(...)``
decorator hypothesis prints above the test.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import string
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from safetensors.torch import load_file, save_file

from recursia.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from tests.test_end_to_end import PUZZLE_4x4, TINY, data4, exit_code, run4  # noqa: F401 (fixtures)

SCALE = int(os.environ.get("RECURSIA_FUZZ_SCALE", "1"))  # 10 with --runslow (tests/conftest.py)


def fuzz(examples: int):
    """Hypothesis settings of one fuzz test: ``examples`` (times SCALE), no deadline."""
    return settings(max_examples=examples * SCALE, deadline=None, print_blob=True, derandomize=False,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def digest(*folders: Path) -> dict[str, str]:
    """Content hash of every file under ``folders`` (names included)."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()}


def refused(capsys, args: list[str], names: list[str], unchanged: list[Path]) -> str:
    """Run ``recursia ARGS``; assert exit 2, one line naming one of ``names``, nothing changed."""
    before = digest(*unchanged)
    code = exit_code(*args)
    out, err = capsys.readouterr()
    assert code == 2, (code, err[-2000:])
    assert err.startswith("error: ") and err.count("\n") == 1, err[-2000:]
    assert "Traceback" not in err
    assert any(name in err for name in names), (names, err)
    assert digest(*unchanged) == before, "a refused command changed files"
    return err


@pytest.fixture(scope="module")
def maze_run(tmp_path_factory) -> Path:
    """A tiny trained maze run: another task's weights to put into a Sudoku run."""
    root = tmp_path_factory.mktemp("maze")
    assert exit_code("data", "build", "maze", "--out", str(root / "d"), "--size", "5", "--train-size", "12",
                     "--test-size", "4") == 0
    assert exit_code("train", "--task", "maze", "--data", str(root / "d"), "--out", str(root / "r"), "--steps", "2",
                     "--no-progress", *TINY[2:], "--set", "task_options.size=5") == 0
    return root / "r"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """``fresh()`` makes a new empty folder: one per hypothesis example."""
    root = tmp_path_factory.mktemp("fuzz")
    return lambda: Path(tempfile.mkdtemp(dir=root))


# --- puzzle files ------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=20)


def is_sudoku_shape(value) -> bool:
    """Whether ``value`` has the shape of some Sudoku (those could be valid puzzles)."""
    if isinstance(value, str):
        return len(value.strip()) in (16, 36, 81)
    return (isinstance(value, list) and len(value) in (4, 6, 9)
            and all(isinstance(r, str) and len(r) == len(value) for r in value))


puzzle_texts = st.one_of(
    st.binary(max_size=300).map(bytes),  # random bytes
    json_values.map(lambda v: json.dumps(v).encode()),  # a JSON value, not a puzzle file object
    json_values.filter(lambda v: not is_sudoku_shape(v)).map(
        lambda v: json.dumps({"task": "sudoku", "puzzle": v}).encode()),  # wrong shapes and types
    st.lists(st.text(alphabet="0123456789.#abc ", min_size=4, max_size=4), min_size=4, max_size=4).filter(
        lambda rows: any(set(r) - set("1234.0") for r in rows)).map(
        lambda rows: json.dumps({"task": "sudoku", "puzzle": rows}).encode()),  # bad characters
    st.integers(10_000, 2_000_000).map(
        lambda n: json.dumps({"task": "sudoku", "puzzle": "1" * n}).encode()),  # huge
    st.text(string.ascii_lowercase, min_size=1, max_size=12).filter(lambda t: t not in ("sudoku", "maze")).map(
        lambda t: json.dumps({"task": t, "puzzle": "." * 16}).encode()),  # unknown task
)


@fuzz(80)
@given(content=puzzle_texts)
def test_solve_refuses_malformed_puzzle_files(content, run4, capsys, fresh):
    work = fresh()
    path = work / "puzzle.json"
    path.write_bytes(content)
    refused(capsys, ["solve", str(path), "--checkpoint", str(run4)], [str(path)], [run4])


def test_solve_refuses_contradictory_and_unsolvable_sudokus(run4, capsys, fresh):
    work = fresh()
    for grid in (["11..", "....", "....", "...."], ["12..", "....", ".3..", ".4.."], ["1...", "1...", "....", "...."]):
        path = work / "p.json"
        path.write_text(json.dumps({"task": "sudoku", "puzzle": grid}))
        refused(capsys, ["solve", str(path), "--checkpoint", str(run4)], [str(path)], [run4])


# --- datasets ----------------------------------------------------------------------------

def mutate_array(kind: str, array: np.ndarray, draw) -> np.ndarray:
    """A copy of ``array`` broken in the way ``kind`` says."""
    a = np.array(array)
    if kind == "float":
        return a.astype(np.float32)
    if kind == "token":
        flat = a.reshape(-1)
        flat[draw(st.integers(0, flat.size - 1))] = draw(st.integers(6, 255))  # the 4x4 vocabulary is 0..5
        return a
    if kind == "index":  # an increasing range: a new value outside its neighbours' gap breaks it
        i = draw(st.integers(0, len(a) - 1))
        low = a[i - 1] if i > 0 else a[i]
        high = a[i + 1] if i < len(a) - 1 else a[i]
        a[i] = draw(st.integers(-5, 10_000).filter(lambda v: v != a[i] and (v <= low or v >= high)))
        return a
    if kind == "shape":
        return a.reshape(-1) if a.ndim == 2 else a[:-1]
    raise AssertionError(kind)


@st.composite
def broken_datasets(draw):
    """``(split, file, how)``: one change that makes a dataset malformed."""
    split = draw(st.sampled_from(["train", "test"]))
    how = draw(st.sampled_from(["float", "token", "index", "shape", "truncate", "zero", "meta", "meta-json",
                                "missing"]))
    if how == "token":
        name = draw(st.sampled_from(["inputs", "labels"]))
    elif how == "index":
        name = draw(st.sampled_from(["puzzle_indices", "group_indices", "puzzle_identifiers"]))
    elif how in ("meta", "meta-json"):
        name = "dataset"
    else:
        name = draw(st.sampled_from(["inputs", "labels", "puzzle_indices", "group_indices", "puzzle_identifiers"]))
    return split, name, how, draw


def apply_break(folder: Path, split: str, name: str, how: str, draw) -> Path:
    """Break ``folder/split``'s file ``name`` by ``how``; returns the file changed."""
    if name == "dataset":
        path = folder / split / "dataset.json"
        meta = json.loads(path.read_text())
        if how == "meta-json":
            path.write_bytes(draw(st.binary(max_size=50)))
        else:
            key = draw(st.sampled_from(["vocab_size", "seq_len", "num_puzzle_identifiers"]))
            meta[key] = draw(st.sampled_from([-1, "big", None, 10**6, 3.5, [1]]))
            assume(not (key == "num_puzzle_identifiers" and meta[key] == 10**6))  # a larger table is fine
            path.write_text(json.dumps(meta))
        return path
    path = folder / split / f"all__{name}.npy"
    if how == "truncate":
        raw = path.read_bytes()
        path.write_bytes(raw[:draw(st.integers(0, len(raw) - 1))])
    elif how == "zero":
        path.write_bytes(b"")
    elif how == "missing":
        path.unlink()
    else:
        if how == "index" and name == "puzzle_identifiers":
            array = np.load(path)
            array[draw(st.integers(0, len(array) - 1))] = draw(st.sampled_from([-1, 1, 7, 10**6]))
            np.save(path, array)
            return path
        np.save(path, mutate_array(how, np.load(path), draw))
    return path


@fuzz(60)
@given(broken=broken_datasets())
def test_train_and_eval_refuse_malformed_datasets(broken, data4, run4, capsys, fresh):
    work = fresh()
    split, name, how, draw = broken
    data = work / "data"
    shutil.copytree(data4, data)
    changed = apply_break(data, split, name, how, draw)
    names = [str(changed), str(changed.parent), str(data)]
    if split == "test":  # eval reads the test split only
        refused(capsys, ["eval", str(run4), "--data", str(data)], names, [run4, data])
    out = work / "new-run"
    refused(capsys, ["train", "--task", "sudoku", "--data", str(data), "--out", str(out), "--steps", "1",
                     "--no-progress", *TINY], names, [data])
    assert not out.exists()


# --- checkpoints -------------------------------------------------------------------------

@st.composite
def broken_checkpoints(draw):
    """``(file, how, draw)``: one change that makes a run directory's checkpoint malformed."""
    name = draw(st.sampled_from(["model.safetensors", "train_state.safetensors"]))
    how = draw(st.sampled_from(["truncate", "zero", "header-size", "header-json", "offsets", "shape", "dtype",
                                "other-task", "random"]))
    return name, how, draw


def break_checkpoint(run: Path, name: str, how: str, draw, maze_run: Path) -> Path:
    path = run / name
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    if how == "truncate":
        path.write_bytes(raw[:draw(st.integers(0, len(raw) - 1))])
    elif how == "zero":
        path.write_bytes(b"")
    elif how == "random":
        path.write_bytes(draw(st.binary(min_size=1, max_size=200)))
    elif how == "header-size":
        lie = draw(st.integers(0, 2**40).filter(lambda v: v != n))
        path.write_bytes(lie.to_bytes(8, "little") + raw[8:])
    elif how == "header-json":  # a byte that is never valid UTF-8 on its own, anywhere in the header
        cut = draw(st.integers(0, n - 1))
        junk = bytes([draw(st.integers(0x80, 0xBF))])
        path.write_bytes(raw[:8 + cut] + junk + raw[8 + cut + 1:])
    elif how == "offsets":
        header = json.loads(raw[8:8 + n])
        key = draw(st.sampled_from(sorted(k for k in header if k != "__metadata__")))
        start, end = header[key]["data_offsets"]
        header[key]["data_offsets"] = [start, end + draw(st.integers(1, 10**9))]
        text = json.dumps(header).encode()
        path.write_bytes(len(text).to_bytes(8, "little") + text + raw[8 + n:])
    elif how in ("shape", "dtype"):
        tensors = load_file(str(path))
        floats = sorted(k for k, v in tensors.items() if v.is_floating_point() and v.ndim >= 1 and v.numel() > 1)
        key = draw(st.sampled_from(floats))
        tensors[key] = tensors[key].flatten()[:-1] if how == "shape" else tensors[key].long()
        meta = json.loads(raw[8:8 + n]).get("__metadata__", {})
        save_file(tensors, str(path), metadata=meta)
    elif how == "other-task":
        shutil.copyfile(maze_run / name, path)
    return path


@fuzz(60)
@given(broken=broken_checkpoints())
def test_eval_solve_and_resume_refuse_malformed_checkpoints(broken, run4, data4, maze_run, capsys, fresh):
    work = fresh()
    name, how, draw = broken
    run = work / "run"
    shutil.copytree(run4, run)
    changed = break_checkpoint(run, name, how, draw, maze_run)
    puzzle = work / "p.json"
    puzzle.write_text(json.dumps(PUZZLE_4x4))
    names = [str(changed)]
    if name == "model.safetensors":
        refused(capsys, ["eval", str(run), "--data", str(data4)], names, [run, data4])
        refused(capsys, ["solve", str(puzzle), "--checkpoint", str(run)], names, [run])
    else:
        refused(capsys, ["train", "--out", str(run), "--data", str(data4), "--steps", "6", "--no-progress"],
                names, [run, data4])


def test_run_config_of_another_shape_is_refused(run4, data4, capsys, fresh):
    work = fresh()
    run = work / "run"
    shutil.copytree(run4, run)
    cfg = json.loads((run / "config.json").read_text())
    cfg["model"]["hidden_size"] = 32
    (run / "config.json").write_text(json.dumps(cfg))
    refused(capsys, ["eval", str(run), "--data", str(data4)], [str(run / "model.safetensors")], [run])


# --- configs -----------------------------------------------------------------------------

SECTIONS = {"model": ModelConfig, "train": TrainConfig, "data": DataConfig}
identifiers = st.text(string.ascii_lowercase + "_", min_size=1, max_size=12)


@st.composite
def bad_overrides(draw) -> tuple[str, str]:
    """``(key, value)``: an unknown key, a value of the wrong type, or an out-of-range value."""
    kind = draw(st.sampled_from(["unknown", "type", "range"]))
    section = draw(st.sampled_from(sorted(SECTIONS)))
    fields = SECTIONS[section].model_fields
    if kind == "unknown":
        key = draw(identifiers.filter(lambda k: k not in fields))
        return f"{section}.{key}", draw(st.sampled_from(["1", "x", "true"]))
    numeric = sorted(k for k, f in fields.items() if f.annotation in (int, float, "int", "float"))
    if kind == "type":
        key = draw(st.sampled_from(numeric))
        return f"{section}.{key}", draw(st.sampled_from(["abc", "[1, 2]", "{a: 1}", "1.2.3"]))
    bounded = sorted(k for k in numeric if any(getattr(m, "ge", None) is not None or getattr(m, "gt", None)
                                                is not None for m in fields[k].metadata))
    assume(bounded)
    key = draw(st.sampled_from(bounded))
    return f"{section}.{key}", draw(st.sampled_from(["-1", "-1000000"]))


@fuzz(50)
@given(override=bad_overrides())
def test_train_refuses_bad_overrides(override, data4, capsys, fresh):
    work = fresh()
    key, value = override
    out = work / "run"
    refused(capsys, ["train", "--task", "sudoku", "--data", str(data4), "--out", str(out), "--no-progress",
                     "--set", f"{key}={value}"], [key], [data4])
    assert not out.exists()


@fuzz(40)
@given(override=bad_overrides(), fmt=st.sampled_from(["yaml", "json"]))
def test_train_refuses_bad_config_files(override, fmt, data4, capsys, fresh):
    work = fresh()
    key, value = override
    section, field = key.split(".")
    parsed = yaml.safe_load(value)
    config = work / f"config.{fmt}"
    body = {"train": {"steps": 1}} | {section: {field: parsed}}
    config.write_text(json.dumps(body) if fmt == "json" else yaml.safe_dump(body))
    refused(capsys, ["train", "--task", "sudoku", "--data", str(data4), "--out", str(work / "run"),
                     "--no-progress", "--config", str(config)], [key, str(config)], [data4])


@fuzz(40)
@given(content=st.binary(max_size=200), fmt=st.sampled_from(["yaml", "json"]))
def test_train_refuses_broken_config_files(content, fmt, data4, capsys, fresh):
    work = fresh()
    try:
        parsed = json.loads(content) if fmt == "json" else yaml.safe_load(content)
    except Exception:  # noqa: BLE001 - any parse failure makes it a broken file, which is the point
        parsed = None
    assume(not (isinstance(parsed, dict) and set(map(str, parsed)) <= set(RunConfig.model_fields)))
    config = work / f"config.{fmt}"
    config.write_bytes(content)
    refused(capsys, ["train", "--task", "sudoku", "--data", str(data4), "--out", str(work / "run"),
                     "--no-progress", "--config", str(config)], [str(config), "config"], [data4])


@fuzz(30)
@given(field=st.sampled_from(["hidden_size", "H_cycles", "L_cycles", "num_heads", "L_layers", "expansion",
                              "halt_max_steps", "vocab_size", "seq_len"]),
       value=st.sampled_from(["big", -64, 0, None, [1], 1.5, "3e"]))
def test_convert_refuses_bad_arch_configs(field, value, shared, capsys, fresh):
    work = fresh()
    ref = shared("reference")
    arch = json.loads((ref / "sudoku_mlp.config.json").read_text())
    assume(not (value == 0 and field == "seq_len"))  # 0 means "unknown" in official configs
    assume(not (value == 1.5 and field == "expansion"))  # a valid expansion
    arch["config_dict"][field] = value
    path = work / "arch.json"
    path.write_text(json.dumps(arch))
    out = work / "converted"
    refused(capsys, ["convert", "official", str(ref / "sudoku_mlp.weights.safetensors"), "--arch-config", str(path),
                     "--out", str(out)], [str(path), field], [])
    assert not out.exists()


@fuzz(20)
@given(content=st.binary(max_size=300))
def test_convert_refuses_malformed_checkpoint_files(content, shared, capsys, fresh):
    work = fresh()
    ref = shared("reference")
    path = work / "ckpt.pt"
    path.write_bytes(content)
    out = work / "converted"
    err = refused(capsys, ["convert", "official", str(path), "--arch-config", str(ref / "sudoku_mlp.config.json"),
                           "--out", str(out)], [str(path)], [])
    assert "weights_only" not in err and not out.exists()
