"""The same training shape in the ``tiny-recursive-model`` package (``pip install
'recursia[bench]'``): its ``TinyRecursiveModel`` with ``MLPMixer1D`` at its defaults,
halting off, the same D, depth, T, n, sequence (the puzzle prefix as its register
tokens) and batch; a step as its ``Trainer`` runs one (forward, backward, AdamW, EMA)."""

from __future__ import annotations

import statistics
import time
from typing import Callable

import torch
from torch.utils.flop_counter import FlopCounterMode

from recursia.bench.measure import PROGRESS, _timed_steps, record
from recursia.bench.workload import Mode, Spec, trainer
from recursia.build import make_task
from recursia.errors import ConfigError
from recursia.train.settings import training_settings


class PeerStep:
    """One ``tiny-recursive-model`` training step at ``spec``'s shape, called repeatedly."""

    def __init__(self, spec: Spec):
        try:
            from ema_pytorch import EMA
            from tiny_recursive_model import MLPMixer1D, TinyRecursiveModel
        except ImportError:
            raise ConfigError("bench peers needs the tiny-recursive-model package: pip install 'recursia[bench]'") \
                from None
        cfg = spec.config()
        m, task = cfg.model, make_task(cfg.task, cfg.task_options)
        prefix = m.puzzle_emb_len if m.puzzle_emb_len is not None else 1
        seq, vocab = task.seq_len, task.vocab_size
        self.model = TinyRecursiveModel(
            dim=m.hidden_size, num_tokens=vocab, num_refinement_blocks=m.T, num_latent_refinements=m.n,
            network=MLPMixer1D(dim=m.hidden_size, depth=m.n_layers, seq_len=seq + prefix),
            num_register_tokens=prefix)
        self.optim = torch.optim.AdamW(self.model.parameters(), lr=1e-4 / (spec.batch_size * 12), weight_decay=1.0)
        self.ema = EMA(self.model, beta=0.999, update_model_with_ema_every=10000, forward_method_names=("predict",))
        gen = torch.Generator().manual_seed(0)
        self.inputs = torch.randint(1, vocab, (spec.batch_size, seq), generator=gen)  # (B, L)
        self.labels = torch.randint(1, vocab, (spec.batch_size, seq), generator=gen)  # (B, L)
        self.outputs, self.latents = self.model.get_initial()

    def __call__(self) -> None:
        loss, _, self.outputs, self.latents, _, _ = self.model(self.inputs, self.outputs, self.latents, labels=self.labels)
        loss.backward()
        self.optim.step()
        self.optim.zero_grad()
        self.ema.update()

    def parameters(self) -> int:
        """Its trainable parameters."""
        return sum(p.numel() for p in self.model.parameters() if p.requires_grad)


def peers(spec: Spec, best: Mode, steps: int = 3, warmup: int = 2, rounds: int = 3,
          log: Callable[[str], None] = PROGRESS) -> list[dict]:
    """``tiny-recursive-model`` (fp32, its default) against recursia in fp32 eager and in
    ``best``, rounds alternated in this process; the ratios."""
    peer = PeerStep(spec)
    with FlopCounterMode(display=False) as counter:
        peer()
    peer_flops = counter.get_total_flops() / spec.batch_size  # its matmul FLOPs per sample and step
    ours = {m: trainer(spec.config(m)) for m in dict.fromkeys([Mode(), best])}
    log(f"bench peers: {spec.describe()}: warm-up")
    for _ in range(warmup):
        peer()
    for mode, tr in ours.items():
        with training_settings(tr.cfg, "cpu"):
            _timed_steps(tr, warmup)
    runs: dict[str, list[float]] = {"peer": [], **{m.name: [] for m in ours}}
    for r in range(rounds):
        start = time.perf_counter()
        for _ in range(steps):
            peer()
        runs["peer"].append(spec.batch_size * steps / (time.perf_counter() - start))
        for mode, tr in ours.items():
            with training_settings(tr.cfg, "cpu"):
                runs[mode.name].append(spec.batch_size * steps / _timed_steps(tr, steps))
        log(f"bench peers: round {r + 1}/{rounds}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in runs.items()))
    peer_rate = statistics.median(runs["peer"])
    out = [record("peers", f"tiny-recursive-model {_version()} ({peer.parameters():,} parameters), {spec.describe()}",
                  mode="fp32", dtype="fp32", compile=False, batch=spec.batch_size, samples_steps_per_s=peer_rate,
                  model_gflop_per_s=peer_rate * peer_flops / 1e9, ratio=1.0, runs=[round(v, 3) for v in runs["peer"]])]
    for mode in ours:
        rate = statistics.median(runs[mode.name])
        out.append(record("peers", f"recursia, {spec.describe()}", mode=mode.name, dtype=mode.dtype,
                          compile=mode.compile, batch=spec.batch_size, samples_steps_per_s=rate,
                          ratio=rate / peer_rate, runs=[round(v, 3) for v in runs[mode.name]]))
    return out


def _version() -> str:
    from importlib.metadata import version
    return version("tiny-recursive-model")
