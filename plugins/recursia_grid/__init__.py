"""The built-in grid plugin: registers ``grid.dihedral``, the 8 rotations and
reflections of a square grid of any size, for every grid task (maze, ARC) to use.

The transform itself and its helpers are public: :class:`recursia.api.Dihedral`,
:func:`recursia.api.dihedral`, :func:`recursia.api.compose`, :func:`recursia.api.inverse`.
"""

from __future__ import annotations

from recursia.api import Dihedral, hookimpl

__version__ = "0.1.0"


@hookimpl
def register_augmentations(register):
    """Register ``grid.dihedral``."""
    register(Dihedral())
