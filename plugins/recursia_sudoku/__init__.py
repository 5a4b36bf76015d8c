"""The built-in Sudoku plugin: the ``sudoku`` task and its 9x9 augmentations.

Loaded through the same hooks as a third-party plugin (it is in the core's list of
default plugins).
"""

from __future__ import annotations

from recursia.api import hookimpl
from recursia_sudoku.augment import sudoku_augmentations
from recursia_sudoku.task import SudokuTask

__version__ = "0.1.0"


@hookimpl
def register_tasks(register):
    """Register :class:`SudokuTask`."""
    register(SudokuTask)


@hookimpl
def register_augmentations(register):
    """Register the 9x9 augmentations (``sudoku.digits``, ``sudoku.bands``, ...)."""
    for augmentation in sudoku_augmentations(9):
        register(augmentation)
