"""Inference: run supervision steps with halting, evaluate a split, solve one puzzle."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from recursia.data.dataset import Split
from recursia.errors import PuzzleError
from recursia.jsonfile import read_json_object
from recursia.model import RecursiveModel
from recursia.task import Task


@dataclass
class Trace:
    """All supervision steps of a batch: preds (N, B, L) int64, q_halt (N, B) float."""

    preds: torch.Tensor
    q_halt: torch.Tensor

    def halt_step(self) -> torch.Tensor:
        """(B,) 1-based step of the learned halt: first step with q_halt > 0, else the last."""
        n = self.q_halt.shape[0]
        wants = self.q_halt > 0  # (N, B)
        first = torch.where(wants.any(0), wants.float().argmax(0), torch.full_like(wants[0], n - 1, dtype=torch.long))
        return first.long() + 1

    def at_halt(self) -> torch.Tensor:
        """(B, L) predictions at the learned halting step."""
        idx = (self.halt_step() - 1).view(1, -1, 1).expand(1, *self.preds.shape[1:])
        return self.preds.gather(0, idx)[0]


@torch.inference_mode()
def run_steps(model: RecursiveModel, inputs: torch.Tensor, puzzle_ids: torch.Tensor,
              max_steps: int | None = None) -> Trace:
    """Run ``max_steps`` (default N_sup) supervision steps on inputs (B, L) without halting."""
    n = max_steps or model.cfg.halt_max_steps
    carry = model.initial_carry(inputs.shape[0], inputs.device)
    carry = model.refill(carry, inputs, None, puzzle_ids)
    preds, qs = [], []
    for _ in range(n):
        carry, out = model(carry)
        preds.append(out.logits.argmax(-1))
        qs.append(out.q_halt.float())
    return Trace(torch.stack(preds), torch.stack(qs))


@dataclass
class EvalResult:
    """Accuracy of a split at N_sup steps and with learned halting."""

    examples: int = 0
    metrics: dict[str, float] = field(default_factory=dict)


def evaluate(model: RecursiveModel, task: Task, split: Split, limit: int | None = None,
             batch_size: int = 256, device: str | torch.device = "cpu") -> EvalResult:
    """Cell and exact accuracy, and the task checker's acceptance rate ("valid", only for
    a task that :attr:`Task.checks_answers`), at N_sup steps and at the learned halting
    step (with the mean steps it takes)."""
    model.eval()
    total = split.num_examples if limit is None else min(limit, split.num_examples)
    pids_all = split.example_puzzle_ids()
    keys = ("cell_acc", "exact_acc", "valid", "cell_acc_halt", "exact_acc_halt", "valid_halt", "steps_halt")
    sums = {k: 0.0 for k in keys if task.checks_answers or not k.startswith("valid")}
    for start in range(0, total, batch_size):
        rows = np.arange(start, min(start + batch_size, total))
        inputs_np = np.asarray(split.inputs[rows]).astype(np.int64)
        inputs = torch.from_numpy(inputs_np).to(device)
        labels = torch.from_numpy(split.torch_labels(rows)).to(device)
        pids = torch.from_numpy(pids_all[rows].astype(np.int64)).to(device)
        trace = run_steps(model, inputs, pids)
        for suffix, preds in (("", trace.preds[-1]), ("_halt", trace.at_halt())):
            valid = labels != -100
            correct = (preds == labels) & valid
            sums["cell_acc" + suffix] += (correct.sum(-1) / valid.sum(-1).clamp_min(1)).sum().item()
            sums["exact_acc" + suffix] += (correct.sum(-1) == valid.sum(-1)).sum().item()
            if task.checks_answers:
                preds_np = preds.cpu().numpy()
                sums["valid" + suffix] += sum(task.check(inputs_np[i], preds_np[i]) for i in range(len(rows)))
        sums["steps_halt"] += trace.halt_step().sum().item()
    return EvalResult(total, {k: v / max(total, 1) for k, v in sums.items()})


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
          device: str | torch.device = "cpu") -> Solution:
    """Run up to N_sup steps on one puzzle and stop at the learned halt."""
    x = torch.from_numpy(inputs.astype(np.int64))[None].to(device)
    trace = run_steps(model, x, torch.tensor([puzzle_id], device=device))
    step = int(trace.halt_step()[0])
    answer = trace.preds[step - 1, 0].cpu().numpy()
    conf = torch.sigmoid(trace.q_halt[:, 0]).cpu().numpy()
    return Solution(
        inputs=inputs, answer=answer, steps=step, halted=bool(trace.q_halt[step - 1, 0] > 0),
        halt_confidence=float(conf[step - 1]), valid=bool(task.check(inputs, answer)),
        trace=[(trace.preds[i, 0].cpu().numpy(), float(conf[i])) for i in range(len(conf))],
    )
