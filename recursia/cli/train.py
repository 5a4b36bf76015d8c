"""``recursia train``: resolve the config, get the data, train with a progress bar."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from recursia import config as C
from recursia.build import make_task
from recursia.cli.common import check_out_folder, pick_device
from recursia.data.cache import default_dataset
from recursia.errors import ConfigError
from recursia.plots import plot_metrics
from recursia.plugins import get_registry
from recursia.train.checkpoint import CONFIG_FILE, STATE_FILE
from recursia.train.loop import train


def resolve_config(task: str, mixer: str | None, preset: str | None, config_file: Path | None,
                   overrides: list[str], steps: int | None, device: str) -> C.RunConfig:
    """Defaults < task preset < config file < --mixer/--steps < --set overrides."""
    task_obj = make_task(task, {})
    presets = task_obj.presets()
    if preset is None:
        preset = "paper" if device.startswith("cuda") else "small"
    if preset not in presets:
        raise ConfigError(f"--preset {preset}: task '{task}' has presets {', '.join(sorted(presets)) or 'none'}")
    data: dict = C.deep_merge({"task": task, "preset": preset}, presets[preset])
    data.setdefault("model", {}).setdefault("mixer", task_obj.default_mixer)
    if config_file is not None:
        data = C.deep_merge(data, C.load_file(config_file))
    if mixer is not None:
        data = C.deep_merge(data, {"model": {"mixer": mixer}})
    if steps is not None:
        data = C.deep_merge(data, {"train": {"steps": steps}})
    for item in overrides:
        data = C.deep_merge(data, C.parse_override(item))
    cfg = C.validate(data, "config")
    get_registry().mixer(cfg.model.mixer)
    make_task(cfg.task, cfg.task_options)
    return cfg


# Keys a resumed run may change: they steer the loop, not the saved state's shapes or meaning.
RESUMABLE_KEYS = frozenset(f"train.{key}" for key in (
    "steps", "eval_every", "eval_limit", "checkpoint_every", "log_every", "threads", "compile", "flush_denormal",
    "deterministic", "nonfinite", "keep"))


def resume_config(out: Path, task: str | None, mixer: str | None, preset: str | None, config_file: Path | None,
                  overrides: list[str], steps: int | None) -> C.RunConfig:
    """The config of the run in ``out`` with ``--steps`` and resumable ``--set`` keys applied.

    Everything is validated before the caller writes anything; ConfigError for an
    option that would change what the saved state means (another task, mixer, preset,
    config file, or a ``--set`` giving a key outside :data:`RESUMABLE_KEYS` another value).
    """
    cfg = C.load_json(out / CONFIG_FILE)
    for flag, given, saved in (("--task", task, cfg.task), ("--mixer", mixer, cfg.model.mixer),
                               ("--preset", preset, cfg.preset)):
        if given is not None and given != saved:
            raise ConfigError(f"--out {out} holds a run with {flag.lstrip('-')} '{saved}', not '{given}'; "
                              f"a resumed run keeps its config (use another --out for a new run)")
    if config_file is not None:
        raise ConfigError(f"--config: --out {out} holds a run, which resumes with its own config.json "
                          f"(use another --out for a new run)")
    data = cfg.model_dump()
    for item in overrides:
        change = C.parse_override(item)
        key = item.split("=", 1)[0].strip()
        merged = C.deep_merge(data, change)
        if key not in RESUMABLE_KEYS and merged != data:  # the same value again (a repeated command) is fine
            raise ConfigError(f"--set {key}: cannot change when resuming the run in {out} (only "
                              f"{', '.join(sorted(RESUMABLE_KEYS))}); use another --out for a new run")
        data = merged
    if steps is not None:
        data = C.deep_merge(data, {"train": {"steps": steps}})
    return C.validate(data, f"resuming {out / CONFIG_FILE}")


def train_command(
    task: str = typer.Option(None, help="task to train (see `recursia plugins`)"),
    mixer: str = typer.Option(None, help="token mixer (default: the task's)"),
    preset: str = typer.Option(None, help="small | paper (default: paper on CUDA, small on CPU)"),
    config: Path = typer.Option(None, "--config", help="YAML/JSON config file"),
    out: Path = typer.Option(None, help="run directory (default runs/<task>-<mixer>-<time>); "
                                        "an existing run there is resumed"),
    steps: int = typer.Option(None, help="optimizer steps (overrides train.steps)"),
    overrides: list[str] = typer.Option([], "--set", help="override a config key, e.g. --set train.lr=3e-4"),
    data: Path = typer.Option(None, help="dataset folder (default: build the task's default into the cache)"),
    device: str = typer.Option(None, help="cpu or cuda (default: cuda when available)"),
    progress: bool = typer.Option(True, help="show a progress bar"),
) -> None:
    """Train a model; resumes when --out holds an unfinished run."""
    device = pick_device(device)
    if out is not None:
        check_out_folder(out)
    if out is not None and (out / STATE_FILE).is_file():
        cfg = resume_config(out, task, mixer, preset, config, overrides, steps)
        print(f"resuming the run in {out} (its config.json is used; --steps may extend it)")
    else:
        if task is None:
            raise ConfigError("--task is required (e.g. --task sudoku); `recursia plugins` lists the tasks")
        cfg = resolve_config(task, mixer, preset, config, overrides, steps, device)
        if data is not None:  # recorded, so that eval and solve use the data the run trained on
            cfg.data.path = str(data.resolve())
        stamp = time.strftime("%Y%m%d-%H%M%S")
        out = out or Path("runs") / f"{cfg.task}-{cfg.model.mixer}-{stamp}"
    task_obj = make_task(cfg.task, cfg.task_options)
    note = " (the CPU default; --preset paper for the paper's settings)" if cfg.preset == "small" else ""
    print(f"preset: {cfg.preset}{note}")
    print(f"task: {task_obj.describe()}; mixer: {cfg.model.mixer}; device: {device}; run: {out}")
    data_dir = data or (Path(cfg.data.path) if cfg.data.path else default_dataset(task_obj, cfg.data))
    result = _train_with_progress(cfg, out, data_dir, device, progress)
    plot_metrics(out / "metrics.jsonl", out / "plots")
    ev = result.eval
    if ev:
        print(f"done: step {result.step}; test ({ev['test_examples']} puzzles): "
              f"exact {ev['test_exact_acc']:.1%} at N_sup, {ev['test_exact_acc_halt']:.1%} with halting "
              f"(mean {ev['test_steps_halt']:.1f} steps); cells {ev['test_cell_acc']:.1%}")
    print(f"saved {out} (model.safetensors, metrics.jsonl, plots/)")


def _train_with_progress(cfg: C.RunConfig, out: Path, data_dir: Path, device: str, show: bool):
    if not show:
        return train(cfg, out, data_dir, device)
    cols = [TextColumn("[bold]train"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
            TextColumn("loss {task.fields[loss]}"), TextColumn("acc {task.fields[acc]}"),
            TextColumn("{task.fields[sps]} steps/s"), TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*cols) as bar:
        tid = bar.add_task("train", total=cfg.train.steps, loss="-", acc="-", sps="-")

        def on_step(m: dict) -> None:
            acc = m.get("halted_exact_acc")
            fields = {"loss": f"{m['loss']:.3f}", "sps": f"{m['steps_per_s']:.2f}"}
            if acc == acc:  # not NaN: some slots finished this step
                fields["acc"] = f"{acc:.1%}"
            bar.update(tid, completed=m["step"], **fields)
            if "test_exact_acc" in m:
                bar.console.print(f"step {m['step']}: test exact {m['test_exact_acc']:.1%}, "
                                  f"cells {m['test_cell_acc']:.1%}")

        return train(cfg, out, data_dir, device, on_step=on_step, log=bar.console.print)
