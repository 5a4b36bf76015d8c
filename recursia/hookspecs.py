"""The plugin contract: every hook a recursia plugin can implement.

A plugin is a module (or object) with functions decorated by ``recursia.api.hookimpl`` and
named after the hooks below; it is found through the ``recursia`` entry-point group::

    [project.entry-points.recursia]
    mytask = "my_package.plugin"

Every hook receives a ``register`` callback. The core records which plugin made each
call, so a duplicate name is refused with an error naming both plugins.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("recursia")
hookimpl = pluggy.HookimplMarker("recursia")


@hookspec
def register_tasks(register):
    """Add puzzle tasks.

    Call ``register(task_class)`` once per task, where ``task_class`` is a subclass of
    :class:`recursia.api.Task` with a unique ``name``. The core instantiates it with
    the run's task options (``task_class(task_class.Options(**options))``).
    """


@hookspec
def register_mixers(register):
    """Add token-mixing layers for the shared network's blocks.

    Call ``register(name, factory)``. ``factory(hidden_size, seq_len, config)`` returns
    an ``nn.Module`` mapping ``(B, S, D) -> (B, S, D)`` where ``S = seq_len`` includes
    the puzzle-embedding prefix and ``config`` is the :class:`recursia.api.ModelConfig`.
    The block computes ``rms_norm(h + mixer(h))`` along ``getattr(mixer, "norm_dim", -1)``,
    so a mixer that mixes along the sequence axis may ask for the norm over positions.
    """


@hookspec
def register_augmentations(register):
    """Add invertible augmentations (see :class:`recursia.api.Augmentation`).

    Call ``register(augmentation)``; ``augmentation.name`` must be unique. Tasks usually
    also return their augmentations from ``Task.augmentations()``; registering them
    here makes them listed by ``recursia plugins`` and reusable by other tasks.
    """


@hookspec
def register_commands(register):
    """Add CLI subcommands.

    Call ``register(name, command)`` where ``command`` is a ``typer.Typer`` app (added as
    a command group) or a plain function (added as one command; its signature and
    docstring define the options and help, as with ``@app.command()``).
    """
