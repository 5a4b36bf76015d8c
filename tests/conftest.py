"""Shared fixtures: the `--runslow` flag and the location of ../shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="also run tests marked slow")


def pytest_configure(config):
    # the CLI fuzz suite (tests/test_fuzz_cli.py) draws ten times as many examples with --runslow
    if config.getoption("--runslow"):
        os.environ["RECURSIA_FUZZ_SCALE"] = "10"


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test with the reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared is not beside the checkout)")
    return path


@pytest.fixture
def shared():
    """Callable fixture: ``shared("data", "sudoku-extreme-1k")`` -> Path or skip."""
    return shared_path


@pytest.fixture(scope="session")
def data6(tmp_path_factory) -> Path:
    """A small dataset of the Sudoku small preset's 6x6 kind (the preset's own has 5000 x 4 puzzles)."""
    from recursia.cli.app import main

    out = tmp_path_factory.mktemp("data6")
    try:
        main(["data", "build", "sudoku", "--out", str(out), "--size", "6", "--train-size", "300", "--test-size", "20",
              "--aug", "1", "--seed", "1"])
    except SystemExit as e:
        assert e.code == 0, e.code
    return out
