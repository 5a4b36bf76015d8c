"""Model FLOPs as DESIGN.md section 8 counts them.

Per network call and sample: every channel-mixing weight (the blocks' SwiGLU, attention
projections, the heads) does one multiply-add per position (S = L + P of them), every
token-mixing weight of the ``mlp`` mixer one per channel (D), and attention adds
4*S^2*D for scores and values; a multiply-add is 2 FLOPs. A mixer states its own cost
with ``flops_per_sample(seq_len, hidden_size)``; one that does not is counted as
channel-mixing. A training supervision step runs every update of the schedule forward
and the updates under gradient (and the heads) backward again at twice the cost.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from recursia.model import RecursiveModel
from recursia.model.net import ReasoningNet


def _params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def mixer_flops(mixer: nn.Module, seq_len: int, hidden_size: int) -> int:
    """FLOPs of one mixer call on one sample."""
    own = getattr(mixer, "flops_per_sample", None)
    if own is not None:
        return int(own(seq_len, hidden_size))
    return 2 * seq_len * _params(mixer)


def net_flops(net: ReasoningNet, seq_len: int, hidden_size: int) -> int:
    """FLOPs of one call of ``net`` (all its blocks) on one sample."""
    return sum(mixer_flops(block.mixer, seq_len, hidden_size) + 2 * seq_len * _params(block.mlp)
               for block in net.layers)


@dataclass(frozen=True)
class StepFlops:
    """FLOPs of one supervision step on one sample."""

    forward: int  # every update of the schedule and the heads, forward
    backward: int  # the updates under gradient and the heads, backward (2x their forward)

    @property
    def train(self) -> int:
        """A training step: forward and backward."""
        return self.forward + self.backward

    @property
    def eval(self) -> int:
        """An evaluation step: forward only."""
        return self.forward


def step_flops(model: RecursiveModel) -> StepFlops:
    """The FLOPs of one supervision step of ``model`` on one sample."""
    s, d = model.total_len, model.cfg.hidden_size
    z_call = net_flops(model.net, s, d)
    y_call = net_flops(model.net_y, s, d) if model.net_y is not None else z_call
    calls = [y_call if k is None else z_call for k in model.schedule]
    heads = 2 * s * model.lm_head.weight.numel() + 2 * model.q_head.weight.numel()  # q: read at one position
    under_grad = sum(calls[len(calls) - model.grad_updates:]) + heads
    return StepFlops(forward=sum(calls) + heads, backward=2 * under_grad)
