"""The Sudoku task: 4x4, 6x6 or 9x9 grids, tokens PAD 0, blank 1, digit d -> d + 1."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np

from recursia.api import Augmentation, DataBuildRequest, SquareGridTask, TaskOptions, format_rows
from recursia_sudoku import grid
from recursia_sudoku.augment import sudoku_augmentations


class SudokuOptions(TaskOptions):
    """Options of the Sudoku task.

    Attributes:
        size: side of the grid: 4 (2x2 boxes), 6 (2x3 boxes) or 9 (3x3 boxes).
    """

    size: Literal[4, 6, 9] = 9


class SudokuTask(SquareGridTask):
    """Fill a Sudoku grid so that every row, column and box holds each digit once."""

    name: ClassVar[str] = "sudoku"
    Options: ClassVar[type[TaskOptions]] = SudokuOptions
    description: ClassVar[str] = "Sudoku (4x4, 6x6 or 9x9): every row, column and box holds each digit once"
    paper_ablations: ClassVar[dict[str, float]] = {
        "trm": 87.4, "act": 86.1, "separate": 82.4, "no-ema": 79.9, "4-layers": 79.5, "attention": 74.7,
        "less-recursion": 73.7, "1-step": 56.5, "hrm": 55.0, "single-z": 71.9, "multi-z": 77.6}
    paper_ablations_source: ClassVar[str] = ("TRM paper (arXiv 2510.04871v1), Tables 1 and 2: Sudoku-Extreme "
                                             "test exact accuracy, paper scale")
    default_mixer: ClassVar[str] = "mlp"
    sides: ClassVar[tuple[int, ...]] = grid.SIZES
    noun: ClassVar[tuple[str, str]] = ("puzzle", "Sudoku")

    @property
    def vocab_size(self) -> int:
        """PAD, blank and the ``size`` digits."""
        return grid.vocab_size(self.size)

    # --- puzzles ----------------------------------------------------------------
    def parse(self, puzzle: Any) -> np.ndarray:
        """Tokens ``(size*size,)`` int64 of a puzzle string or list of row strings.

        Raises PuzzleError for a wrong shape, an unexpected character, a repeated digit
        or a puzzle without a solution.
        """
        digits = grid.parse_puzzle(puzzle, self.size)
        grid.validate_puzzle(digits, self.size)
        return grid.digits_to_tokens(digits)

    def format_puzzle(self, inputs: np.ndarray) -> list[str]:
        """The puzzle as ``size`` row strings, ``.`` for a blank (what :meth:`parse` reads)."""
        return self.decode(inputs, inputs)

    def notes(self, inputs: np.ndarray) -> list[str]:
        """A warning when the puzzle has several solutions (any of them passes the checker)."""
        from recursia_sudoku.solver import count_solutions

        if count_solutions(grid.tokens_to_digits(inputs).astype(np.int64), self.size, limit=2) > 1:
            return ["the puzzle has more than one solution (a real Sudoku has one): the checker accepts any "
                    "of them, so the answer is one solution, not the solution"]
        return []

    def check(self, inputs: np.ndarray, answer: np.ndarray) -> bool:
        """Whether ``answer`` tokens are a complete, valid grid that keeps the givens of ``inputs``."""
        return grid.is_valid_solution(grid.tokens_to_digits(inputs), grid.tokens_to_digits(answer), self.size)

    def decode(self, inputs: np.ndarray, answer: np.ndarray) -> list[str]:
        """The answer as ``size`` strings of digits (``.`` where a cell holds no digit)."""
        return format_rows(grid.tokens_to_digits(answer), self.size)

    def render(self, inputs: np.ndarray, answer: np.ndarray | None = None,
               changed: np.ndarray | None = None) -> str:
        """Text grid of the answer when given, else of the puzzle; ``changed`` cells get a ``*``."""
        shown = inputs if answer is None else answer
        return grid.render(grid.tokens_to_digits(shown), self.size, changed)

    def render_html(self, inputs: np.ndarray, answer: np.ndarray | None = None,
                    changed: np.ndarray | None = None) -> str:
        """HTML table of the answer when given, else of the puzzle: digits, thick box
        borders, the puzzle's givens bold, ``changed`` cells marked."""
        from recursia.api import html_grid

        n = self.size
        shown = grid.tokens_to_digits(inputs if answer is None else answer).reshape(n, n)
        cells = [[str(d) if d else "" for d in row] for row in shown]
        given = grid.tokens_to_digits(inputs).reshape(n, n) != 0
        return html_grid(cells, changed=changed, box=grid.box_shape(n), given=given)

    # --- data -------------------------------------------------------------------
    def build_dataset(self, request: DataBuildRequest) -> dict:
        """Generate or import a dataset (see :mod:`recursia_sudoku.build`)."""
        from recursia_sudoku.build import build_sudoku_dataset

        return build_sudoku_dataset(self, request)

    def augmentations(self) -> list[Augmentation]:
        """Digit relabelling, band/stack and row/column shuffles, and the transpose for square boxes."""
        return sudoku_augmentations(self.size)

    # --- configuration ----------------------------------------------------------
    def presets(self) -> dict[str, dict]:
        """The ``paper`` and ``small`` presets (see :mod:`recursia_sudoku.presets`)."""
        from recursia_sudoku.presets import presets

        return presets(self)
