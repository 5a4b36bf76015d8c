"""A well-behaved third-party plugin: one task, one mixer, one augmentation, one command."""

from __future__ import annotations

import numpy as np
from torch import nn

from recursia.hookspecs import hookimpl
from recursia.task import Task

__version__ = "9.9.9"


class FakeTask(Task):
    name = "fake_task"
    description = "a task that only exists in the tests"


def fake_mixer(hidden_size, seq_len, config):
    return nn.Identity()


class FlipAugmentation:
    name = "fake.flip"

    def sample(self, rng):
        return {"flip": bool(rng.integers(2))}

    def apply(self, tokens, params):
        return np.flip(tokens, -1) if params["flip"] else tokens

    def invert(self, tokens, params):
        return self.apply(tokens, params)


def fake_command(shout: bool = False):
    """Print a greeting from the fake plugin."""
    print("FAKE PLUGIN SAYS HI" if shout else "fake plugin says hi")


@hookimpl
def register_tasks(register):
    register(FakeTask)


@hookimpl
def register_mixers(register):
    register("fake_mixer", fake_mixer)


@hookimpl
def register_augmentations(register):
    register(FlipAugmentation())


@hookimpl
def register_commands(register):
    register("fake-cmd", fake_command)
