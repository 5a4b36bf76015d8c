"""Build the task and the model a RunConfig describes, from the plugin registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

from recursia.config import RunConfig, format_validation_error
from recursia.errors import ConfigError
from recursia.plugins import Registry, get_registry
from recursia.task import Task

if TYPE_CHECKING:  # the model (and torch) is imported when one is built
    from recursia.model import RecursiveModel


def make_task(name: str, options: dict, registry: Registry | None = None) -> Task:
    """Instantiate task ``name`` with validated ``options`` (ConfigError on bad options)."""
    cls = (registry or get_registry()).task(name)
    try:
        opts = cls.Options(**options)
    except ValidationError as e:
        raise ConfigError(format_validation_error(e, f"task_options of '{name}'")) from None
    return cls(opts)


def make_model(cfg: RunConfig, task: Task, num_puzzle_ids: int,
               registry: Registry | None = None) -> RecursiveModel:
    """A freshly initialised model for ``task`` with the mixer named in the config."""
    from recursia.model import RecursiveModel

    factory = (registry or get_registry()).mixer(cfg.model.mixer)
    try:
        return RecursiveModel(cfg.model, task.vocab_size, task.seq_len, num_puzzle_ids, factory)
    except (RuntimeError, MemoryError) as e:  # e.g. weights too large to allocate
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ConfigError(f"cannot build the configured model ({first})") from None
