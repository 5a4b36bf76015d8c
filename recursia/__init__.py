"""recursia: recursive reasoning models (TRM, HRM) with task plugins."""

__version__ = "0.1.0"

from recursia.hookspecs import hookimpl  # noqa: E402  (plugins write @recursia.hookimpl)

__all__ = ["__version__", "hookimpl"]
