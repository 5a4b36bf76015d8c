"""A plugin that imports fine but whose register_mixers hook raises."""

from torch import nn

from recursia.hookspecs import hookimpl

__version__ = "1.2.3"


@hookimpl
def register_tasks(register):
    pass


@hookimpl
def register_mixers(register):
    register("half_mixer", lambda hidden_size, seq_len, config: nn.Identity())
    raise RuntimeError("mixer table is corrupt")
