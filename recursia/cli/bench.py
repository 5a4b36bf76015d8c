"""``recursia bench train|infer|peak|peers|contention|all``: speed against the machine's
matmul peak, the ``tiny-recursive-model`` package and a busy neighbour (docs/benchmarks.md).

Progress goes to stderr; the results to stdout as tables, or with ``--json`` as one JSON
object per result (the keys of :data:`recursia.bench.report.FIELDS` always present).
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import typer

import recursia
from recursia.errors import ConfigError

app = typer.Typer(no_args_is_help=True, help="Measure training and inference speed (MFU, peers, contention).")

EXAMPLES = Path(recursia.__file__).resolve().parents[1] / "examples" / "puzzles"
ALL_MODES = "fp32,bf16,fp32+compile,bf16+compile"


def _spec(task: str, preset: str, mixer: str | None, batch_size: int, overrides: list[str]):
    from recursia.bench.workload import Spec

    return Spec(task, preset, mixer, batch_size, tuple(overrides))


def _modes(text: str):
    from recursia.bench.workload import Mode

    modes = list(dict.fromkeys(Mode.parse(part) for part in text.split(",") if part.strip()))
    if not modes:
        raise ConfigError("--modes: name at least one of fp32, bf16, fp32+compile, bf16+compile")
    return modes


def _show(results: list[dict], as_json: bool) -> None:
    from recursia.bench.report import print_json, print_table

    (print_json if as_json else print_table)(results)


TASK = typer.Option("sudoku", help="task whose preset is measured")
PRESET = typer.Option("paper", help="preset of the task (default: paper, the TRM paper's model)")
MIXER = typer.Option("mlp", help="token mixer")
BATCH = typer.Option(32, min=1, help="training batch (samples per step)")
SETS = typer.Option([], "--set", help="override a config key, e.g. --set model.hidden_size=256")
ROUNDS = typer.Option(3, min=1, help="rounds, alternated between the things compared; medians are reported")
STEPS = typer.Option(3, min=1, help="timed training steps per round")
WARMUP = typer.Option(2, min=0, help="untimed steps first (compilation happens there)")
JSON = typer.Option(False, "--json", help="one JSON object per result instead of tables")


@app.command("train")
def train_command(task: str = TASK, preset: str = PRESET, mixer: str = MIXER, batch_size: int = BATCH,
                  overrides: list[str] = SETS, modes: str = typer.Option(ALL_MODES, help="comma list of fp32, bf16, "
                                                                         "fp32+compile, bf16+compile"),
                  rounds: int = ROUNDS, steps: int = STEPS, warmup: int = WARMUP, as_json: bool = JSON) -> None:
    """Training supervision steps x samples per second (forward, backward, both optimizers,
    EMA) in each mode, with MFU against the matmul peak measured in the same process."""
    from recursia.bench.measure import train_speed

    _show(train_speed(_spec(task, preset, mixer, batch_size, overrides), _modes(modes), steps, warmup, rounds),
          as_json)


@app.command("peak")
def peak_command(task: str = TASK, preset: str = PRESET, mixer: str = MIXER, batch_size: int = BATCH,
                 overrides: list[str] = SETS, rounds: int = ROUNDS, as_json: bool = JSON) -> None:
    """The machine's matmul FLOP/s in fp32 and bf16 at the model's own matrix shapes (those
    of one training step, each weighted by how often the step runs it)."""
    from recursia.bench.measure import peak_speed

    _show(peak_speed(_spec(task, preset, mixer, batch_size, overrides), rounds), as_json)


@app.command("infer")
def infer_command(task: str = TASK, preset: str = PRESET, mixer: str = MIXER, overrides: list[str] = SETS,
                  modes: str = typer.Option("fp32,bf16", help="comma list of fp32, bf16"),
                  limit: int = typer.Option(256, min=1, help="test puzzles per evaluation"),
                  eval_batch: int = typer.Option(256, min=1, help="test puzzles per batch"),
                  checkpoint: Path = typer.Option(None, help="run directory of a trained model (default: a "
                                                             "freshly initialised model, which never halts early)"),
                  puzzle: Path = typer.Option(None, help="puzzle file for the `recursia solve` timing (default: the "
                                                         "first fitting one of the repository's examples/puzzles)"),
                  rounds: int = ROUNDS, as_json: bool = JSON) -> None:
    """Puzzles per second of batched evaluation at N_sup, with every puzzle running all
    steps and with halted puzzles leaving the batch; the wall time of `recursia --help`,
    `plugins` and `train --help`; and of `recursia solve` on one puzzle from process start
    against a bare `import torch`."""
    _show(_infer(_spec(task, preset, mixer, 32, overrides), modes, limit, eval_batch, checkpoint, puzzle, rounds),
          as_json)


def _infer(spec, modes: str, limit: int, eval_batch: int, checkpoint: Path | None, puzzle: Path | None,
           rounds: int) -> list[dict]:
    from recursia.bench.measure import PROGRESS, infer_speed, solve_time, startup_time

    if any(m.compile for m in _modes(modes)):
        raise ConfigError("--modes: evaluation runs eagerly; use fp32 and/or bf16")
    results = infer_speed(spec, _modes(modes), limit, eval_batch, rounds, checkpoint) + startup_time(max(rounds, 3))
    puzzle = puzzle or example_puzzle(spec)
    if puzzle is None:
        PROGRESS("bench infer: no --puzzle: the `recursia solve` timing is skipped")
        return results
    if not puzzle.is_file():
        raise ConfigError(f"--puzzle {puzzle}: file not found")
    return results + solve_time(spec, puzzle, _modes(modes), max(rounds, 3))


def example_puzzle(spec) -> Path | None:
    """The first puzzle of the repository's examples/puzzles/ that fits ``spec``'s model."""
    from recursia.build import make_task
    from recursia.errors import RecursiaError
    from recursia.infer import read_puzzle_file

    cfg = spec.config()
    task = make_task(cfg.task, cfg.task_options)
    for path in sorted(EXAMPLES.glob("*.json")) if EXAMPLES.is_dir() else []:
        try:
            name, puzzle = read_puzzle_file(path)
            if name == cfg.task and make_task(name, task.options_for_puzzle(puzzle)).compatible(cfg.task_options) \
                    is None:
                return path
        except RecursiaError:
            continue
    return None


@app.command("peers")
def peers_command(task: str = TASK, preset: str = PRESET, batch_size: int = BATCH, overrides: list[str] = SETS,
                  best: str = typer.Option("bf16+compile", help="recursia's mode compared besides fp32 eager"),
                  rounds: int = ROUNDS, steps: int = STEPS, warmup: int = WARMUP, as_json: bool = JSON) -> None:
    """The same training shape in the `tiny-recursive-model` package (fp32, its defaults;
    `pip install 'recursia[bench]'`) against recursia, rounds alternated; the ratios."""
    from recursia.bench.peers import peers

    _show(peers(_spec(task, preset, "mlp", batch_size, overrides), _modes(best)[0], steps, warmup, rounds), as_json)


@app.command("contention")
def contention_command(task: str = TASK, preset: str = PRESET, mixer: str = MIXER, batch_size: int = BATCH,
                       overrides: list[str] = SETS, mode: str = typer.Option("fp32", help="mode of the training"),
                       threads: str = typer.Option("auto", help="train.threads of the training: auto (adapt to "
                                                                "the neighbour), default (torch's) or a count"),
                       neighbour: str = typer.Option("spin", help="the busy process: spin (one core of Python) or "
                                                                  "torch (a matmul loop on torch's threads)"),
                       rounds: int = ROUNDS, steps: int = STEPS, warmup: int = WARMUP, as_json: bool = JSON) -> None:
    """Training throughput alone and with one busy neighbour process, rounds alternated;
    the ratio."""
    from recursia.bench.measure import contention

    _show(contention(_spec(task, preset, mixer, batch_size, [*overrides, _threads(threads)]), _modes(mode)[0], steps,
                     warmup, rounds, neighbour), as_json)


def _threads(value: str) -> str:
    """The ``--set`` of a ``--threads`` value."""
    if value == "default":
        return "train.threads=null"
    if value != "auto" and not (value.isdigit() and int(value) > 0):
        raise ConfigError(f"--threads {value}: expected auto, default or a count >= 1")
    return f"train.threads={value}"


@app.command("all")
def all_command(task: str = TASK, preset: str = PRESET, batch_size: int = BATCH, overrides: list[str] = SETS,
                rounds: int = ROUNDS, steps: int = STEPS, warmup: int = WARMUP,
                peers_too: bool = typer.Option(True, "--peers/--no-peers", help="include the peer package"),
                markdown: Path = typer.Option(None, help="write the results into this markdown file, between its "
                                                         "generated-section markers (docs/benchmarks.md)"),
                as_json: bool = JSON) -> None:
    """peak, train (all modes), infer, peers and contention on the mlp model, one after
    the other; with --markdown the section of docs/benchmarks.md."""
    from recursia.bench.measure import contention, peak_speed, train_speed
    from recursia.bench.report import markdown as to_markdown
    from recursia.bench.report import write_markdown
    from recursia.bench.workload import Mode

    if markdown is not None and markdown.is_dir():
        raise ConfigError(f"--markdown {markdown}: is a folder")
    start = time.perf_counter()
    spec = _spec(task, preset, "mlp", batch_size, overrides)
    results = peak_speed(spec, rounds)
    trained = train_speed(spec, _modes(ALL_MODES), steps, warmup, rounds)
    results += trained
    best = max(trained, key=lambda r: r["samples_steps_per_s"])
    results += _infer(spec, "fp32,bf16", 32, 32, None, None, min(rounds, 2))  # a paper-size eval is slow on a CPU
    if peers_too:
        from recursia.bench.peers import peers

        results += peers(spec, Mode.parse(best["mode"]), steps, warmup, rounds)
    for threads in ("default", "auto"):
        busy = _spec(task, preset, "mlp", batch_size, [*overrides, _threads(threads)])
        results += contention(busy, Mode("bf16"), steps, warmup, rounds)
    _show(results, as_json)
    if markdown is not None:
        command = "recursia bench all " + " ".join(shlex.quote(a) for a in sys.argv[3:])
        write_markdown(markdown, to_markdown(results, command.strip(), time.perf_counter() - start))
        print(f"wrote {markdown}", file=sys.stderr)
