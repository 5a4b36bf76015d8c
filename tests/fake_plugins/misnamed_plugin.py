"""A plugin whose hook implementation has a wrong argument name."""

from recursia import hookimpl


@hookimpl
def register_tasks(reg):
    """Wrong argument name: pluggy refuses this implementation."""
