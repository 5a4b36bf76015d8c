"""Inference: run supervision steps with halting, evaluate a split, solve one puzzle."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

import numpy as np
import torch

from recursia.data.dataset import IGNORE_LABEL, Split
from recursia.distributed import SINGLE, World
from recursia.errors import PuzzleError
from recursia.jsonfile import read_json_object
from recursia.model import RecursiveModel
from recursia.model.recursion import Carry
from recursia.task import Task


def forward_autocast(dtype: str, device: str | torch.device) -> contextlib.AbstractContextManager:
    """The precision the model runs in (``train.dtype``): ``auto`` is bfloat16 autocast on
    CUDA (as the official code) and float32 on the CPU; ``fastest`` is bfloat16 also on a
    CPU with native bf16 matrix products (:func:`native_bf16_cpu`); ``bfloat16``/``float32``
    force one. Weights stay float32 either way. Training and evaluation both use it."""
    device = torch.device(device)
    cuda = device.type == "cuda"
    if dtype == "bfloat16" or (dtype in ("auto", "fastest") and cuda) or (dtype == "fastest" and native_bf16_cpu()):
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def native_bf16_cpu() -> bool:
    """Whether this CPU multiplies bf16 matrices in hardware (AMX tiles or AVX512-BF16),
    where bf16 autocast is several times faster than float32; elsewhere it is emulated."""
    checks = (getattr(torch.cpu, name, None) for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"))
    return any(check() for check in checks if check is not None)


@dataclass
class Trace:
    """All supervision steps of a batch: preds (N, B, L) int64, q_halt (N, B) float, wants
    (N, B) bool (the step asks to halt: :meth:`RecursiveModel.wants_halt`)."""

    preds: torch.Tensor
    q_halt: torch.Tensor
    wants: torch.Tensor

    def halt_step(self) -> torch.Tensor:
        """(B,) 1-based step of the learned halt: the first step that wants it, else the last."""
        n, wants = self.q_halt.shape[0], self.wants  # wants (N, B)
        first = torch.where(wants.any(0), wants.float().argmax(0), torch.full_like(wants[0], n - 1, dtype=torch.long))
        return first.long() + 1

    def at_halt(self) -> torch.Tensor:
        """(B, L) predictions at the learned halting step."""
        idx = (self.halt_step() - 1).view(1, -1, 1).expand(1, *self.preds.shape[1:])
        return self.preds.gather(0, idx)[0]


# Inference runs under no_grad, not inference_mode: under inference_mode bf16 autocast
# casts every weight again at every product instead of once per autocast region (its
# weight cache is not used), which made one paper-size Sudoku 1.35 s instead of 1.06 s
# (16 steps, bf16; docs/benchmarks.md). The numbers are the same either way.
@torch.no_grad()
def run_steps(model: RecursiveModel, inputs: torch.Tensor, puzzle_ids: torch.Tensor,
              max_steps: int | None = None, *, until_halt: bool = False) -> Trace:
    """Run ``max_steps`` (default N_sup) supervision steps on inputs (B, L) without
    halting, or (``until_halt``) only until every row has wanted to halt once."""
    n = max_steps or model.cfg.halt_max_steps
    carry = model.initial_carry(inputs.shape[0], inputs.device)
    carry = model.refill(carry, inputs, None, puzzle_ids)
    preds, qs, wants = [], [], []
    wanted = torch.zeros(inputs.shape[0], dtype=torch.bool, device=inputs.device)  # (B,) has wanted to halt
    for _ in range(n):
        carry, out = model(carry)
        preds.append(out.logits.argmax(-1))
        qs.append(out.q_halt.float())
        wants.append(model.wants_halt(out))
        wanted |= wants[-1]
        if until_halt and bool(wanted.all()):
            break
    return Trace(torch.stack(preds), torch.stack(qs), torch.stack(wants))


def share_batches(split: Split, share: range, batch_size: int) -> Iterator[tuple[range, np.ndarray, np.ndarray]]:
    """The examples ``share`` of ``split`` in batches of ``batch_size``: ``(rows, inputs
    (B, L) int64, puzzle ids (B,) int64)``, each read from the memory-mapped arrays when
    its turn comes."""
    for start in range(share.start, share.stop, batch_size):
        rows = range(start, min(start + batch_size, share.stop))
        yield rows, np.asarray(split.inputs[rows.start:rows.stop]).astype(np.int64), split.example_puzzle_ids(rows)


def compact(carry: Carry, keep: torch.Tensor) -> Carry:
    """The carry of the rows where ``keep`` (B,) bool is True: every field indexed along dim 0."""
    return Carry(**{name: tensor[keep] for name, tensor in carry.tensors().items()})


@dataclass
class EvalResult:
    """Accuracy of a split: metric name -> value (a list of N_sup values for the ``*_per_step`` ones)."""

    examples: int = 0
    metrics: dict[str, float | list[float]] = field(default_factory=dict)


Halting = Literal["full", "early"]


def _score(preds: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per example of preds (..., B, L) against labels (B, L): the fraction of labelled
    cells right (float32) and whether all of them are (bool), both (..., B)."""
    valid = labels != IGNORE_LABEL  # (B, L)
    right = ((preds == labels) & valid).sum(-1)  # (..., B)
    total = valid.sum(-1)  # (B,)
    return right / total.clamp_min(1), right == total


@torch.no_grad()  # see run_steps
def evaluate(model: RecursiveModel, task: Task, split: Split, limit: int | None = None,
             batch_size: int = 256, device: str | torch.device = "cpu", *, world: World = SINGLE,
             progress: Callable[[int], None] | None = None, halting: Halting = "full") -> EvalResult:
    """Accuracy of ``model`` on the first ``limit`` (default all) examples of ``split``.

    ``halting="full"`` runs every example for N_sup supervision steps and reports cell
    and exact accuracy and the task checker's acceptance rate ("valid", only for a task
    that :attr:`Task.checks_answers`) at N_sup (``cell_acc``, ``exact_acc``,
    ``valid``) and at the learned halting step (``*_halt``, with the mean steps it
    takes, ``steps_halt``), and ``exact_acc_per_step``/``cell_acc_per_step``: N_sup
    values, the accuracy when every example stops at step k. ``halting="early"`` runs
    each example only until its learned halt, dropping halted examples from the batch,
    and reports the same ``*_halt`` and ``steps_halt`` values only.

    Batches of ``batch_size`` rows are read from the (memory-mapped) split one at a
    time. Each process of ``world`` evaluates its :meth:`World.share` of the examples
    and every process gets the metrics of all; ``progress`` is called after each
    batch with the number of this process's examples done.
    """
    if halting not in ("full", "early"):
        raise ValueError(f"halting must be 'full' or 'early', not {halting!r}")
    model.eval()
    total = split.num_examples if limit is None else min(limit, split.num_examples)
    share = world.share(total)
    n = model.cfg.halt_max_steps
    early = halting == "early"
    sizes = {} if early else {"cell_acc_per_step": n, "exact_acc_per_step": n, "valid": 1}
    sizes |= {"cell_acc_halt": 1, "exact_acc_halt": 1, "valid_halt": 1, "steps_halt": 1}
    # Sums over examples in float64, where float32 per-example values add up exactly (up
    # to 500,000 examples of up to 1,024 cells), so that the batching, the early mode and
    # the number of processes do not change them.
    sums = {k: torch.zeros(size, dtype=torch.float64, device=device) for k, size in sizes.items()
            if task.checks_answers or not k.startswith("valid")}
    for rows, inputs_np, pids_np in share_batches(split, share, batch_size):
        inputs = torch.from_numpy(inputs_np).to(device)  # (B, L)
        labels = torch.from_numpy(split.torch_labels(np.arange(rows.start, rows.stop))).to(device)  # (B, L)
        pids = torch.from_numpy(pids_np).to(device)  # (B,)
        if early:
            _early_batch(model, task, inputs_np, inputs, labels, pids, sums)
        else:
            _full_batch(model, task, inputs_np, inputs, labels, pids, sums)
        if progress is not None:
            progress(rows.stop - share.start)
    names = list(sums)
    flat = world.all_reduce_sum(torch.cat([sums[k] for k in names]))  # the sums of every process
    means = dict(zip(names, (flat / max(total, 1)).cpu().split([sums[k].numel() for k in names])))
    metrics: dict[str, float | list[float]] = {}
    if not early:
        metrics |= {"cell_acc": float(means["cell_acc_per_step"][-1]),
                    "exact_acc": float(means["exact_acc_per_step"][-1])}
        if "valid" in means:
            metrics["valid"] = float(means["valid"])
    metrics |= {k: float(means[k]) for k in ("cell_acc_halt", "exact_acc_halt", "valid_halt", "steps_halt")
                if k in means}
    if not early:
        metrics |= {k: means[k].tolist() for k in ("exact_acc_per_step", "cell_acc_per_step")}
    return EvalResult(total, metrics)


def _checked(task: Task, inputs_np: np.ndarray, preds: torch.Tensor) -> int:
    """How many rows of preds (R, L) the task's checker accepts for inputs (R, L)."""
    preds_np = preds.cpu().numpy()
    return sum(bool(task.check(inputs_np[i], preds_np[i])) for i in range(len(preds_np)))


def _full_batch(model: RecursiveModel, task: Task, inputs_np: np.ndarray, inputs: torch.Tensor,
                labels: torch.Tensor, pids: torch.Tensor, sums: dict[str, torch.Tensor]) -> None:
    """Add one batch run for N_sup steps to ``sums`` (per step, at N_sup, at the learned halt)."""
    trace = run_steps(model, inputs, pids)  # preds (N, B, L)
    cells, exact = _score(trace.preds, labels)  # (N, B) each
    sums["cell_acc_per_step"] += cells.double().sum(1)
    sums["exact_acc_per_step"] += exact.double().sum(1)
    step = trace.halt_step()  # (B,)
    at_halt = (step - 1)[None]  # (1, B)
    sums["cell_acc_halt"] += cells.gather(0, at_halt).double().sum()
    sums["exact_acc_halt"] += exact.gather(0, at_halt).double().sum()
    sums["steps_halt"] += step.double().sum()
    if task.checks_answers:
        sums["valid"] += _checked(task, inputs_np, trace.preds[-1])
        sums["valid_halt"] += _checked(task, inputs_np, trace.at_halt())


def _early_batch(model: RecursiveModel, task: Task, inputs_np: np.ndarray, inputs: torch.Tensor,
                 labels: torch.Tensor, pids: torch.Tensor, sums: dict[str, torch.Tensor]) -> None:
    """Add one batch to the halting sums, running each row only until it wants to halt
    (or N_sup): after every step the rows that stopped are scored and dropped from the carry."""
    n = model.cfg.halt_max_steps
    carry = model.refill(model.initial_carry(inputs.shape[0], inputs.device), inputs, None, pids)
    rows = torch.arange(inputs.shape[0], device=inputs.device)  # (b,) batch row of each carry slot
    for step in range(1, n + 1):
        carry, out = model(carry)
        stop = model.wants_halt(out) | (step == n)  # (b,)
        if stop.any():
            done = rows[stop]  # (h,)
            preds = out.logits.argmax(-1)[stop]  # (h, L)
            cells, exact = _score(preds, labels[done])  # (h,) each
            sums["cell_acc_halt"] += cells.double().sum()
            sums["exact_acc_halt"] += exact.double().sum()
            sums["steps_halt"] += step * len(done)
            if task.checks_answers:
                sums["valid_halt"] += _checked(task, inputs_np[done.cpu().numpy()], preds)
        if stop.all():
            return
        carry, rows = compact(carry, ~stop), rows[~stop]


def read_puzzle_file(path: str | Path, tasks: dict[str, type[Task]] | None = None) -> tuple[str, Any]:
    """``(task, puzzle)`` from a puzzle.json; PuzzleError naming the problem otherwise.

    A file without a ``task`` field is a bare puzzle when exactly one of ``tasks``
    (registry name -> Task class) recognises it (:meth:`Task.recognises`, e.g. a
    standard ARC task file).
    """
    data = read_json_object(path, PuzzleError)
    if "task" not in data and tasks:
        claimed = [name for name, cls in tasks.items() if cls.recognises(data)]
        if len(claimed) == 1:
            return claimed[0], data
    for key in ("task", "puzzle"):
        if key not in data:
            raise PuzzleError(f"{path}: missing field '{key}'")
    if not isinstance(data["task"], str):
        raise PuzzleError(f"{path}: field 'task' must be a string")
    return data["task"], data["puzzle"]


@dataclass
class Solution:
    """The answer to one puzzle and how the model got there.

    answer: tokens (L,) at the learned halting step; steps: that step (1-based);
    halted: whether q_halt > 0 stopped it before N_sup; halt_confidence: sigmoid(q_halt)
    there; valid: the task checker's verdict; trace: tokens and sigmoid(q_halt) per step.
    """

    inputs: np.ndarray
    answer: np.ndarray
    steps: int
    halted: bool
    halt_confidence: float
    valid: bool
    trace: list[tuple[np.ndarray, float]]


def solve(model: RecursiveModel, task: Task, inputs: np.ndarray, puzzle_id: int = 0,
          device: str | torch.device = "cpu", *, all_steps: bool = True) -> Solution:
    """The answer to one puzzle at its learned halt (else at N_sup). ``all_steps`` runs
    all N_sup steps for the trace; otherwise the run (and the trace) ends at the halt."""
    x = torch.from_numpy(inputs.astype(np.int64))[None].to(device)
    trace = run_steps(model, x, torch.tensor([puzzle_id], device=device), until_halt=not all_steps)
    step = int(trace.halt_step()[0])
    answer = trace.preds[step - 1, 0].cpu().numpy()
    conf = torch.sigmoid(trace.q_halt[:, 0]).cpu().numpy()
    return Solution(
        inputs=inputs, answer=answer, steps=step, halted=bool(trace.wants[step - 1, 0]),
        halt_confidence=float(conf[step - 1]), valid=bool(task.check(inputs, answer)),
        trace=[(trace.preds[i, 0].cpu().numpy(), float(conf[i])) for i in range(len(conf))],
    )
