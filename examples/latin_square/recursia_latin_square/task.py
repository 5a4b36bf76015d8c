"""The ``latin`` task: complete an n x n Latin square (n in 4..9).

Tokens: PAD 0, blank 1, symbol ``k`` -> ``k + 1`` (vocabulary ``n + 2``), one token per
cell in row-major order (sequence length ``n * n``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from recursia.api import Augmentation, DataBuildRequest, SquareGridTask, TaskOptions, format_rows
from recursia_latin_square import grid
from recursia_latin_square.augment import latin_augmentations


class LatinOptions(TaskOptions):
    """Options of the Latin-square task.

    Attributes:
        size: side of the square, 4 to 9.
    """

    size: int = Field(5, ge=grid.MIN_SIZE, le=grid.MAX_SIZE, description="side of the square (4..9)")


class LatinTask(SquareGridTask):
    """Fill an n x n grid so that every row and every column holds each of 1..n once."""

    name: ClassVar[str] = "latin"
    Options: ClassVar[type[TaskOptions]] = LatinOptions
    description: ClassVar[str] = "Latin square (4x4 to 9x9): every row and column holds each of 1..n once"
    default_mixer: ClassVar[str] = "mlp"
    sides: ClassVar[tuple[int, ...]] = grid.SIZES
    noun: ClassVar[tuple[str, str]] = ("square", "squares")

    @property
    def vocab_size(self) -> int:
        """PAD, blank and the ``size`` symbols."""
        return self.size + 2

    # --- puzzles ----------------------------------------------------------------
    def parse(self, puzzle: Any) -> np.ndarray:
        """Tokens ``(size*size,)`` int64 of one string or a list of row strings (``.``/``0`` blank).

        Raises PuzzleError for a wrong shape, an unexpected character, a symbol repeated
        in a row or column ("row 2 has two 3s") or givens that admit no completion.
        """
        symbols = grid.parse_puzzle(puzzle, self.size)
        grid.validate_puzzle(symbols, self.size)
        return grid.symbols_to_tokens(symbols)

    def format_puzzle(self, inputs: np.ndarray) -> list[str]:
        """The puzzle as ``size`` row strings, ``.`` for a blank (what :meth:`parse` reads)."""
        return self.decode(inputs, inputs)

    def check(self, inputs: np.ndarray, answer: np.ndarray) -> bool:
        """Whether ``answer`` is a complete Latin square that keeps the givens of ``inputs``."""
        return grid.is_valid_solution(grid.tokens_to_symbols(inputs), grid.tokens_to_symbols(answer), self.size)

    def decode(self, inputs: np.ndarray, answer: np.ndarray) -> list[str]:
        """The answer as ``size`` row strings (``.`` where a cell holds no symbol)."""
        return format_rows(grid.tokens_to_symbols(answer), self.size)

    def render(self, inputs: np.ndarray, answer: np.ndarray | None = None,
               changed: np.ndarray | None = None) -> str:
        """Text square of the answer when given, else of the puzzle; ``changed`` cells get a ``*``."""
        shown = inputs if answer is None else answer
        return grid.render(grid.tokens_to_symbols(shown), self.size, changed)

    # --- data -------------------------------------------------------------------
    def build_dataset(self, request: DataBuildRequest) -> dict:
        """Generate a dataset (see :mod:`recursia_latin_square.build`)."""
        from recursia_latin_square.build import build_latin_dataset

        return build_latin_dataset(self, request)

    def default_dataset(self, cache_dir: Path, seed: int) -> DataBuildRequest:
        """2000 train puzzles with 3 augmented copies each, 500 test puzzles."""
        return DataBuildRequest(out=cache_dir, seed=seed, train_size=2000, test_size=500, aug=3)

    def augmentations(self) -> list[Augmentation]:
        """Symbol relabelling, row permutation, column permutation, transpose."""
        return latin_augmentations(self.size)

    # --- configuration ----------------------------------------------------------
    def presets(self) -> dict[str, dict]:
        """The ``paper`` and ``small`` presets (see :mod:`recursia_latin_square.presets`)."""
        from recursia_latin_square.presets import presets

        return presets()
