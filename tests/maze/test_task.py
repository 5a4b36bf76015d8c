"""The Maze task class, its pictures and the plugin's hooks; the real Maze-Hard labels."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from pydantic import ValidationError

import recursia_maze
from recursia.errors import PuzzleError
from recursia.plugins import load_plugins
from recursia.task import Task
from recursia.grids import Dihedral
from recursia_maze import grid, png
from recursia_maze.task import MazeTask
from tests.maze.test_grid import LABEL, MAZE, tokens

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "puzzles"
ORANGE = np.array([1.0, 0.6, 0.0])


def task(size: int = 30, **options) -> MazeTask:
    """A Maze task of the given size."""
    return MazeTask(MazeTask.Options(size=size, **options))


def example(name: str) -> list[str]:
    """The rows of an example puzzle file, after checking its task field."""
    data = json.loads((EXAMPLES / name).read_text())
    assert data["task"] == "maze"
    return data["puzzle"]


def real_split(shared, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``count`` inputs and labels of the shared Maze-Hard train split (or skip)."""
    folder = shared("data", "maze-30x30-hard-1k", "train")
    return np.load(folder / "all__inputs.npy")[:count], np.load(folder / "all__labels.npy")[:count]


def has_orange(picture: Path) -> bool:
    """Whether a PNG shows path-coloured pixels."""
    rgb = matplotlib.image.imread(picture)[..., :3]
    return bool((np.abs(rgb - ORANGE).max(axis=-1) < 0.02).any())


def test_options_and_shapes():
    t = MazeTask()
    assert (t.size, t.options.min_path, t.vocab_size, t.seq_len) == (30, None, 6, 900)
    assert (task(9).seq_len, task(9, min_path=12).options.min_path) == (81, 12)
    assert MazeTask.name == "maze" and MazeTask.default_mixer == "attention" and MazeTask.description
    assert t.describe() == "maze 30x30" and task(11, min_path=40).describe() == "maze 11x11, min path 40"
    assert task(9, min_path=10, unique_path=True).describe() == \
        "maze 9x9, min path 10, unique path"
    for bad in ({"size": 3}, {"min_path": 0}, {"size": 9, "walls": 0.3}):
        with pytest.raises(ValidationError):
            MazeTask.Options(**bad)


def test_parse_the_example_files():
    t9 = task(9)
    inputs = t9.parse(example("maze9.json"))
    assert inputs.dtype == np.int64 and inputs.shape == (81,)
    assert t9.decode(inputs, inputs) == example("maze9.json")
    assert task().parse(example("maze30.json")).shape == (900,)
    assert task(9).parse(example("maze.json")).shape == (81,)  # the small preset's size


def test_the_big_example_is_the_first_real_maze(shared):
    inputs, _ = real_split(shared, 1)
    np.testing.assert_array_equal(task().parse(example("maze30.json")), inputs[0].astype(np.int64))


def test_parse_uses_the_task_size():
    with pytest.raises(PuzzleError, match="^expected 30 rows, got 9$"):
        task().parse(example("maze9.json"))
    with pytest.raises(PuzzleError, match="^no path from S to G"):
        task(5).parse(["S #  ", "  #  ", "###  ", "     ", "    G"])


def test_check_decode_and_render():
    t = task(5)
    inputs, label = t.parse(MAZE), tokens(LABEL)
    assert t.check(inputs, label) and not t.check(inputs, inputs)
    assert t.decode(inputs, label) == LABEL
    assert t.render(inputs).splitlines()[1] == "|S    |"
    assert t.render(inputs, label).splitlines()[1] == "|Soooo|"
    assert t.render(inputs, label, changed=inputs != label).splitlines()[1] == "|S o*o*o*o*|"


def test_render_png_draws_the_maze_and_the_path(tmp_path):
    t = task(5)
    inputs, label = t.parse(MAZE), tokens(LABEL)
    t.render_png(inputs, label, tmp_path / "answer.png")
    t.render_png(inputs, None, tmp_path / "sub" / "maze.png")
    answer = matplotlib.image.imread(tmp_path / "answer.png")
    assert answer.ndim == 3 and answer.shape[0] > 100 and answer.shape[1] > 100
    assert has_orange(tmp_path / "answer.png") and not has_orange(tmp_path / "sub" / "maze.png")
    assert png.title(inputs) == "maze 5x5"
    assert png.title(inputs, label) == "maze 5x5: 7 path cells, a shortest path"
    assert png.title(inputs, inputs) == "maze 5x5: 0 path cells, NOT a shortest path"


def test_options_for_puzzle_follow_its_size():
    t = task(30, min_path=100)
    kept = {"min_path": 100, "unique_path": False}
    assert t.options_for_puzzle(example("maze9.json")) == {"size": 9} | kept
    assert t.options_for_puzzle("S G") == {"size": 30} | kept
    assert t.options_for_puzzle([]) == {"size": 30} | kept


def test_compatible_compares_the_size_only():
    assert task(30).compatible({"size": 30, "min_path": 50}) is None
    assert task(9).compatible({"size": 30}) == (
        "this is a 9x9 maze but the checkpoint was trained on 30x30 mazes (task option size=30); "
        "train a 9x9 model (--set task_options.size=9) or pass a 30x30 maze")
    assert "(--set task_options.size=30 or --preset paper)" in task(30).compatible({"size": 11})
    assert "are not maze options" in task(30).compatible({"size": 30, "colours": 10})


def test_augmentations_are_the_registered_dihedral_transforms():
    augs = task(9).augmentations()
    assert len(augs) == 1 and isinstance(augs[0], Dihedral) and augs[0].name == "grid.dihedral"


def test_presets_include_paper_and_small():
    assert {"paper", "small"} <= set(MazeTask().presets())


def test_plugin_hooks_register_the_task():
    tasks = []
    recursia_maze.register_tasks(register=tasks.append)
    assert tasks == [MazeTask] and issubclass(MazeTask, Task)
    registry = load_plugins()
    assert registry.task("maze") is MazeTask and registry.owners[("tasks", "maze")] == "maze"
    assert recursia_maze.__version__


def test_real_labels_pass_the_checker(shared):
    inputs, labels = real_split(shared, 50)
    t = task()
    for x, y in zip(inputs, labels):
        assert t.check(x, y)
        assert grid.shortest_path_length(x) == int((y == grid.PATH).sum()) + 1
        np.testing.assert_array_equal(t.parse(grid.to_rows(x)), x)


def test_transformed_real_labels_pass_the_checker(shared):
    inputs, labels = real_split(shared, 4)
    aug = task().augmentations()[0]
    for k in range(8):
        moved = aug.apply(np.stack([inputs, labels], axis=1), {"k": k})
        assert all(task().check(x, y) for x, y in moved)
