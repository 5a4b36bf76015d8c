"""The Maze task: mark a shortest path from S to G; tokens as the official Maze-Hard data."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from recursia.api import Augmentation, DataBuildRequest, Dihedral, SquareGridTask, TaskOptions
from recursia_maze import grid


class MazeOptions(TaskOptions):
    """Options of the Maze task.

    Attributes:
        size: side of the square maze (30 for Maze-Hard).
        min_path: data option: generated mazes keep only instances whose shortest
            S-G path has at least this many moves. ``None`` takes the length that is as
            rare at this size as Maze-Hard's 109 moves (110 path cells counting S) is at
            30x30, e.g. 36 at 11x11 (:func:`recursia_maze.generate.default_min_path`).
            Solving ignores it.
        unique_path: data option: generated mazes keep only instances with a single
            shortest S-G path, so that the label is the only right answer (the ``small``
            preset; Maze-Hard does not ask for it). Solving ignores it.
    """

    size: int = Field(30, ge=4)
    min_path: int | None = Field(None, ge=1)
    unique_path: bool = False


class MazeTask(SquareGridTask):
    """Find a shortest path from S to G through the open cells of a maze."""

    name: ClassVar[str] = "maze"
    Options: ClassVar[type[TaskOptions]] = MazeOptions
    description: ClassVar[str] = "Maze (any square size, 30x30 by default): mark a shortest path from S to G"
    default_mixer: ClassVar[str] = "attention"
    noun: ClassVar[tuple[str, str]] = ("maze", "mazes")

    @property
    def vocab_size(self) -> int:
        """PAD, wall, open, S, G and path."""
        return grid.VOCAB_SIZE

    def describe(self) -> str:
        """E.g. ``"maze 30x30"`` or ``"maze 9x9, min path 10, unique path"``."""
        extra = "" if self.options.min_path is None else f", min path {self.options.min_path}"
        extra += ", unique path" if self.options.unique_path else ""
        return f"{self.name} {self.size}x{self.size}{extra}"

    # --- puzzles ----------------------------------------------------------------
    def parse(self, puzzle: Any) -> np.ndarray:
        """Tokens ``(size*size,)`` int64 of ``size`` row strings over ``# SG`` (space = open).

        Raises PuzzleError for a wrong shape, an unknown character, not exactly one S
        and one G, or a maze without a path from S to G.
        """
        return grid.parse_maze(puzzle, self.size)

    def format_puzzle(self, inputs: np.ndarray) -> list[str]:
        """The maze as ``size`` row strings (what :meth:`parse` reads)."""
        return grid.to_rows(inputs)

    def check(self, inputs: np.ndarray, answer: np.ndarray) -> bool:
        """Whether ``answer`` is the maze with one shortest S-G path marked ``o`` (any shortest path)."""
        return grid.is_shortest_path(inputs, answer)

    def decode(self, inputs: np.ndarray, answer: np.ndarray) -> list[str]:
        """The answer as ``size`` row strings with ``o`` on the path (``?`` for a PAD token)."""
        return grid.to_rows(answer)

    def render(self, inputs: np.ndarray, answer: np.ndarray | None = None,
               changed: np.ndarray | None = None) -> str:
        """Framed text picture of the answer when given (path ``o``), else of the maze."""
        return grid.render(inputs if answer is None else answer, changed)

    def render_html(self, inputs: np.ndarray, answer: np.ndarray | None = None,
                    changed: np.ndarray | None = None) -> str:
        """HTML table of the maze in the colours of :meth:`render_png`: walls dark, open
        cells white, ``S`` green, ``G`` red, the answer's path orange (magenta where it is
        not on an open cell); ``changed`` cells marked."""
        from recursia.api import html_grid
        from recursia_maze.png import maze_rgb

        rgb = maze_rgb(inputs, answer)  # (n, n, 3)
        n = rgb.shape[0]
        flat = np.asarray(inputs).reshape(n, n)
        cells = np.where(flat == grid.START, "S", np.where(flat == grid.GOAL, "G", ""))
        return html_grid(cells, changed=changed, colours=rgb)

    def render_png(self, inputs: np.ndarray, answer: np.ndarray | None, path: Path) -> None:
        """Draw the maze and, when given, the answer's path into a PNG file at ``path``."""
        from recursia_maze.png import draw_maze

        draw_maze(inputs, answer, path)

    def options_for_puzzle(self, puzzle: Any) -> dict:
        """The current options with ``size`` = the number of rows; unchanged if it is no list
        or too small to be a maze (parse then says what is wrong)."""
        options = self.options.model_dump()
        if isinstance(puzzle, (list, tuple)) and len(puzzle) >= 4:
            options["size"] = len(puzzle)
        return options

    # --- data -------------------------------------------------------------------
    def build_dataset(self, request: DataBuildRequest) -> dict:
        """Generate or import a dataset (see :mod:`recursia_maze.build`)."""
        from recursia_maze.build import build_maze_dataset

        return build_maze_dataset(self, request)

    def augmentations(self) -> list[Augmentation]:
        """The 8 dihedral transforms (``grid.dihedral``)."""
        return [Dihedral()]

    # --- configuration ----------------------------------------------------------
    def presets(self) -> dict[str, dict]:
        """The ``paper`` and ``small`` presets (see :mod:`recursia_maze.presets`)."""
        from recursia_maze.presets import presets

        return presets(self)
