"""Fake third-party plugins used by tests/test_plugins.py (not a real package)."""
