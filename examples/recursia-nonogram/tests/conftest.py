"""Fixtures of the recursia-nonogram tests: the package importable without installing it, the
``slow`` marker (skipped unless ``--runslow``) and a registry that holds the plugin.

Run from the recursia checkout root: ``python -m pytest examples/recursia-nonogram/tests``.
"""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]
if str(PACKAGE) not in sys.path:  # works without `pip install -e` too
    sys.path.insert(0, str(PACKAGE))


def pytest_addoption(parser):
    """``--runslow`` (also declared by recursia's own tests/conftest.py: a second declaration is skipped)."""
    try:
        parser.addoption("--runslow", action="store_true", default=False, help="also run tests marked slow")
    except ValueError:
        pass


def pytest_configure(config):
    """Declare the ``slow`` marker."""
    config.addinivalue_line("markers", "slow: long-running test; run with --runslow")


def pytest_collection_modifyitems(config, items):
    """Skip the tests marked slow unless ``--runslow``."""
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords and str(PACKAGE) in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def registry():
    """The built-in plugins plus this one, found through its entry point (as an installed plugin is)."""
    import recursia.plugins

    entry = importlib.metadata.EntryPoint(name="nonogram", value="recursia_nonogram", group="recursia")
    with pytest.MonkeyPatch.context() as mp:
        real = recursia.plugins.md.entry_points
        mp.setattr(recursia.plugins.md, "entry_points",
                   lambda **kw: [entry] if kw.get("group") == "recursia" else real(**kw))
        mp.delenv("RECURSIA_LOAD_PLUGINS", raising=False)
        yield recursia.plugins.load_plugins()


@pytest.fixture
def use_registry(registry, monkeypatch):
    """Make ``get_registry()`` (the CLI, training, checkpoints) return ``registry``."""
    import recursia.plugins

    monkeypatch.setattr(recursia.plugins, "_REGISTRY", registry)
    return registry
