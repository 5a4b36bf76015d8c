"""Plugin loading: registries, clashes, failures, RECURSIA_LOAD_PLUGINS, `recursia plugins`."""

from __future__ import annotations

import functools
import importlib.metadata as md
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import recursia.plugins as P
from recursia.cli.app import build_app, main
from recursia.errors import PluginError
from tests.fake_plugins import attr_plugin, clash_plugin, good_plugin, hook_error_plugin

FAKE_DIR = Path(__file__).parent / "fake_plugins"
BUILTIN_NAMES = [m.removeprefix("recursia_") for m in P.DEFAULT_PLUGINS]
BUILTIN_MODULES = list(P.DEFAULT_PLUGINS)


def _ep(name: str, value: str) -> md.EntryPoint:
    return md.EntryPoint(name=name, value=value, group=P.GROUP)


FAKE_EPS = [
    _ep("good", "tests.fake_plugins.good_plugin"),
    _ep("broken", "tests.fake_plugins.broken_plugin"),
    _ep("attr", "tests.fake_plugins.attr_plugin:PLUGIN"),
    # an entry point of the core's own built-in must not load it a second time
    _ep("sudoku_again", "recursia_sudoku"),
]


_packages_distributions = functools.lru_cache(maxsize=None)(md.packages_distributions)


@pytest.fixture(autouse=True)
def _fast_distribution_lookup(monkeypatch):
    # load_plugins scans every installed distribution once per plugin (~0.13 s each);
    # the answer does not change within a test run, so cache it to keep the suite fast.
    monkeypatch.setattr(P.md, "packages_distributions", _packages_distributions)


@pytest.fixture
def entry_points(monkeypatch):
    """Install fake `recursia` entry points; returns a setter for the list."""
    eps: list[md.EntryPoint] = []

    def fake(**kw):
        group = kw.get("group")
        return [e for e in eps if group is None or e.group == group]

    monkeypatch.setattr(P.md, "entry_points", fake)
    monkeypatch.delenv(P.ENV_VAR, raising=False)

    def set_eps(new):
        eps[:] = new

    return set_eps


@pytest.fixture
def no_third_party(entry_points):
    entry_points([])


# --- built-ins and extra plugins -------------------------------------------------------

def test_builtins_load_and_register(no_third_party):
    reg = P.load_plugins()
    assert [p.name for p in reg.plugins] == BUILTIN_NAMES
    assert [p.module for p in reg.plugins] == BUILTIN_MODULES
    assert all(p.builtin for p in reg.plugins)
    assert reg.failures == {}
    assert {"mlp", "attention"} <= set(reg.mixers)
    assert "sudoku" in reg.tasks and reg.commands == {}  # `convert` is a core command
    assert reg.owners[("mixers", "mlp")] == "mixers"
    assert reg.owners[("tasks", "sudoku")] == "sudoku"
    by_name = {p.name: p for p in reg.plugins}
    assert by_name["mixers"].registered["mixers"] == ["mlp", "attention"]
    assert by_name["sudoku"].registered["tasks"] == ["sudoku"]


def test_extra_plugin_registers_every_kind(no_third_party):
    reg = P.load_plugins(extra=[("good", good_plugin)])
    assert reg.tasks["fake_task"] is good_plugin.FakeTask
    assert reg.task("fake_task") is good_plugin.FakeTask
    assert reg.mixers["fake_mixer"] is good_plugin.fake_mixer
    assert reg.mixer("fake_mixer") is good_plugin.fake_mixer
    assert isinstance(reg.augmentations["fake.flip"], good_plugin.FlipAugmentation)
    assert reg.commands["fake-cmd"] is good_plugin.fake_command
    info = reg.plugins[-1]
    assert (info.name, info.module, info.version, info.builtin) == (
        "good", "tests.fake_plugins.good_plugin", "9.9.9", False)
    assert info.registered == {"tasks": ["fake_task"], "mixers": ["fake_mixer"],
                               "augmentations": ["fake.flip"], "commands": ["fake-cmd"]}
    for kind, name in [("tasks", "fake_task"), ("mixers", "fake_mixer"),
                       ("augmentations", "fake.flip"), ("commands", "fake-cmd")]:
        assert reg.owners[(kind, name)] == "good"
    # built-ins are untouched
    assert reg.mixers["mlp"] is not good_plugin.fake_mixer


def test_clash_with_builtin_names_both_plugins(no_third_party):
    with pytest.raises(PluginError) as info:
        P.load_plugins(extra=[("clashy", clash_plugin)])
    msg = str(info.value)
    assert "'mlp'" in msg and "'mixers'" in msg and "'clashy'" in msg
    assert "\n" not in msg


def test_clash_between_two_third_party_plugins(no_third_party):
    with pytest.raises(PluginError) as info:
        P.load_plugins(extra=[("first", good_plugin), ("second", _Renamed())])
    msg = str(info.value)
    assert "fake_task" in msg and "'first'" in msg and "'second'" in msg


class _Renamed:
    """A second plugin object that registers the same task name as good_plugin."""

    @staticmethod
    @P.hookspecs.hookimpl
    def register_tasks(register):
        register(good_plugin.FakeTask)


def test_plugin_registering_without_a_name_is_refused(no_third_party):
    class Nameless:
        @staticmethod
        @P.hookspecs.hookimpl
        def register_mixers(register):
            register("", lambda *a: None)

    with pytest.raises(PluginError, match="nameless.*without a name"):
        P.load_plugins(extra=[("nameless", Nameless())])


def test_hook_that_raises_is_recorded_and_others_still_load(no_third_party):
    reg = P.load_plugins(extra=[("hooky", hook_error_plugin), ("good", good_plugin)])
    assert "hooky" in reg.failures
    assert "RuntimeError" in reg.failures["hooky"]
    assert "register_mixers" in reg.failures["hooky"]
    assert "mixer table is corrupt" in reg.failures["hooky"]
    # the plugins after it still register
    assert "fake_task" in reg.tasks and "fake_mixer" in reg.mixers
    assert "mlp" in reg.mixers


def test_unknown_task_and_mixer_list_what_is_installed(no_third_party):
    reg = P.load_plugins(extra=[("good", good_plugin)])
    with pytest.raises(PluginError) as info:
        reg.task("chess")
    msg = str(info.value)
    assert "'chess'" in msg and "fake_task" in msg and "sudoku" in msg
    with pytest.raises(PluginError) as info:
        reg.mixer("transformer")
    msg = str(info.value)
    assert "'transformer'" in msg
    for name in ("attention", "fake_mixer", "mlp"):
        assert name in msg


def test_unknown_task_mentions_failed_plugins(entry_points):
    entry_points([_ep("broken", "tests.fake_plugins.broken_plugin")])
    reg = P.load_plugins()
    with pytest.raises(PluginError, match="failed to load: broken"):
        reg.task("chess")


# --- third-party entry points and RECURSIA_LOAD_PLUGINS ---------------------------------

def test_entry_points_load_and_broken_one_is_recorded(entry_points):
    entry_points(FAKE_EPS)
    reg = P.load_plugins()
    names = [p.name for p in reg.plugins]
    assert names == BUILTIN_NAMES + ["good", "attr"]
    assert "sudoku_again" not in names  # the built-in is not loaded twice
    assert reg.owners[("tasks", "sudoku")] == "sudoku"
    assert set(reg.failures) == {"broken"}
    assert reg.failures["broken"] == "ImportError: fake_dependency_xyz is not installed"
    assert "fake_task" in reg.tasks and "attr_mixer" in reg.mixers
    assert not reg.plugins[-1].builtin and reg.plugins[-1].module == "tests.fake_plugins.attr_plugin:PLUGIN"


@pytest.mark.parametrize("env,expected", [
    ("", []),
    ("good", ["good"]),
    (" good , attr ", ["good", "attr"]),
    ("attr,not_installed", ["attr"]),
    ("broken", []),
])
def test_env_var_selects_entry_points_by_name(entry_points, monkeypatch, env, expected):
    entry_points(FAKE_EPS)
    monkeypatch.setenv(P.ENV_VAR, env)
    reg = P.load_plugins()
    assert [p.name for p in reg.plugins] == BUILTIN_NAMES + expected  # built-ins always load
    assert set(reg.failures) == ({"broken"} if env == "broken" else set())


def test_env_var_empty_loads_builtins_only(entry_points, monkeypatch):
    entry_points(FAKE_EPS)
    monkeypatch.setenv(P.ENV_VAR, "")
    reg = P.load_plugins()
    assert all(p.builtin for p in reg.plugins)
    assert "fake_task" not in reg.tasks and reg.failures == {}


def test_clash_through_entry_point_names_both(entry_points):
    entry_points([_ep("clashy", "tests.fake_plugins.clash_plugin")])
    with pytest.raises(PluginError) as info:
        P.load_plugins()
    assert "'mixers'" in str(info.value) and "'clashy'" in str(info.value)


def test_entry_point_of_top_level_module_reports_its_version(entry_points, monkeypatch):
    monkeypatch.syspath_prepend(str(FAKE_DIR))
    entry_points([_ep("good_top", "good_plugin")])
    reg = P.load_plugins()
    assert reg.failures == {}
    assert reg.plugins[-1].name == "good_top" and reg.plugins[-1].version == "9.9.9"


def test_entry_point_module_colon_attribute(entry_points, monkeypatch):
    monkeypatch.syspath_prepend(str(FAKE_DIR))
    entry_points([_ep("attr_top", "attr_plugin:PLUGIN")])
    reg = P.load_plugins()
    assert reg.failures == {}
    assert "attr_mixer" in reg.mixers
    assert reg.plugins[-1].version == attr_plugin.__version__


# --- CLI --------------------------------------------------------------------------------

@pytest.fixture
def fresh_registry(monkeypatch):
    monkeypatch.setattr(P, "_REGISTRY", None)


def _run_main(argv, capsys) -> tuple[int, str, str]:
    code = 0
    try:
        main(argv)
    except SystemExit as e:
        code = e.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_plugins_json_lists_builtins(no_third_party, fresh_registry, capsys):
    code, out, err = _run_main(["plugins", "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["failed"] == []
    rows = {r["name"]: r for r in data["plugins"]}
    assert list(rows) == BUILTIN_NAMES
    for name, module in zip(BUILTIN_NAMES, BUILTIN_MODULES):
        row = rows[name]
        assert row["module"] == module and row["builtin"] is True
        assert row["version"] and row["version"] != "unknown"
    assert rows["mixers"]["registered"]["mixers"] == ["mlp", "attention"]
    assert rows["sudoku"]["registered"]["tasks"] == ["sudoku"]
    assert "sudoku.digits" in rows["sudoku"]["registered"]["augmentations"]


def test_cli_reports_broken_plugin_and_keeps_working(entry_points, fresh_registry, capsys):
    entry_points(FAKE_EPS)
    code, out, err = _run_main(["plugins", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert [r["name"] for r in data["plugins"]] == BUILTIN_NAMES + ["good", "attr"]
    assert data["failed"] == [{"name": "broken", "error": "ImportError: fake_dependency_xyz is not installed"}]
    assert "plugin 'broken' failed to load" in err and "fake_dependency_xyz" in err
    good = next(r for r in data["plugins"] if r["name"] == "good")
    assert good["builtin"] is False and good["registered"]["commands"] == ["fake-cmd"]


def test_cli_text_listing(entry_points, fresh_registry, capsys):
    entry_points(FAKE_EPS[:2])
    code, out, _ = _run_main(["plugins"], capsys)
    assert code == 0
    lines = out.strip().splitlines()
    assert any(line.startswith("mixers ") and "built-in" in line and "mlp, attention" in line for line in lines)
    assert any(line.startswith("good ") and "third-party" in line and "fake_task" in line for line in lines)
    assert any(line.startswith("broken FAILED") for line in lines)


def test_cli_plugin_command_is_runnable(entry_points, fresh_registry):
    entry_points(FAKE_EPS[:1])
    result = CliRunner().invoke(build_app(), ["fake-cmd", "--shout"])
    assert result.exit_code == 0, result.output
    assert "FAKE PLUGIN SAYS HI" in result.output


def test_cli_clash_is_one_line_exit_2(entry_points, fresh_registry, capsys):
    entry_points([_ep("clashy", "tests.fake_plugins.clash_plugin")])
    code, out, err = _run_main(["plugins", "--json"], capsys)
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "'mixers'" in err and "'clashy'" in err


def test_invalid_hook_implementations_are_failures_not_crashes(no_third_party):
    from tests.fake_plugins import misnamed_plugin, misspelled_plugin

    reg = P.load_plugins(extra=[("misnamed", misnamed_plugin), ("misspelled", misspelled_plugin)])
    assert "reg" in reg.failures["misnamed"] and "\n" not in reg.failures["misnamed"]
    assert "unknown hook 'register_task'" in reg.failures["misspelled"]
    assert {p.name for p in reg.plugins} == set(BUILTIN_NAMES)
    assert "sudoku" in reg.tasks
