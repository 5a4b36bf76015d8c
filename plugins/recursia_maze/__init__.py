"""The built-in Maze plugin: the ``maze`` task (Maze-Hard tokens, any square size).

Its augmentations are the dihedral transforms of the built-in ``grid`` plugin, taken
from the plugin registry. Loaded through the same hooks as a third-party plugin.
"""

from __future__ import annotations

from recursia.api import hookimpl
from recursia_maze.task import MazeTask

__version__ = "0.1.0"


@hookimpl
def register_tasks(register):
    """Register :class:`MazeTask`."""
    register(MazeTask)
