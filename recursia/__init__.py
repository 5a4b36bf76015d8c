"""recursia: recursive reasoning models (TRM, HRM) with task plugins."""

__version__ = "0.1.0"
