"""The deep-supervision training loop (official carry semantics, DESIGN.md section 4).

Each optimizer step runs ONE supervision step on every slot of the carry; slots that
halted (``steps >= N_sup`` or ``q_halt > 0``, subject to exploration) are refilled with
fresh examples from the seeded sampler and reset to ``y0, z0``. EMA weights are what
is evaluated and saved. A run directory is resumable: a killed run continues from its
last checkpoint with the same examples, RNG streams and carry.

Several processes (torchrun; :mod:`recursia.distributed`) split the carry's slots
into equal shares and compute what one process with the whole carry would: the same
examples per slot (:class:`recursia.train.feeder.CarryFeeder`), the same exploration
draws, dense gradients summed over processes, the puzzle-embedding update made from
every process's rows. Only rank 0 writes files.

Nothing in a step makes the host wait for the device except the small halting mask,
which is needed to refill the carry and is read one step later, after the step's
backward pass is queued; metrics are summed on the device and read every
``train.log_every`` steps.
"""

from __future__ import annotations

import copy
import json
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from recursia.build import make_model, make_task
from recursia.config import RunConfig
from recursia.data.dataset import find_split, read_task_split
from recursia.data.sampler import EpochSampler
from recursia.distributed import SINGLE, World
from recursia.errors import CheckpointError, ConfigError, TrainingError, is_out_of_memory
from recursia.infer import evaluate, forward_autocast
from recursia.model import Carry, RecursiveModel
from recursia.model.recursion import exploration_draws
from recursia.train.checkpoint import save_best, save_model, snapshot
from recursia.train.ema import EMA
from recursia.train.run_files import (METRICS_FILE, STATE_FILE, atomic_write_text, read_metadata,
                                      remove_stale_temp_files)
from recursia.train.threads import governor_for
from recursia.train.feeder import CarryFeeder, HostCopy, host_buffer
from recursia.train.losses import model_step_loss
from recursia.train.metrics_log import MetricsLog, read_metrics
from recursia.train.optim import AdamATan2, SparseSignSGD, lr_at
from recursia.train.state import TrainState, load_train_state, save_train_state
from recursia.train.settings import training_settings
from recursia.train.step_stats import StepStats
from recursia.train.summary import format_summary, run_summary
from recursia.train.stop import StopRequest


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


def local_batch_size(cfg: RunConfig, world: World) -> int:
    """The slots of each process: ``train.batch_size`` split evenly; ConfigError when it does not split."""
    b = cfg.train.batch_size
    if b % world.size:
        raise ConfigError(f"train.batch_size {b} does not split evenly over {world.size} processes "
                          f"(use a multiple of {world.size})")
    return b // world.size


def halting_mask(halted: np.ndarray, world: World) -> np.ndarray:
    """(W, b + 1) uint8: the whole carry's halting mask (global batch,) as one row per
    process, with a last column of stop requests (none)."""
    rows = halted.astype(np.uint8).reshape(world.size, -1)
    return np.concatenate([rows, np.zeros((world.size, 1), dtype=np.uint8)], axis=1)


class Trainer:
    """Owns the model, optimizers, EMA, carry and sampler of one run (of this process's
    share of the carry when several processes train together)."""

    def __init__(self, cfg: RunConfig, run_dir: Path, data_dir: Path, device: str | torch.device = "cpu",
                 world: World = SINGLE):
        self.cfg, self.run_dir, self.device, self.world = cfg, Path(run_dir), torch.device(device), world
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)  # kernels, streams and events of this run on its GPU
        self.local_batch = local_batch_size(cfg, world)
        share = world.share(cfg.train.batch_size)
        self.slots = slice(share.start, share.stop)  # this process's slots of the whole carry
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
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = make_optimizer(cfg, self.model)
        self.sparse = (SparseSignSGD(self.model.embed.puzzle, t.puzzle_emb_lr, t.puzzle_emb_weight_decay)
                       if self.model.embed.puzzle is not None else None)
        self.ema = EMA(self.model, t.ema_rate) if t.ema else None
        self.sampler = EpochSampler(self.train_split, t.seed)
        self.feeder = CarryFeeder(self.train_split, self.sampler, share, self.device)
        self.explore_rng = torch.Generator().manual_seed(t.seed + 1)
        self.draws = (host_buffer((t.batch_size,), torch.float32, self.device),
                      host_buffer((t.batch_size,), torch.long, self.device))  # exploration draws of the global batch
        self.carry = self.model.initial_carry(self.local_batch, self.device)
        # the whole carry's halting mask after the last step, one row per process, and a
        # last column that says whether the process was asked to stop
        self.mask = HostCopy(halting_mask(np.ones(t.batch_size, dtype=bool), world))
        self.stop = StopRequest()
        self.stats = StepStats(self.device)
        self.first_bad = torch.full((3,), -1.0, dtype=torch.float64, device=self.device)  # step, loss, 1 = gradient
        self.step = 0
        self.last_saved: int | None = None  # step of the last checkpoint written or resumed from
        self.nonfinite_skipped = 0
        self.forward = self.model
        if t.compile:
            torch._dynamo.config.suppress_errors = True  # no C++ compiler etc.: run eagerly
            self.forward = torch.compile(self.model)
        self.autocast = forward_autocast(t.dtype, self.device)

    # --- checkpoints ------------------------------------------------------------------
    def _whole_carry(self) -> Carry | None:
        """The whole carry on rank 0 (every process's share gathered), ``None`` elsewhere."""
        parts = {k: self.world.gather_to_main(v.to(torch.uint8) if v.dtype == torch.bool else v)
                 for k, v in self.carry.tensors().items()}
        if not self.world.main:
            return None
        parts["halted"] = parts["halted"].bool()
        return Carry(**parts)

    def save(self) -> None:
        """Write model.safetensors (EMA weights) and train_state.safetensors atomically
        (rank 0; every process takes part). In ``train.nonfinite=stop`` runs a
        non-finite step since the last check raises TrainingError first, so no
        checkpoint ever holds its weights."""
        self.check_finite()
        carry = self._whole_carry()
        if self.world.main:
            save_model(self.run_dir, self.cfg, self.model, self.ema.state() if self.ema else None)
            save_train_state(self.run_dir, TrainState(self.step, self.model, self.optimizer,
                                                      self.ema.state() if self.ema else None, carry,
                                                      self.sampler.state(), self.explore_rng))
            if self.cfg.train.keep:
                snapshot(self.run_dir, self.step, self.cfg.train.keep)
        self.last_saved = self.step

    def _saved_step(self) -> int:
        """The step of the run directory's train_state (-1 without one); CheckpointError
        when the processes do not all see the same one (a run directory that is not on
        a filesystem every host shares)."""
        path = self.run_dir / STATE_FILE
        step = int(read_metadata(path).get("step", "0")) if path.is_file() else -1
        seen = self.world.all_gather(torch.tensor([step], device=self.device)).tolist()
        if len(set(seen)) > 1:
            raise CheckpointError(f"{path}: the processes see different checkpoints (steps {seen} by rank; -1 = "
                                  f"none): the run directory must be on a filesystem every host shares")
        return step

    def resume(self) -> bool:
        """Continue from the run directory's train_state if there is one (saved by any
        number of processes: the carry is the whole one, and each process takes its share)."""
        if self._saved_step() < 0:
            return False
        whole = self.model.initial_carry(self.cfg.train.batch_size, "cpu")
        st = TrainState(self.step, self.model, self.optimizer, self.ema.state() if self.ema else None, whole,
                        self.sampler.state(), self.explore_rng)
        load_train_state(self.run_dir, st)
        self.step = st.step
        self.carry = Carry(**{k: v[self.slots].to(self.device) for k, v in st.carry.tensors().items()})
        self.feeder.load(self.carry)
        self.mask = HostCopy(halting_mask(st.carry.halted.numpy(), self.world))
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
    def stop_agreed(self) -> bool:
        """Whether any process was asked to stop before the last step's halting mask was
        shared (every process gets the same answer at the same step)."""
        return bool(self.mask.get()[:, -1].any())

    def train_step(self) -> dict:
        """One supervision step on every slot, one optimizer step; returns ``{"step": n}``
        (the step's metrics are summed on the device: :meth:`read_stats`), or the record
        of a skipped non-finite step (``train.nonfinite=skip``)."""
        t, model = self.cfg.train, self.model
        model.train()
        halted = self.mask.get()[:, :-1].reshape(-1).astype(bool)  # (global batch,) after the last step
        inputs, labels, pids = self.feeder.fill(halted)
        before = self.carry
        carry = model.refill(before, inputs, labels, pids)
        with self.autocast:
            carry, out = self.forward(carry)
            res = model_step_loss(model, carry, out, t.loss)
        self.carry = model.update_halting(carry, out, training=True, draws=self._exploration_draws())
        self._share_halting()
        (res.loss / t.batch_size).backward()
        loss, puzzle_rows = self._combine_gradients(res.loss)
        finite = self._finite(loss, puzzle_rows)
        if t.nonfinite == "skip" and not bool(finite):  # every process decides alike: the sums are shared
            return self._skip_step(before)
        self.stats.add(res, self.carry.halted, self.carry.steps)
        lr = self.lr_at(self.step + 1, t.lr)  # official: step counted from 1
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        if self.sparse is not None:
            self.sparse.lr = self.lr_at(self.step + 1, t.puzzle_emb_lr)
            self.sparse.step(*puzzle_rows)
        if self.ema:
            self.ema.update(model)
        self.step += 1
        return {"step": self.step}

    def _exploration_draws(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """This process's share of the global batch's halting-exploration draws (every
        process draws the whole batch's, so the stream does not depend on the process count)."""
        if self.cfg.model.halt_max_steps <= 1:
            return None
        exploration_draws(self.cfg.train.batch_size, self.cfg.model.halt_max_steps, self.explore_rng, self.draws)
        return tuple(d[self.slots] for d in self.draws)

    def _share_halting(self) -> None:
        """Start sending the whole carry's halting mask, and whether this process was
        asked to stop, to the host of every process (read at the next step)."""
        flag = torch.full((1,), int(self.stop.requested), dtype=torch.uint8, device=self.device)
        mine = torch.cat([self.carry.halted.to(torch.uint8), flag])  # (b + 1,)
        self.mask.start(self.world.all_gather(mine).view(self.world.size, -1))  # (W, b + 1)

    def _combine_gradients(self, loss: torch.Tensor) -> tuple[torch.Tensor, tuple]:
        """Sum the dense gradients and the loss over the processes (one all-reduce of one
        flat buffer) and gather every process's puzzle-embedding rows and gradients, in
        rank order; returns the summed loss and ``(ids (B,), grads (B, ndim))`` (or ``()``)."""
        grads = [p.grad for p in self.params if p.grad is not None]
        loss = loss.detach().float().reshape(1)
        if self.world.size > 1:
            flat = self.world.all_reduce_sum(torch.cat([g.reshape(-1) for g in grads] + [loss]))
            for g, part in zip(grads, flat.split([g.numel() for g in grads] + [1])):
                g.copy_(part.view_as(g))
            loss = flat[-1:]
        emb = self.model.embed.puzzle
        if emb is None or emb.local is None or emb.local.grad is None:
            return loss[0], ()
        rows = (self.world.all_gather(emb.local_ids), self.world.all_gather(emb.local.grad))
        emb.local = emb.local_ids = None
        return loss[0], rows

    @torch.no_grad()
    def _finite(self, loss: torch.Tensor, puzzle_rows: tuple) -> torch.Tensor:
        """A device bool: whether the (summed) loss and every gradient of this step are
        finite; the first step where one is not is noted for :meth:`check_finite`."""
        grads = [p.grad for p in self.params if p.grad is not None] + list(puzzle_rows[1:])
        norms = torch._foreach_norm(grads) if grads else []  # one norm per tensor: inf/nan if any entry is
        finite_loss = torch.isfinite(loss)
        finite = finite_loss & torch.isfinite(torch.stack([n.float() for n in norms])).all() if norms else finite_loss
        first = (self.first_bad[0] < 0) & ~finite
        seen = torch.stack([torch.full_like(loss, self.step + 1, dtype=torch.float64), loss.double(),
                            finite_loss.double()])
        self.first_bad = torch.where(first, seen, self.first_bad)
        return finite

    def check_finite(self) -> None:
        """``train.nonfinite=stop``: TrainingError naming the first non-finite step since
        the start (or resume), keeping the last checkpoint. Reads a device value, so it
        runs at logging, evaluation and checkpoint steps only."""
        if self.cfg.train.nonfinite != "stop":
            return
        step, loss, grad = self.first_bad.tolist()
        if step < 0:
            return
        kept = f"step {self.last_saved}" if self.last_saved is not None else "none yet"
        raise TrainingError(f"step {int(step)}: non-finite {'gradient' if grad else 'loss'} (loss {loss}); run "
                            f"stopped; its last checkpoint ({kept}) in {self.run_dir} is kept (--set "
                            f"train.nonfinite=skip skips such steps instead)")

    def _skip_step(self, before: Carry) -> dict:
        """``train.nonfinite=skip``: drop the step's gradients and batch without any update
        (the carry goes back to ``before`` the step: its halted slots take new examples
        next step) and return its record."""
        self.carry = before
        self._share_halting()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        self.nonfinite_skipped += 1
        return {"step": self.step, "nonfinite_skipped": self.nonfinite_skipped}

    def lr_at(self, step: int, base_lr: float) -> float:
        """The learning rate of optimizer step ``step`` (counted from 1) for the base rate
        ``base_lr``, on the run's schedule (``train.warmup_steps``, ``steps``, ``lr_min_ratio``)."""
        t = self.cfg.train
        return lr_at(step, base_lr, t.warmup_steps, t.steps, t.lr_min_ratio)

    def read_stats(self) -> dict:
        """The mean metrics of the steps since the last call (all processes; see
        :class:`recursia.train.step_stats.StepStats`)."""
        return self.stats.read(self.world, self.cfg.train.batch_size)

    def run_eval(self, limit: int | None) -> dict:
        """EMA-model metrics on the test split, each process evaluating a share (``{}``
        when there is no test split)."""
        if self.test_split is None:
            return {}
        with forward_autocast(self.cfg.train.dtype, self.device):
            res = evaluate(self.eval_model(), self.task, self.test_split, limit, device=self.device, world=self.world)
        return {f"test_{k}": v for k, v in res.metrics.items()} | {"test_examples": res.examples}


def train(cfg: RunConfig, run_dir: Path, data_dir: Path, device: str | torch.device = "cpu",
          on_step: Callable[[dict], None] | None = None, log: Callable[[str], None] = print,
          world: World = SINGLE) -> TrainResult:
    """Train (or resume) ``cfg`` in ``run_dir`` on the dataset in ``data_dir``, as one
    of ``world.size`` processes (every process calls it; rank 0 writes and logs).

    ``on_step`` receives each step's record (``{"step": n}``, with the window's metrics
    every ``train.log_every`` steps; the CLI drives its progress bar with it).
    Checkpoints every ``train.checkpoint_every`` steps, at every evaluation, at the end,
    and on SIGTERM or Ctrl-C (acted on at the next step boundary, then
    :class:`recursia.errors.Terminated` or KeyboardInterrupt is raised), so no finished
    work is lost. The data and the model are checked before anything is written to
    ``run_dir``; temporary files a killed checkpoint write left there are removed on resume.
    """
    run_dir = Path(run_dir)
    trainer = None
    try:
        with training_settings(cfg, device):
            trainer = Trainer(cfg, run_dir, data_dir, device, world)
            resumed = trainer.resume()
            metrics = None
            if world.main:
                run_dir.mkdir(parents=True, exist_ok=True)
                remove_stale_temp_files(run_dir)
                if resumed:
                    log(f"resuming {run_dir} at step {trainer.step}")
                    keep = [r for r in read_metrics(run_dir / METRICS_FILE)
                            if r.get("step", 0) <= trainer.step and not (r.get("final") or r.get("summary"))]
                    atomic_write_text(run_dir / METRICS_FILE, "".join(json.dumps(r) + "\n" for r in keep))
                atomic_write_text(run_dir / "config.json", json.dumps(cfg.model_dump(), indent=2))
                metrics = MetricsLog(run_dir, cfg.train.tensorboard, purge_step=trainer.step + 1 if resumed else None)
            with trainer.stop.installed(), metrics or nullcontext():
                return _loop(trainer, metrics, on_step, log)
    except RuntimeError as e:
        if not is_out_of_memory(e):
            raise
        raise TrainingError(out_of_memory_advice(cfg, world, device, trainer)) from None


def out_of_memory_advice(cfg: RunConfig, world: World, device: str | torch.device,
                         trainer: Trainer | None) -> str:
    """What to do when training ran out of memory: fewer slots per process."""
    b, w = cfg.train.batch_size, world.size
    where = f"after step {trainer.step}" if trainer is not None else "while setting up"
    kept = (f"; its last checkpoint (step {trainer.last_saved}) is kept and resumes with --out {trainer.run_dir}"
            if trainer is not None and trainer.last_saved is not None else "")
    return (f"out of memory on {device} {where} with {b // w} training slots per process (train.batch_size {b} over "
            f"{w} process{'es' if w > 1 else ''}): use fewer per process, e.g. --set train.batch_size="
            f"{w * max(1, b // w // 2)} or more processes (several GPUs: --nproc N){kept}")


def _loop(trainer: Trainer, metrics: MetricsLog | None, on_step: Callable[[dict], None] | None,
          log: Callable[[str], None]) -> TrainResult:
    """Train ``trainer`` to ``train.steps``, logging, evaluating and checkpointing on the way
    (``metrics``: rank 0's log; ``None`` in the other processes)."""
    t, world = trainer.cfg.train, trainer.world
    governor = governor_for(t.threads, trainer.device, world.size)
    last: dict = {}
    start = time.perf_counter()
    window = (start, trainer.step)
    while trainer.step < t.steps:
        if trainer.stop_agreed():
            trainer.save()
            stop = trainer.stop.exception()
            log(f"{'interrupted' if isinstance(stop, KeyboardInterrupt) else 'terminated'}: saved step "
                f"{trainer.step} to {trainer.run_dir}")
            raise stop
        record = trainer.train_step()
        if governor is not None:
            governor.check()
        step = record["step"]
        logged = step % t.log_every == 0 or step == t.steps
        evaluated = bool(t.eval_every) and step % t.eval_every == 0 and step < t.steps
        if logged or evaluated:
            trainer.check_finite()
            now = time.perf_counter()
            took, steps = max(now - window[0], 1e-9), step - window[1]
            record |= {"lr": trainer.lr_at(step, t.lr), **trainer.read_stats(),
                       "steps_per_s": steps / took, "samples_per_s": steps * t.batch_size / took}
            if trainer.device.type == "cpu":
                record["threads"] = torch.get_num_threads()
            if governor is not None:
                record["busy_cores_others"] = round(governor.others, 2)  # cores other processes used
            if trainer.device.type == "cuda":  # the allocator's own count: no wait for the GPU
                record["max_memory_gib"] = torch.cuda.max_memory_allocated(trainer.device) / 2**30
        if evaluated:
            record |= trainer.run_eval(t.eval_limit)
        if metrics and (logged or evaluated or "nonfinite_skipped" in record):
            metrics.write(record)
        if on_step and world.main:
            on_step(record)
        if step % t.checkpoint_every == 0 or evaluated:  # evaluated weights become a checkpoint
            trainer.save()
        if evaluated and world.main and "test_exact_acc" in record:
            save_best(trainer.run_dir, step, record)
        if logged or evaluated:  # the next window's rate counts training, not this evaluation
            window = (time.perf_counter(), step)
        last = record if len(record) > 1 else last
    trainer.save()
    final = trainer.run_eval(None if t.eval_limit is None else max(t.eval_limit, 1000))
    if metrics:
        if final:
            metrics.write({"step": trainer.step, "final": True} | final)
            save_best(trainer.run_dir, trainer.step, final)
        summary = run_summary(trainer.run_dir, time.perf_counter() - start)
        metrics.write({"step": trainer.step, "summary": True} | summary)
        log(format_summary(summary))
    return TrainResult(trainer.run_dir, trainer.step, last, final)
