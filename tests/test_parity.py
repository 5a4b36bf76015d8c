"""Numerical parity with the official TRM implementation (../shared/reference)."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from recursia.model import RecursiveModel
from recursia.plugins import get_registry
from recursia.train.checkpoint import load_state
from recursia.train.losses import step_loss
from recursia_official.convert import convert_key, convert_state_dict, model_config_from_official
from tests.conftest import shared_path

NAMES = ["sudoku_mlp", "maze_attn", "arc_attn"]
TOL = 1e-4


def build(name: str, **overrides) -> tuple[RecursiveModel, dict]:
    """The reference model with the official weights loaded, and its config dict."""
    ref = shared_path("reference")
    arch = json.loads((ref / f"{name}.config.json").read_text())["config_dict"]
    arch.update(overrides)
    cfg = model_config_from_official(arch)
    model = RecursiveModel(cfg, arch["vocab_size"], arch["seq_len"], arch["num_puzzle_identifiers"],
                           get_registry().mixer(cfg.mixer))
    load_state(model, convert_state_dict(load_file(str(ref / f"{name}.weights.safetensors"))), name)
    return model, arch


def vectors(name: str) -> dict[str, torch.Tensor]:
    return load_file(str(shared_path("reference") / f"{name}.vectors.safetensors"))


def close(a: torch.Tensor, b: torch.Tensor, what: str) -> None:
    diff = (a.float() - b.float()).abs().max().item()
    assert diff < TOL, f"{what}: max abs diff {diff}"


@pytest.fixture(autouse=True)
def _deterministic():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("name", NAMES)
def test_chained_eval_steps(name):
    model, _ = build(name)
    model.eval()
    v = vectors(name)
    inputs, pids = v["inputs"].long(), v["puzzle_identifiers"].long()
    carry = model.initial_carry(inputs.shape[0])
    with torch.inference_mode():
        for n in range(1, 5):
            carry, out = model.act_step(carry, inputs, pids, training=False)
            close(out.logits, v[f"step{n}.logits"], f"step{n}.logits")
            close(out.q_halt, v[f"step{n}.q_halt_logits"], f"step{n}.q_halt")
            close(out.q_continue, v[f"step{n}.q_continue_logits"], f"step{n}.q_continue")
            close(carry.y, v[f"step{n}.z_H"], f"step{n}.z_H")
            close(carry.z, v[f"step{n}.z_L"], f"step{n}.z_L")
            assert torch.equal(carry.steps, v[f"step{n}.steps"])
            assert torch.equal(carry.halted, v[f"step{n}.halted"])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n", [2, 3, 4])
def test_single_step_from_saved_carry(name, n):
    model, _ = build(name)
    model.eval()
    v = vectors(name)
    inputs, pids = v["inputs"].long(), v["puzzle_identifiers"].long()
    carry = model.initial_carry(inputs.shape[0])
    carry.y, carry.z = v[f"step{n - 1}.z_H"].clone(), v[f"step{n - 1}.z_L"].clone()
    carry.steps = torch.full_like(carry.steps, n - 1)
    carry.halted = torch.zeros_like(carry.halted)
    carry.inputs, carry.puzzle_ids = inputs, pids
    with torch.inference_mode():
        carry, out = model.act_step(carry, inputs, pids, training=False)
    close(out.logits, v[f"step{n}.logits"], "logits")
    close(out.q_halt, v[f"step{n}.q_halt_logits"], "q_halt")
    close(carry.y, v[f"step{n}.z_H"], "z_H")
    close(carry.z, v[f"step{n}.z_L"], "z_L")
    assert torch.equal(carry.halted, v[f"step{n}.halted"])


def test_training_step_loss_and_gradients():
    model, _ = build("sudoku_mlp", halt_exploration_prob=0.0)
    model.train()
    g = load_file(str(shared_path("reference") / "sudoku_mlp.grads.safetensors"))
    inputs, labels, pids = g["inputs"].long(), g["labels"].long(), g["puzzle_identifiers"].long()
    carry = model.initial_carry(inputs.shape[0])
    carry, out = model.act_step(carry, inputs, pids, labels, training=True)
    res = step_loss(out.logits, carry.labels, out.q_halt)
    res.loss.backward()

    assert abs(res.loss.item() - g["loss"].item()) < 1e-5
    assert abs(res.lm_loss.item() - g["lm_loss"].item()) < 1e-5
    assert abs(res.q_halt_loss.item() - g["q_halt_loss"].item()) < 1e-5
    close(out.logits, g["train.logits"], "train.logits")
    close(out.q_halt, g["train.q_halt_logits"], "train.q_halt")
    assert torch.equal(carry.halted, g["train.halted"])
    assert torch.equal(res.seq_correct, g["train.seq_is_correct"])

    params = dict(model.named_parameters())
    checked = 0
    for key, ref in g.items():
        if not key.startswith("grad.") or ".puzzle_emb." in key:
            continue
        ours = params[convert_key(key.removeprefix("grad."), separate_nets=False)]
        close(ours.grad, ref, key)
        checked += 1
    assert checked == len(params) == 12
    local = model.embed.puzzle.local
    close(local.grad, g["grad.inner.puzzle_emb.local_weights"], "puzzle_emb.local_weights")
    table = torch.zeros_like(model.embed.puzzle.weight).index_add_(0, model.embed.puzzle.local_ids, local.grad)
    close(table, g["grad.inner.puzzle_emb.weights"], "puzzle_emb.weights")
