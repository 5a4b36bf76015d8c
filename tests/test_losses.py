"""Deep-supervision losses: stablemax / softmax CE, ignored cells, per-row mean, q_halt target."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from recursia.train.losses import (IGNORE, log_stablemax, softmax_cross_entropy, stablemax_cross_entropy,
                                   step_loss)


def _s(x: float) -> float:
    return x + 1 if x >= 0 else 1 / (1 - x)


def hand_stablemax_ce(logits_row: list[float], label: int) -> float:
    s = [_s(v) for v in logits_row]
    return -math.log(s[label] / sum(s))


def hand_softmax_ce(logits_row: list[float], label: int) -> float:
    m = max(logits_row)
    return -(logits_row[label] - m - math.log(sum(math.exp(v - m) for v in logits_row)))


def hand_bce(q: float, target: float) -> float:
    p = 1 / (1 + math.exp(-q))
    return -(target * math.log(p) + (1 - target) * math.log(1 - p))


def test_log_stablemax_hand_values():
    x = torch.tensor([[2.0, -1.0, 0.0], [-3.0, -0.5, 4.0]], dtype=torch.float64)
    got = log_stablemax(x)
    # s = [3, 1/2, 1] and [1/4, 2/3, 5]
    expected = torch.tensor([[math.log(3 / 4.5), math.log(0.5 / 4.5), math.log(1 / 4.5)],
                             [math.log(0.25 / (0.25 + 2 / 3 + 5)), math.log((2 / 3) / (0.25 + 2 / 3 + 5)),
                              math.log(5 / (0.25 + 2 / 3 + 5))]], dtype=torch.float64)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)
    torch.testing.assert_close(got.exp().sum(-1), torch.ones(2, dtype=torch.float64))


def test_stablemax_ce_equals_hand_computation():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 5) * 3
    labels = torch.randint(0, 5, (2, 3))
    mask = torch.ones(2, 3, dtype=torch.bool)
    got = stablemax_cross_entropy(logits, labels, mask)
    assert got.dtype == torch.float64  # computed in float64 as the official code
    for b in range(2):
        for i in range(3):
            want = hand_stablemax_ce(logits[b, i].double().tolist(), int(labels[b, i]))
            assert got[b, i].item() == pytest.approx(want, rel=1e-12)


def test_stablemax_ce_differs_from_softmax():
    logits = torch.tensor([[[2.0, -1.0, 0.0]]])
    labels = torch.tensor([[0]])
    mask = torch.ones(1, 1, dtype=torch.bool)
    st = stablemax_cross_entropy(logits, labels, mask).item()
    sm = softmax_cross_entropy(logits, labels, mask).item()
    assert st == pytest.approx(-math.log(3 / 4.5))
    assert sm == pytest.approx(hand_softmax_ce([2.0, -1.0, 0.0], 0), rel=1e-6)
    assert abs(st - sm) > 1e-2


def test_softmax_ce_equals_torch_cross_entropy():
    torch.manual_seed(1)
    logits = torch.randn(3, 4, 6)
    labels = torch.randint(0, 6, (3, 4))
    labels[0, 1] = labels[2, 3] = IGNORE
    valid = labels != IGNORE
    got = softmax_cross_entropy(logits, labels, valid)
    want = F.cross_entropy(logits.reshape(-1, 6), labels.reshape(-1), ignore_index=IGNORE,
                           reduction="none").view(3, 4)
    torch.testing.assert_close(got, want)
    assert got[0, 1] == 0 and got[2, 3] == 0


@pytest.mark.parametrize("kind", ["stablemax", "softmax"])
def test_masked_cells_contribute_zero(kind):
    from recursia.train.losses import LOSSES

    torch.manual_seed(4)
    logits = torch.randn(2, 4, 5)
    labels = torch.tensor([[1, IGNORE, 2, IGNORE], [IGNORE, IGNORE, IGNORE, 4]])
    per_cell = LOSSES[kind](logits, labels, labels != IGNORE)
    assert torch.all(per_cell[labels == IGNORE] == 0)
    assert torch.all(per_cell[labels != IGNORE] > 0)


def _hand_step_loss(logits, labels, q_halt, ce):
    lm = 0.0
    q = 0.0
    for b in range(labels.shape[0]):
        valid = [i for i in range(labels.shape[1]) if labels[b, i] != IGNORE]
        row = sum(ce(logits[b, i].double().tolist(), int(labels[b, i])) for i in valid)
        lm += row / max(len(valid), 1)
        correct = all(int(logits[b, i].argmax()) == int(labels[b, i]) for i in valid)
        q += hand_bce(float(q_halt[b]), 1.0 if correct else 0.0)
    return lm, q


def _batch():
    torch.manual_seed(3)
    logits = torch.randn(4, 5, 6) * 2
    labels = logits.argmax(-1).clone()
    labels[0, 1] = (labels[0, 1] + 1) % 6      # row 0: one valid cell wrong -> not correct
    labels[1, 0] = labels[1, 4] = IGNORE       # row 1: 3 valid cells, all correct
    labels[2, :] = IGNORE                      # row 2: nothing valid
    labels[2, 2] = (logits[2, 2].argmax() + 2) % 6  # ...except one cell, which is wrong
    # row 3: all 5 valid and correct
    q_halt = torch.tensor([0.3, -1.2, 2.0, -0.1])
    return logits, labels, q_halt


@pytest.mark.parametrize("kind,ce", [("stablemax", hand_stablemax_ce), ("softmax", hand_softmax_ce)])
def test_step_loss_equals_hand_computation(kind, ce):
    logits, labels, q_halt = _batch()
    out = step_loss(logits, labels, q_halt, kind=kind)
    lm, q = _hand_step_loss(logits, labels, q_halt, ce)
    assert out.lm_loss.item() == pytest.approx(lm, rel=1e-6)
    assert out.q_halt_loss.item() == pytest.approx(q, rel=1e-6)
    assert out.q_continue_loss.item() == 0
    assert out.loss.item() == pytest.approx(lm + 0.5 * q, rel=1e-6)
    assert out.seq_correct.tolist() == [False, True, False, True]
    assert out.valid.sum(-1).tolist() == [5, 3, 1, 5]
    assert out.cell_correct[1].tolist() == [False, True, True, True, False]  # ignored cells never "correct"


def test_per_row_mean_divides_by_valid_count_not_length():
    # one row, 4 cells, 2 ignored: the lm loss is the MEAN over the 2 valid cells
    logits = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [5.0, -5.0], [3.0, 0.0]]])
    labels = torch.tensor([[0, 0, IGNORE, IGNORE]])
    out = step_loss(logits, labels, torch.zeros(1))
    want = (hand_stablemax_ce([1.0, 0.0], 0) + hand_stablemax_ce([0.0, 1.0], 0)) / 2
    assert out.lm_loss.item() == pytest.approx(want, rel=1e-9)


def test_ignored_cells_change_nothing_and_get_no_gradient():
    logits, labels, q_halt = _batch()
    ignored = labels == IGNORE
    a = step_loss(logits, labels, q_halt)
    scrambled = logits.clone()
    scrambled[ignored] = torch.randn(int(ignored.sum()), 6) * 50  # wild logits where labels are ignored
    x = scrambled.clone().requires_grad_(True)
    b = step_loss(x, labels, q_halt)
    assert b.loss.item() == pytest.approx(a.loss.item(), rel=1e-12)
    assert b.seq_correct.tolist() == a.seq_correct.tolist()
    b.loss.backward()
    assert torch.all(x.grad[ignored] == 0)
    assert torch.all(x.grad[~ignored].abs().sum(-1) > 0)


def test_fully_ignored_row_is_zero_not_nan():
    torch.manual_seed(5)
    logits = torch.randn(2, 3, 4)
    labels = torch.full((2, 3), IGNORE)
    labels[1] = torch.tensor([0, 1, 2])
    out = step_loss(logits, labels, torch.zeros(2))
    assert torch.isfinite(out.loss)
    only_row1 = step_loss(logits[1:], labels[1:], torch.zeros(1))
    # row 0 adds nothing to the lm loss; its q target is "correct" (vacuously, as official)
    assert out.lm_loss.item() == pytest.approx(only_row1.lm_loss.item(), rel=1e-12)
    assert bool(out.seq_correct[0])


def test_q_halt_target_is_all_valid_cells_correct():
    logits = torch.tensor([[[5.0, 0.0], [0.0, 5.0]], [[5.0, 0.0], [0.0, 5.0]]])
    labels = torch.tensor([[0, 1], [0, 0]])  # row 0 fully right, row 1 one cell wrong
    q = torch.tensor([0.7, 0.7], requires_grad=True)
    out = step_loss(logits, labels, q)
    assert out.seq_correct.tolist() == [True, False]
    assert out.q_halt_loss.item() == pytest.approx(hand_bce(0.7, 1.0) + hand_bce(0.7, 0.0), rel=1e-6)
    out.loss.backward()
    # d/dq of 0.5 * BCE = 0.5 * (sigmoid(q) - target)
    sig = 1 / (1 + math.exp(-0.7))
    assert q.grad.tolist() == pytest.approx([0.5 * (sig - 1), 0.5 * sig], rel=1e-5)


def test_q_continue_term():
    logits, labels, q_halt = _batch()
    qc = torch.tensor([0.1, -0.2, 0.3, 1.5])
    target = torch.tensor([0.9, 0.1, 0.5, 0.0])
    base = step_loss(logits, labels, q_halt)
    out = step_loss(logits, labels, q_halt, q_continue=qc, q_continue_target=target)
    want = sum(hand_bce(float(a), float(t)) for a, t in zip(qc, target))
    assert out.q_continue_loss.item() == pytest.approx(want, rel=1e-6)
    assert out.loss.item() == pytest.approx(base.loss.item() + 0.5 * want, rel=1e-6)
