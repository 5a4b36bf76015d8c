"""recursia-nonogram: a third-party recursia plugin with the ``nonogram`` task and the ``dwconv`` mixer.

recursia finds this module through the entry point ``nonogram = "recursia_nonogram"``
in the ``recursia`` group (see ``pyproject.toml``) and calls the ``@hookimpl``
functions below with a ``register`` callback. Importing it does not import torch: the
mixer factory imports :mod:`recursia_nonogram.dwconv` when a model is built.
"""

from __future__ import annotations

from recursia.api import hookimpl
from recursia_nonogram.augment import NonogramDihedral
from recursia_nonogram.task import NonogramTask

__version__ = "0.1.0"
__all__ = ["NonogramTask", "NonogramDihedral", "make_dwconv", "register_tasks", "register_augmentations",
           "register_mixers", "__version__"]


def make_dwconv(hidden_size, seq_len, cfg):
    """The ``dwconv`` mixer factory (:meth:`recursia_nonogram.dwconv.DepthwiseConvMixer.from_config`)."""
    from recursia_nonogram.dwconv import DepthwiseConvMixer

    return DepthwiseConvMixer.from_config(hidden_size, seq_len, cfg)


@hookimpl
def register_tasks(register):
    """Register :class:`NonogramTask` (``recursia train --task nonogram``)."""
    register(NonogramTask)


@hookimpl
def register_augmentations(register):
    """Register ``nonogram.dihedral`` (it reads the grid size from the token arrays, so one serves all)."""
    register(NonogramDihedral())


@hookimpl
def register_mixers(register):
    """Register the ``dwconv`` mixer (``recursia train --mixer dwconv``)."""
    register("dwconv", make_dwconv)
