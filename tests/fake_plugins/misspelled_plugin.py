"""A plugin implementing a hook that does not exist (``register_task``)."""

from recursia import hookimpl


@hookimpl
def register_task(register):
    """Misspelled hook name."""
