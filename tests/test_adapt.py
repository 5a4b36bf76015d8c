"""Test-time adaptation (recursia.adapt): new puzzle-embedding rows start at the mean of
the trained ones and are the only weights that move unless the network is fine-tuned too."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recursia.adapt import AdaptationSet, adapt, add_puzzle_rows
from recursia.build import make_model, make_task
from recursia.cli.train import resolve_config
from recursia.data.dataset import Split
from recursia.errors import ConfigError
from tests.test_end_to_end import TINY


def _model(extra: list[str] = ()):
    sets = [a for a in TINY if a != "--set"] + list(extra)
    cfg = resolve_config("sudoku", "mlp", "small", None, sets, 4, "cpu")
    task = make_task("sudoku", cfg.task_options)
    torch.manual_seed(0)
    model = make_model(cfg, task, 5)
    if model.embed.puzzle is not None:
        with torch.no_grad():
                model.embed.puzzle.weight.copy_(torch.randn_like(model.embed.puzzle.weight))
    return cfg, task, model


def _adaptation_set(task, versions: int = 3) -> AdaptationSet:
    """Random 4x4 'demonstrations' (two per version) and one test input per version."""
    rng = np.random.default_rng(0)
    L = task.seq_len
    demo_inputs = rng.integers(1, task.vocab_size, (2 * versions, L)).astype(np.uint8)
    demo_labels = rng.integers(2, task.vocab_size, (2 * versions, L)).astype(np.uint8)
    test_inputs = rng.integers(1, task.vocab_size, (versions, L)).astype(np.uint8)
    test = Split(meta={"ignore_label_id": 0}, inputs=test_inputs, labels=np.zeros_like(test_inputs),
                 puzzle_identifiers=np.zeros(versions, dtype=np.int64),
                 puzzle_indices=np.arange(versions + 1), group_indices=np.array([0, versions]))
    return AdaptationSet(demo_inputs, demo_labels, np.repeat(np.arange(versions), 2), test,
                         [None] * versions, [])


def test_new_rows_are_the_mean_of_the_trained_rows():
    _, _, model = _model()
    trained = model.embed.puzzle.weight[1:].clone()
    first = add_puzzle_rows(model, 3)
    assert first == 5 and len(model.embed.puzzle.weight) == 8
    for row in model.embed.puzzle.weight[5:]:
        torch.testing.assert_close(row, trained.mean(0))


def test_rows_adaptation_changes_only_the_new_rows():
    cfg, task, model = _model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    data = _adaptation_set(task)
    losses = adapt(model, cfg, data, steps=6)
    assert len(losses) == 6 and all(np.isfinite(losses))
    after = model.state_dict()
    for name, value in before.items():
        if name.endswith("puzzle.weight"):
            torch.testing.assert_close(after[name][:5], value)  # the trained rows are untouched
            assert not torch.equal(after[name][5:], value[1:].mean(0).expand(3, -1))
        else:
            assert torch.equal(after[name], value), name
    assert list(data.test.puzzle_identifiers) == [5, 6, 7]
    assert all(p.requires_grad for p in model.parameters()) and not model.training


def test_full_adaptation_fine_tunes_the_network():
    cfg, task, model = _model()
    before = {k: v.clone() for k, v in model.named_parameters()}
    adapt(model, cfg, _adaptation_set(task), steps=4, full=True)
    assert any(not torch.equal(p, before[k]) for k, p in model.named_parameters())


def test_a_model_without_puzzle_embedding_cannot_adapt():
    cfg, task, model = _model(["model.puzzle_emb_ndim=0", "model.puzzle_emb_len=0"])
    with pytest.raises(ConfigError, match="nothing to adapt"):
        adapt(model, cfg, _adaptation_set(task), steps=1)
