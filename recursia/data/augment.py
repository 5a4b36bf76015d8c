"""The augmentation protocol: invertible transforms of a puzzle/answer pair.

An augmentation acts on a task's token array (the same transform is applied to the
input and to the label), its parameters are JSON-serialisable, and
``invert(apply(x, p), p) == x`` for every ``x`` and every ``p`` that ``sample`` draws.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from recursia.errors import DatasetError
from recursia.jsonfile import read_json_object


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
                     rng: np.random.Generator, distinct_tries: int = 1
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[list[dict] | None]]:
    """Each (input, label) pair followed by ``copies`` augmented copies of it.

    inputs, labels: (P, L) token arrays. Returns ``(inputs, labels, group_sizes,
    params)`` with shapes (P*(copies+1), L), (P*(copies+1), L), (P,) and one entry per
    stored row: None for an original, else the parameters of ``augs`` that made it
    (the rows of an :class:`AugmentationRecord`). The same parameters transform an
    input and its label. With ``distinct_tries`` > 1 a copy whose input repeats the
    original's or an earlier copy's is drawn again, up to that many times.
    """
    count, cells = inputs.shape
    out = np.empty((count, copies + 1, 2, cells), dtype=np.result_type(inputs, labels))  # (P, 1+copies, 2, L)
    out[:, 0, 0], out[:, 0, 1] = inputs, labels
    params: list[list[dict] | None] = []
    for i in range(count):
        params.append(None)
        seen = {out[i, 0, 0].tobytes()}
        for k in range(1, copies + 1):
            for _ in range(distinct_tries):
                drawn = compose_sample(augs, rng)
                out[i, k] = compose_apply(augs, out[i, 0], drawn)
                if out[i, k, 0].tobytes() not in seen:
                    break
            seen.add(out[i, k, 0].tobytes())
            params.append(drawn)
    flat = out.reshape(count * (copies + 1), 2, cells)  # (P*(copies+1), 2, L)
    return flat[:, 0], flat[:, 1], np.full(count, copies + 1, dtype=np.int64), params


AUGMENTATION_FILE = "augmentations.json"


@dataclass
class AugmentationRecord:
    """How every stored puzzle of a split was made from its group's original.

    Written as ``augmentations.json`` beside the split's arrays (JSON, no pickle).

    Attributes:
        augmentations: names of the augmentations applied, in order (the task's
            :meth:`recursia.task.Task.augmentations` must know each one to invert).
        params: one entry per puzzle of the split: None for an original, else one
            params dict per augmentation; ``compose_invert`` with it undoes the
            augmentation on the task's answer form (:meth:`Task.answer_form`).
        group_names: optional, one name per group (e.g. an ARC task id), used as the
            keys of a submission file.
        example_params: optional columns of per-example parameters, for what a task
            does per example: ``{name: [one value per example]}`` (e.g. ARC's
            translation on the train split, ``{"offset": [[r, c], ...]}``).
    """

    augmentations: list[str]
    params: list[list[dict] | None]
    group_names: list[str] | None = None
    example_params: dict[str, list] | None = None

    def write(self, folder: Path) -> None:
        """Write ``folder/augmentations.json`` atomically."""
        tmp = Path(folder) / (AUGMENTATION_FILE + ".tmp")
        data = {"augmentations": self.augmentations, "params": self.params, "group_names": self.group_names,
                "example_params": self.example_params}
        tmp.write_text(json.dumps(data, separators=(",", ":")))
        os.replace(tmp, Path(folder) / AUGMENTATION_FILE)

    @classmethod
    def read(cls, folder: Path, puzzles: int, groups: int, examples: int) -> AugmentationRecord | None:
        """The record of the split in ``folder`` (None when it has none), checked
        against its ``puzzles``, ``groups`` and ``examples``; DatasetError when it does not fit."""
        path = Path(folder) / AUGMENTATION_FILE
        if not path.exists():
            return None
        data = read_json_object(path, DatasetError)
        names, params = data.get("augmentations"), data.get("params")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise DatasetError(f"{path}: 'augmentations' must be a list of names")
        if not isinstance(params, list) or len(params) != puzzles:
            raise DatasetError(f"{path}: 'params' must be a list with one entry per puzzle ({puzzles})")
        for i, row in enumerate(params):
            if row is not None and (not isinstance(row, list) or len(row) != len(names)
                                    or not all(isinstance(p, dict) for p in row)):
                raise DatasetError(f"{path}: params of puzzle {i} must be null or {len(names)} objects")
        group_names, columns = data.get("group_names"), data.get("example_params")
        if group_names is not None and (not isinstance(group_names, list) or len(group_names) != groups):
            raise DatasetError(f"{path}: 'group_names' must be null or a list of {groups} entries")
        if columns is not None and (not isinstance(columns, dict) or not all(
                isinstance(v, list) and len(v) == examples for v in columns.values())):
            raise DatasetError(f"{path}: 'example_params' must be null or an object of lists of {examples} "
                               f"entries (one per example)")
        return cls(names, params, group_names, columns)

    def resolve(self, available: list[Augmentation], where: Path) -> list[Augmentation]:
        """The augmentation objects named by the record, from ``available`` (a task's)."""
        by_name = {a.name: a for a in available}
        missing = [n for n in self.augmentations if n not in by_name]
        if missing:
            raise DatasetError(f"{where / AUGMENTATION_FILE}: augmentation {missing[0]!r} is not one of the "
                               f"task's ({', '.join(by_name) or 'none'})")
        return [by_name[n] for n in self.augmentations]
