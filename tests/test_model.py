"""The model: parameter counts of the paper presets, shapes, HRM switches."""

from __future__ import annotations

import pytest
import torch

from recursia.build import make_model, make_task
from recursia.cli.train import resolve_config
from recursia.config import ModelConfig
from recursia.model import RecursiveModel
from recursia.plugins import get_registry
from recursia.train.losses import step_loss


@pytest.mark.parametrize("mixer,count", [("mlp", 5_028_866), ("attention", 6_828_034)])
def test_paper_preset_parameter_counts(mixer, count):
    cfg = resolve_config("sudoku", mixer, "paper", None, [], None, "cpu")
    model = make_model(cfg, make_task("sudoku", cfg.task_options), 1)
    assert model.num_parameters() == count


def tiny(**kw) -> RecursiveModel:
    cfg = ModelConfig(**({"mixer": "attention", "hidden_size": 32, "num_heads": 4, "T": 2, "n": 2,
                          "halt_max_steps": 3, "puzzle_emb_len": 2} | kw))
    torch.manual_seed(0)
    return RecursiveModel(cfg, vocab_size=6, seq_len=16, num_puzzle_ids=3, mixer_factory=get_registry().mixer(cfg.mixer))


@pytest.mark.parametrize("mixer", ["mlp", "attention"])
def test_shapes_and_initial_heads(mixer):
    model = tiny(mixer=mixer)
    carry = model.initial_carry(5)
    x = torch.randint(1, 6, (5, 16))
    carry, out = model.act_step(carry, x, torch.tensor([0, 1, 2, 1, 0]))
    assert out.logits.shape == (5, 16, 6)
    assert carry.y.shape == carry.z.shape == (5, 18, 32)
    # q_head is zero-initialised with bias -5: every slot starts far from halting
    assert torch.allclose(out.q_halt, torch.full((5,), -5.0))
    assert carry.steps.tolist() == [1] * 5 and not carry.halted.any()


def test_puzzle_prefix_length_defaults_to_ceil_of_ndim():
    model = tiny(puzzle_emb_len=None, puzzle_emb_ndim=40)
    assert model.prefix_len == 2 and model.total_len == 18


def test_carry_reset_only_for_halted_slots():
    model = tiny().eval()
    x = torch.randint(1, 6, (2, 16))
    pid = torch.zeros(2, dtype=torch.long)
    carry = model.initial_carry(2)
    carry, _ = model.act_step(carry, x, pid)
    carry.halted = torch.tensor([True, False])
    y_before = carry.y.clone()
    refilled = model.refill(carry, x.flip(0), None, pid)
    assert torch.equal(refilled.y[0], model.y_init.expand(18, 32))
    assert torch.equal(refilled.y[1], y_before[1])
    assert torch.equal(refilled.inputs[0], x[1]) and torch.equal(refilled.inputs[1], x[1])
    assert refilled.steps.tolist() == [0, 1]


def test_eval_halts_only_at_n_sup_and_training_on_q():
    model = tiny()
    with torch.no_grad():
        model.q_head.bias.fill_(3.0)  # every slot wants to halt
    x, pid = torch.randint(1, 6, (4, 16)), torch.zeros(4, dtype=torch.long)
    carry, _ = model.act_step(model.initial_carry(4), x, pid, training=False)
    assert not carry.halted.any()
    model.cfg.halt_exploration_prob = 0.0
    carry, _ = model.act_step(model.initial_carry(4), x, pid, training=True)
    assert carry.halted.all()


def test_gradient_reaches_only_last_cycle_inputs():
    """The carried states enter detached: no gradient flows into them."""
    model = tiny().train()
    carry = model.initial_carry(2)
    carry = model.refill(carry, torch.randint(1, 6, (2, 16)), None, torch.zeros(2, dtype=torch.long))
    carry.y.requires_grad_(True)
    _, out = model(carry)
    out.logits.sum().backward()
    assert carry.y.grad is None
    assert model.lm_head.weight.grad is not None


def test_hrm_configuration_trains_with_q_continue():
    model = tiny(separate_nets=True, one_step_grad=True, act_continue=True, n_layers=1).train()
    assert model.net_y is not None
    x, pid = torch.randint(1, 6, (3, 16)), torch.zeros(3, dtype=torch.long)
    labels = torch.randint(1, 6, (3, 16))
    carry, out = model.act_step(model.initial_carry(3), x, pid, labels, training=True)
    target = torch.full((3,), 0.25)
    res = step_loss(out.logits, carry.labels, out.q_halt, "softmax", out.q_continue, target)
    assert res.q_continue_loss.item() > 0
    res.loss.backward()
    assert model.net_y.layers[0].mlp.down_proj.weight.grad is not None
    assert model.net.layers[0].mlp.down_proj.weight.grad is not None


def test_maze_paper_preset_parameter_count():
    cfg = resolve_config("maze", "attention", "paper", None, [], None, "cpu")
    model = make_model(cfg, make_task("maze", cfg.task_options), 1)
    assert model.num_parameters() == 6_822_914
