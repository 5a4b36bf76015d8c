"""The built-in grid plugin: augmentations shared by grid tasks (maze, ARC).

Registers ``grid.dihedral``, the 8 rotations and reflections of a square grid of any
size; :func:`dihedral`, :func:`compose` and :func:`inverse` are public helpers for
tasks that transform grids themselves (e.g. ARC mapping predictions back).
"""

from __future__ import annotations

from recursia.hookspecs import hookimpl
from recursia_grid.dihedral import Dihedral, compose, dihedral, grid_side, inverse

__version__ = "0.1.0"
__all__ = ["Dihedral", "compose", "dihedral", "grid_side", "inverse"]


@hookimpl
def register_augmentations(register):
    """Register ``grid.dihedral``."""
    register(Dihedral())
