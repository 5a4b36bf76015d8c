"""The deep-supervision training loop (official carry semantics, DESIGN.md section 4).

Each optimizer step runs ONE supervision step on every slot of the carry; slots that
halted (``steps >= N_sup`` or ``q_halt > 0``, subject to exploration) are refilled with
fresh examples from the seeded sampler and reset to ``y0, z0``. EMA weights are what
is evaluated and saved. A run directory is resumable: a killed run continues from its
last checkpoint with the same examples, RNG streams and carry.
"""

from __future__ import annotations

import copy
import json
import math
import signal
import threading
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from recursia.build import make_model, make_task
from recursia.config import RunConfig
from recursia.data.dataset import Split, find_split, read_task_split
from recursia.data.sampler import EpochSampler
from recursia.errors import Terminated, TrainingError
from recursia.infer import evaluate
from recursia.model import Carry, RecursiveModel
from recursia.plots import read_metrics
from recursia.train.checkpoint import (METRICS_FILE, STATE_FILE, atomic_write_text, remove_stale_temp_files,
                                       save_best, save_model, snapshot)
from recursia.train.ema import EMA
from recursia.train.losses import step_loss
from recursia.train.optim import AdamATan2, SparseSignSGD, lr_at
from recursia.train.state import TrainState, load_train_state, save_train_state


@dataclass
class TrainResult:
    """What a finished (or interrupted) call of :func:`train` reports."""

    run_dir: Path
    step: int
    last: dict = field(default_factory=dict)
    eval: dict = field(default_factory=dict)


def make_optimizer(cfg: RunConfig, model: RecursiveModel) -> torch.optim.Optimizer:
    """AdamATan2 (official) or AdamW over the trainable parameters."""
    t = cfg.train
    params = [p for p in model.parameters() if p.requires_grad]
    if t.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=t.lr, betas=(t.beta1, t.beta2), weight_decay=t.weight_decay)
    return AdamATan2(params, lr=t.lr, betas=(t.beta1, t.beta2), weight_decay=t.weight_decay)


def _fill(carry: Carry, split: Split, pids: np.ndarray, rows: np.ndarray, device) -> tuple:
    """Full-batch tensors whose halted slots hold examples ``rows`` (others untouched)."""
    slots = carry.halted.nonzero().flatten().cpu()
    inputs, labels, puzzle_ids = carry.inputs.clone(), carry.labels.clone(), carry.puzzle_ids.clone()
    inputs[slots] = torch.from_numpy(np.asarray(split.inputs[rows]).astype(np.int64)).to(device)
    labels[slots] = torch.from_numpy(split.torch_labels(rows)).to(device)
    puzzle_ids[slots] = torch.from_numpy(pids[rows].astype(np.int64)).to(device)
    return inputs, labels, puzzle_ids


class Trainer:
    """Owns the model, optimizers, EMA, carry and sampler of one run."""

    def __init__(self, cfg: RunConfig, run_dir: Path, data_dir: Path, device: str | torch.device = "cpu"):
        self.cfg, self.run_dir, self.device = cfg, Path(run_dir), torch.device(device)
        self.task = make_task(cfg.task, cfg.task_options)
        what = self.task.describe()
        self.train_split = read_task_split(find_split(data_dir, "train"), self.task.seq_len, self.task.vocab_size, what)
        test_dir = Path(data_dir) / "test"
        self.test_split = (read_task_split(test_dir, self.task.seq_len, self.task.vocab_size, what)
                           if (test_dir / "dataset.json").is_file() else None)
        meta = self.train_split.meta
        num_ids = max(meta.get("num_puzzle_identifiers", 1),
                      self.test_split.meta.get("num_puzzle_identifiers", 1) if self.test_split else 1)
        t = cfg.train
        torch.manual_seed(t.seed)
        self.model = make_model(cfg, self.task, num_ids).to(self.device)
        self.optimizer = make_optimizer(cfg, self.model)
        self.sparse = (SparseSignSGD(self.model.embed.puzzle, t.puzzle_emb_lr, t.puzzle_emb_weight_decay)
                       if self.model.embed.puzzle is not None else None)
        self.ema = EMA(self.model, t.ema_rate) if t.ema else None
        self.sampler = EpochSampler(self.train_split, t.seed)
        self.pids = self.train_split.example_puzzle_ids()
        self.explore_rng = torch.Generator().manual_seed(t.seed + 1)
        self.carry = self.model.initial_carry(t.batch_size, self.device)
        self.step = 0
        self.last_saved: int | None = None  # step of the last checkpoint written or resumed from
        self.nonfinite_skipped = 0
        self.forward = self.model
        if t.compile:
            torch._dynamo.config.suppress_errors = True  # no C++ compiler etc.: run eagerly
            self.forward = torch.compile(self.model)
        bf16 = t.dtype == "bfloat16" or (t.dtype == "auto" and self.device.type == "cuda")
        self.autocast = torch.autocast(self.device.type, dtype=torch.bfloat16) if bf16 else nullcontext()

    # --- checkpoints ------------------------------------------------------------------
    def _state(self) -> TrainState:
        return TrainState(self.step, self.model, self.optimizer, self.ema.state() if self.ema else None,
                          self.carry, self.sampler.state(), self.explore_rng)

    def save(self) -> None:
        """Write model.safetensors (EMA weights) and train_state.safetensors atomically."""
        save_model(self.run_dir, self.cfg, self.model, self.ema.state() if self.ema else None)
        save_train_state(self.run_dir, self._state())
        self.last_saved = self.step
        if self.cfg.train.keep:
            snapshot(self.run_dir, self.step, self.cfg.train.keep)

    def resume(self) -> bool:
        """Continue from the run directory's train_state if there is one."""
        if not (self.run_dir / STATE_FILE).is_file():
            return False
        st = self._state()
        load_train_state(self.run_dir, st)
        self.step, self.carry = st.step, st.carry
        self.sampler.load_state(st.sampler_state)
        self.last_saved = self.step
        return True

    def eval_model(self) -> RecursiveModel:
        """A copy of the model carrying the EMA weights (or the raw ones without EMA).

        The copy shares the puzzle-embedding table (a buffer that EMA does not average
        and evaluation does not change), so evaluating a run with a large table (ARC:
        ~800k rows) does not hold it twice.
        """
        puzzle = self.model.embed.puzzle
        shared = {id(puzzle.weight): puzzle.weight} if puzzle is not None else {}
        m = copy.deepcopy(self.model, memo=shared)
        if self.ema:
            m.load_state_dict(self.ema.state(), strict=False)
        return m.eval()

    # --- one optimizer step -------------------------------------------------------------
    def train_step(self) -> dict:
        """One supervision step on every slot, one optimizer step; returns step metrics."""
        cfg, t, model = self.cfg, self.cfg.train, self.model
        model.train()
        k = int(self.carry.halted.sum())
        rows = self.sampler.take(k)
        inputs, labels, pids = _fill(self.carry, self.train_split, self.pids, rows, self.device)
        carry = model.refill(self.carry, inputs, labels, pids)
        with self.autocast:
            carry, out = self.forward(carry)
            target = self._q_continue_target(carry) if cfg.model.act_continue else None
            res = step_loss(out.logits, carry.labels, out.q_halt, t.loss,
                            out.q_continue if target is not None else None, target)
        (res.loss / t.batch_size).backward()
        if not self._finite(res.loss):
            return self._nonfinite_step(res.loss)
        lr = lr_at(self.step + 1, t.lr, t.warmup_steps)  # official: step counted from 1
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        if self.sparse is not None:
            self.sparse.lr = lr_at(self.step + 1, t.puzzle_emb_lr, t.warmup_steps)
            self.sparse.step()
        if self.ema:
            self.ema.update(model)
        self.carry = model.update_halting(carry, out, training=True, generator=self.explore_rng)
        self.step += 1
        done = self.carry.halted
        n_done = int(done.sum())
        valid = res.valid
        cell = (res.cell_correct.sum(-1) / valid.sum(-1).clamp_min(1))
        return {
            "step": self.step, "lr": lr,
            "loss": res.loss.item() / t.batch_size,
            "lm_loss": res.lm_loss.item() / t.batch_size,
            "q_halt_loss": res.q_halt_loss.item() / t.batch_size,
            "cell_acc": cell.mean().item(), "exact_acc": res.seq_correct.float().mean().item(),
            "halted": n_done,
            "halted_exact_acc": res.seq_correct[done].float().mean().item() if n_done else math.nan,
            "halted_steps": self.carry.steps[done].float().mean().item() if n_done else math.nan,
        }

    @torch.no_grad()
    def _finite(self, loss: torch.Tensor) -> bool:
        """Whether the loss and every gradient of this step (dense and puzzle rows) are finite."""
        grads = [p.grad for p in self.model.parameters() if p.grad is not None]
        emb = self.model.embed.puzzle
        if emb is not None and emb.local is not None and emb.local.grad is not None:
            grads.append(emb.local.grad)
        norms = torch._foreach_norm(grads) if grads else []  # one norm per tensor: inf/nan if any entry is
        return bool(torch.isfinite(torch.stack([loss.detach().float(), *[n.float() for n in norms]])).all())

    def _nonfinite_step(self, loss: torch.Tensor) -> dict:
        """``train.nonfinite``: raise TrainingError (stop), or drop the step's gradients and
        batch without any update (skip) and return its metrics."""
        step = self.step + 1
        what = "loss" if not torch.isfinite(loss.detach()).all() else "gradient"
        if self.cfg.train.nonfinite == "stop":
            kept = f"step {self.last_saved}" if self.last_saved is not None else "none yet"
            raise TrainingError(f"step {step}: non-finite {what} (loss {loss.item()}); run stopped; its last "
                                f"checkpoint ({kept}) in {self.run_dir} is kept (--set train.nonfinite=skip skips "
                                f"such steps instead)")
        self.optimizer.zero_grad(set_to_none=True)
        if self.model.embed.puzzle is not None:
            self.model.embed.puzzle.local = self.model.embed.puzzle.local_ids = None
        self.step += 1
        self.nonfinite_skipped += 1
        nan = dict.fromkeys(("loss", "lm_loss", "q_halt_loss", "cell_acc", "exact_acc", "halted_exact_acc",
                             "halted_steps"), math.nan)  # the keys of a normal step, so every reader finds them
        return {"step": self.step, "lr": lr_at(self.step, self.cfg.train.lr, self.cfg.train.warmup_steps), **nan,
                "halted": 0, "nonfinite_skipped": self.nonfinite_skipped}

    @torch.no_grad()
    def _q_continue_target(self, carry: Carry) -> torch.Tensor:
        """HRM's bootstrapped Q target: sigmoid of the next step's best Q (halt only at the last step)."""
        _, nxt = self.model(carry)
        last = carry.steps + 1 >= self.cfg.model.halt_max_steps
        return torch.sigmoid(torch.where(last, nxt.q_halt, torch.maximum(nxt.q_halt, nxt.q_continue)))

    def run_eval(self, limit: int | None) -> dict:
        """EMA-model metrics on the test split (``{}`` when there is none)."""
        if self.test_split is None:
            return {}
        res = evaluate(self.eval_model(), self.task, self.test_split, limit, device=self.device)
        return {f"test_{k}": v for k, v in res.metrics.items()} | {"test_examples": res.examples}


@contextmanager
def deterministic_algorithms(enabled: bool):
    """``torch.use_deterministic_algorithms(enabled)`` (warnings, not errors, for an op
    without a deterministic kernel) for the duration, then the previous setting.

    It makes compiled CPU kernels deterministic: without it inductor lowers the
    embedding backward to a scatter-add whose float sums follow the threads' timing.
    Uninitialised memory is not filled (it is never read), so eager speed is unchanged.
    """
    before = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
              torch.utils.deterministic.fill_uninitialized_memory)
    torch.use_deterministic_algorithms(enabled, warn_only=True)
    torch.utils.deterministic.fill_uninitialized_memory = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        torch.utils.deterministic.fill_uninitialized_memory = before[2]


@contextmanager
def denormals_flushed(enabled: bool):
    """Treat denormal floats as zero on the CPU for the duration (then as IEEE-754 says)."""
    if enabled:
        torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if enabled:
            torch.set_flush_denormal(False)


def uses_determinism(cfg: RunConfig, device: str | torch.device) -> bool:
    """Whether ``train.deterministic`` asks for deterministic algorithms on ``device``."""
    wanted = cfg.train.deterministic
    return torch.device(device).type == "cpu" if wanted == "auto" else bool(wanted)


@contextmanager
def training_settings(cfg: RunConfig, device: str | torch.device):
    """The process-wide torch settings ``cfg`` trains under on ``device``, for the
    duration: deterministic algorithms (``train.deterministic``) and, on the CPU,
    flushed denormals (``train.flush_denormal``)."""
    flush = cfg.train.flush_denormal and torch.device(device).type == "cpu"
    with deterministic_algorithms(uses_determinism(cfg, device)), denormals_flushed(flush):
        yield


def train(cfg: RunConfig, run_dir: Path, data_dir: Path, device: str | torch.device = "cpu",
          on_step: Callable[[dict], None] | None = None, log: Callable[[str], None] = print) -> TrainResult:
    """Train (or resume) ``cfg`` in ``run_dir`` on the dataset in ``data_dir``.

    ``on_step`` receives each step's metrics (the CLI drives its progress bar with it).
    Checkpoints every ``train.checkpoint_every`` steps, at the end, on
    KeyboardInterrupt and on SIGTERM (raised as :class:`recursia.errors.Terminated`
    after the save), so no finished work is lost. The data and the model are checked
    before anything is written to ``run_dir``; temporary files a killed checkpoint
    write left there are removed on resume.
    """
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    run_dir = Path(run_dir)
    with training_settings(cfg, device):
        trainer = Trainer(cfg, run_dir, data_dir, device)
        run_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_temp_files(run_dir)
        metrics_path = run_dir / METRICS_FILE
        if trainer.resume():
            log(f"resuming {run_dir} at step {trainer.step}")
            keep = [r for r in read_metrics(metrics_path) if r.get("step", 0) <= trainer.step and not r.get("final")]
            atomic_write_text(metrics_path, "".join(json.dumps(r) + "\n" for r in keep))
        atomic_write_text(run_dir / "config.json", json.dumps(cfg.model_dump(), indent=2))
        with sigterm_raises():
            return _loop(trainer, metrics_path, on_step, log)


@contextmanager
def sigterm_raises():
    """While inside, SIGTERM raises :class:`recursia.errors.Terminated` in the main thread
    (elsewhere, and where signals cannot be set, nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated("terminated by SIGTERM")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _loop(trainer: Trainer, metrics_path: Path, on_step: Callable[[dict], None] | None,
          log: Callable[[str], None]) -> TrainResult:
    """Train ``trainer`` to ``train.steps``, logging, evaluating and checkpointing on the way."""
    t, run_dir = trainer.cfg.train, trainer.run_dir
    last: dict = {}
    t0, s0 = time.perf_counter(), trainer.step
    with metrics_path.open("a") as mf:
        try:
            while trainer.step < t.steps:
                last = trainer.train_step()
                last["steps_per_s"] = (trainer.step - s0) / max(time.perf_counter() - t0, 1e-9)
                evaluated = False
                if t.eval_every and trainer.step % t.eval_every == 0 and trainer.step < t.steps:
                    last.update(trainer.run_eval(t.eval_limit))
                    evaluated = "test_exact_acc" in last
                if (trainer.step % t.log_every == 0 or evaluated or "nonfinite_skipped" in last
                        or trainer.step == t.steps):
                    mf.write(json.dumps(last) + "\n")
                    mf.flush()
                if on_step:
                    on_step(last)
                if trainer.step % t.checkpoint_every == 0 or evaluated:  # evaluated weights become a checkpoint
                    trainer.save()
                if evaluated:
                    save_best(run_dir, trainer.step, last)
        except (KeyboardInterrupt, Terminated) as e:
            trainer.save()
            log(f"{'terminated' if isinstance(e, Terminated) else 'interrupted'}: saved step {trainer.step} to "
                f"{run_dir}")
            raise
        trainer.save()
        final = trainer.run_eval(None if t.eval_limit is None else max(t.eval_limit, 1000))
        if final:
            mf.write(json.dumps({"step": trainer.step, "final": True} | final) + "\n")
            save_best(run_dir, trainer.step, final)
    return TrainResult(run_dir, trainer.step, last, final)
