"""Built-in plugin: import checkpoints of the official TRM/HRM code (`recursia convert`)."""

from recursia.hookspecs import hookimpl

__version__ = "0.1.0"


@hookimpl
def register_commands(register):
    """Register the ``convert`` command group."""
    from recursia_official.command import app

    register("convert", app)
