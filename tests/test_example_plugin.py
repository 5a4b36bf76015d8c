"""The example third-party plugin ``examples/latin_square``, loaded as an installed one would be.

The package is put on ``sys.path`` and the ``recursia`` entry-point group is made to
list ``latin = "recursia_latin_square"``, exactly the entry point its pyproject.toml
declares; ``recursia.plugins.load_plugins()`` then finds it beside the built-ins.
"""

from __future__ import annotations

import importlib.metadata
import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import recursia.plugins
from recursia.build import make_task
from recursia.config import validate
from recursia.data.augment import Augmentation
from recursia.data.dataset import read_split
from recursia.errors import ConfigError, DatasetError, PluginError, PuzzleError
from recursia.hookspecs import hookimpl
from recursia.infer import read_puzzle_file
from recursia.task import DataBuildRequest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "latin_square"
PUZZLES = ROOT / "examples" / "puzzles"
AUG_NAMES = ["latin.symbols", "latin.rows", "latin.cols", "latin.transpose"]


def _entry_point(name: str = "latin", value: str = "recursia_latin_square"):
    return importlib.metadata.EntryPoint(name=name, value=value, group="recursia")


def _install(mp: pytest.MonkeyPatch, entry_points: list) -> None:
    """Make the example importable and the ``recursia`` group list ``entry_points``."""
    mp.syspath_prepend(str(EXAMPLE))
    real = recursia.plugins.md.entry_points

    def fake_entry_points(**kwargs):
        if kwargs.get("group") == recursia.plugins.GROUP:
            return list(entry_points)
        return real(**kwargs)

    mp.setattr(recursia.plugins.md, "entry_points", fake_entry_points)
    mp.delenv(recursia.plugins.ENV_VAR, raising=False)


@pytest.fixture(scope="module")
def registry():
    """The registry of the built-ins plus the example plugin, found through its entry point."""
    with pytest.MonkeyPatch.context() as mp:
        _install(mp, [_entry_point()])
        yield recursia.plugins.load_plugins()


@pytest.fixture
def use_registry(registry, monkeypatch):
    """Make ``get_registry()`` (used by make_task, train, checkpoints) return ``registry``."""
    monkeypatch.setattr(recursia.plugins, "_REGISTRY", registry)
    return registry


@pytest.fixture(scope="module")
def latin(registry):
    """The example's modules: ``(grid, build, LatinTask)``."""
    from recursia_latin_square import build, grid
    from recursia_latin_square.task import LatinTask

    return grid, build, LatinTask


def _task(registry, size: int = 5):
    return make_task("latin", {"size": size}, registry)


def _rows(n: int, symbols) -> list[str]:
    return ["".join(str(v) if v else "." for v in row) for row in np.asarray(symbols).reshape(n, n)]


# --- discovery ---------------------------------------------------------------------

def test_pyproject_declares_the_entry_point_the_tests_use():
    meta = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())
    assert meta["project"]["name"] == "recursia-latin-square"
    assert "recursia" in meta["project"]["dependencies"]
    assert meta["project"]["entry-points"]["recursia"] == {"latin": "recursia_latin_square"}


def test_the_plugin_is_found_through_its_entry_point(registry, latin):
    import recursia_latin_square

    assert "latin" not in registry.failures, registry.failures
    info = next(p for p in registry.plugins if p.name == "latin")
    assert (info.module, info.builtin) == ("recursia_latin_square", False)
    assert info.version == recursia_latin_square.__version__ == "0.1.0"
    assert info.registered["tasks"] == ["latin"]
    assert info.registered["augmentations"] == AUG_NAMES
    assert registry.task("latin") is latin[2]
    assert registry.owners[("tasks", "latin")] == "latin"
    assert all(registry.owners[("augmentations", a)] == "latin" for a in AUG_NAMES)
    assert all(isinstance(registry.augmentations[a], Augmentation) for a in AUG_NAMES)
    assert {"sudoku", "latin"} <= set(registry.tasks)  # the built-ins are still there
    assert {"mlp", "attention"} <= set(registry.mixers)


def test_recursia_load_plugins_selects_third_party_plugins(monkeypatch):
    _install(monkeypatch, [_entry_point()])
    monkeypatch.setenv("RECURSIA_LOAD_PLUGINS", "")
    reg = recursia.plugins.load_plugins()
    assert "latin" not in reg.tasks and "sudoku" in reg.tasks
    monkeypatch.setenv("RECURSIA_LOAD_PLUGINS", "other, latin")
    assert "latin" in recursia.plugins.load_plugins().tasks


def test_a_broken_plugin_is_reported_and_the_rest_load(monkeypatch):
    _install(monkeypatch, [_entry_point("broken", "recursia_latin_square_not_there"), _entry_point()])
    reg = recursia.plugins.load_plugins()
    assert "ModuleNotFoundError" in reg.failures["broken"]
    assert "latin" in reg.tasks
    with pytest.raises(PluginError, match="unknown task 'nope'.*latin.*failed to load: broken"):
        reg.task("nope")


def test_a_second_latin_task_is_refused_naming_both_plugins(monkeypatch, latin):
    _install(monkeypatch, [_entry_point()])

    class Copycat:
        @hookimpl
        def register_tasks(self, register):
            register(latin[2])

    with pytest.raises(PluginError, match="task 'latin' is registered by both plugin 'latin' and plugin 'copycat'"):
        recursia.plugins.load_plugins(extra=[("copycat", Copycat())])


# --- the task ----------------------------------------------------------------------

SOLUTION5 = ["12345", "23451", "34512", "45123", "51234"]


def test_options_shapes_and_presets(registry):
    t = _task(registry)
    assert (t.vocab_size, t.seq_len, t.describe()) == (7, 25, "latin 5x5")
    assert registry.task("latin")().options.size == 5
    assert [(_task(registry, n).vocab_size, _task(registry, n).seq_len) for n in (4, 9)] == [(6, 16), (11, 81)]
    for bad in ({"size": 3}, {"size": 10}, {"size": 5, "boxes": 2}):
        with pytest.raises(ConfigError, match="task_options of 'latin'"):
            make_task("latin", bad, registry)
    presets = t.presets()
    assert {"small", "paper"} <= set(presets)
    assert presets["paper"]["model"]["hidden_size"] == 512 and presets["paper"]["task_options"] == {"size": 9}
    for preset in presets.values():  # every preset is a valid run config
        validate({"task": "latin", **preset})
    assert _task(registry, 6).augmentations()[0].size == 6


def test_parse_list_and_string_forms(registry):
    t = _task(registry)
    tokens = t.parse(["1.3..", ".....", "..0..", ".....", "....5"])
    assert tokens.dtype == np.int64 and tokens.shape == (25,)
    assert tokens[:5].tolist() == [2, 1, 4, 1, 1] and tokens[-1] == 6 and tokens[12] == 1
    np.testing.assert_array_equal(t.parse("1.3.." + "." * 15 + "....5\n"), tokens)


@pytest.mark.parametrize("puzzle, message", [
    ("." * 24, "expected 25 cells, got 24"),
    (["....."] * 4, "expected 5 rows, got 4"),
    ([".....", "....", ".....", ".....", "....."], "row 2 has 4 characters, expected 5"),
    ([".....", 12345, ".....", ".....", "....."], "row 2 is a int, expected a string of 5 characters"),
    ([".x...", ".....", ".....", ".....", "....."], "row 1: unexpected character 'x' at column 2"),
    ([".....", "....6", ".....", ".....", "....."], "row 2: unexpected character '6' at column 5 (a 5x5 Latin "
                                                    "square uses 1-5 and . or 0 for a blank)"),
    ([".....", "3..3.", ".....", ".....", "....."], "row 2 has two 3s"),
    (["1....", ".....", "1....", ".....", "1...."], "column 1 has three 1s"),
    (["1234.", "....5", ".....", ".....", "....."], "the puzzle has no solution"),
    (12345, "a 5x5 Latin square is a string of 25 characters or a list of 5 strings, got int"),
])
def test_parse_errors_name_the_problem_on_one_line(registry, puzzle, message):
    with pytest.raises(PuzzleError) as info:
        _task(registry).parse(puzzle)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_check_decode_render(registry):
    t = _task(registry)
    puzzle = ["1....", ".3...", ".....", ".....", "....4"]
    inputs = t.parse(puzzle)
    answer = t.parse(SOLUTION5)
    assert t.check(inputs, answer)
    assert t.decode(inputs, answer) == SOLUTION5
    wrong = answer.copy()
    wrong[[0, 1]] = wrong[[1, 0]]  # swap two cells: row still a permutation, columns not
    assert not t.check(inputs, wrong)
    other = t.parse(["21453", "13524", "35241", "42315", "54132"])  # a Latin square, not keeping the givens
    assert not t.check(inputs, other) and t.check(t.parse("." * 25), other)
    assert not t.check(inputs, inputs)  # blanks are no answer
    assert t.decode(inputs, inputs)[0] == "1...."
    assert t.render(inputs).splitlines() == ["1 . . . .", ". 3 . . .", ". . . . .", ". . . . .", ". . . . 4"]
    changed = np.zeros(25, bool)
    changed[1] = True
    assert t.render(inputs, answer, changed).splitlines()[0] == "1  2* 3  4  5"


def test_options_for_puzzle_and_compatibility(registry):
    t = _task(registry)
    assert t.options_for_puzzle(["......"] * 6) == {"size": 6}
    assert t.options_for_puzzle("." * 49) == {"size": 7}
    assert t.options_for_puzzle("." * 50) == {"size": 5}
    assert t.compatible({"size": 5}) is None
    assert "trained on 4x4" in _task(registry, 6).compatible({"size": 4})


def test_example_puzzle_files(registry):
    from recursia_sudoku.solver import count_solutions

    files = sorted(p.name for p in [*PUZZLES.glob("latin*.json"), *PUZZLES.glob("sudoku*.json")])
    assert files == ["latin5.json", "sudoku4.json", "sudoku6.json", "sudoku9.json"]  # maze*.json: tests/maze
    for name in files:
        task_name, puzzle = read_puzzle_file(PUZZLES / name)
        t = make_task(task_name, registry.task(task_name)().options_for_puzzle(puzzle), registry)
        tokens = t.parse(puzzle)
        n = t.options.size
        assert name == f"{task_name}{n}.json" and tokens.shape == (n * n,)
        digits = np.maximum(tokens - 1, 0)
        if task_name == "sudoku":
            assert count_solutions(digits, n) == 1, name
        else:
            from recursia_latin_square.grid import count_solutions as latin_count

            assert latin_count(digits, n) == 1, name


# --- augmentations (hypothesis) ------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(size=st.integers(4, 9), seed=st.integers(0, 2**32 - 1), which=st.sampled_from(AUG_NAMES))
def test_augmentations_are_invertible_and_keep_squares_valid(latin, size, seed, which):
    grid, build, LatinTask = latin
    task = LatinTask(LatinTask.Options(size=size))
    aug = next(a for a in task.augmentations() if a.name == which)
    rng = np.random.default_rng(seed)
    square = build.random_square(size, rng)
    puzzle = square * (rng.random(size * size) < 0.5)
    params = json.loads(json.dumps(aug.sample(rng)))  # parameters survive JSON
    pair = grid.symbols_to_tokens(np.stack([puzzle, square]))  # (2, n*n): batch axes are allowed
    moved = aug.apply(pair, params)
    np.testing.assert_array_equal(aug.invert(moved, params), pair)
    np.testing.assert_array_equal(aug.apply(aug.invert(pair, params), params), pair)
    assert grid.is_latin(grid.tokens_to_symbols(moved[1]), size)
    assert task.check(moved[0], moved[1])  # the moved puzzle is solved by the moved square
    assert (moved[0] == 1).sum() == (pair[0] == 1).sum()  # blanks stay blanks
    padded = np.zeros_like(pair[0])  # PAD stays PAD
    np.testing.assert_array_equal(aug.apply(padded, params), padded)


@settings(max_examples=25, deadline=None)
@given(size=st.integers(4, 9), seed=st.integers(0, 2**32 - 1))
def test_composed_augmentations_invert_in_reverse_order(latin, size, seed):
    from recursia.data.augment import compose_apply, compose_invert, compose_sample

    grid, build, LatinTask = latin
    augs = LatinTask(LatinTask.Options(size=size)).augmentations()
    rng = np.random.default_rng(seed)
    tokens = grid.symbols_to_tokens(build.random_square(size, rng))
    params = compose_sample(augs, rng)
    out = compose_apply(augs, tokens, params)
    assert grid.is_latin(grid.tokens_to_symbols(out), size)
    np.testing.assert_array_equal(compose_invert(augs, out, params), tokens)


def test_augmentations_reject_bad_params_and_shapes(latin):
    _, _, LatinTask = latin
    symbols, rows, cols, transpose = LatinTask(LatinTask.Options(size=4)).augmentations()
    tokens = np.arange(16) % 6
    with pytest.raises(ValueError, match="permutation of 1..4"):
        symbols.apply(tokens, {"perm": [1, 2, 2, 4]})
    with pytest.raises(ValueError, match="permutation of 0..3"):
        rows.apply(tokens, {"rows": [0, 1, 2]})
    with pytest.raises(ValueError, match="last axis of 16 cells"):
        cols.apply(np.arange(25), {"cols": [0, 1, 2, 3]})
    with pytest.raises(ValueError, match="true or false"):
        transpose.apply(tokens, {"transpose": 1})


# --- data ----------------------------------------------------------------------------

def test_build_dataset_round_trips_through_read_split(registry, tmp_path):
    t = _task(registry, 4)
    req = DataBuildRequest(out=tmp_path / "d", train_size=30, test_size=10, aug=2, seed=3)
    summary = t.build_dataset(req)
    assert (summary["train_puzzles"], summary["train_examples"], summary["test_puzzles"]) == (30, 90, 10)
    train, test = read_split(tmp_path / "d" / "train"), read_split(tmp_path / "d" / "test")
    assert (train.meta["vocab_size"], train.meta["seq_len"], train.meta["total_groups"]) == (6, 16, 30)
    assert (train.num_examples, train.num_groups, test.num_examples, test.num_groups) == (90, 30, 10, 10)
    assert np.diff(train.group_indices).tolist() == [3] * 30
    for split in (train, test):
        inputs, labels = np.asarray(split.inputs), np.asarray(split.labels)
        assert inputs.dtype == np.uint8 and inputs.max() <= 5 and inputs.min() >= 1 and labels.min() >= 2
        assert all(t.check(i, a) for i, a in zip(inputs, labels))
        assert all(t.parse(_rows(4, np.maximum(i.astype(np.int64) - 1, 0))) is not None for i in inputs[:5])
    originals = {bytes(r) for r in np.asarray(train.inputs)[train.group_indices[:-1]]}
    assert len(originals) == 30 and originals.isdisjoint({bytes(r) for r in np.asarray(test.inputs)})
    again = tmp_path / "again"
    t.build_dataset(DataBuildRequest(out=again, train_size=30, test_size=10, aug=2, seed=3))
    np.testing.assert_array_equal(read_split(again / "train").inputs, train.inputs)  # seeded


@pytest.mark.parametrize("change, message", [
    ({"source": "csv:x.csv"}, "unknown Latin-square data source 'csv:x.csv'"),
    ({"train_size": -1}, "train_size must be >= 0"),
])
def test_build_dataset_errors(registry, tmp_path, change, message):
    req = DataBuildRequest(out=tmp_path, **({"train_size": 5, "test_size": 5} | change))
    with pytest.raises(DatasetError, match=message):
        _task(registry, 4).build_dataset(req)


# --- training through the library ----------------------------------------------------

def test_a_few_training_steps_then_solve(use_registry, tmp_path, monkeypatch, capsys):
    from recursia.infer import solve
    from recursia.train.checkpoint import load_run
    from recursia.train.loop import train

    data = tmp_path / "data"
    make_task("latin", {"size": 4}).build_dataset(DataBuildRequest(out=data, train_size=40, test_size=8, aug=1))
    cfg = validate({
        "task": "latin", "task_options": {"size": 4},
        "model": {"hidden_size": 16, "num_heads": 2, "T": 1, "n": 1, "halt_max_steps": 2,
                  "mixer": "attention", "puzzle_emb_len": 1},
        "train": {"steps": 3, "batch_size": 8, "eval_every": 0, "log_every": 1},
    })
    result = train(cfg, tmp_path / "run", data, log=lambda _: None)
    assert result.step == 3
    assert result.eval["test_examples"] == 8 and 0.0 <= result.eval["test_cell_acc"] <= 1.0
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines if not (x.get("final") or x.get("summary"))] == [1, 2, 3]
    assert all(np.isfinite(x["loss"]) for x in lines if "loss" in x)
    run = load_run(tmp_path / "run")
    assert json.loads(run.metadata["plugins"])["latin"] == "0.1.0"
    assert run.metadata["task"] == "latin" and run.task.describe() == "latin 4x4"
    inputs = run.task.parse(["1...", "....", "..3.", "...."])
    sol = solve(run.model, run.task, inputs)
    assert sol.answer.shape == (16,) and 1 <= sol.steps <= 2 and isinstance(sol.valid, bool)
    assert len(run.task.decode(inputs, sol.answer)) == 4
    # without the plugin, solving with the checkpoint names the package to install
    monkeypatch.setenv(recursia.plugins.ENV_VAR, "")  # the built-ins only
    monkeypatch.setattr(recursia.plugins, "_REGISTRY", recursia.plugins.load_plugins())
    puzzle = tmp_path / "l4.json"
    puzzle.write_text(json.dumps({"task": "latin", "puzzle": ["1...", "....", "..3.", "...."]}))
    from recursia.cli.app import main

    with pytest.raises(SystemExit) as exit_info:
        main(["solve", str(puzzle), "--checkpoint", str(tmp_path / "run")])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().endswith(
        "comes from the plugin 'latin' of the package recursia_latin_square 0.1.0, which is not installed: "
        "pip install recursia_latin_square")
