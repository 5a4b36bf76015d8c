"""The Task contract: what a task plugin provides to the task-agnostic core.

A task is registered as a *class* (a subclass of :class:`Task`); the core builds an
instance from the run's task options, e.g. ``SudokuTask(SudokuTask.Options(size=6))``.
Everything the core needs to train, evaluate and solve goes through this class, so the
core never names a task.

Token conventions (shared with the official HRM/TRM datasets): token 0 is PAD; labels
use 0 for "ignored" on disk (the loader turns it into -100).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from recursia.data.augment import Augmentation
from recursia.data.dataset import Split
from recursia.errors import DatasetError, RecursiaError


class TaskOptions(BaseModel):
    """Base class of a task's options (validated; unknown keys are an error)."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class DataBuildRequest:
    """What ``recursia data build TASK`` asks of a task.

    ``source`` is ``"generate"`` or ``"<kind>:<path>"`` (e.g. ``"csv:x.csv"``,
    ``"official:DIR"``); a task raises :class:`recursia.errors.DatasetError` for a
    source it does not know. For imports, :func:`recursia.data.select.read_sources`
    and :func:`recursia.data.select.select_splits` give the splits: a source's own
    train and test splits are kept (``test_source`` names the test split of a source
    that has none), ``subsample``/``train_size``/``test_size`` take seeded subsets,
    and only ``resplit`` merges and splits again.

    ``test_aug`` stored augmented copies of every test puzzle (for voting at
    evaluation, :mod:`recursia.vote`); the originals are always stored too.

    ``train_size``/``test_size`` None means the default: :data:`GENERATED_SIZE` each
    for generated data (see :meth:`generated_sizes`), everything for an import.
    """

    out: Path
    source: str = "generate"
    train_size: int | None = None
    test_size: int | None = None
    aug: int = 0
    seed: int = 0
    subsample: int | None = None
    test_source: str | None = None
    resplit: bool = False
    test_aug: int = 0

    GENERATED_SIZE: ClassVar[int] = 1000

    def generated_sizes(self, task: str | None = None) -> tuple[int, int]:
        """``(train_size, test_size)`` for a generated dataset: the defaults filled in.

        Raises DatasetError for a source other than ``generate`` (``task`` names the task
        in the message: a task that only generates its data calls this first), negative
        sizes or copies, or the options that only apply to imports (``subsample``,
        ``test_source``, ``resplit``).
        """
        if self.source != "generate":
            raise DatasetError(f"unknown {task or 'generated'} data source {self.source!r}: only 'generate' "
                               f"is supported")
        for name in ("aug", "test_aug"):
            if getattr(self, name) < 0:
                raise DatasetError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("subsample", "test_source"):
            if getattr(self, name) is not None:
                raise DatasetError(f"{name} applies to imported sources, not to {self.source!r}")
        if self.resplit:
            raise DatasetError(f"resplit applies to imported sources, not to {self.source!r}")
        sizes = tuple(self.GENERATED_SIZE if v is None else v for v in (self.train_size, self.test_size))
        for name, value in zip(("train_size", "test_size"), sizes):
            if value < 0:
                raise DatasetError(f"{name} must be >= 0, got {value}")
        return sizes


@dataclass
class AdaptationSet:
    """What a task gives for adapting to one puzzle and voting on it.

    demo_inputs, demo_labels: (D, L) tokens of the demonstration pairs of every version
    (labels use 0 for ignored cells, as on disk); demo_version: (D,) version of each;
    test: a one-group :class:`recursia.data.dataset.Split` whose puzzle ``v`` holds the
    test inputs of version ``v`` (puzzle identifiers 0..V-1, replaced by the new rows)
    and their expected answers as labels, all 0 where the puzzle file gives none;
    params: per version, None (the original) or the augmentation params that made it,
    as in an :class:`recursia.data.augment.AugmentationRecord`; augmentations: their names.
    """

    demo_inputs: np.ndarray
    demo_labels: np.ndarray
    demo_version: np.ndarray
    test: Split
    params: list[list[dict] | None]
    augmentations: list[str]

    @property
    def versions(self) -> int:
        """Number of versions of the puzzle (the original included)."""
        return len(self.params)


class Task:
    """Base class of every task plugin; subclasses fill in the class attributes and methods.

    Class attributes:
        name: registry name (``recursia train --task NAME``).
        Options: the pydantic model of this task's options.
        description: one line for ``recursia plugins``.
        paper_ablations: exact accuracy (%) a paper reports for this task per ablation
            row of :mod:`recursia.ablations` (by row name; shown beside ``recursia
            ablate``'s results), and ``paper_ablations_source`` where it is from.
    """

    name: ClassVar[str]
    Options: ClassVar[type[TaskOptions]] = TaskOptions
    description: ClassVar[str] = ""
    paper_ablations: ClassVar[dict[str, float]] = {}
    paper_ablations_source: ClassVar[str] = ""

    def __init__(self, options: TaskOptions | None = None):
        self.options = options if options is not None else self.Options()

    # --- shapes -----------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        """Number of token ids (PAD=0 included)."""
        raise NotImplementedError

    @property
    def seq_len(self) -> int:
        """Number of task tokens per example (without the puzzle-embedding prefix)."""
        raise NotImplementedError

    # --- puzzles ----------------------------------------------------------------
    @classmethod
    def recognises(cls, data: dict) -> bool:
        """Whether a puzzle file without a ``task`` field is, as a whole, a puzzle of this
        task (e.g. a standard ARC task file); ``solve`` then reads it so. Default: False."""
        return False

    def parse(self, puzzle: Any) -> np.ndarray:
        """Turn the ``puzzle`` field of a puzzle.json into input tokens ``(seq_len,)`` int64.

        Raises :class:`recursia.errors.PuzzleError` with a message a person can act on.
        """
        raise NotImplementedError

    def format_puzzle(self, inputs: np.ndarray) -> Any:
        """The ``puzzle`` field of a puzzle.json for input tokens ``(seq_len,)``: the inverse
        of :meth:`parse`, so ``parse(format_puzzle(x))`` equals ``x`` (``recursia plugins
        --check`` tests this round trip). Optional: the default says there is none.
        """
        raise NotImplementedError(f"task '{self.name}' has no format_puzzle")

    def check(self, inputs: np.ndarray, answer: np.ndarray) -> bool:
        """Whether predicted tokens ``answer (seq_len,)`` are a valid answer to ``inputs``."""
        raise NotImplementedError

    def notes(self, inputs: np.ndarray) -> list[str]:
        """Warnings about a parsed puzzle that is valid but unusual, printed by ``solve``.

        E.g. Sudoku: "the puzzle has more than one solution". Default: none.
        """
        return []

    def answer_form(self, tokens: np.ndarray) -> np.ndarray:
        """The part of a predicted or label token array ``(seq_len,)`` that votes compare
        and augmentations invert (:mod:`recursia.vote`).

        Default: the tokens themselves (Sudoku, Maze). ARC: the grid inside the EOS
        border, as colours. Its ``tolist()`` is what a submission file holds.
        """
        return tokens

    def adaptation_set(self, puzzle: Any, versions: int, seed: int) -> AdaptationSet | None:
        """For a puzzle that brings demonstration pairs (ARC), the pairs and test inputs of
        the original and up to ``versions - 1`` augmented versions, for adapting to it
        before predicting (:mod:`recursia.adapt`); None (the default) when the task's
        puzzles have no demonstrations: ``solve`` then predicts directly.
        """
        return None

    def decode(self, inputs: np.ndarray, answer: np.ndarray) -> Any:
        """The answer tokens in the task's natural, JSON-serialisable form."""
        raise NotImplementedError

    def render(self, inputs: np.ndarray, answer: np.ndarray | None = None,
               changed: np.ndarray | None = None) -> str:
        """Text picture of a puzzle, or of its answer when given.

        ``changed`` is a boolean ``(seq_len,)`` mask of cells to mark (e.g. cells that
        changed since the previous supervision step).
        """
        raise NotImplementedError

    def render_html(self, inputs: np.ndarray, answer: np.ndarray | None = None,
                    changed: np.ndarray | None = None) -> str:
        """HTML fragment of a puzzle, or of its answer when given, for ``solve --html``.

        ``answer`` is predicted tokens ``(seq_len,)`` or, for a voted attempt, an answer
        form (:meth:`answer_form`); ``changed`` is a boolean ``(seq_len,)`` mask of cells
        to mark. Tasks draw grids with :func:`recursia.api.html_grid`; every text in the
        fragment must be escaped. Default: the escaped text of :meth:`render` (of
        :meth:`render_form` for an answer form that is not ``(seq_len,)`` tokens) in a ``<pre>``.
        """
        from html import escape

        if answer is not None and np.shape(answer) != (self.seq_len,):
            text = self.render_form(np.asarray(answer))
        else:
            text = self.render(inputs, answer, changed)
        return f'<pre class="text-grid">{escape(text)}</pre>'

    def render_png(self, inputs: np.ndarray, answer: np.ndarray | None, path: Path) -> None:
        """Draw the puzzle (and the answer when given) as a PNG file at ``path``.

        Optional: the default says this task has no picture form.
        """
        raise RecursiaError(f"task '{self.name}' cannot draw PNG pictures (no render_png)")

    def render_form(self, form: np.ndarray) -> str:
        """Text picture of an answer form (:meth:`answer_form`), e.g. a voted attempt.

        Default: one line of space-separated values per row (a 1-D form is one row).
        """
        rows = np.atleast_2d(np.asarray(form))
        return "\n".join(" ".join(str(int(v)) for v in row) for row in rows)

    def render_attempts_png(self, inputs: np.ndarray, attempts: list[list[np.ndarray]],
                            expected: list[np.ndarray | None], path: Path) -> None:
        """Draw test inputs (T, L) tokens, each one's voted attempts (``attempts[j]``:
        answer forms, best first) and, where known, the expected answers into a PNG at
        ``path``. Optional, like :meth:`render_png`.
        """
        raise RecursiaError(f"task '{self.name}' cannot draw PNG pictures of attempts")

    def describe(self) -> str:
        """One line naming the task and its options, printed at the start of training."""
        return f"{self.name} {self.options.model_dump()}"

    def compatible(self, other_options: dict) -> str | None:
        """Why a checkpoint trained with ``other_options`` cannot serve this puzzle, or None.

        Called by ``solve`` with the checkpoint's task options and a task instance built
        from the puzzle file; the default compares the options for equality.
        """
        mine = self.options.model_dump()
        theirs = self.Options(**other_options).model_dump()
        if mine != theirs:
            return f"the checkpoint was trained with {theirs}, this puzzle needs {mine}"
        return None

    def options_for_puzzle(self, puzzle: Any) -> dict:
        """Task options implied by a puzzle (e.g. its size); default: the current ones."""
        return self.options.model_dump()

    # --- data -------------------------------------------------------------------
    def build_dataset(self, request: DataBuildRequest) -> dict:
        """Build ``request.out/train`` and ``request.out/test`` in the official layout.

        Returns a small JSON-able summary (counts, timings) to print.
        """
        raise NotImplementedError

    def default_dataset(self, cache_dir: Path, seed: int) -> DataBuildRequest:
        """The dataset ``recursia train`` builds when no ``--data`` is given."""
        return DataBuildRequest(out=cache_dir, seed=seed)

    def augmentations(self) -> list[Augmentation]:
        """The invertible augmentations used when storing augmented train sets."""
        return []

    # --- configuration ----------------------------------------------------------
    def presets(self) -> dict[str, dict]:
        """Named config overrides (nested dicts): at least ``paper`` and ``small``.

        A preset may set ``task_options`` too (e.g. the small preset's puzzle size).
        """
        return {}

    default_mixer: ClassVar[str] = "attention"
    checks_answers: ClassVar[bool] = True
    """Whether :meth:`check` can judge an answer from the puzzle alone (False for ARC,
    where only the expected output can); evaluation reports "valid" only when it can."""
    votes: ClassVar[bool] = False
    """Whether ``recursia eval`` votes across augmented test copies by default (ARC)."""
