"""Numerical parity with the official TRM and HRM implementations (../shared/reference)."""

from __future__ import annotations

import json

import pytest
import torch
import yaml
from recursia.official import (
    convert_key,
    convert_state_dict,
    model_config_from_official,
)
from safetensors.torch import load_file

from recursia.model import RecursiveModel
from recursia.plugins import get_registry
from recursia.train.checkpoint import load_run, load_state
from recursia.train.losses import model_step_loss
from tests.conftest import shared_path
from tests.test_end_to_end import run_cli

NAMES = ["sudoku_mlp", "maze_attn", "arc_attn"]
HRM_NAMES = ["hrm_sudoku", "hrm_arc"]
TOL = 1e-4


def build(name: str, **overrides) -> tuple[RecursiveModel, dict]:
    """The reference model with the official weights loaded, and its config dict."""
    ref = shared_path("reference")
    arch = json.loads((ref / f"{name}.config.json").read_text())["config_dict"]
    arch.update(overrides)
    official = load_file(str(ref / f"{name}.weights.safetensors"))
    cfg = model_config_from_official(arch, name, official)
    model = RecursiveModel(cfg, arch["vocab_size"], arch["seq_len"], arch["num_puzzle_identifiers"],
                           get_registry().mixer(cfg.mixer))
    load_state(model, convert_state_dict(official, cfg.net == "separate"), name)
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


def check_chained(model: RecursiveModel, v: dict[str, torch.Tensor]) -> None:
    """Four chained eval steps from the initial carry reproduce every stored output and carry."""
    model.eval()
    inputs, pids = v["inputs"].long(), v["puzzle_identifiers"].long()
    carry = model.initial_carry(inputs.shape[0])
    with torch.inference_mode():
        for n in range(1, 5):
            carry, out = model.act_step(carry, inputs, pids, training=False)
            close(out.logits, v[f"step{n}.logits"], f"step{n}.logits")
            close(out.q_halt, v[f"step{n}.q_halt_logits"], f"step{n}.q_halt")
            close(out.q_continue, v[f"step{n}.q_continue_logits"], f"step{n}.q_continue")
            if f"step{n}.z_H" in v:
                close(carry.y, v[f"step{n}.z_H"], f"step{n}.z_H")
                close(carry.z, v[f"step{n}.z_L"], f"step{n}.z_L")
            assert torch.equal(carry.steps, v[f"step{n}.steps"])
            assert torch.equal(carry.halted, v[f"step{n}.halted"])


@pytest.mark.parametrize("name", NAMES + HRM_NAMES)
def test_chained_eval_steps(name):
    model, _ = build(name)
    check_chained(model, vectors(name))


@pytest.mark.parametrize("name", HRM_NAMES)
def test_hrm_is_read_with_its_own_prefix_and_layer_counts(name):
    model, arch = build(name)
    cfg = model.cfg
    assert model.prefix_len == 1 and model.total_len == arch["seq_len"] + 1
    assert (cfg.net, cfg.gradient, cfg.act, cfg.mixer) == ("separate", "one_step", "halt_continue", "attention")
    assert (len(model.net.layers), len(model.net_y.layers)) == (arch["L_layers"], arch["H_layers"])
    assert (cfg.T, cfg.n) == (arch["H_cycles"], arch["L_cycles"])


@pytest.mark.parametrize("name", HRM_NAMES)
def test_hrm_single_step_from_saved_carry(name):
    model, _ = build(name)
    model.eval()
    v = vectors(name)
    inputs, pids = v["inputs"].long(), v["puzzle_identifiers"].long()
    carry = model.initial_carry(inputs.shape[0])
    carry.y, carry.z = v["step1.z_H"].clone(), v["step1.z_L"].clone()
    carry.steps = torch.ones_like(carry.steps)
    carry.halted = torch.zeros_like(carry.halted)
    carry.inputs, carry.puzzle_ids = inputs, pids
    with torch.inference_mode():
        carry, out = model.act_step(carry, inputs, pids, training=False)
    close(out.logits, v["step2.logits"], "logits")
    close(out.q_halt, v["step2.q_halt_logits"], "q_halt")
    close(out.q_continue, v["step2.q_continue_logits"], "q_continue")
    assert torch.equal(carry.halted, v["step2.halted"])


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


def check_training_step(model: RecursiveModel, g: dict[str, torch.Tensor], n_params: int) -> None:
    """One training call from the initial carry (exploration off) reproduces the official
    losses, outputs, halting (and, for HRM, the bootstrapped Q target) and every gradient."""
    model.train()
    hrm = model.cfg.act == "halt_continue"
    inputs, labels, pids = g["inputs"].long(), g["labels"].long(), g["puzzle_identifiers"].long()
    carry = model.refill(model.initial_carry(inputs.shape[0]), inputs, labels, pids)
    carry, out = model(carry)
    target = model.q_continue_target(carry) if hrm else None
    res = model_step_loss(model, carry, out, "stablemax")  # the trainer's loss
    carry = model.update_halting(carry, out, training=True, generator=torch.Generator().manual_seed(0))
    res.loss.backward()

    assert abs(res.loss.item() - g["loss"].item()) < 1e-5
    assert abs(res.lm_loss.item() - g["lm_loss"].item()) < 1e-5
    assert abs(res.q_halt_loss.item() - g["q_halt_loss"].item()) < 1e-5
    close(out.logits, g["train.logits"], "train.logits")
    close(out.q_halt, g["train.q_halt_logits"], "train.q_halt")
    close(out.q_continue, g["train.q_continue_logits"], "train.q_continue")
    assert torch.equal(carry.halted, g["train.halted"])
    assert torch.equal(res.seq_correct, g["train.seq_is_correct"])
    if hrm:
        assert abs(res.q_continue_loss.item() - g["q_continue_loss"].item()) < 1e-5
        assert (target - g["train.target_q_continue"]).abs().max().item() < 1e-5
        assert torch.equal(carry.steps, g["train.steps"])

    params = dict(model.named_parameters())
    checked = 0
    for key, ref in g.items():
        if not key.startswith("grad.") or ".puzzle_emb." in key:
            continue
        ours = params[convert_key(key.removeprefix("grad."), separate_nets=hrm)]
        close(ours.grad, ref, key)
        checked += 1
    assert checked == len(params) == n_params
    local = model.embed.puzzle.local
    close(local.grad, g["grad.inner.puzzle_emb.local_weights"], "puzzle_emb.local_weights")
    table = torch.zeros_like(model.embed.puzzle.weight).index_add_(0, model.embed.puzzle.local_ids, local.grad)
    close(table, g["grad.inner.puzzle_emb.weights"], "puzzle_emb.weights")


def grads(name: str) -> dict[str, torch.Tensor]:
    """The reference's one-training-step file of ``name``."""
    return load_file(str(shared_path("reference") / f"{name}.grads.safetensors"))


def test_training_step_loss_and_gradients():
    model, _ = build("sudoku_mlp", halt_exploration_prob=0.0)
    check_training_step(model, grads("sudoku_mlp"), 12)


def test_hrm_training_step_loss_q_target_and_gradients():
    model, _ = build("hrm_sudoku", halt_exploration_prob=0.0)
    check_training_step(model, grads("hrm_sudoku"), 20)


def test_hrm_one_step_gradient_reaches_only_the_last_updates():
    """With ``gradient: one_step`` only the last z-update and the last y-update of a step
    run with gradient recording on (the gradients themselves are checked above)."""
    model, _ = build("hrm_sudoku", halt_exploration_prob=0.0)
    g = grads("hrm_sudoku")
    calls = []
    for net in (model.net, model.net_y):
        net.register_forward_hook(lambda mod, args, out: calls.append(torch.is_grad_enabled()))
    model.train()
    carry = model.refill(model.initial_carry(4), g["inputs"].long(), g["labels"].long(),
                         g["puzzle_identifiers"].long())
    model(carry)
    # z z y z z y (T 2, n 2): only the last z-update (net) and the last y-update (net_y) record a graph
    assert calls == [False, False, False, False, True, True]


@pytest.mark.parametrize("name", HRM_NAMES)
def test_hrm_through_recursia_convert_official(name, tmp_path, capsys):
    """An HRM-style checkpoint (``torch.save``, compile/loss-head prefixes) and arch config
    convert into a run directory that reproduces the reference eval vectors."""
    ref = shared_path("reference")
    official = load_file(str(ref / f"{name}.weights.safetensors"))
    ckpt = tmp_path / "step_1000"
    torch.save({f"_orig_mod.model.{k}": v for k, v in official.items()}, ckpt)
    config = json.loads((ref / f"{name}.config.json").read_text())["config_dict"]
    arch = tmp_path / "all_config.yaml"  # what HRM's pretrain.py writes beside its checkpoints
    arch.write_text(yaml.safe_dump({"arch": {"name": "hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1",
                                             "loss": {"name": "losses@ACTLossHead"}, **config}}))
    task = ["--task", "arc", "--set", "canvas=10"] if name == "hrm_arc" else []
    code, stdout, err = run_cli(capsys, "convert", "official", str(ckpt), "--arch-config", str(arch),
                                "--out", str(tmp_path / "run"), *task)
    assert code == 0, err
    model = build(name)[0]
    assert f"{model.num_parameters():,} trainable values in the checkpoint = " in stdout
    assert "forward check:" in stdout and "prefix 1," in stdout
    check_chained(load_run(tmp_path / "run").model, vectors(name))
