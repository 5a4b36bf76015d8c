"""The augmentation protocol: invertible transforms of a puzzle/answer pair.

An augmentation acts on a task's token array (the same transform is applied to the
input and to the label), its parameters are JSON-serialisable, and
``invert(apply(x, p), p) == x`` for every ``x`` and every ``p`` that ``sample`` draws.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Augmentation(Protocol):
    """An invertible, parameterised transform of token arrays.

    Attributes:
        name: registry name.
    """

    name: str

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """Draw parameters (JSON-serialisable) for one application."""
        ...

    def apply(self, tokens: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Transform ``tokens`` (any leading batch axes, task layout last)."""
        ...

    def invert(self, tokens: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Undo :meth:`apply` with the same parameters."""
        ...


def compose_sample(augs: list[Augmentation], rng: np.random.Generator) -> list[dict[str, Any]]:
    """Parameters for applying every augmentation of ``augs`` in order."""
    return [a.sample(rng) for a in augs]


def compose_apply(augs: list[Augmentation], tokens: np.ndarray, params: list[dict]) -> np.ndarray:
    """Apply ``augs`` in order with their ``params``."""
    for a, p in zip(augs, params):
        tokens = a.apply(tokens, p)
    return tokens


def compose_invert(augs: list[Augmentation], tokens: np.ndarray, params: list[dict]) -> np.ndarray:
    """Undo :func:`compose_apply` (inverts in reverse order)."""
    for a, p in zip(reversed(augs), reversed(params)):
        tokens = a.invert(tokens, p)
    return tokens


def augmented_copies(inputs: np.ndarray, labels: np.ndarray, augs: list[Augmentation], copies: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each (input, label) pair followed by ``copies`` augmented copies of it.

    inputs, labels: (P, L) token arrays. Returns ``(inputs, labels, group_sizes)`` with
    shapes (P*(copies+1), L), (P*(copies+1), L), (P,): one group per original pair. The
    same parameters transform an input and its label.
    """
    count, cells = inputs.shape
    pairs = np.stack([inputs, labels], axis=1)  # (P, 2, L)
    out = np.empty((count, copies + 1, 2, cells), dtype=pairs.dtype)
    out[:, 0] = pairs
    for i in range(count):
        for k in range(1, copies + 1):
            out[i, k] = compose_apply(augs, pairs[i], compose_sample(augs, rng))
    flat = out.reshape(count * (copies + 1), 2, cells)  # (P*(copies+1), 2, L)
    return flat[:, 0], flat[:, 1], np.full(count, copies + 1, dtype=np.int64)
