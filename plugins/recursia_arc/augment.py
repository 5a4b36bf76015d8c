"""The ARC augmentation: a dihedral transform and a colour permutation (colour 0 fixed).

The numbering is the official one (``dataset/common.py`` of TRM/HRM): 0 identity,
1 ``np.rot90(k=1)``, 2 ``rot90(k=2)``, 3 ``rot90(k=3)``, 4 ``np.fliplr``, 5 ``np.flipud``,
6 the transpose, 7 ``fliplr(rot90(k=1))`` (the anti-transpose); the inverse of ``k``
is :data:`DIHEDRAL_INVERSE` ``[k]``. As the official ``_map_grid``, applying maps the
colours first (``colours[grid]``) and then transforms the grid; inverting undoes both.

The augmentation acts on 2-D colour grids ``(h, w)`` of any shape (what
:meth:`recursia_arc.task.ArcTask.answer_form` returns), or on a batch of equal-shape
grids (leading axes). Translation, the third ARC augmentation, is not an
:class:`recursia.data.augment.Augmentation`: it only shifts train examples in the
canvas (their offsets are recorded per example) and the crop removes it.

:func:`task_versions` draws the augmented versions of a whole task as the official
builder does: up to ``5 * count`` draws, deduplicated by the content of all the task's
augmented grids (the original counts as one), until ``count + 1`` versions exist.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

import numpy as np

COUNT = 8
DIHEDRAL_INVERSE = (0, 3, 2, 1, 4, 5, 6, 7)
RETRIES_FACTOR = 5  # the official ARCAugmentRetriesFactor
ID_SEPARATOR = "|||"  # the official PuzzleIdSeparator


def _check_k(k: Any) -> int:
    """``k`` as an int after checking that it names one of the 8 transforms."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < COUNT:
        raise ValueError(f"a dihedral transform is an integer 0..7, got {k!r}")
    return int(k)


def dihedral(grid: np.ndarray, k: int) -> np.ndarray:
    """The official dihedral transform ``k`` of ``grid`` over its last two axes (a view).

    Written with slices, equal to the official ``np.rot90`` / ``np.fliplr`` /
    ``np.flipud`` / ``.T`` calls on a 2-D grid (the tests compare them).
    """
    k = _check_k(k)
    grid = np.asarray(grid)
    if grid.ndim < 2:
        raise ValueError(f"a dihedral transform needs a grid of at least 2 axes, got shape {grid.shape}")
    t = np.swapaxes(grid, -1, -2)  # transpose of the last two axes
    if k == 0:
        return grid
    if k == 1:
        return t[..., ::-1, :]  # rot90(k=1) = flipud(transpose)
    if k == 2:
        return grid[..., ::-1, ::-1]  # rot90(k=2)
    if k == 3:
        return t[..., :, ::-1]  # rot90(k=3) = fliplr(transpose)
    if k == 4:
        return grid[..., :, ::-1]  # fliplr
    if k == 5:
        return grid[..., ::-1, :]  # flipud
    if k == 6:
        return t  # transpose
    return t[..., ::-1, ::-1]  # fliplr(rot90(k=1)): the anti-transpose


def inverse_dihedral(grid: np.ndarray, k: int) -> np.ndarray:
    """Undo :func:`dihedral` ``k``."""
    return dihedral(grid, DIHEDRAL_INVERSE[_check_k(k)])


def _colours(params: dict[str, Any]) -> np.ndarray:
    """The colour map (10,) uint8 of ``params``, checked: a permutation of 0..9 that keeps 0."""
    colours = np.asarray(params["colours"])
    if colours.shape != (10,) or colours[0] != 0 or sorted(colours.tolist()) != list(range(10)):
        raise ValueError(f"'colours' must be a permutation of 0..9 starting with 0, got {params['colours']!r}")
    return colours.astype(np.uint8)


class DihedralColour:
    """``arc.dihedral_colour``: params ``{"k": 0..7, "colours": [0, p1, ..., p9]}``.

    ``apply(grid) = dihedral(colours[grid], k)``; ``invert`` undoes it exactly. Grids
    are colours 0..9 (not tokens), shape (..., h, w); the result is uint8.
    """

    name: ClassVar[str] = "arc.dihedral_colour"

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """A uniform transform and a uniform permutation of colours 1..9."""
        k = int(rng.integers(COUNT))
        colours = [0] + (rng.permutation(9) + 1).tolist()
        return {"k": k, "colours": colours}

    def apply(self, grid: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Recolour, then transform (the official ``_map_grid``)."""
        return np.ascontiguousarray(dihedral(_colours(params)[np.asarray(grid)], params["k"]))

    def invert(self, grid: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Transform back, then map the colours back."""
        inverse = np.argsort(_colours(params)).astype(np.uint8)  # (10,) augmented colour -> original
        return np.ascontiguousarray(inverse[inverse_dihedral(np.asarray(grid), params["k"])])

    def version_name(self, task_id: str, params: dict[str, Any] | None) -> str:
        """The official identifier name of a version: ``"<id>|||t<k>|||0<p1>...<p9>"`` (the
        task id itself for the original)."""
        if params is None:
            return task_id
        return f"{task_id}{ID_SEPARATOR}t{params['k']}{ID_SEPARATOR}{''.join(str(c) for c in params['colours'])}"

    def params_from_name(self, name: str) -> dict[str, Any] | None:
        """The params named by an official identifier (None for an original); ValueError when malformed."""
        if ID_SEPARATOR not in name:
            return None
        parts = name.split(ID_SEPARATOR)
        trans, perm = parts[-2], parts[-1]
        if not (trans.startswith("t") and trans[1:].isdigit() and len(perm) == 10 and perm.isdigit()):
            raise ValueError(f"{name!r} is not an augmented ARC identifier (<id>|||t<k>|||<10 colours>)")
        params = {"k": int(trans[1:]), "colours": [int(ch) for ch in perm]}
        _check_k(params["k"])
        _colours(params)
        return params


def base_name(name: str) -> str:
    """The task id of an official identifier name (the part before ``|||``)."""
    return name.split(ID_SEPARATOR)[0]


def grids_hash(pairs: list[tuple[np.ndarray, np.ndarray]]) -> bytes:
    """A digest of the content of a task's pairs (shapes and colours), independent of
    their order, as the official ``puzzle_hash``."""
    digests = sorted(hashlib.sha256(_grid_bytes(i) + b"|" + _grid_bytes(o)).digest() for i, o in pairs)
    return hashlib.sha256(b"".join(digests)).digest()


def _grid_bytes(grid: np.ndarray) -> bytes:
    """Shape and colour bytes of one grid."""
    grid = np.ascontiguousarray(grid, dtype=np.uint8)
    return bytes(grid.shape) + grid.tobytes()


def task_versions(pairs: list[tuple[np.ndarray, np.ndarray]], count: int, rng: np.random.Generator,
                  augmentation: DihedralColour | None = None
                  ) -> tuple[list[dict | None], list[list[tuple[np.ndarray, np.ndarray]]]]:
    """The original and up to ``count`` distinct augmented versions of a task.

    ``pairs`` are all the task's ``(input, output)`` grids (an output may be None: a test
    input whose answer is unknown). Draws up to ``RETRIES_FACTOR * count`` params and
    keeps a draw when the content of its augmented grids differs from every version kept
    so far. Returns ``(params, versions)``: ``params[0]`` is None (the original), and
    ``versions[v]`` holds the pairs of version ``v`` in the order of ``pairs``.
    """
    aug = augmentation or DihedralColour()
    blank = np.zeros((0, 0), dtype=np.uint8)

    def content(version):
        return grids_hash([(i, blank if o is None else o) for i, o in version])

    params: list[dict | None] = [None]
    versions = [list(pairs)]
    seen = {content(pairs)}
    for _ in range(RETRIES_FACTOR * count):
        if len(versions) >= count + 1:
            break
        drawn = aug.sample(rng)
        colours, k = np.asarray(drawn["colours"], dtype=np.uint8), drawn["k"]  # (10,) checked by sample

        def apply(g):
            return np.ascontiguousarray(dihedral(colours[g], k))

        version = [(apply(i), None if o is None else apply(o)) for i, o in pairs]
        key = content(version)
        if key not in seen:
            seen.add(key)
            params.append(drawn)
            versions.append(version)
    return params, versions
