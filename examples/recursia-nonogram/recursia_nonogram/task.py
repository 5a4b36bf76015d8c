"""The ``nonogram`` task: fill an n x n grid so that every row and column shows its clue (n in 4..10).

A clue lists the lengths of the runs of filled cells of its line, in order. Tokens
(vocabulary ``n + 5``): PAD 0, unused clue slot 1, unknown cell 2, empty cell 3, filled
cell 4, clue value ``k`` -> ``k + 4``. Sequence (length ``2 n ceil(n/2) + n^2``): the
row clues (``ceil(n/2)`` right-aligned slots per row), the column clues (the same per
column), then the cells row-major; inputs hold ``UNKNOWN`` cells, labels PAD (ignored)
on every clue slot and ``FILLED``/``EMPTY`` cells. Details in :mod:`recursia_nonogram.layout`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from recursia.api import Augmentation, DataBuildRequest, SquareGridTask, TaskOptions, html_grid
from recursia_nonogram import layout, lines, puzzle
from recursia_nonogram.augment import NonogramDihedral

MIN_SIZE, MAX_SIZE = 4, 10


class NonogramOptions(TaskOptions):
    """Options of the nonogram task.

    Attributes:
        size: side of the grid, 4 to 10.
    """

    size: int = Field(5, ge=MIN_SIZE, le=MAX_SIZE, description="side of the grid (4..10)")


class NonogramTask(SquareGridTask):
    """Fill an n x n grid so that the runs of filled cells of every row and column match its clue."""

    name: ClassVar[str] = "nonogram"
    Options: ClassVar[type[TaskOptions]] = NonogramOptions
    description: ClassVar[str] = "Nonogram (4x4 to 10x10): fill the cells so every row and column shows its clue"
    noun: ClassVar[tuple[str, str]] = ("nonogram", "nonograms")
    default_mixer: ClassVar[str] = "mlp"  # a cell depends on the clues of its whole row and column

    @property
    def vocab_size(self) -> int:
        """PAD, slot, unknown, empty, filled and the clue values 1..size."""
        return layout.vocab_size(self.size)

    @property
    def seq_len(self) -> int:
        """Clue slots of the rows and columns, then the cells."""
        return layout.seq_len(self.size)

    # --- puzzles ----------------------------------------------------------------
    def parse(self, puzzle_field: Any) -> np.ndarray:
        """Input tokens ``(seq_len,)`` int64 of ``{"rows": [[1, 1], [3], [], ...], "cols": [...]}``.

        Raises PuzzleError for a wrong shape, a bad clue, a clue longer than its line
        ("row 3 clue [4, 2] needs 7 cells, the grid has 5"), row and column clues that
        fill different numbers of cells, or clues no grid matches.
        """
        rows, cols = puzzle.read_clues(puzzle_field, self.size)
        puzzle.validate(rows, cols, self.size)
        return layout.encode(rows, cols, self.size)

    def format_puzzle(self, inputs: np.ndarray) -> dict[str, list[list[int]]]:
        """The puzzle field of input tokens: ``parse(format_puzzle(x)) == x``; empty lines are ``[]``."""
        return puzzle.format_clues(inputs, self.size)

    def notes(self, inputs: np.ndarray) -> list[str]:
        """A warning when more than one grid matches the clues (any of them is accepted)."""
        rows, cols = layout.decode_clues(inputs, self.size)
        found, _ = lines.solve(rows, cols, self.size, limit=2, max_nodes=puzzle.SEARCH_NODES)
        if len(found) > 1:
            return ["the puzzle has more than one solution; any grid matching the clues counts as valid"]
        return []

    def check(self, inputs: np.ndarray, answer: np.ndarray) -> bool:
        """Whether every cell of ``answer`` is filled or empty and every row and column matches its clue."""
        answer = np.asarray(answer)
        if answer.shape != (self.seq_len,):
            return False
        grid = layout.grid_of(answer, self.size)
        if grid is None:
            return False
        rows, cols = layout.decode_clues(inputs, self.size)
        return lines.matches(grid, rows, cols)

    def decode(self, inputs: np.ndarray, answer: np.ndarray) -> list[str]:
        """The answer's rows as strings: ``#`` filled, ``.`` empty, ``?`` any other token."""
        chars = {layout.FILLED: "#", layout.EMPTY: "."}
        return ["".join(chars.get(int(t), "?") for t in row) for row in layout.cells(answer, self.size)]

    def render(self, inputs: np.ndarray, answer: np.ndarray | None = None,
               changed: np.ndarray | None = None) -> str:
        """The clues around the grid of the answer when given, else of the puzzle (``?`` cells).

        ``changed`` (a boolean ``(seq_len,)`` mask) marks cells with ``*``.
        """
        shown = inputs if answer is None else answer
        marks = None if changed is None else np.asarray(changed, bool)[layout.clue_len(self.size):]
        return puzzle.render(inputs, shown, self.size, marks)

    def render_html(self, inputs: np.ndarray, answer: np.ndarray | None = None,
                    changed: np.ndarray | None = None) -> str:
        """HTML table: the column clues above the grid (one number a cell, stacked), the row
        clues left of it, filled cells dark; ``changed`` (a ``(seq_len,)`` mask) marks cells."""
        n = self.size
        rows, cols = layout.decode_clues(inputs, n)
        depth, width = max(map(len, cols), default=0), max(map(len, rows), default=0)
        shown = layout.cells(inputs if answer is None else answer, n)  # (n, n) tokens
        texts = np.full((depth + n, width + n), "", dtype=object)
        colours = np.full(texts.shape, "", dtype=object)
        for c, clue in enumerate(cols):
            texts[depth - len(clue):depth, width + c] = clue
        for r, clue in enumerate(rows):
            texts[depth + r, width - len(clue):width] = clue
        colours[depth:, width:] = np.where(shown == layout.FILLED, "#222222",
                                           np.where(shown == layout.EMPTY, "white", "#bbbbbb"))
        marks = np.zeros(texts.shape, dtype=bool)
        if changed is not None:
            marks[depth:, width:] = np.asarray(changed, bool)[layout.clue_len(n):].reshape(n, n)
        return html_grid(texts, changed=marks, colours=colours)

    def options_for_puzzle(self, puzzle_field: Any) -> dict:
        """``{"size": n}`` from the number of row clues (4..10); the current options otherwise."""
        n = puzzle.infer_size(puzzle_field)
        return {"size": n} if n is not None and MIN_SIZE <= n <= MAX_SIZE else self.options.model_dump()

    # --- data -------------------------------------------------------------------
    def build_dataset(self, request: DataBuildRequest) -> dict:
        """Generate a dataset of uniquely solvable puzzles (see :mod:`recursia_nonogram.build`)."""
        from recursia_nonogram.build import build_nonogram_dataset

        return build_nonogram_dataset(self, request)

    def default_dataset(self, cache_dir: Path, seed: int) -> DataBuildRequest:
        """8000 train puzzles with 3 augmented copies each, 1000 test puzzles."""
        return DataBuildRequest(out=cache_dir, seed=seed, train_size=8000, test_size=1000, aug=3)

    def augmentations(self) -> list[Augmentation]:
        """``nonogram.dihedral`` (rotations and mirror images, clues included)."""
        return [NonogramDihedral()]

    # --- configuration ----------------------------------------------------------
    def presets(self) -> dict[str, dict]:
        """The ``paper`` and ``small`` presets (see :mod:`recursia_nonogram.presets`)."""
        from recursia_nonogram.presets import presets

        return presets()
