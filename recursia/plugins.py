"""Plugin loading and the registries of tasks, mixers, augmentations and commands.

Built-in plugins are the modules in :data:`DEFAULT_PLUGINS`; third-party plugins are
the entry points of the ``recursia`` group. Both are registered with the same pluggy
manager and the same hooks. A plugin that fails to import is recorded in
:attr:`Registry.failures` (the CLI reports it and keeps working).

``RECURSIA_LOAD_PLUGINS`` selects third-party plugins: unset loads all of them, an
empty value loads the built-ins only, otherwise a comma list of entry-point names.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import os
from dataclasses import dataclass, field
from typing import Any, Callable

import pluggy

import recursia
from recursia import hookspecs
from recursia.errors import PluginError

GROUP = "recursia"
DEFAULT_PLUGINS = ("recursia_mixers", "recursia_grid", "recursia_sudoku", "recursia_maze", "recursia_arc")
ENV_VAR = "RECURSIA_LOAD_PLUGINS"


@dataclass
class PluginInfo:
    """What one plugin is and what it registered."""

    name: str
    module: str
    version: str
    builtin: bool
    package: str = "recursia"  # the distribution to pip install for it
    registered: dict[str, list[str]] = field(default_factory=lambda: {
        "tasks": [], "mixers": [], "augmentations": [], "commands": []})


@dataclass
class Registry:
    """Everything the loaded plugins registered, with the plugin that supplied it."""

    tasks: dict[str, Any] = field(default_factory=dict)
    mixers: dict[str, Callable] = field(default_factory=dict)
    augmentations: dict[str, Any] = field(default_factory=dict)
    commands: dict[str, Any] = field(default_factory=dict)
    owners: dict[tuple[str, str], str] = field(default_factory=dict)
    plugins: list[PluginInfo] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)

    def task(self, name: str):
        """The task class called ``name``; PluginError listing the known ones otherwise."""
        return self._get("tasks", name, "task")

    def mixer(self, name: str) -> Callable:
        """The mixer factory called ``name``."""
        return self._get("mixers", name, "mixer")

    def augmentation(self, name: str):
        """The augmentation called ``name``."""
        return self._get("augmentations", name, "augmentation")

    def provider(self, kind: str, name: str) -> PluginInfo:
        """The plugin that registered ``name`` in table ``kind`` ("tasks", "mixers", ...)."""
        owner = self.owners[(kind, name)]
        return next(p for p in self.plugins if p.name == owner)

    def _get(self, kind: str, name: str, what: str):
        table = getattr(self, kind)
        if name not in table:
            known = ", ".join(sorted(table)) or "none"
            hint = ""
            if self.failures:
                hint = f" (plugins that failed to load: {', '.join(sorted(self.failures))})"
            raise PluginError(f"unknown {what} '{name}'; installed: {known}{hint}")
        return table[name]


def _register_into(registry: Registry, info: PluginInfo, kind: str) -> Callable:
    """A ``register`` callback for hook ``kind`` that records the calling plugin."""

    def register(*args):
        if kind == "tasks":
            (obj,) = args
            name = getattr(obj, "name", None)
        elif kind == "augmentations":
            (obj,) = args
            name = getattr(obj, "name", None)
        else:
            name, obj = args
        if not isinstance(name, str) or not name:
            raise PluginError(f"plugin '{info.name}' registered a {kind[:-1]} without a name")
        table = getattr(registry, kind)
        if name in table:
            other = registry.owners[(kind, name)]
            raise PluginError(f"{kind[:-1]} '{name}' is registered by both plugin '{other}' and plugin '{info.name}'")
        table[name] = obj
        registry.owners[(kind, name)] = info.name
        info.registered[kind].append(name)

    return register


def _candidates() -> list[tuple[str, str, bool, Callable[[], Any], Any]]:
    """(name, module path, builtin, loader, distribution or None) of every plugin to load."""
    out = [(m.removeprefix("recursia_"), m, True, lambda m=m: importlib.import_module(m), None)
           for m in DEFAULT_PLUGINS]
    wanted = os.environ.get(ENV_VAR)
    selected = None if wanted is None else {w.strip() for w in wanted.split(",") if w.strip()}
    for ep in md.entry_points(group=GROUP):
        if ep.value.split(":")[0] in DEFAULT_PLUGINS:
            continue
        if selected is not None and ep.name not in selected:
            continue
        out.append((ep.name, ep.value, False, ep.load, getattr(ep, "dist", None)))
    return out


def _register_plugin(pm: pluggy.PluginManager, registry: Registry, info: PluginInfo, plugin: Any) -> None:
    """Call the plugin's hooks; on an error in one, undo what it registered and record the failure."""
    try:
        pm.register(plugin, name=info.name)
        pm.check_pending()  # a hook implementation whose name is not a recursia hook
    except ValueError as e:
        raise PluginError(f"plugin '{info.name}' cannot be registered: {e}") from None
    except pluggy.PluginValidationError as e:
        registry.failures[info.name] = "invalid hook implementation: " + " ".join(str(e).split())
        if pm.is_registered(plugin):
            pm.unregister(plugin)
        return
    registry.plugins.append(info)
    for kind in ("tasks", "mixers", "augmentations", "commands"):
        try:
            _call_one(pm, plugin, f"register_{kind}", _register_into(registry, info, kind))
        except PluginError:
            raise
        except Exception as e:  # a broken plugin must not break the others
            registry.failures[info.name] = f"{type(e).__name__} in register_{kind}: {e}"
            for k, names in info.registered.items():
                for name in names:
                    getattr(registry, k).pop(name, None)
                    registry.owners.pop((k, name), None)
            registry.plugins.remove(info)
            pm.unregister(plugin)
            return


def load_plugins(extra: list[tuple[str, Any]] | None = None) -> Registry:
    """Load the built-in and third-party plugins and collect what they register.

    ``extra`` adds ``(name, module_or_object)`` plugins (used by tests). A plugin that
    fails to import, or whose hook raises, is left out and recorded in
    ``Registry.failures``; a clash of names raises PluginError naming both plugins.
    """
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    registry = Registry()
    loaded: list[tuple[PluginInfo, Any]] = []
    for name, module, builtin, loader, dist in _candidates():
        try:
            plugin = loader()
        except Exception as e:  # a broken plugin must not break the CLI
            registry.failures[name] = f"{type(e).__name__}: {e}"
            continue
        home = importlib.import_module(module.split(":")[0])
        version = recursia.__version__ if builtin else dist.version if dist is not None else None
        version = version or str(getattr(plugin, "__version__", getattr(home, "__version__", "unknown")))
        package = "recursia" if builtin else dist.name if dist is not None else module.split(".")[0].split(":")[0]
        loaded.append((PluginInfo(name, module, version, builtin, package), plugin))
    for name, plugin in extra or []:
        version = str(getattr(plugin, "__version__", "unknown"))
        module = getattr(plugin, "__name__", name)
        loaded.append((PluginInfo(name, module, version, False, module.split(".")[0]), plugin))
    for info, plugin in loaded:
        _register_plugin(pm, registry, info, plugin)
    return registry


def _call_one(pm: pluggy.PluginManager, plugin: Any, hook_name: str, register: Callable) -> None:
    """Call one plugin's implementation of ``hook_name`` (if it has one)."""
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        if impl.plugin is plugin:
            impl.function(register=register)


_REGISTRY: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, loaded on first use."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = load_plugins()
    return _REGISTRY
