"""The measurements of ``recursia bench``: each returns result records (dicts with the
fields of :data:`recursia.bench.report.FIELDS`), timed after warm-up, rounds alternated
between the things compared, medians reported."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Iterator, Sequence

import torch

from recursia.bench.flops import step_flops
from recursia.bench.peak import MatmulShape, matmul_peak, step_matmuls
from recursia.bench.workload import DTYPES, Mode, Spec, dataset, trainer
from recursia.build import make_model, make_task
from recursia.data.dataset import find_split, read_task_split
from recursia.errors import ConfigError
from recursia.infer import evaluate, forward_autocast
from recursia.model import RecursiveModel
from recursia.train.checkpoint import load_run, save_model
from recursia.train.loop import Trainer
from recursia.train.settings import training_settings
from recursia.train.threads import ThreadGovernor, governor_for

PROGRESS: Callable[[str], None] = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731


def peak_rss_mb() -> float:
    """The process's peak resident memory so far, in MiB (Linux: ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def record(bench: str, what: str, **fields) -> dict:
    """A result with the common fields (``threads``, ``peak_rss_mb``) filled in."""
    return {"bench": bench, "what": what, "threads": torch.get_num_threads(), "peak_rss_mb": round(peak_rss_mb(), 1),
            **fields}


def random_batch(model: RecursiveModel, batch: int, seed: int = 0):
    """A carry of ``batch`` random puzzles (tokens 1..vocab-1, random labels, puzzle id 0)."""
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.randint(1, model.vocab_size, (batch, model.seq_len), generator=gen)  # (B, L)
    labels = torch.randint(1, model.vocab_size, (batch, model.seq_len), generator=gen)  # (B, L)
    return model.refill(model.initial_carry(batch), tokens, labels, torch.zeros(batch, dtype=torch.long))


def model_matmuls(model: RecursiveModel, batch: int) -> Counter[MatmulShape]:
    """The matrix-product shapes of one training step of ``model`` at ``batch`` (eager)."""
    carry = random_batch(model, batch)

    def step():
        _, out = model(carry)
        (out.logits.float().sum() + out.q_halt.sum() + out.q_continue.sum()).backward()

    try:
        return step_matmuls(step)
    finally:
        model.zero_grad(set_to_none=True)


def peaks(shapes: Counter[MatmulShape], dtypes: tuple[str, ...] = ("fp32", "bf16")) -> dict[str, float]:
    """The matmul peak (FLOP/s) at ``shapes`` (:func:`model_matmuls`) in each dtype."""
    return {d: matmul_peak(shapes, Mode(d).torch_dtype) for d in dtypes}


def _timed_steps(tr: Trainer, steps: int, governor: ThreadGovernor | None = None) -> float:
    """Seconds for ``steps`` training steps (the device synchronised at both ends), the
    thread governor (``train.threads: auto``) checked after each as training does."""
    sync = torch.cuda.synchronize if tr.device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        tr.train_step()
        if governor is not None:
            governor.check()
    sync()
    return time.perf_counter() - start


def _settle(tr: Trainer, governor: ThreadGovernor | None) -> None:
    """Untimed steps until the governor has measured the machine as it is now."""
    if governor is None:
        return
    end = time.perf_counter() + governor.interval * 2.5  # a change takes two intervals
    while time.perf_counter() < end:
        _timed_steps(tr, 1, governor)


def train_speed(spec: Spec, modes: list[Mode], steps: int = 3, warmup: int = 2, rounds: int = 3,
                log: Callable[[str], None] = PROGRESS) -> list[dict]:
    """Training throughput of ``spec`` in every mode: forward, backward, both optimizers
    and EMA, ``steps`` steps per round after ``warmup`` (compilation happens there),
    rounds alternated between the modes, with the matmul peak of each round measured in
    the same process; the median over rounds."""
    cfgs = {m: spec.config(m) for m in modes}
    trainers = {}
    for mode, cfg in cfgs.items():
        log(f"bench train: {spec.describe()}, {mode.name}: building, {warmup} warm-up steps")
        trainers[mode] = tr = trainer(cfg)
        with training_settings(cfg, "cpu"):
            _timed_steps(tr, warmup)
    model = next(iter(trainers.values())).model
    flops = step_flops(model).train  # per sample
    shapes = model_matmuls(model, spec.batch_size)  # the same every round: only their timing is repeated
    rates: dict[Mode, list[float]] = {m: [] for m in modes}
    peak_runs: dict[str, list[float]] = {"fp32": [], "bf16": []}
    for r in range(rounds):
        for mode, tr in trainers.items():
            with training_settings(cfgs[mode], "cpu"):
                rates[mode].append(spec.batch_size * steps / _timed_steps(tr, steps))
        for dtype, value in peaks(shapes).items():
            peak_runs[dtype].append(value)
        log(f"bench train: round {r + 1}/{rounds}: " + ", ".join(f"{m.name} {v[-1]:.2f}" for m, v in rates.items()))
    peak = {d: statistics.median(v) for d, v in peak_runs.items()}
    out = []
    for mode in modes:
        rate = statistics.median(rates[mode])
        out.append(record("train", spec.describe(), mode=mode.name, dtype=mode.dtype, compile=mode.compile,
                          batch=spec.batch_size, samples_steps_per_s=rate, model_gflop_per_s=rate * flops / 1e9,
                          peak_gflop_per_s=peak[mode.dtype] / 1e9, mfu=rate * flops / peak[mode.dtype],
                          runs=[round(v, 3) for v in rates[mode]], gflop_per_sample_step=flops / 1e9,
                          parameters=model.num_parameters()))
    return out


def peak_speed(spec: Spec, rounds: int = 3, log: Callable[[str], None] = PROGRESS) -> list[dict]:
    """The matmul peak at ``spec``'s training shapes, fp32 and bf16, median of ``rounds``."""
    cfg = spec.config()
    model = make_model(cfg, make_task(cfg.task, cfg.task_options), 1)
    shapes = model_matmuls(model, spec.batch_size)
    runs: dict[str, list[float]] = {"fp32": [], "bf16": []}
    for r in range(rounds):
        for dtype, value in peaks(shapes).items():
            runs[dtype].append(value / 1e9)
        log(f"bench peak: round {r + 1}/{rounds}: fp32 {runs['fp32'][-1]:.1f}, bf16 {runs['bf16'][-1]:.1f} GFLOP/s")
    return [record("peak", spec.describe(), mode=dtype, dtype=dtype, compile=False, batch=spec.batch_size,
                   peak_gflop_per_s=statistics.median(v), runs=[round(x, 1) for x in v], matmul_shapes=len(shapes))
            for dtype, v in runs.items()]


def infer_speed(spec: Spec, modes: list[Mode], limit: int = 256, batch_size: int = 256, rounds: int = 3,
                checkpoint: Path | None = None, log: Callable[[str], None] = PROGRESS) -> list[dict]:
    """Puzzles per second of batched evaluation at N_sup (``halting`` full: every puzzle
    all N_sup steps; early: each until its learned halt, halted ones leave the batch) on
    ``limit`` test puzzles of ``spec``'s dataset, with the model of ``checkpoint`` (a run
    directory) or a freshly initialised one."""
    cfg = spec.config()
    if checkpoint is not None:  # its task options, with the small data of a benchmark
        run = load_run(checkpoint)
        model, task = run.model, run.task
        cfg = run.cfg.model_copy(update={"data": cfg.data})
    else:
        task = make_task(cfg.task, cfg.task_options)
        model = make_model(cfg, task, 1)
    split = read_task_split(find_split(dataset(cfg), "test"), task.seq_len, task.vocab_size, task.describe())
    n = min(limit, split.num_examples)
    flops = step_flops(model).eval
    peak = peaks(model_matmuls(model, min(batch_size, n)))  # the training step's products: the eval's and more
    cases = [(m, h) for m in modes for h in ("full", "early")]
    rates: dict[tuple, list[float]] = {c: [] for c in cases}
    steps: dict[tuple, float] = {}
    for mode, halting in cases:  # warm-up
        with forward_autocast(DTYPES[mode.dtype], "cpu"):
            evaluate(model, task, split, min(n, batch_size), batch_size, halting=halting)
    for r in range(rounds):
        for mode, halting in cases:
            with forward_autocast(DTYPES[mode.dtype], "cpu"):
                start = time.perf_counter()
                res = evaluate(model, task, split, n, batch_size, halting=halting)
                rates[(mode, halting)].append(n / (time.perf_counter() - start))
            steps[(mode, halting)] = (res.metrics["steps_halt"] if halting == "early"
                                      else float(model.cfg.halt_max_steps))
        log(f"bench infer: round {r + 1}/{rounds}: " +
            ", ".join(f"{m.name} {h} {v[-1]:.1f}/s" for (m, h), v in rates.items()))
    what = f"{spec.describe() if checkpoint is None else checkpoint}, eval batch {batch_size}, {n} puzzles"
    out = []
    for mode, halting in cases:
        rate = statistics.median(rates[(mode, halting)])
        per = steps[(mode, halting)]
        out.append(record("infer", what, mode=f"{mode.name}, halting {halting}", dtype=mode.dtype, compile=False,
                          batch=batch_size, puzzles_per_s=rate, mean_steps=per, samples_steps_per_s=rate * per,
                          model_gflop_per_s=rate * per * flops / 1e9, peak_gflop_per_s=peak[mode.dtype] / 1e9,
                          mfu=rate * per * flops / peak[mode.dtype], runs=[round(v, 2) for v in rates[(mode, halting)]]))
    return out


def _wall(argv: list[str]) -> float:
    """Seconds from starting ``argv`` to its exit (ConfigError when it fails)."""
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode:
        raise ConfigError(f"bench: `{' '.join(argv)}` failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    return elapsed


def solve_time(spec: Spec, puzzle: Path, modes: Sequence[Mode] = (Mode(),), rounds: int = 5,
               log: Callable[[str], None] = PROGRESS) -> list[dict]:
    """Wall time of ``recursia solve PUZZLE --dtype D`` for each mode's dtype (a fresh
    process, import time included) with a freshly initialised model of ``spec``, against
    a bare ``python -c "import torch"``, rounds alternated."""
    cfg = spec.config()
    task = make_task(cfg.task, cfg.task_options)
    with tempfile.TemporaryDirectory(prefix="recursia-bench-solve-") as tmp:
        save_model(Path(tmp), cfg, make_model(cfg, task, 1))
        commands = {m.dtype: [sys.executable, "-m", "recursia", "solve", str(puzzle), "--checkpoint", tmp,
                              "--device", "cpu", "--dtype", DTYPES[m.dtype]] for m in modes}
        commands["import torch"] = [sys.executable, "-c", "import torch"]
        for argv in commands.values():
            _wall(argv)  # warm the file cache
        runs: dict[str, list[float]] = {name: [] for name in commands}
        for r in range(rounds):
            for name, argv in commands.items():
                runs[name].append(_wall(argv))
            log(f"bench infer: solve round {r + 1}/{rounds}: " +
                ", ".join(f"{name} {v[-1]:.2f} s" for name, v in runs.items()))
    bare = statistics.median(runs.pop("import torch"))
    return [record("solve", f"recursia solve {puzzle.name} --dtype D, {spec.describe()} model", mode=dtype,
                   dtype=dtype, compile=False, batch=1, seconds=statistics.median(v), import_torch_seconds=bare,
                   over_import_torch_seconds=statistics.median(v) - bare, runs=[round(t, 2) for t in v])
            for dtype, v in runs.items()]


def startup_time(rounds: int = 5, log: Callable[[str], None] = PROGRESS) -> list[dict]:
    """Wall time of ``recursia --help``, ``recursia plugins`` and ``recursia train --help``
    (fresh processes; none imports torch), rounds alternated, medians."""
    commands = {"recursia --help": ["--help"], "recursia plugins": ["plugins"],
                "recursia train --help": ["train", "--help"]}
    runs: dict[str, list[float]] = {name: [] for name in commands}
    for name, args in commands.items():
        _wall([sys.executable, "-m", "recursia", *args])  # warm the file cache
    for r in range(rounds):
        for name, args in commands.items():
            runs[name].append(_wall([sys.executable, "-m", "recursia", *args]))
        log(f"bench infer: start-up round {r + 1}/{rounds}: " +
            ", ".join(f"{name} {v[-1]:.2f} s" for name, v in runs.items()))
    return [record("startup", "command-line start-up (no torch import)", mode=name, seconds=statistics.median(v),
                   runs=[round(x, 2) for x in v]) for name, v in runs.items()]


@contextlib.contextmanager
def busy_neighbour(kind: str = "spin") -> Iterator[int]:
    """A competing busy process for the duration: ``spin`` (one core of pure Python) or
    ``torch`` (a torch matmul loop on torch's default threads). It is started detached
    (not a child of this process), as a neighbour on a laptop is; yields its pid."""
    code = {"spin": "while True: pass",
            "torch": "import torch\na = torch.randn(512, 512)\nwhile True: a @ a"}.get(kind)
    if code is None:
        raise ConfigError(f"--neighbour {kind}: expected spin or torch")
    launcher = ("import subprocess, sys\n"
                f"p = subprocess.Popen([sys.executable, '-c', {code!r}], start_new_session=True, "
                "stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
                "print(p.pid)")
    pid = int(subprocess.run([sys.executable, "-c", launcher], capture_output=True, text=True, check=True).stdout)
    try:
        time.sleep(1.0)  # started (torch: imported)
        yield pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def contention(spec: Spec, mode: Mode, steps: int = 3, warmup: int = 2, rounds: int = 3, neighbour: str = "spin",
               log: Callable[[str], None] = PROGRESS) -> list[dict]:
    """Training throughput of ``spec`` alone and with one busy neighbour process, rounds
    alternated; the ratio."""
    cfg = spec.config(mode)
    log(f"bench contention: {spec.describe()}, {mode.name}: building, {warmup} warm-up steps")
    tr = trainer(cfg)
    flops = step_flops(tr.model).train
    runs: dict[str, list[float]] = {"alone": [], "busy": []}
    threads: dict[str, int] = {}
    with training_settings(cfg, "cpu"):
        governor = governor_for(cfg.train.threads, "cpu")
        _timed_steps(tr, warmup)
        for r in range(rounds):
            _settle(tr, governor)
            runs["alone"].append(spec.batch_size * steps / _timed_steps(tr, steps, governor))
            threads["alone"] = torch.get_num_threads()
            with busy_neighbour(neighbour):
                _settle(tr, governor)
                runs["busy"].append(spec.batch_size * steps / _timed_steps(tr, steps, governor))
                threads["busy"] = torch.get_num_threads()
            log(f"bench contention: round {r + 1}/{rounds}: alone {runs['alone'][-1]:.2f}, "
                f"with a {neighbour} neighbour {runs['busy'][-1]:.2f} samples x steps/s "
                f"({threads['alone']} and {threads['busy']} threads)")
    alone = statistics.median(runs["alone"])
    out = []
    for key, label in (("alone", "alone"), ("busy", f"with one busy {neighbour} process")):
        rate = statistics.median(runs[key])
        out.append(record("contention", f"{spec.describe()}, {label}", mode=mode.name, dtype=mode.dtype,
                          threads=threads[key],
                          compile=mode.compile, batch=spec.batch_size, samples_steps_per_s=rate,
                          model_gflop_per_s=rate * flops / 1e9, ratio=rate / alone,
                          runs=[round(v, 3) for v in runs[key]]))
    return out
