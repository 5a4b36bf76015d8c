"""Voting across augmented test copies (test-time augmentation), for any task.

A test split stored with augmented copies (an :class:`AugmentationRecord` beside its
arrays) holds, per group, the original puzzle and its augmented versions; the
examples of each puzzle are its test inputs, in the same order in every version. The
model answers every example; :func:`vote` maps each answer back to the original
puzzle (:meth:`Task.answer_form`, then the recorded augmentation inverted), groups the
answers by (group, test input), counts identical ones and ranks them by votes, then by
mean halting confidence ``sigmoid(q_halt)``, as the official ARC evaluator does.

pass@k: a test input is solved when its expected answer is among the top k; a group
(an original puzzle) scores the fraction of its test inputs solved, and pass@k is
the mean over groups. Answers of several runs are pooled only when
:func:`vote` is given the predictions of several runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from recursia.data.augment import AugmentationRecord, compose_invert
from recursia.data.dataset import Split
from recursia.distributed import SINGLE, World
from recursia.errors import DatasetError
from recursia.infer import run_steps, share_batches
from recursia.train.run_files import atomic_write_text
from recursia.model import RecursiveModel
from recursia.task import Task

PASS_AT = (1, 2, 5, 10)


@dataclass
class Predictions:
    """A model's answers to every example of a split: tokens (E, L) after N_sup steps
    (uint8 when the vocabulary fits, as the split stores them) and the halting
    confidence sigmoid(q_halt) (E,) of that step."""

    tokens: np.ndarray
    confidence: np.ndarray


def predict_split(model: RecursiveModel, split: Split, batch_size: int = 256,
                  device: str | torch.device = "cpu", *, world: World = SINGLE,
                  progress: Callable[[int], None] | None = None) -> Predictions:
    """Run every example of ``split`` for N_sup supervision steps (the official
    evaluation: no early halt) and keep the last step's answer and confidence.

    Each process of ``world`` predicts its :meth:`World.share` of the examples and
    every process gets the predictions of all (gathered in example order);
    ``progress`` is called after each batch with the number of this process's
    examples done.
    """
    model.eval()
    share = world.share(split.num_examples)
    dtype = np.uint8 if model.vocab_size <= 256 else np.int64
    tokens = np.zeros((len(share), split.inputs.shape[1]), dtype=dtype)  # (E_r, L) this process's share
    confidence = np.zeros(len(share), dtype=np.float64)  # (E_r,)
    for rows, inputs, pids in share_batches(split, share, batch_size):  # (B, L), (B,)
        trace = run_steps(model, torch.from_numpy(inputs).to(device), torch.from_numpy(pids).to(device))
        mine = slice(rows.start - share.start, rows.stop - share.start)
        tokens[mine] = trace.preds[-1].cpu().numpy()
        confidence[mine] = torch.sigmoid(trace.q_halt[-1]).double().cpu().numpy()
        if progress is not None:
            progress(rows.stop - share.start)
    if world.size == 1:
        return Predictions(tokens, confidence)
    gathered = (world.gather_rows(torch.from_numpy(a).to(device)).cpu().numpy() for a in (tokens, confidence))
    return Predictions(*gathered)  # (E, L), (E,)


@dataclass
class Candidate:
    """One distinct answer to a test input: the answer form, its votes, its mean confidence."""

    answer: np.ndarray
    votes: int
    confidence: float


@dataclass
class VoteResult:
    """Ranked answers per group and test input, the expected answers and pass@k.

    ranked[g][j]: candidates for test input ``j`` of group ``g``, best first;
    expected[g][j]: the expected answer form; names[g]: the group's name;
    metrics: ``pass@k`` for k in :data:`PASS_AT`, ``groups``, ``test_inputs``, ``votes``.
    """

    ranked: list[list[list[Candidate]]]
    expected: list[list[np.ndarray]]
    names: list[str]
    metrics: dict[str, float]


def _key(form: np.ndarray) -> tuple:
    """A hashable identity of an answer form: its shape and bytes."""
    form = np.ascontiguousarray(form, dtype=np.int64)
    return form.shape, form.tobytes()


def vote(task: Task, split: Split, record: AugmentationRecord | None, runs: list[Predictions],
         where: Path | str = "test split") -> VoteResult:
    """Invert, group, count and rank the answers of ``runs`` (one :class:`Predictions`
    per run, pooled) to ``split``; DatasetError when the split's groups do not line up
    (versions of one puzzle with different numbers of test inputs)."""
    where = Path(where)
    augs = record.resolve(task.augmentations(), where) if record is not None else []
    params = record.params if record is not None else [None] * len(split.puzzle_identifiers)
    puzzle_idx = np.asarray(split.puzzle_indices, dtype=np.int64)  # (P+1,)
    group_idx = np.asarray(split.group_indices, dtype=np.int64)  # (G+1,)
    labels = np.asarray(split.labels)

    def original(tokens: np.ndarray, puzzle: int) -> np.ndarray:
        form = task.answer_form(tokens.astype(np.int64))  # (L,) as the model's tokens, whatever the storage
        return form if params[puzzle] is None else compose_invert(augs, form, params[puzzle])

    ranked, expected, total_votes = [], [], 0
    for g in range(split.num_groups):
        puzzles = range(int(group_idx[g]), int(group_idx[g + 1]))
        first = puzzles[0]
        count = int(puzzle_idx[first + 1] - puzzle_idx[first])
        tallies: list[dict[tuple, list]] = [{} for _ in range(count)]
        for p in puzzles:
            if puzzle_idx[p + 1] - puzzle_idx[p] != count:
                raise DatasetError(f"{where}: puzzle {p} has {int(puzzle_idx[p + 1] - puzzle_idx[p])} test inputs "
                                   f"but the first puzzle of its group has {count}")
            for j in range(count):
                row = int(puzzle_idx[p]) + j
                for preds in runs:
                    form = original(preds.tokens[row], p)
                    entry = tallies[j].setdefault(_key(form), [form, 0, 0.0])
                    entry[1] += 1
                    entry[2] += float(preds.confidence[row])
                    total_votes += 1
        ranked.append([sorted((Candidate(f, n, c / n) for f, n, c in t.values()),
                              key=lambda cand: (-cand.votes, -cand.confidence)) for t in tallies])
        expected.append([original(labels[int(puzzle_idx[first]) + j], first) for j in range(count)])
    names = (list(record.group_names) if record is not None and record.group_names
             else [str(g) for g in range(split.num_groups)])
    metrics: dict[str, float] = {}
    for k in PASS_AT:
        scores = [np.mean([_key(exp) in {_key(c.answer) for c in cands[:k]} for cands, exp in zip(group, want)])
                  for group, want in zip(ranked, expected) if want]
        metrics[f"pass@{k}"] = float(np.mean(scores)) if scores else 0.0
    metrics |= {"groups": split.num_groups, "test_inputs": sum(len(e) for e in expected), "votes": total_votes}
    return VoteResult(ranked, expected, names, metrics)


def submission(result: VoteResult) -> dict[str, list[dict]]:
    """The Kaggle ARC submission: per group name, per test input, ``attempt_1`` and
    ``attempt_2`` (the top two answers; the first again when there is only one)."""
    out = {}
    for name, group in zip(result.names, result.ranked):
        rows = []
        for cands in group:
            first = cands[0].answer.tolist() if cands else []
            second = cands[1].answer.tolist() if len(cands) > 1 else first
            rows.append({"attempt_1": first, "attempt_2": second})
        out[name] = rows
    return out


def write_submission(result: VoteResult, path: Path) -> None:
    """Write :func:`submission` as JSON to ``path`` atomically."""
    atomic_write_text(Path(path), json.dumps(submission(result)))
