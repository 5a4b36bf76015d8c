"""Optimizers (AdamATan2, sparse SignSGD), the lr schedule and the EMA of the weights."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from recursia.model.embedding import PuzzleEmbedding
from recursia.train.ema import EMA
from recursia.train.optim import AdamATan2, SparseSignSGD, lr_at
from tests.test_end_to_end import TINY, data4, run_cli  # noqa: F401 (a fixture)


# --- AdamATan2 --------------------------------------------------------------------------

def reference_adam_atan2(p0, grads, lr, b1, b2, wd):
    """Independent float64 re-computation of the docstring's formula, element-wise."""
    p = np.array(p0, dtype=np.float64)
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    out = []
    for t, g in enumerate(grads, start=1):
        g = np.asarray(g, dtype=np.float64)
        p = p * (1 - lr * wd)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        p = p - lr * np.arctan2(m_hat, np.sqrt(v_hat))
        out.append(p.copy())
    return out


def _grad_sequence(shape, steps, seed):
    rng = np.random.default_rng(seed)
    grads = []
    for t in range(steps):
        g = rng.normal(size=shape) * rng.choice([1e-6, 1e-2, 1.0, 30.0], size=shape)
        if t % 5 == 3:
            g[..., 0] = 0.0  # exact zeros too
        grads.append(g)
    return grads


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-12), (torch.float32, 1e-6)])
def test_adam_atan2_matches_reference(dtype, tol):
    lr, betas, wd, steps = 1e-2, (0.9, 0.95), 0.1, 20
    rng = np.random.default_rng(0)
    p0 = rng.normal(size=(3, 5))
    q0 = rng.normal(size=(4,))
    gp, gq = _grad_sequence((3, 5), steps, 1), _grad_sequence((4,), steps, 2)
    p = nn.Parameter(torch.tensor(p0, dtype=dtype))
    q = nn.Parameter(torch.tensor(q0, dtype=dtype))
    # two groups with their own lr / weight decay
    opt = AdamATan2([{"params": [p]}, {"params": [q], "lr": 3e-3, "weight_decay": 1.0}],
                    lr=lr, betas=betas, weight_decay=wd)
    ref_p = reference_adam_atan2(p0, gp, lr, *betas, wd)
    ref_q = reference_adam_atan2(q0, gq, 3e-3, *betas, 1.0)
    for t in range(steps):
        p.grad = torch.tensor(gp[t], dtype=dtype)
        q.grad = torch.tensor(gq[t], dtype=dtype)
        opt.step()
        np.testing.assert_allclose(p.detach().double().numpy(), ref_p[t], rtol=tol, atol=tol)
        np.testing.assert_allclose(q.detach().double().numpy(), ref_q[t], rtol=tol, atol=tol)
    assert float(opt.state[p]["step"]) == steps


def test_adam_atan2_first_step_is_lr_pi_over_4_times_sign():
    # with bias correction, step 1 is atan2(g, |g|) = pi/4 * sign(g), whatever |g|
    g = torch.tensor([1e-9, -3.0, 1e6, 0.0, -1e-30], dtype=torch.float64)
    p = nn.Parameter(torch.zeros(5, dtype=torch.float64))
    p.grad = g.clone()
    AdamATan2([p], lr=0.1).step()
    expected = -0.1 * math.pi / 4 * torch.sign(g)
    torch.testing.assert_close(p.detach(), expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("scale", [1e-12, 1.0, 1e8])
def test_adam_atan2_step_is_bounded(scale):
    lr, wd = 1e-2, 0.5
    torch.manual_seed(0)
    p = nn.Parameter(torch.randn(64, dtype=torch.float64))
    opt = AdamATan2([p], lr=lr, betas=(0.9, 0.95), weight_decay=wd)
    for t in range(20):
        before = p.detach().clone()
        # adversarial: grads flip sign and magnitude, so m_hat/sqrt(v_hat) can be large
        p.grad = scale * torch.randn(64, dtype=torch.float64) * (1e4 if t % 7 == 6 else 1.0)
        opt.step()
        update = p.detach() - before * (1 - lr * wd)  # what is left after the decay
        assert torch.isfinite(p).all()
        assert update.abs().max() <= lr * math.pi / 2 + 1e-15
        # and the whole move is bounded by lr*pi/2 plus the decay
        assert (p.detach() - before).abs().max() <= lr * math.pi / 2 + lr * wd * before.abs().max() + 1e-15


def test_adam_atan2_skips_params_without_grad():
    a = nn.Parameter(torch.ones(3))
    b = nn.Parameter(torch.ones(3))
    opt = AdamATan2([a, b], lr=0.1, weight_decay=1.0)
    a.grad = torch.ones(3)
    opt.step()
    assert torch.equal(b.detach(), torch.ones(3))  # no grad: not even decayed
    assert b not in opt.state or not opt.state[b]
    assert not torch.equal(a.detach(), torch.ones(3))
    opt.step()  # still fine on the next step
    assert torch.equal(b.detach(), torch.ones(3))


def test_adam_atan2_zero_grad_only_decays():
    p = nn.Parameter(torch.full((4,), 2.0, dtype=torch.float64))
    opt = AdamATan2([p], lr=0.1, weight_decay=0.5)
    p.grad = torch.zeros(4, dtype=torch.float64)
    opt.step()  # no epsilon: atan2(0, 0) must be 0, not nan
    torch.testing.assert_close(p.detach(), torch.full((4,), 2.0 * (1 - 0.05), dtype=torch.float64))


def test_adam_atan2_state_dict_resume_continues_identically():
    torch.manual_seed(0)
    grads = [torch.randn(6) for _ in range(10)]

    def run(split: int | None):
        p = nn.Parameter(torch.linspace(-1, 1, 6))
        opt = AdamATan2([p], lr=0.05, weight_decay=0.1)
        for t, g in enumerate(grads):
            if split is not None and t == split:
                state = opt.state_dict()
                p2 = nn.Parameter(p.detach().clone())
                opt = AdamATan2([p2], lr=0.05, weight_decay=0.1)
                opt.load_state_dict(state)
                p = p2
            p.grad = g.clone()
            opt.step()
        return p.detach()

    assert torch.equal(run(None), run(4))


# --- SparseSignSGD ----------------------------------------------------------------------

def test_sparse_sign_sgd_official_rule():
    torch.manual_seed(0)
    emb = PuzzleEmbedding(num_ids=6, dim=4)
    emb.weight.copy_(torch.randn(6, 4))
    before = emb.weight.clone()
    emb.train()
    ids = torch.tensor([1, 3, 1, 4])
    # grad of the loss w.r.t. row b of the lookup is coeff[b]
    coeff = torch.tensor([
        [3.0, -1.0, 2.0, 1.0],    # id 1
        [-0.5, 0.5, 0.0, 2.0],    # id 3 (a zero grad element: decay only)
        [-1.0, 2.0, -2.0, -4.0],  # id 1 again: the SUM decides the sign -> [+, +, 0, -]
        [1.0, 1.0, -1.0, -1.0],   # id 4
    ])
    out = emb(ids)
    assert out.requires_grad
    (out * coeff).sum().backward()
    lr, wd = 0.01, 0.5
    SparseSignSGD(emb, lr=lr, weight_decay=wd).step()

    expected = before.clone()
    summed = {1: coeff[0] + coeff[2], 3: coeff[1], 4: coeff[3]}
    for i, g in summed.items():
        expected[i] = before[i] * (1 - lr * wd) - lr * torch.sign(g)
    torch.testing.assert_close(emb.weight, expected, rtol=0, atol=1e-7)
    for i in (0, 2, 5):  # rows not used in the step are untouched (no decay either)
        assert torch.equal(emb.weight[i], before[i])
    # id 1, element 2: grads 2 and -2 cancel -> only the decay is applied
    assert emb.weight[1, 2] == pytest.approx(before[1, 2].item() * (1 - lr * wd), abs=1e-7)


def test_sparse_sign_sgd_through_input_embedding_padding():
    # the puzzle vector is padded into the prefix: the gradient reaches `local` unpadded
    from recursia.model.embedding import InputEmbedding

    torch.manual_seed(0)
    inp = InputEmbedding(vocab_size=5, hidden=4, num_puzzle_ids=3, emb_ndim=6, prefix_len=2)
    inp.train()
    x = inp(torch.tensor([[1, 2], [3, 4]]), torch.tensor([2, 2]))
    assert x.shape == (2, 4, 4)
    (x[:, :2].sum() * -1.0).backward()  # d loss / d puzzle vector = -sqrt(4) < 0 everywhere
    before = inp.puzzle.weight.clone()
    SparseSignSGD(inp.puzzle, lr=0.1, weight_decay=0.0).step()
    assert torch.equal(inp.puzzle.weight[:2], before[:2])
    torch.testing.assert_close(inp.puzzle.weight[2], before[2] + 0.1)


def test_sparse_sign_sgd_no_op_cases():
    emb = PuzzleEmbedding(num_ids=3, dim=2)
    emb.weight.fill_(1.0)
    opt = SparseSignSGD(emb, lr=0.1, weight_decay=1.0)
    opt.step()  # no forward yet
    emb.eval()
    emb(torch.tensor([0, 1])).sum()  # eval mode: nothing recorded
    assert emb.local is None
    opt.step()
    emb.train()
    with torch.no_grad():
        emb(torch.tensor([0]))  # no grad: nothing recorded
    assert emb.local is None
    opt.step()
    assert torch.equal(emb.weight, torch.ones(3, 2))
    # a forward whose loss was never backpropagated: no gradient, no update
    emb(torch.tensor([2]))
    opt.step()
    assert torch.equal(emb.weight, torch.ones(3, 2))
    # after a real step, the recorded rows are consumed: a second step is a no-op
    emb(torch.tensor([2])).sum().backward()
    opt.step()
    after = emb.weight.clone()
    assert emb.local is None and emb.local_ids is None
    opt.step()
    assert torch.equal(emb.weight, after)
    torch.testing.assert_close(after[2], torch.full((2,), 1.0 * (1 - 0.1) - 0.1))


# --- lr schedule ------------------------------------------------------------------------

def test_lr_warmup_then_constant():
    assert lr_at(0, 1e-3, 10) == 0.0
    assert lr_at(5, 1e-3, 10) == pytest.approx(5e-4)
    assert lr_at(9, 1e-3, 10) == pytest.approx(9e-4)
    for step in (10, 11, 500, 10**7):
        assert lr_at(step, 1e-3, 10) == 1e-3
    values = [lr_at(s, 2.0, 100) for s in range(300)]
    assert all(a <= b for a, b in zip(values, values[1:]))
    assert max(values) == 2.0


def test_lr_without_warmup():
    assert [lr_at(s, 0.5, 0) for s in (0, 1, 1000)] == [0.5, 0.5, 0.5]


def test_lr_cosine_to_the_floor():
    """official lr_min_ratio: after the warm-up, base * (r + (1 - r) * (1 + cos(pi * progress)) / 2)."""
    assert lr_at(5, 2.0, 10, 110, 0.1) == pytest.approx(1.0)  # the warm-up is unchanged
    assert lr_at(10, 2.0, 10, 110, 0.1) == pytest.approx(2.0)
    assert lr_at(60, 2.0, 10, 110, 0.1) == pytest.approx(2.0 * 0.55)  # half way: cos = 0
    assert lr_at(110, 2.0, 10, 110, 0.1) == pytest.approx(0.2)
    values = [lr_at(s, 2.0, 10, 110, 0.1) for s in range(10, 111)]
    assert all(a > b for a, b in zip(values, values[1:]))
    assert lr_at(50, 1.0, 0, 100, 0.0) == pytest.approx(0.5) and lr_at(100, 1.0, 0, 100, 0.0) == pytest.approx(0.0)
    assert [lr_at(s, 0.5, 10, 100, 1.0) for s in (10, 50, 100)] == [0.5, 0.5, 0.5]  # ratio 1: constant


def test_training_follows_the_cosine(data4, tmp_path, capsys):
    run = tmp_path / "r"
    code, _, err = run_cli(capsys, "train", "--task", "sudoku", "--mixer", "mlp", "--steps", "6", "--data", str(data4),
                           "--out", str(run), "--no-progress", *TINY, "--set", "train.warmup_steps=2",
                           "--set", "train.lr_min_ratio=0.1", "--set", "train.lr=0.01", "--set", "train.log_every=1")
    assert code == 0, err
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    lrs = {r["step"]: r["lr"] for r in rows if "lr" in r}
    assert lrs[2] == pytest.approx(0.01) and lrs[6] == pytest.approx(0.001)
    assert lrs == {s: pytest.approx(lr_at(s, 0.01, 2, 6, 0.1)) for s in range(1, 7)}


# --- EMA --------------------------------------------------------------------------------

class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 2)
        self.frozen = nn.Parameter(torch.ones(2), requires_grad=False)
        self.register_buffer("buf", torch.zeros(2))


def test_ema_follows_the_formula():
    torch.manual_seed(0)
    net = _Net()
    rate = 0.9
    ema = EMA(net, rate)
    assert set(ema.state()) == {"a.weight", "a.bias"}  # trainable params only
    w0 = net.a.weight.detach().clone()
    assert torch.equal(ema.state()["a.weight"], w0)
    ref = w0.double()
    for k in range(15):
        with torch.no_grad():
            net.a.weight.add_(torch.randn_like(net.a.weight))
        ema.update(net)
        ref = rate * ref + (1 - rate) * net.a.weight.detach().double()
        torch.testing.assert_close(ema.state()["a.weight"].double(), ref, rtol=0, atol=1e-6)


def test_ema_shadow_is_a_copy_and_converges():
    net = _Net()
    ema = EMA(net, 0.5)
    w0 = net.a.weight.detach().clone()
    with torch.no_grad():
        net.a.weight.fill_(3.0)  # changing the model does not change the shadow
    assert torch.equal(ema.state()["a.weight"], w0)
    for _ in range(10):
        ema.update(net)
    expected = 3.0 + 0.5**10 * (w0 - 3.0)
    torch.testing.assert_close(ema.state()["a.weight"], expected)
