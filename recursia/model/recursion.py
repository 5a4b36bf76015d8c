"""The recursion engine: TRM, and HRM and the paper's ablations as configurations of it
(DESIGN.md section 4; the switches in docs/engine.md).

State names follow the TRM paper: ``y`` is the answer state (official ``z_H``), ``z``
the latent reasoning state (official ``z_L``). One supervision step runs ``T`` cycles
of ``n`` z-updates ``z = f(z + y + x)`` and one y-update ``y = f(y + z)``; gradients
flow through the last cycle only (``gradient: full``, TRM) or through the last z- and
y-update only (``one_step``, HRM). ``net: separate`` gives the y-updates their own net
(HRM's f_H). ``latents`` changes what is carried: ``single_z`` keeps one state (the
z-updates are ``y = f(y + x)``, the y-update ``y = f(y)``), ``multi_z:K`` keeps K latent
states, the j-th z-update of a cycle writing ``z_k`` (k = j mod K) as
``z_k = f(z_k + y + x + z_{k-1})`` (no ``z_{k-1}`` term for k = 0) and the y-update
reading their sum. The carry holds the states and the data of every slot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Callable

import torch
from torch import nn

from recursia.config import ModelConfig
from recursia.errors import ConfigError
from recursia.model.embedding import InputEmbedding
from recursia.model.layers import linear, trunc_normal_
from recursia.model.net import ReasoningNet


@dataclass
class Carry:
    """Per-slot state carried across supervision steps.

    y: (B, S, D) answer state; z: (B, S, D) latent state (``latents: yz``) or (B, K, S, D)
    (K latent states; K = 0 for ``single_z``); steps: (B,) int32 steps taken;
    halted: (B,) bool; inputs, labels: (B, L) int64 (labels -100 = ignored);
    puzzle_ids: (B,) int64.
    """

    y: torch.Tensor
    z: torch.Tensor
    steps: torch.Tensor
    halted: torch.Tensor
    inputs: torch.Tensor
    labels: torch.Tensor
    puzzle_ids: torch.Tensor

    def tensors(self) -> dict[str, torch.Tensor]:
        """The fields as a flat dict (for checkpoints)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def exploration_draws(n: int, halt_max_steps: int, generator: torch.Generator | None = None,
                      out: tuple[torch.Tensor, torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The random numbers of one step's halting exploration for ``n`` slots, on the CPU:
    uniform (n,) floats (a slot explores when below ``halt_exploration_prob``) and (n,)
    minimum step counts from U{2..halt_max_steps}, drawn in that order from
    ``generator``; written into ``out`` (e.g. pinned buffers) when given."""
    explore, min_steps = out if out is not None else (torch.empty(n), torch.empty(n, dtype=torch.long))
    torch.rand(n, generator=generator, out=explore)
    torch.randint(2, halt_max_steps + 1, (n,), generator=generator, out=min_steps)
    return explore, min_steps


@dataclass
class StepOutput:
    """What one supervision step produces: logits (B, L, V), q_halt (B,), q_continue (B,)."""

    logits: torch.Tensor
    q_halt: torch.Tensor
    q_continue: torch.Tensor


class RecursiveModel(nn.Module):
    """A TRM/HRM model for one task shape.

    Args:
        cfg: the model configuration.
        vocab_size, seq_len: the task's token count and sequence length L.
        num_puzzle_ids: rows of the puzzle-embedding table.
        mixer_factory: the registered factory of ``cfg.mixer``.
    """

    def __init__(self, cfg: ModelConfig, vocab_size: int, seq_len: int, num_puzzle_ids: int,
                 mixer_factory: Callable):
        super().__init__()
        self.cfg = cfg
        d = cfg.hidden_size
        ndim = d if cfg.puzzle_emb_ndim is None else cfg.puzzle_emb_ndim
        prefix = math.ceil(ndim / d) if cfg.puzzle_emb_len is None else cfg.puzzle_emb_len
        if ndim > prefix * d:
            raise ConfigError(f"model.puzzle_emb_ndim {ndim} does not fit in model.puzzle_emb_len {prefix} "
                              f"prefix positions of hidden_size {d}")
        self.vocab_size, self.seq_len, self.prefix_len = vocab_size, seq_len, prefix
        self.total_len = prefix + seq_len
        self.embed = InputEmbedding(vocab_size, d, num_puzzle_ids, ndim, prefix)
        self.net = ReasoningNet(cfg, self.total_len, mixer_factory, cfg.n_layers)
        self.net_y = ReasoningNet(cfg, self.total_len, mixer_factory, cfg.y_layers) if cfg.net == "separate" else None
        # one supervision step as a list of updates: latent index k (a z-update; -1 = the
        # single_z state update) or None (a y-update); the last `grad_updates` carry gradient
        k = cfg.num_latents
        cycle = [(j % k if k else -1) for j in range(cfg.n)] + [None]
        self.schedule = cycle * cfg.T
        self.grad_updates = 2 if cfg.gradient == "one_step" else len(cycle)
        self.lm_head = linear(d, vocab_size)
        self.q_head = linear(d, 2, bias=True)  # [q_halt, q_continue]
        with torch.no_grad():
            self.q_head.weight.zero_()
            self.q_head.bias.fill_(-5.0)
        self.register_buffer("y_init", trunc_normal_(torch.empty(d), std=1.0))
        self.register_buffer("z_init", trunc_normal_(torch.empty(d), std=1.0))

    # --- the recursion --------------------------------------------------------------
    def _run_updates(self, updates: list, y: torch.Tensor, zs: list[torch.Tensor], x: torch.Tensor):
        """Run ``updates`` (entries of :attr:`schedule`) on y (B, S, D) and the latent
        states ``zs`` (each (B, S, D)) with input x; returns the new (y, zs)."""
        net_y = self.net_y or self.net
        zs = list(zs)
        for k in updates:
            if k is None:  # the y-update
                y = net_y(y, (zs[0] if len(zs) == 1 else sum(zs)) if zs else None)
            elif k < 0:  # single_z: the one state takes the z-update
                y = self.net(y, x)
            else:
                injection = y + x
                zs[k] = self.net(zs[k], injection + zs[k - 1] if k > 0 else injection)
        return y, zs

    def recurse(self, y: torch.Tensor, z: torch.Tensor, x: torch.Tensor):
        """One supervision step on the states y (B, S, D), z (as in :class:`Carry`) with
        input x (B, S, D); returns the new (y, z).

        Only the last cycle (or, with ``gradient: one_step``, the last z- and y-update)
        is under gradient; the incoming states are treated as constants.
        """
        zs = [z] if z.dim() == 3 else list(z.unbind(1))
        split = len(self.schedule) - self.grad_updates
        with torch.no_grad():
            y, zs = self._run_updates(self.schedule[:split], y, zs, x)
        y, zs = self._run_updates(self.schedule[split:], y, zs, x)
        if z.dim() == 3:
            return y, zs[0]
        return y, (torch.stack(zs, dim=1) if zs else z)  # (B, K, S, D)

    def heads(self, y: torch.Tensor) -> StepOutput:
        """Logits over the task positions and halting logits read at position 0."""
        logits = self.lm_head(y)[:, self.prefix_len:]  # (B, L, V)
        q = self.q_head(y[:, 0]).float()  # (B, 2)
        return StepOutput(logits=logits, q_halt=q[:, 0], q_continue=q[:, 1])

    def forward(self, carry: Carry) -> tuple[Carry, StepOutput]:
        """One supervision step for every slot; the returned carry's y, z are detached.

        ``steps`` and ``halted`` are not changed here (see :meth:`update_halting`).
        """
        x = self.embed(carry.inputs, carry.puzzle_ids)  # (B, S, D)
        y, z = self.recurse(carry.y.detach(), carry.z.detach(), x)
        out = self.heads(y)
        return replace(carry, y=y.detach(), z=z.detach()), out

    # --- carry management -------------------------------------------------------------
    def initial_carry(self, batch_size: int, device: torch.device | str | None = None) -> Carry:
        """An all-halted carry (every slot is filled and reset on the next step)."""
        device = device or self.y_init.device
        d, k = self.cfg.hidden_size, self.cfg.num_latents
        y = torch.zeros(batch_size, self.total_len, d, device=device)
        latents = (self.total_len, d) if self.cfg.latents == "yz" else (k, self.total_len, d)
        return Carry(
            y=y, z=torch.zeros(batch_size, *latents, device=device),
            steps=torch.zeros(batch_size, dtype=torch.int32, device=device),
            halted=torch.ones(batch_size, dtype=torch.bool, device=device),
            inputs=torch.zeros(batch_size, self.seq_len, dtype=torch.long, device=device),
            labels=torch.full((batch_size, self.seq_len), -100, dtype=torch.long, device=device),
            puzzle_ids=torch.zeros(batch_size, dtype=torch.long, device=device),
        )

    def refill(self, carry: Carry, inputs: torch.Tensor, labels: torch.Tensor | None,
               puzzle_ids: torch.Tensor) -> Carry:
        """Halted slots take the rows of ``inputs``/``labels``/``puzzle_ids`` at the same
        slot index (official semantics) and are reset to ``y_init, z_init``, 0 steps."""
        h = carry.halted
        hv = h.view(-1, 1, 1)
        hz = h.view(-1, *[1] * (carry.z.dim() - 1))
        new_labels = carry.labels if labels is None else torch.where(h[:, None], labels, carry.labels)
        return Carry(
            y=torch.where(hv, self.y_init.to(carry.y.dtype), carry.y),
            z=torch.where(hz, self.z_init.to(carry.z.dtype), carry.z),
            steps=torch.where(h, torch.zeros_like(carry.steps), carry.steps),
            halted=torch.zeros_like(h),
            inputs=torch.where(h[:, None], inputs, carry.inputs),
            labels=new_labels,
            puzzle_ids=torch.where(h, puzzle_ids, carry.puzzle_ids),
        )

    def wants_halt(self, out: StepOutput) -> torch.Tensor:
        """(B,) bool: the learned halting rule of ``cfg.act`` on one step's outputs:
        ``q_halt > 0`` (halt), ``q_halt > q_continue`` (halt_continue), never (none)."""
        if self.cfg.act == "halt_continue":
            return out.q_halt > out.q_continue
        if self.cfg.act == "none":
            return torch.zeros_like(out.q_halt, dtype=torch.bool)
        return out.q_halt > 0

    def update_halting(self, carry: Carry, out: StepOutput, training: bool,
                       generator: torch.Generator | None = None,
                       draws: tuple[torch.Tensor, torch.Tensor] | None = None) -> Carry:
        """Count the step and decide which slots halt (official ACT rules).

        Always: halt at ``halt_max_steps``. In training only (and not with ``act:
        none``): also halt when ``q_halt > 0`` (or ``q_halt > q_continue`` with ``act:
        halt_continue``), except that
        with probability ``halt_exploration_prob`` a slot draws a minimum step count
        from U{2..halt_max_steps} that blocks halting before it (drawn every step).
        The random numbers are :func:`exploration_draws` from ``generator``, or
        ``draws`` when given (the trainer draws them for the global batch and passes
        each process its share).
        """
        cfg = self.cfg
        with torch.no_grad():
            steps = carry.steps + 1
            halted = steps >= cfg.halt_max_steps
            if training and cfg.halt_max_steps > 1 and cfg.act != "none":
                q = out.q_halt.detach()
                halted = halted | self.wants_halt(out).detach()
                if draws is None:
                    draws = exploration_draws(q.shape[0], cfg.halt_max_steps, generator)
                explore, min_steps = (d.to(q.device, non_blocking=True) for d in draws)  # (B,), (B,)
                min_steps = (explore < cfg.halt_exploration_prob) * min_steps
                halted = halted & (steps >= min_steps)
        return replace(carry, steps=steps.to(torch.int32), halted=halted)

    def act_step(self, carry: Carry, inputs: torch.Tensor, puzzle_ids: torch.Tensor,
                 labels: torch.Tensor | None = None, training: bool = False,
                 generator: torch.Generator | None = None) -> tuple[Carry, StepOutput]:
        """The official ACT call: refill halted slots from the batch, step, update halting."""
        carry = self.refill(carry, inputs, labels, puzzle_ids)
        carry, out = self(carry)
        return self.update_halting(carry, out, training, generator), out

    @torch.no_grad()
    def q_continue_target(self, carry: Carry) -> torch.Tensor:
        """HRM's bootstrapped Q target (``act: halt_continue``), (B,): one more step from
        ``carry`` (the carry a step just returned, before its step count was updated),
        then sigmoid of q_halt at the last step (N_sup) and of max(q_halt, q_continue) before."""
        _, nxt = self(carry)
        last = carry.steps + 1 >= self.cfg.halt_max_steps
        return torch.sigmoid(torch.where(last, nxt.q_halt, torch.maximum(nxt.q_halt, nxt.q_continue)))

    def num_parameters(self) -> int:
        """Trainable parameters (the puzzle-embedding table is a buffer, not counted)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)
