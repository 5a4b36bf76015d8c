"""Seeded, resumable sampling of training examples.

An epoch visits every group once in a random order and takes one random puzzle of
each group (an original puzzle or one of its stored augmentations) and all of that
puzzle's examples, as the official sampler does, but from a seeded generator: the
order depends only on ``(seed, epoch)`` and the position is two integers, so a resumed
run continues with exactly the examples it would have seen.
"""

from __future__ import annotations

import numpy as np

from recursia.data.dataset import Split
from recursia.errors import DatasetError


class EpochSampler:
    """Yields example indices of ``split`` epoch after epoch."""

    def __init__(self, split: Split, seed: int):
        self.group_indices = np.asarray(split.group_indices, dtype=np.int64)
        self.puzzle_indices = np.asarray(split.puzzle_indices, dtype=np.int64)
        if len(self.group_indices) < 2 or self.puzzle_indices[-1] == 0:
            raise DatasetError("the training split has no examples to sample")
        if np.any(np.diff(self.puzzle_indices) == 0):
            raise DatasetError("the training split has puzzles without examples (puzzle_indices repeats a value)")
        self.seed = seed
        self.epoch, self.pos = 0, 0
        self._order = self._epoch_order(0)

    def _epoch_order(self, epoch: int) -> np.ndarray:
        """(examples in this epoch,) example indices in visiting order."""
        rng = np.random.default_rng([self.seed, epoch])
        groups = rng.permutation(len(self.group_indices) - 1)
        start, stop = self.group_indices[groups], self.group_indices[groups + 1]
        puzzles = start + (rng.random(len(groups)) * (stop - start)).astype(np.int64)
        ex_start, ex_stop = self.puzzle_indices[puzzles], self.puzzle_indices[puzzles + 1]
        if np.all(ex_stop - ex_start == 1):
            return ex_start
        return np.concatenate([np.arange(a, b) for a, b in zip(ex_start, ex_stop)])

    def take(self, k: int) -> np.ndarray:
        """The next ``k`` example indices (crossing epoch boundaries as needed)."""
        out = []
        while k > 0:
            chunk = self._order[self.pos:self.pos + k]
            out.append(chunk)
            k -= len(chunk)
            self.pos += len(chunk)
            if self.pos >= len(self._order):
                self.epoch, self.pos = self.epoch + 1, 0
                self._order = self._epoch_order(self.epoch)
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    def state(self) -> dict[str, int]:
        """The position, JSON-serialisable."""
        return {"seed": self.seed, "epoch": self.epoch, "pos": self.pos}

    def load_state(self, state: dict[str, int]) -> None:
        """Continue from a saved position."""
        self.seed, self.epoch, self.pos = int(state["seed"]), int(state["epoch"]), int(state["pos"])
        self._order = self._epoch_order(self.epoch)
