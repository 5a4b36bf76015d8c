"""recursia-latin-square: an example third-party recursia plugin (the ``latin`` task).

recursia finds this module through the entry point ``latin = "recursia_latin_square"``
in the ``recursia`` group (see ``pyproject.toml``) and calls the ``@hookimpl``
functions below with a ``register`` callback.
"""

from __future__ import annotations

from recursia.api import hookimpl
from recursia_latin_square.augment import latin_augmentations
from recursia_latin_square.task import LatinTask

__version__ = "0.1.0"
__all__ = ["LatinTask", "register_tasks", "register_augmentations", "__version__"]

DEFAULT_SIZE = LatinTask.Options().size


@hookimpl
def register_tasks(register):
    """Register :class:`LatinTask` (``recursia train --task latin``)."""
    register(LatinTask)


@hookimpl
def register_augmentations(register):
    """Register the augmentations of the default size (``latin.symbols``, ``latin.rows``, ...).

    Augmentation names are unique in the registry, so one size is registered; the task
    itself builds the ones of its own size in ``LatinTask.augmentations()``.
    """
    for augmentation in latin_augmentations(DEFAULT_SIZE):
        register(augmentation)
