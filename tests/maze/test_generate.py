"""The batched maze searches, the official label convention and the Maze-Hard generator."""

from __future__ import annotations

import numpy as np
import pytest

from recursia.errors import DatasetError
from recursia_maze import generate as gen
from recursia_maze.grid import bfs_distances, is_shortest_path, shortest_path_length

STAT_MAZES = 40  # generated 30x30 mazes compared with the official ones (~0.25 s each)


def random_mazes(count: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Walls (count, n, n) at Maze-Hard densities and one open start cell per maze (-1 if none)."""
    rng = np.random.default_rng(seed)
    walls = gen.random_walls(rng, count, n)
    return walls, gen.random_open_cells(rng, walls)


@pytest.fixture(scope="module")
def official():
    """Inputs and labels (1000, 900) of the shared Maze-Hard training mazes."""
    from tests.conftest import shared_path

    folder = shared_path("data", "maze-30x30-hard-1k", "train")
    return np.load(folder / "all__inputs.npy"), np.load(folder / "all__labels.npy")


@pytest.fixture(scope="module")
def generated_30x30():
    """The first :data:`STAT_MAZES` generated 30x30 mazes of seed 0 (default min_path 109)."""
    return gen.generate(STAT_MAZES, 30, seed=0, workers=2)


# --- searches --------------------------------------------------------------------------

@pytest.mark.parametrize("n", [2, 5, 30, 70])  # 70: rows span two 64-bit words
def test_batched_distances_match_single_bfs(n):
    walls, starts = random_mazes(40, n, seed=n)
    rows = np.flatnonzero(starts >= 0)
    dist = gen.distance_maps(~walls[rows], starts[rows])
    for d, w, s in zip(dist, walls[rows], starts[rows]):
        np.testing.assert_array_equal(d, bfs_distances(w, divmod(int(s), n)))


@pytest.mark.parametrize("n", [2, 5, 30, 70])
def test_path_lengths_match_single_bfs(n):
    walls, starts = random_mazes(60, n, seed=n + 1)
    rows = np.flatnonzero(starts >= 0)
    walls, starts = walls[rows], starts[rows]
    goals = gen.random_open_cells(np.random.default_rng(n), walls)
    goals[:3] = starts[:3]  # a start that is its own goal is 0 moves away
    moves = gen.path_lengths(~walls, starts, goals)
    for m, w, s, g in zip(moves, walls, starts, goals):
        assert m == bfs_distances(w, divmod(int(s), n))[divmod(int(g), n)]
    assert (moves[:3] == 0).all() and (n == 2 or (moves < 0).any())


@pytest.mark.parametrize("n,min_path", [(5, 1), (5, 3), (30, 20), (30, 60), (70, 90)])
def test_bit_packed_far_counts_match_single_bfs(n, min_path):
    walls, starts = random_mazes(200, n, seed=min_path)
    far, longest = gen.far_counts(gen.pack_rows(~walls), gen.cell_bits(starts, len(walls), n), min_path)
    expected, deepest = np.zeros(len(walls), dtype=np.int64), 0
    for i in np.flatnonzero(starts >= 0):
        d = bfs_distances(walls[i], divmod(int(starts[i]), n))
        expected[i], deepest = np.count_nonzero(d >= min_path), max(deepest, int(d.max()))
    np.testing.assert_array_equal(far, expected)
    assert longest == deepest
    assert far.any() and not far.all()


def test_pack_rows_and_popcount():
    cells = np.zeros((2, 3, 70), dtype=bool)
    cells[0, 1, [0, 63, 64, 69]] = True
    words = gen.pack_rows(cells)
    assert words.shape == (2, 3, 2)
    assert int(words[0, 1, 0]) == (1 | 1 << 63) and int(words[0, 1, 1]) == (1 | 1 << 5)
    np.testing.assert_array_equal(gen.popcount(words), [4, 0])


def test_labels_reproduce_every_official_label(official):
    inputs, labels = official
    np.testing.assert_array_equal(gen.path_labels(inputs), labels)


def test_labels_take_the_first_of_down_left_right_up():
    maze = np.full((3, 3), gen.OPEN)
    maze[0, 0], maze[2, 2] = gen.START, gen.GOAL
    label = gen.path_labels(maze.reshape(1, 9))[0].reshape(3, 3)
    assert (label[:, 0] == [gen.START, gen.PATH, gen.PATH]).all() and label[2, 1] == gen.PATH
    assert np.count_nonzero(label == gen.PATH) == 3


# --- generation ------------------------------------------------------------------------

def test_default_min_path():
    assert gen.default_min_path(30) == 109
    assert [gen.default_min_path(n) for n in (4, 7, 9, 11, 15, 20, 40)] == [9, 21, 28, 36, 51, 71, 147]


def test_generated_mazes_are_valid_distinct_and_long_enough():
    mazes = gen.generate(300, 9, seed=3, min_path=12)
    assert mazes.inputs.shape == mazes.labels.shape == (300, 81)
    assert mazes.inputs.dtype == mazes.labels.dtype == np.uint8
    assert len({row.tobytes() for row in mazes.inputs}) == 300
    assert mazes.candidates > 300 and mazes.clipped == 0
    lengths = [shortest_path_length(row) for row in mazes.inputs]
    assert min(lengths) >= 12
    assert all(is_shortest_path(x, y) for x, y in zip(mazes.inputs, mazes.labels))
    np.testing.assert_array_equal(mazes.labels, gen.path_labels(mazes.inputs))


def test_generation_is_reproducible_and_extends():
    small, large = gen.generate(30, 11, seed=5, min_path=22), gen.generate(60, 11, seed=5, min_path=22)
    np.testing.assert_array_equal(large.inputs[:30], small.inputs)
    np.testing.assert_array_equal(gen.generate(30, 11, seed=5, min_path=22).labels, small.labels)
    assert not np.array_equal(gen.generate(30, 11, seed=6, min_path=22).inputs, small.inputs)


def count_shortest_paths(row: np.ndarray) -> int:
    """Shortest S-G paths of one maze (tokens), counted by dynamic programming over BFS layers."""
    n = int(np.sqrt(row.size))
    grid = row.reshape(n, n)
    walls = grid == gen.WALL
    start = tuple(int(v) for v in np.argwhere(grid == gen.START)[0])
    goal = tuple(int(v) for v in np.argwhere(grid == gen.GOAL)[0])
    dist = bfs_distances(walls, start)
    ways = np.zeros((n, n), dtype=np.int64)
    ways[start] = 1
    for level in range(1, dist[goal] + 1):
        for r, c in np.argwhere(dist == level):
            ways[r, c] = sum(ways[r + dr, c + dc] for dr, dc in gen.STEPS
                             if 0 <= r + dr < n and 0 <= c + dc < n and dist[r + dr, c + dc] == level - 1)
    return int(ways[goal])


def test_unique_shortest_path_counts_the_shortest_paths():
    mazes = gen.generate(200, 7, seed=4, min_path=6)
    unique = gen.unique_shortest_path(mazes.inputs)
    assert unique.dtype == bool and 0 < unique.sum() < 200
    assert unique.tolist() == [count_shortest_paths(row) == 1 for row in mazes.inputs]


def test_unique_path_keeps_only_mazes_with_one_shortest_path():
    mazes = gen.generate(150, 9, seed=2, min_path=10, unique_path=True)
    assert len({row.tobytes() for row in mazes.inputs}) == 150
    assert all(count_shortest_paths(row) == 1 for row in mazes.inputs)
    assert min(shortest_path_length(row) for row in mazes.inputs) >= 10
    assert all(is_shortest_path(x, y) for x, y in zip(mazes.inputs, mazes.labels))
    plain = gen.generate(150, 9, seed=2, min_path=10)
    assert sum(count_shortest_paths(row) > 1 for row in plain.inputs) > 100  # most have several
    np.testing.assert_array_equal(gen.generate(60, 9, seed=2, min_path=10, unique_path=True).inputs,
                                  mazes.inputs[:60])


def test_workers_do_not_change_the_result():
    one = gen.generate(10, 5, seed=1, min_path=12)
    two = gen.generate(10, 5, seed=1, min_path=12, workers=2)
    np.testing.assert_array_equal(one.inputs, two.inputs)
    assert one.candidates == two.candidates


def test_impossible_min_path_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(gen, "PROBE_CELLS", 2_000_000)
    with pytest.raises(DatasetError, match=r"min_path 60 is too long for 7x7 mazes: none of [\d,]+ random mazes "
                                           r"has a start and goal that far apart \(the longest shortest path seen "
                                           r"is \d+ moves\); lower min_path"):
        gen.generate(5, 7, seed=0, min_path=60)
    monkeypatch.setattr(gen, "MAX_CELLS", 10_000_000)
    with pytest.raises(DatasetError, match=r"min_path 22 makes 7x7 mazes too rare: \d+ of [\d,]+ random mazes "
                                           r"qualify, so 1000 would take about [\d,]+; lower min_path"):
        gen.generate(1000, 7, seed=0, min_path=22)
    with pytest.raises(DatasetError, match=r"min_path with unique_path 22 makes 7x7 mazes too rare: .*; lower "
                                           r"min_path, drop unique_path or ask for fewer"):
        gen.generate(1000, 7, seed=0, min_path=22, unique_path=True)


def test_bad_arguments():
    with pytest.raises(ValueError, match="size 1"):
        gen.generate(1, 1, seed=0)
    with pytest.raises(ValueError, match="count -1"):
        gen.generate(-1, 9, seed=0)
    assert gen.generate(0, 9, seed=0).inputs.shape == (0, 81)


# --- statistics of Maze-Hard -----------------------------------------------------------

def test_generated_30x30_match_the_official_statistics(generated_30x30, official):
    """Shortest paths and wall densities of generated 30x30 mazes vs the 1,000 official ones.

    Official: paths 109-146 moves (mean 114.1, median 112), walls 0.277-0.450 (mean
    0.371). The bounds allow for the sampling noise of STAT_MAZES mazes.
    """
    ours = np.array([shortest_path_length(row) for row in generated_30x30.inputs])
    theirs = (official[1] == gen.PATH).sum(axis=1) + 1
    assert ours.min() == theirs.min() == 109
    assert ours.max() <= 160 and abs(np.median(ours) - np.median(theirs)) <= 4
    assert abs(ours.mean() - theirs.mean()) <= 5
    walls_ours = (generated_30x30.inputs == gen.WALL).mean(axis=1)
    walls_theirs = (official[0] == gen.WALL).mean(axis=1)
    assert 0.26 <= walls_ours.min() and walls_ours.max() <= 0.47
    assert abs(walls_ours.mean() - walls_theirs.mean()) <= 0.02
    manhattan_ours, manhattan_theirs = start_goal_distance(generated_30x30.inputs), start_goal_distance(official[0])
    assert abs(manhattan_ours.mean() - manhattan_theirs.mean()) <= 5  # official mean 19.7: S and G walled apart


def start_goal_distance(inputs: np.ndarray) -> np.ndarray:
    """(B,) Manhattan distance between S and G of 30x30 mazes."""
    (sr, sc), (gr, gc) = np.divmod(np.argmax(inputs == gen.START, axis=1), 30), \
        np.divmod(np.argmax(inputs == gen.GOAL, axis=1), 30)
    return np.abs(sr - gr) + np.abs(sc - gc)
