"""The named engine switches (``net``, ``gradient``, ``act``, ``latents``, ``n_layers_y``):
every variant trains, one-step gradients stop where HRM's do, the Q target and the halting
rules, the carried latents and their documented update formulas, the old boolean aliases,
the paper's effective depths, the CLI, and the HRM Sudoku preset's parameter count."""

from __future__ import annotations

import json

import pytest
import torch
from pydantic import ValidationError
from safetensors.torch import load_file

from recursia.build import make_model, make_task
from recursia.cli.train import resolve_config
from recursia.config import ModelConfig, validate
from recursia.model import RecursiveModel
from recursia.model.recursion import Carry, StepOutput
from recursia.plugins import get_registry
from recursia.train.losses import step_loss
from tests import test_end_to_end
from tests.test_end_to_end import TINY, run_cli

B, L, V = 8, 16, 6  # slots, task sequence length, vocabulary
PREFIX = 2  # puzzle prefix positions of the tiny models
S, D = PREFIX + L, 32  # carried sequence length, hidden size
data4 = test_end_to_end.data4  # the fixture: a tiny 4x4 Sudoku dataset, built once for this module


@pytest.fixture(autouse=True)
def one_thread():
    """Run the tiny models on one CPU thread (faster for them, and steady when other
    processes share the cores); the previous thread count is restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny(**kw) -> RecursiveModel:
    """A tiny model (D 32, T 2, n 2, N_sup 3, 2-position prefix) with ``kw`` overriding the
    config; seeded, so that one config always gives the same weights."""
    cfg = ModelConfig(**({"mixer": "mlp", "hidden_size": D, "num_heads": 4, "T": 2, "n": 2, "halt_max_steps": 3,
                          "puzzle_emb_len": PREFIX, "swiglu_multiple": 32} | kw))
    torch.manual_seed(0)
    return RecursiveModel(cfg, vocab_size=V, seq_len=L, num_puzzle_ids=3, mixer_factory=get_registry().mixer(cfg.mixer))


def batch(seed: int = 0, size: int = B) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A fixed batch with a learnable rule: inputs (size, L) in 1..5, labels (size, L) =
    ``2 * input mod 5 + 1`` (a per-cell map), puzzle ids (size,)."""
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randint(1, V, (size, L), generator=gen)  # (size, L)
    labels = (inputs * 2) % 5 + 1  # (size, L)
    return inputs, labels, torch.arange(size) % 3


def stepped(model: RecursiveModel, size: int = B) -> tuple[Carry, StepOutput]:
    """One supervision step (refill of a fresh carry, forward) on :func:`batch`; returns
    the carry before its step count is updated and the step's outputs."""
    inputs, labels, pids = batch(size=size)
    carry = model.refill(model.initial_carry(size), inputs, labels, pids)
    return model(carry)


def randomize_q_head(model: RecursiveModel, seed: int = 1) -> None:
    """Random q_head weights and a zero bias, so that q_halt and q_continue take both
    orders and signs (it starts at zero weights and bias -5: never halting)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model.q_head.weight.copy_(torch.randn(model.q_head.weight.shape, generator=gen) / D ** 0.5)
        model.q_head.bias.zero_()


def train_losses(model: RecursiveModel, steps: int, lr: float = 3e-3) -> list:
    """Train on :func:`batch` in the official order (refill, forward, Q target with
    ``act: halt_continue``, step_loss without a halting loss with ``act: none``,
    update_halting, backward, Adam step); returns every step's StepLoss."""
    act = model.cfg.act
    inputs, labels, pids = batch()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    explore = torch.Generator().manual_seed(1)
    carry = model.initial_carry(B)
    model.train()
    history = []
    for _ in range(steps):
        carry = model.refill(carry, inputs, labels, pids)
        carry, out = model(carry)
        target = model.q_continue_target(carry) if act == "halt_continue" else None
        res = step_loss(out.logits, carry.labels, None if act == "none" else out.q_halt, "stablemax",
                        out.q_continue if target is not None else None, target)
        carry = model.update_halting(carry, out, training=True, generator=explore)
        (res.loss / B).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        history.append(res)
    return history


VARIANTS = {
    "trm": {},  # the default: shared net, full gradient, act halt, yz, mixer mlp
    "separate": {"net": "separate"},
    "separate_y1": {"net": "separate", "n_layers": 2, "n_layers_y": 1},
    "one_step": {"gradient": "one_step"},
    "halt_continue": {"act": "halt_continue"},
    "act_none": {"act": "none"},
    "single_z": {"latents": "single_z"},
    "multi_z2": {"latents": "multi_z:2"},
    "attention": {"mixer": "attention"},
}


# --- 1. every variant trains ---------------------------------------------------------------
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_variant_trains(variant):
    model = tiny(**VARIANTS[variant])
    history = train_losses(model, steps=40)
    # the LM loss, in windows of two whole N_sup = 3 cycles (the slots halt in step);
    # the total also holds q_halt's BCE, which rises while answers become right (q_head
    # starts at bias -5, "wrong"), so it is not monotone on so short a run
    lm = [res.lm_loss.item() / B for res in history]
    first, last = sum(lm[:6]) / 6, sum(lm[-6:]) / 6
    assert last < 0.8 * first, (variant, first, last)
    for res in history:
        assert torch.isfinite(res.loss)
        assert torch.allclose(res.loss, res.lm_loss + 0.5 * (res.q_halt_loss + res.q_continue_loss))
    if model.cfg.act == "halt_continue":  # the Q-learning term is in the loss at every step
        assert all(res.q_continue_loss.item() > 0 for res in history)
    else:
        assert all(res.q_continue_loss.item() == 0 for res in history)
    if model.cfg.act == "none":  # no halting loss at all
        assert all(res.q_halt_loss.item() == 0 and torch.equal(res.loss, res.lm_loss) for res in history)
    else:
        assert all(res.q_halt_loss.item() > 0 for res in history)


def test_parameter_counts_follow_the_nets():
    shared = tiny()
    block = sum(p.numel() for p in shared.net.layers[0].parameters())  # one (mixer, SwiGLU) block
    separate = tiny(net="separate")
    assert separate.net_y is not None and shared.net_y is None
    assert separate.num_parameters() == shared.num_parameters() + 2 * block  # a second 2-block net
    y1 = tiny(net="separate", n_layers=2, n_layers_y=1)
    assert len(y1.net.layers) == 2 and len(y1.net_y.layers) == 1
    assert y1.num_parameters() == separate.num_parameters() - block
    y2 = tiny(net="separate", n_layers=2, n_layers_y=2)
    assert y2.num_parameters() == separate.num_parameters()
    # the other switches do not add parameters
    for kw in ({"gradient": "one_step"}, {"act": "halt_continue"}, {"act": "none"}, {"latents": "single_z"},
               {"latents": "multi_z:2"}):
        assert tiny(**kw).num_parameters() == shared.num_parameters(), kw


# --- 2. gradient: one_step blocks gradients -------------------------------------------------
def record_calls(model: RecursiveModel) -> tuple[list[dict], list]:
    """Forward hooks on the z-net and (with ``net: separate``) the y-net recording every
    call: which net, its inputs h and injection, its output, and whether grad was enabled;
    returns (the list the calls are appended to, the hook handles)."""
    calls: list[dict] = []

    def hook(name):
        def record(module, args, output):
            h, injection = args  # (B, S, D), (B, S, D) or None
            calls.append({"net": name, "h": h, "inj": injection, "out": output, "grad": torch.is_grad_enabled()})
        return record

    handles = [model.net.register_forward_hook(hook("net"))]
    if model.net_y is not None:
        handles.append(model.net_y.register_forward_hook(hook("net_y")))
    return calls, handles


def has_grad_path(t: torch.Tensor | None) -> bool:
    """Whether a backward pass can reach anything through ``t``."""
    return t is not None and (t.requires_grad or t.grad_fn is not None)


@pytest.mark.parametrize("net", ["shared", "separate"])
@pytest.mark.parametrize("gradient", ["full", "one_step"])
def test_gradient_switch_limits_the_differentiated_updates(gradient, net):
    T, n = 2, 3
    model = tiny(gradient=gradient, net=net, T=T, n=n).train()
    calls, handles = record_calls(model)
    xs = []

    def keep_x(module, args, x):  # x (B, S, D): the input the recursion injects
        x.retain_grad()
        xs.append(x)

    handles.append(model.embed.register_forward_hook(keep_x))
    inputs, labels, pids = batch()
    carry = model.refill(model.initial_carry(B), inputs, labels, pids)
    carry.y.requires_grad_(True)  # the carried states: forward() must not differentiate into them
    carry.z.requires_grad_(True)
    new, out = model(carry)
    step_loss(out.logits, new.labels, out.q_halt).loss.backward()
    for h in handles:
        h.remove()

    assert len(calls) == T * (n + 1)
    if net == "separate":  # the y-update of every cycle runs on the y-net
        assert [c["net"] for c in calls] == (["net"] * n + ["net_y"]) * T
    k = 2 if gradient == "one_step" else n + 1
    assert sum(c["grad"] for c in calls) == k
    assert [c["grad"] for c in calls] == [False] * (len(calls) - k) + [True] * k
    for c in calls[:-k]:  # the updates before: constants
        assert not has_grad_path(c["h"]) and not has_grad_path(c["inj"]) and not has_grad_path(c["out"])
    for c in calls[-k:]:
        assert c["out"].grad_fn is not None
    # the first differentiated update starts from a constant state; the input x reaches it
    assert not has_grad_path(calls[-k]["h"]) and has_grad_path(calls[-k]["inj"])
    # full: the later z-updates of the cycle continue the graph of z
    assert all(has_grad_path(c["h"]) for c in calls[-k + 1:-1])
    # the y-update's own state comes from the cycle before (a constant), its z does not
    assert not has_grad_path(calls[-1]["h"]) and has_grad_path(calls[-1]["inj"])
    assert carry.y.grad is None and carry.z.grad is None
    assert len(xs) == 1 and xs[0].grad is not None and xs[0].grad.abs().sum() > 0
    for p in (model.net_y or model.net).parameters():
        assert p.grad is not None
    assert all(p.grad is not None for p in model.net.parameters())


def test_one_step_gradient_equals_a_hand_made_last_step():
    """The parameter gradients of one_step are those of the last z- and y-update applied by
    hand to the states that the no-grad updates before them produce."""
    model = tiny(gradient="one_step", net="separate", T=2, n=2).train()
    inputs, labels, pids = batch()
    carry = model.refill(model.initial_carry(B), inputs, labels, pids)
    _, out = model(carry)
    out.logits.sum().backward()
    got = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)

    x = model.embed(carry.inputs, carry.puzzle_ids)  # (B, S, D)
    y, z = carry.y, carry.z  # (B, S, D) each
    with torch.no_grad():
        for _ in range(2):  # cycle 1: z, z, y; cycle 2: z, then the differentiated z, y
            z = model.net(z, y + x)
        y = model.net_y(y, z)
        z = model.net(z, y + x)
    z = model.net(z, y + x)
    y = model.net_y(y, z)
    model.heads(y).logits.sum().backward()
    want = {name: p.grad for name, p in model.named_parameters() if p.grad is not None}
    assert got.keys() == want.keys()
    for name, grad in want.items():
        assert torch.allclose(got[name], grad, atol=1e-5, rtol=1e-4), name


# --- 3. act: halt_continue -------------------------------------------------------------------
def test_q_continue_target_and_halting_rule():
    model = tiny(act="halt_continue", halt_max_steps=3).train()
    randomize_q_head(model, seed=2)  # a seed where every case below occurs
    model.cfg.halt_exploration_prob = 0.0
    carry, out = stepped(model)
    carry.steps = torch.tensor([0, 1, 2, 0, 1, 2, 2, 0], dtype=torch.int32)  # slots 2, 5, 6 at the last step
    target = model.q_continue_target(carry)  # (B,)
    with torch.no_grad():
        _, nxt = model(carry)
    last = carry.steps + 1 >= 3  # (B,)
    want = torch.where(last, torch.sigmoid(nxt.q_halt), torch.sigmoid(torch.maximum(nxt.q_halt, nxt.q_continue)))
    assert torch.allclose(target, want, atol=1e-6)
    # the cases that tell the rules apart all occur
    cont = nxt.q_continue > nxt.q_halt
    assert (cont & last).any() and (cont & ~last).any() and (~cont & ~last).any(), (nxt.q_halt, nxt.q_continue)
    assert not torch.allclose(target, torch.sigmoid(nxt.q_halt))
    assert not torch.allclose(target, torch.sigmoid(torch.maximum(out.q_halt, out.q_continue)))

    halted = model.update_halting(carry, out, training=True).halted
    expect = (out.q_halt > out.q_continue) | last
    assert torch.equal(halted, expect)
    assert expect.any() and not expect.all() and ((out.q_halt > out.q_continue) & ~last).any()
    assert ((out.q_halt > 0) != (out.q_halt > out.q_continue)).any()  # not TRM's rule in disguise
    assert torch.equal(model.wants_halt(out), out.q_halt > out.q_continue)
    # evaluation halts at N_sup only
    assert torch.equal(model.update_halting(carry, out, training=False).halted, last)


# --- 4. act: none ----------------------------------------------------------------------------
def test_act_none_halts_only_at_n_sup():
    model = tiny(act="none", halt_max_steps=3, halt_exploration_prob=0.0).train()
    with torch.no_grad():
        model.q_head.bias.fill_(5.0)  # q_halt = q_continue = 5 > 0: TRM's rule would halt at once
    inputs, labels, pids = batch()
    carry = model.initial_carry(B)
    for step in range(1, 4):
        carry = model.refill(carry, inputs, labels, pids)
        carry, out = model(carry)
        assert (out.q_halt > 0).all()
        assert not model.wants_halt(out).any()
        res = step_loss(out.logits, carry.labels, None)
        assert res.q_halt_loss.item() == 0 and res.q_continue_loss.item() == 0
        assert torch.equal(res.loss, res.lm_loss) and res.lm_loss.item() > 0
        carry = model.update_halting(carry, out, training=True)
        assert carry.steps.tolist() == [step] * B
        assert carry.halted.all() if step == 3 else not carry.halted.any()
    # the same weights with act: halt halt every slot after one step
    halt = tiny(act="halt", halt_max_steps=3, halt_exploration_prob=0.0).train()
    halt.load_state_dict(model.state_dict())
    carry, out = stepped(halt)
    assert halt.update_halting(carry, out, training=True).halted.all()


# --- 5. shapes and validation ----------------------------------------------------------------
def test_yz_carry_shapes():
    model = tiny()
    assert model.initial_carry(3).z.shape == (3, S, D)
    carry, out = stepped(model, 3)
    assert carry.y.shape == carry.z.shape == (3, S, D) and out.logits.shape == (3, L, V)


def test_single_z_carries_one_state():
    model = tiny(latents="single_z").train()
    assert model.cfg.num_latents == 0 and model.schedule == ([-1, -1, None]) * 2
    assert model.initial_carry(4).z.shape == (4, 0, S, D)
    carry, out = stepped(model, 4)
    assert carry.z.shape == (4, 0, S, D) and carry.y.shape == (4, S, D) and out.logits.shape == (4, L, V)
    assert not torch.equal(carry.y[0], model.y_init.expand(S, D))
    carry = model.update_halting(carry, out, training=False)
    carry.halted = torch.tensor([True, False, True, False])
    before = carry.y.clone()  # (4, S, D)
    inputs, labels, pids = batch(seed=5, size=4)
    refilled = model.refill(carry, inputs, labels, pids)
    assert refilled.z.shape == (4, 0, S, D)
    for i in (0, 2):
        assert torch.equal(refilled.y[i], model.y_init.expand(S, D)) and torch.equal(refilled.inputs[i], inputs[i])
    for i in (1, 3):
        assert torch.equal(refilled.y[i], before[i])
    assert refilled.steps.tolist() == [0, 1, 0, 1]
    model(refilled)  # another step runs


def test_multi_z_carries_k_states_that_all_move():
    model = tiny(latents="multi_z:3", n=3).train()
    assert model.cfg.num_latents == 3 and model.schedule == [0, 1, 2, None] * 2
    assert model.initial_carry(4).z.shape == (4, 3, S, D)
    inputs, labels, pids = batch(size=4)
    carry = model.refill(model.initial_carry(4), inputs, labels, pids)
    start = model.z_init.expand(4, S, D)  # (4, S, D)
    assert all(torch.equal(carry.z[:, k], start) for k in range(3))
    carry, _ = model(carry)
    assert carry.z.shape == (4, 3, S, D)
    for k in range(3):
        assert not torch.allclose(carry.z[:, k], start), k
    assert not torch.allclose(carry.z[:, 0], carry.z[:, 1]) and not torch.allclose(carry.z[:, 1], carry.z[:, 2])


@pytest.mark.parametrize("kw,field", [
    ({"latents": "multi_z:1"}, "latents"),
    ({"latents": "multi_z:9", "n": 3}, "latents"),
    ({"latents": "multi_z:4", "n": 3}, "latents"),
    ({"latents": "abc"}, "latents"),
    ({"latents": "multi_z"}, "latents"),
    ({"n_layers_y": 2}, "n_layers_y"),
    ({"n_layers_y": 2, "net": "shared"}, "n_layers_y"),
    ({"net": "both"}, "net"),
    ({"gradient": "half"}, "gradient"),
    ({"act": "always"}, "act"),
])
def test_invalid_switches_are_refused(kw, field):
    with pytest.raises(ValidationError) as err:
        ModelConfig(**kw)
    assert field in str(err.value)


def test_valid_edge_switches_are_accepted():
    assert ModelConfig(latents="multi_z:3", n=3).num_latents == 3
    assert ModelConfig(latents="multi_z:2", n=2).num_latents == 2
    assert ModelConfig(n_layers_y=1, net="separate").y_layers == 1
    assert ModelConfig(n_layers=3).y_layers == 3
    assert ModelConfig().num_latents == 1 and ModelConfig(latents="single_z").num_latents == 0


# --- 6. the documented update formulas -------------------------------------------------------
def by_hand(model: RecursiveModel, y: torch.Tensor, zs: list[torch.Tensor], x: torch.Tensor):
    """One supervision step as the recursion module docstring states it, with net ``f``
    (and ``f_H`` = net_y with ``net: separate``): yz ``z = f(z + y + x)`` n times, then
    ``y = f(y + z)``; single_z ``y = f(y + x)`` n times, then ``y = f(y)``; multi_z:K the
    j-th z-update writes ``z_k = f(z_k + y + x + z_{k-1})`` (k = j mod K, no z_{k-1} for
    k = 0) and the y-update is ``y = f(y + sum z_k)``. ``f(h + inj)`` is ``net(h, inj)``
    (ReasoningNet adds the injection, then applies the blocks). Returns (y, zs)."""
    cfg = model.cfg
    f = model.net
    f_h = model.net_y or model.net
    zs = list(zs)
    for _ in range(cfg.T):
        for j in range(cfg.n):
            if cfg.latents == "single_z":
                y = f(y, x)
            else:
                k = j % len(zs)
                inj = y + x + (zs[k - 1] if k > 0 else 0)
                zs[k] = f(zs[k], inj)
        if cfg.latents == "single_z":
            y = f_h(y, None)
        else:
            total = zs[0]
            for z in zs[1:]:
                total = total + z
            y = f_h(y, total)
    return y, zs


def blocks(net, h: torch.Tensor) -> torch.Tensor:
    """The blocks of a ReasoningNet applied to h (B, S, D) with no injection."""
    for layer in net.layers:
        h = layer(h)
    return h


@pytest.mark.parametrize("latents,n", [("yz", 2), ("single_z", 2), ("single_z", 3), ("multi_z:2", 3),
                                       ("multi_z:3", 3), ("multi_z:2", 2)])
@pytest.mark.parametrize("T", [1, 2])
@pytest.mark.parametrize("net", ["shared", "separate"])
def test_recurse_matches_the_documented_formulas(latents, n, T, net):
    model = tiny(latents=latents, n=n, T=T, net=net).eval()
    k = model.cfg.num_latents
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(2, S, D, generator=gen)  # (2, S, D)
    y = torch.randn(2, S, D, generator=gen)  # (2, S, D)
    z = torch.randn(2, S, D, generator=gen) if latents == "yz" else torch.randn(2, k, S, D, generator=gen)
    with torch.no_grad():
        got_y, got_z = model.recurse(y, z, x)
        want_y, want_zs = by_hand(model, y, [z] if latents == "yz" else list(z.unbind(1)), x)
    assert got_z.shape == z.shape
    assert torch.allclose(got_y, want_y, atol=1e-6)
    if latents == "yz":
        assert torch.allclose(got_z, want_zs[0], atol=1e-6)
    else:
        assert torch.allclose(got_z, torch.stack(want_zs, 1) if k else z, atol=1e-6)
    if latents == "single_z" and T == 1:  # no injection in the y-update: its blocks on y alone
        with torch.no_grad():
            h = y  # (2, S, D)
            for _ in range(n):
                h = blocks(model.net, h + x)
            assert torch.allclose(got_y, blocks(model.net_y or model.net, h), atol=1e-6)


# --- 7. old aliases, depth and forward passes --------------------------------------------------
def test_old_boolean_aliases():
    cfg = ModelConfig(separate_nets=True, one_step_grad=True, act_continue=True)
    assert (cfg.net, cfg.gradient, cfg.act) == ("separate", "one_step", "halt_continue")
    cfg = ModelConfig(separate_nets=False, one_step_grad=False, act_continue=False)
    assert (cfg.net, cfg.gradient, cfg.act) == ("shared", "full", "halt")
    assert ModelConfig(net="shared", separate_nets=True).net == "separate"  # the old key wins
    assert "separate_nets" not in ModelConfig(separate_nets=True).model_dump()
    run = validate({"task": "sudoku", "model": {"separate_nets": True, "one_step_grad": True, "act_continue": True,
                                                "n_layers": 4, "T": 2, "n": 2}})
    m = run.model
    assert (m.net, m.gradient, m.act, m.n_layers, m.y_layers) == ("separate", "one_step", "halt_continue", 4, 4)
    # a dumped config validates again to the same one (the aliases are gone from it)
    assert validate(run.model_dump()) == run


@pytest.mark.parametrize("kw,depth", [
    ({}, 42),  # TRM: T 3, n 6, 2 layers
    ({"n_layers": 4, "n": 3}, 48),
    ({"T": 2, "n": 2}, 12),
    ({"net": "separate", "n_layers": 4, "T": 2, "n": 2}, 24),  # HRM
    ({"net": "separate", "n_layers": 4, "n_layers_y": 2, "T": 2, "n": 2}, 20),
])
def test_effective_depth_is_the_papers(kw, depth):
    assert ModelConfig(**kw).effective_depth() == depth


def test_forward_passes():
    assert ModelConfig(act="halt_continue").forward_passes() == 2
    assert ModelConfig(act="halt").forward_passes() == 1
    assert ModelConfig(act="none").forward_passes() == 1
    assert ModelConfig(act_continue=True).forward_passes() == 2


# --- 8. the CLI ------------------------------------------------------------------------------
@pytest.mark.parametrize("latents,k", [("multi_z:2", 2), ("single_z", 0)])
def test_cli_latents_train_resume_and_evaluate(latents, k, data4, tmp_path, capsys):
    run = tmp_path / "run"
    common = ["train", "--task", "sudoku", "--mixer", "mlp", "--data", str(data4), "--out", str(run), "--no-progress"]
    code, _, err = run_cli(capsys, *common, "--steps", "2", *TINY, "--set", "model.n=2",
                           "--set", f"model.latents={latents}")
    assert code == 0, err
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["model"]["latents"] == latents and cfg["model"]["n"] == 2
    z = load_file(str(run / "train_state.safetensors"))["carry.z"]
    assert z.shape == (8, k, 1 + 16, 16)  # (batch, K, prefix + cells, D): the 4-D carry
    code, out, err = run_cli(capsys, *common, "--steps", "4")
    assert code == 0, err
    assert "resuming" in out
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["summary"] and rows[-1]["steps"] == 4
    assert load_file(str(run / "train_state.safetensors"))["carry.z"].shape == z.shape
    code, out, err = run_cli(capsys, "eval", str(run), "--data", str(data4), "--json")
    assert code == 0, err
    assert json.loads(out)["examples"] == 8


def test_cli_n_layers_y_needs_separate_nets(data4, tmp_path, capsys):
    code, _, err = run_cli(capsys, "train", "--task", "sudoku", "--data", str(data4), "--out", str(tmp_path / "x"),
                           "--no-progress", *TINY, "--set", "model.n_layers_y=2")
    assert code == 2
    assert "n_layers_y" in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "x" / "train_state.safetensors").exists()


# --- 9. the HRM Sudoku preset ----------------------------------------------------------------
def test_hrm_sudoku_preset():
    cfg = resolve_config("sudoku", None, "hrm", None, [], None, "cpu")
    m = cfg.model
    assert (m.net, m.gradient, m.act, m.mixer) == ("separate", "one_step", "halt_continue", "attention")
    assert m.n_layers == 4 and m.y_layers == 4 and (m.T, m.n) == (2, 2) and m.latents == "yz"
    assert cfg.train.ema is False
    model = make_model(cfg, make_task("sudoku", cfg.task_options), 1)
    assert model.prefix_len == 1
    assert len(model.net.layers) == 4 and len(model.net_y.layers) == 4
    assert model.num_parameters() == 27_275_266
