"""Maze parsing and its errors, breadth-first search, the checker, text pictures."""

from __future__ import annotations

import numpy as np
import pytest

from recursia.errors import PuzzleError
from recursia_maze import grid

# A 5x5 maze with many shortest S-G paths (8 moves, 7 path cells) around one wall.
MAZE = ["S    ",
        "     ",
        "  #  ",
        "     ",
        "    G"]
LABEL = ["Soooo",
         "    o",
         "  # o",
         "    o",
         "    G"]


def tokens(rows: list[str]) -> np.ndarray:
    """Tokens of row strings over ``# SGo`` (labels included)."""
    lut = {"#": grid.WALL, " ": grid.OPEN, "S": grid.START, "G": grid.GOAL, "o": grid.PATH}
    return np.array([lut[ch] for ch in "".join(rows)], dtype=np.int64)


def accepted(answer: list[str], maze: list[str] = MAZE) -> bool:
    """The checker's verdict on an answer given as rows."""
    return grid.is_shortest_path(tokens(maze), tokens(answer))


def parse_error(obj, n: int | None = None) -> str:
    with pytest.raises(PuzzleError) as info:
        grid.parse_maze(obj, n)
    return str(info.value)


# --- parsing ---------------------------------------------------------------------------

def test_parse_gives_int64_tokens_and_round_trips():
    t = grid.parse_maze(MAZE)
    assert t.dtype == np.int64 and t.shape == (25,)
    assert t[:6].tolist() == [grid.START, grid.OPEN, grid.OPEN, grid.OPEN, grid.OPEN, grid.OPEN]
    assert t[12] == grid.WALL and t[24] == grid.GOAL
    assert grid.to_rows(t) == MAZE
    np.testing.assert_array_equal(grid.parse_maze(tuple(MAZE), 5), t)


def _with_row(r: int, row: str) -> list[str]:
    return MAZE[:r - 1] + [row] + MAZE[r:]


@pytest.mark.parametrize("obj, n, expected", [
    ("S   G", None, "expected a list of row strings over '# SG', got a str"),
    ({"rows": MAZE}, None, "expected a list of row strings over '# SG', got a dict"),
    ([], None, "expected a list of row strings over '# SG', got an empty list"),
    (MAZE[:4], 5, "expected 5 rows, got 4"),
    (_with_row(3, "  # "), None, "row 3 has 4 characters, expected 5"),
    (_with_row(2, 12345), None, "row 2 is a int, expected a string of 5 characters"),
    (_with_row(5, "  x G"), None, "row 5: unexpected character 'x' at column 3"),
    (LABEL, None, "row 1: unexpected character 'o' at column 2"),
    (_with_row(3, "  # S"), None, "the maze has 2 S cells, expected exactly one"),
    (_with_row(5, "     "), None, "the maze has 0 G cells, expected exactly one"),
    (["S #  ", "  #  ", "###  ", "     ", "    G"], None, "no path from S to G"),
])
def test_parse_errors_name_the_problem(obj, n, expected):
    message = parse_error(obj, n)
    assert message.startswith(expected) and "\n" not in message


def test_unexpected_character_message_lists_the_alphabet():
    assert parse_error(_with_row(5, "  x G")).endswith("(a maze uses '#' wall, ' ' open, 'S' start, 'G' goal)")


# --- search ----------------------------------------------------------------------------

def test_bfs_distances():
    walls = tokens(MAZE).reshape(5, 5) == grid.WALL
    dist = grid.bfs_distances(walls, (0, 0))
    assert dist.dtype == np.int64 and dist.shape == (5, 5)
    assert dist[0].tolist() == [0, 1, 2, 3, 4] and dist[4, 4] == 8 and dist[2, 2] == -1
    assert dist[3, 2] == 5  # around the wall
    boxed = np.array([[0, 1, 0], [1, 1, 0], [0, 0, 0]], dtype=bool)
    assert grid.bfs_distances(boxed, (0, 0)).tolist() == [[0, -1, -1], [-1, -1, -1], [-1, -1, -1]]
    assert grid.bfs_distances(boxed, (2, 0)).tolist() == [[-1, -1, 4], [-1, -1, 3], [0, 1, 2]]


def test_bfs_distances_on_a_rectangle_leave_a_blocked_start():
    walls = np.zeros((2, 4), dtype=bool)
    walls[0, 1] = walls[1, 2] = True
    assert grid.bfs_distances(walls, (0, 1)).tolist() == [[1, 0, 1, 2], [2, 1, -1, 3]]


def test_shortest_path_length():
    assert grid.shortest_path_length(tokens(MAZE)) == 8
    assert grid.shortest_path_length(tokens(LABEL)) == 8  # path cells can be crossed
    assert grid.shortest_path_length(tokens(["SG##", "####", "####", "####"])) == 1
    assert grid.shortest_path_length(tokens(["S#  ", "#   ", "    ", "   G"])) is None
    with pytest.raises(ValueError, match="exactly one S and one G"):
        grid.shortest_path_length(tokens(["SS  ", "    ", "    ", "   G"]))
    with pytest.raises(ValueError, match="n\\*n tokens"):
        grid.shortest_path_length(np.zeros(24, dtype=np.int64))


def test_pad_cells_block_the_path():
    t = tokens(["S#  ", "    ", "#   ", "   G"])
    assert grid.shortest_path_length(t) == 6
    t[[4, 5]] = grid.PAD
    assert grid.shortest_path_length(t) is None


# --- the checker ---------------------------------------------------------------------

def test_the_label_is_accepted():
    assert accepted(LABEL)


def test_another_shortest_path_is_accepted_although_it_differs_from_the_label():
    alternative = ["S    ",
                   "o    ",
                   "oo#  ",
                   " ooo ",
                   "   oG"]
    assert alternative != LABEL and accepted(alternative)


@pytest.mark.parametrize("answer", [
    pytest.param(["Soooo", "oo  o", "  # o", "    o", "    G"], id="too-long-extra-cells"),
    pytest.param(["So   ", "oo   ", "o #  ", "ooooo", "    G"], id="too-long-detour"),
    pytest.param(["Sooo ", "    o", "  # o", "    o", "    G"], id="broken"),
    pytest.param(["Sooo ", "    o", "  # o", "    o", "o   G"], id="broken-same-count"),
    pytest.param(["Soo  ", "  o  ", "  o  ", "  ooo", "    G"], id="through-a-wall"),
    pytest.param(MAZE, id="missing"),
    pytest.param(["S    ", " oooo", " o# o", "    o", "    G"], id="not-touching-S"),
    pytest.param(["Soooo", "    o", "  #oo", "     ", "    G"], id="not-touching-G"),
])
def test_wrong_paths_are_refused(answer):
    assert not accepted(answer)


def test_the_answer_must_keep_the_maze():
    assert not accepted(["Soooo", "    o", "    o", "    o", "    G"])  # the wall erased
    assert not accepted(["Soooo", "#   o", "  # o", "    o", "    G"])  # a wall added
    assert not accepted(["Goooo", "    o", "  # o", "    o", "    S"])  # S and G swapped
    answer = tokens(LABEL)
    answer[6] = grid.PAD
    assert not grid.is_shortest_path(tokens(MAZE), answer)


def test_malformed_arrays_are_refused_not_raised():
    maze, label = tokens(MAZE), tokens(LABEL)
    assert not grid.is_shortest_path(maze, label[:-1])
    assert not grid.is_shortest_path(maze.reshape(5, 5), label.reshape(5, 5))
    no_start = np.where(maze == grid.START, grid.OPEN, maze)
    assert not grid.is_shortest_path(no_start, no_start)


def test_adjacent_start_and_goal_need_no_path_cells():
    maze = ["SG  ", "    ", "    ", "    "]
    assert accepted(maze, maze)
    assert not accepted(["SGo ", "    ", "    ", "    "], maze)


# --- text ------------------------------------------------------------------------------

def test_render_frames_the_maze():
    assert grid.render(tokens(LABEL)).splitlines() == [
        "+-----+", "|Soooo|", "|    o|", "|  # o|", "|    o|", "|    G|", "+-----+"]


def test_render_marks_changed_cells():
    maze, label = tokens(MAZE), tokens(LABEL)
    lines = grid.render(label, changed=maze != label).splitlines()
    assert lines[0] == "+" + "-" * 10 + "+"
    assert lines[1] == "|S o*o*o*o*|" and lines[3] == "|    #   o*|"


def test_unknown_tokens_show_as_question_marks():
    t = tokens(MAZE)
    t[[1, 2]] = [grid.PAD, 9]
    assert grid.to_rows(t)[0] == "S??  "
