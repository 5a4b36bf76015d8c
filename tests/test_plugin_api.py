"""The public plugin API and its guards: plugins import only ``recursia.api``, every
public name has a docstring, every hook is documented with its arguments and tested
(``test_hook_<name>``), ``recursia plugins --check``, and checkpoints naming the
plugin package they need."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import recursia.api as api
import recursia.plugins as P
from recursia import hookspecs
from recursia.errors import CheckpointError
from tests.fake_plugins import good_plugin
from tests.test_end_to_end import run_cli

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_DIRS = [ROOT / "plugins", ROOT / "examples"]
HOOKS = sorted(name for name, f in vars(hookspecs).items()
               if callable(f) and hasattr(f, "recursia_spec"))


def _plugin_sources() -> list[Path]:
    """Every Python file of a plugin package under plugins/ and examples/ (their tests aside)."""
    return [p for d in PLUGIN_DIRS for p in sorted(d.rglob("*.py")) if "tests" not in p.relative_to(d).parts]


def _recursia_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of a recursia module in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "recursia"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] == "recursia":
            found.append((node.lineno, node.module))
    return found


# --- the API surface -----------------------------------------------------------------

def test_plugins_and_examples_import_only_the_public_api():
    sources = _plugin_sources()
    assert len(sources) > 20  # the built-in plugins and the example packages were found
    bad = [f"{p.relative_to(ROOT)}:{line} imports {module}" for p in sources
           for line, module in _recursia_imports(p) if module != "recursia.api"]
    assert bad == []


def test_the_import_guard_catches_an_internal_import(tmp_path):
    plugin = tmp_path / "p.py"
    plugin.write_text("import recursia.task\nfrom recursia.api import Task\nfrom recursia.data import dataset\n")
    assert _recursia_imports(plugin) == [(1, "recursia.task"), (2, "recursia.api"), (3, "recursia.data")]


def test_every_public_name_exists_and_has_its_own_docstring():
    assert len(api.__all__) == len(set(api.__all__))
    for name in api.__all__:
        obj = getattr(api, name)
        doc = inspect.getdoc(obj)
        assert doc and doc.strip(), f"recursia.api.{name} has no docstring"
        if inspect.isclass(obj):
            assert "__doc__" in vars(obj) and vars(obj)["__doc__"], f"recursia.api.{name} inherits its docstring"
    assert sorted(dir(api)) == sorted(api.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        api.nope  # noqa: B018


def test_importing_the_api_does_not_import_torch():
    code = "import sys, recursia.api; assert 'torch' not in sys.modules; recursia.api.SwiGLU; " \
           "assert 'torch' in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_docs_name_the_public_api_as_the_stable_surface():
    doc = (ROOT / "docs" / "plugins.md").read_text()
    assert "recursia.api" in doc and "stable" in doc
    missing = [name for name in api.__all__ if f"`{name}" not in doc]
    assert missing == [], f"docs/plugins.md does not mention {missing}"


# --- the hooks ---------------------------------------------------------------------

def test_every_hook_is_documented_with_its_arguments_and_has_a_test():
    doc = (ROOT / "docs" / "plugins.md").read_text()
    assert HOOKS == ["register_augmentations", "register_commands", "register_mixers", "register_tasks"]
    tests = {node.name for path in (ROOT / "tests").rglob("test_*.py")
             for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.FunctionDef)}
    for name in HOOKS:
        signature = f"{name}{inspect.signature(getattr(hookspecs, name))}"
        assert f"`{signature}`" in doc, f"docs/plugins.md does not document `{signature}`"
        assert f"test_hook_{name}" in tests


@pytest.fixture
def good_registry(monkeypatch):
    """Built-ins plus tests/fake_plugins/good_plugin, as the process-wide registry."""
    monkeypatch.setattr(P.md, "entry_points", lambda **kw: [] if kw.get("group") == P.GROUP else [])
    reg = P.load_plugins(extra=[("good", good_plugin)])
    monkeypatch.setattr(P, "_REGISTRY", reg)
    return reg


def test_hook_register_tasks(good_registry):
    assert good_registry.task("fake_task") is good_plugin.FakeTask
    assert good_registry.provider("tasks", "fake_task").name == "good"
    assert good_registry.provider("tasks", "sudoku").package == "recursia"


def test_hook_register_mixers(good_registry):
    import torch

    factory = good_registry.mixer("fake_mixer")
    x = torch.ones(1, 3, 4)
    assert torch.equal(factory(4, 3, api.ModelConfig())(x), x)
    assert good_registry.provider("mixers", "mlp").name == "mixers"


def test_hook_register_augmentations(good_registry):
    aug = good_registry.augmentation("fake.flip")
    x = np.arange(6).reshape(2, 3)
    params = aug.sample(np.random.default_rng(0))
    assert np.array_equal(aug.invert(aug.apply(x, params), params), x)
    assert isinstance(good_registry.augmentation("grid.dihedral"), api.Dihedral)


def test_hook_register_commands(good_registry, capsys):
    code, out, _ = run_cli(capsys, "fake-cmd", "--shout")
    assert code == 0 and out == "FAKE PLUGIN SAYS HI\n"


# --- plugins --check ---------------------------------------------------------------

def test_plugins_check_passes_for_the_builtins(capsys, monkeypatch):
    monkeypatch.setattr(P, "_REGISTRY", None)
    monkeypatch.setenv(P.ENV_VAR, "")
    code, out, err = run_cli(capsys, "plugins", "--check", "--json")
    assert code == 0, err
    checks = json.loads(out)["checks"]
    by = {(c["name"], c["check"]): c for c in checks}
    for task in ("sudoku", "maze", "arc"):
        assert {c for (n, c) in by if n == task} == {"data", "checker", "augmentations", "parse"}
        assert by[(task, "data")]["status"] == "ok"
    assert by[("sudoku", "parse")]["detail"].startswith("parse(format_puzzle(x)) == x")
    assert by[("arc", "checker")]["status"] == "skipped"
    assert by[("mlp", "shape")]["status"] == by[("attention", "shape")]["status"] == "ok"
    assert all(c["status"] in ("ok", "skipped") for c in checks)


def test_plugins_check_reports_a_broken_task_and_mixer(capsys, monkeypatch):
    import torch
    from torch import nn

    class Shrink(nn.Module):
        def forward(self, x):
            return x[:, :1]

    class LossyFlip:  # apply and invert disagree
        name = "lossy.flip"

        def sample(self, rng):
            return {}

        def apply(self, tokens, params):
            return np.flip(tokens, -1)

        def invert(self, tokens, params):
            return tokens

    sudoku = P.load_plugins().tasks["sudoku"]

    class Broken(sudoku):
        name = "broken"

        def augmentations(self):
            return [LossyFlip()]

        def check(self, inputs, answer):
            return False

    class BrokenPlugin:
        __name__ = "broken_plugin"

        @api.hookimpl
        def register_tasks(self, register):
            register(Broken)

        @api.hookimpl
        def register_mixers(self, register):
            register("shrink", lambda hidden, seq, cfg: Shrink())

    monkeypatch.setattr(P.md, "entry_points", lambda **kw: [])
    monkeypatch.setattr(P, "_REGISTRY", P.load_plugins(extra=[("broken", BrokenPlugin())]))
    code, out, _ = run_cli(capsys, "plugins", "--check", "broken")
    assert code == 1
    assert "task broken: data ok" in out
    assert "task broken: checker FAILED - RecursiaError: check() refuses the label of 8 of 8 test puzzles" in out
    assert "task broken: augmentations FAILED - RecursiaError: lossy.flip: invert(apply(x)) is not x" in out
    assert "mixer shrink: shape FAILED - RecursiaError: maps (2, 12, 64) to (2, 1, 64)" in out
    assert out.rstrip().endswith("3 failed")
    assert torch.is_tensor(Shrink()(torch.ones(2, 3, 4)))


def test_plugins_check_skips_data_that_needs_a_missing_package(capsys, monkeypatch):
    sudoku = P.load_plugins().tasks["sudoku"]

    class NeedsPackage(sudoku):
        name = "needs_package"

        def build_dataset(self, request):
            try:
                importlib.import_module("no_such_package_xyz")
            except ImportError:
                raise api.DatasetError("needs no_such_package_xyz: pip install it") from None

    class Plugin:
        __name__ = "needs_plugin"

        @api.hookimpl
        def register_tasks(self, register):
            register(NeedsPackage)

    monkeypatch.setattr(P.md, "entry_points", lambda **kw: [])
    monkeypatch.setattr(P, "_REGISTRY", P.load_plugins(extra=[("needs", Plugin())]))
    code, out, _ = run_cli(capsys, "plugins", "--check", "needs")
    assert code == 0
    assert out.count("skipped - skipped: needs no_such_package_xyz: pip install it") == 4


def test_plugins_unknown_name_is_one_line(capsys, monkeypatch):
    monkeypatch.setattr(P, "_REGISTRY", None)
    monkeypatch.setenv(P.ENV_VAR, "")
    code, _, err = run_cli(capsys, "plugins", "nope", "--check")
    assert code == 2 and err.startswith("error: no plugin named 'nope'; installed: ")


# --- checkpoints name their plugins -------------------------------------------------

def test_a_checkpoint_whose_plugin_is_missing_names_the_package(good_registry, tmp_path, monkeypatch):
    from recursia.config import validate
    from recursia.train.checkpoint import load_run, missing_plugin, save_model

    cfg = validate({"task": "sudoku", "task_options": {"size": 4},
                    "model": {"hidden_size": 16, "num_heads": 2, "mixer": "fake_mixer", "puzzle_emb_len": 1}})
    from recursia.build import make_model, make_task

    model = make_model(cfg, make_task("sudoku", {"size": 4}), 1)
    save_model(tmp_path / "run", cfg, model)
    run = load_run(tmp_path / "run")
    assert json.loads(run.metadata["task_plugin"]) == {"plugin": "sudoku", "package": "recursia",
                                                       "version": "0.1.0"}
    assert json.loads(run.metadata["mixer_plugin"]) == {"plugin": "good", "package": "tests", "version": "9.9.9"}
    monkeypatch.setattr(P, "_REGISTRY", P.load_plugins())  # the good plugin is gone
    with pytest.raises(CheckpointError, match=r"run: the model's mixer 'fake_mixer' comes from the plugin 'good' "
                                              r"of the package tests 9\.9\.9, which is not installed: pip install "
                                              r"tests$"):
        load_run(tmp_path / "run")
    assert missing_plugin({}, cfg, P.load_plugins()) == \
        "the model's mixer 'fake_mixer' is not provided by any installed plugin"
    broken = P.load_plugins()
    broken.failures["good"] = "ImportError: no module named x"
    assert missing_plugin(run.metadata, cfg, broken) == ("the model's mixer 'fake_mixer' comes from the plugin "
                                                         "'good', which is installed but failed to load: "
                                                         "ImportError: no module named x")
