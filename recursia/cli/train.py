"""``recursia train``: resolve the config, get the data, train with a progress bar."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from recursia import config as C
from recursia.build import make_task
from recursia.cli.common import check_out_folder, dataset_folder, pick_device
from recursia.cli.launch import launch
from recursia.distributed import SINGLE, World, process_group, rank_device, world_from_env
from recursia.errors import ConfigError
from recursia.plugins import get_registry
from recursia.train.run_files import CONFIG_FILE, STATE_FILE


def resolve_config(task: str | None, mixer: str | None, preset: str | None, config_file: Path | None,
                   overrides: list[str], steps: int | None, device: str) -> C.RunConfig:
    """Defaults < task preset < config file < --mixer/--steps < --set overrides.

    ``task`` and ``preset`` not given (None) are read from the config file's ``task``
    and ``preset`` keys; the preset then defaults to :func:`recursia.config.default_preset`
    of ``device``. So a file that ``recursia config show`` printed resolves, alone, to
    the config it shows. ConfigError when no task is given, for an unknown preset, and
    for every bad key or value at once (the config file's first, named with its path).
    """
    file_data = C.load_file(config_file) if config_file is not None else {}
    task = task if task is not None else file_data.get("task")
    if task is None:
        need = (f"{config_file}: no 'task' key and no --task given" if config_file is not None
                else "--task is required, or a --config file with a 'task' key")
        raise ConfigError(f"{need} (e.g. --task sudoku); `recursia plugins` lists the tasks")
    flag = "--preset"
    if config_file is not None:
        in_file = C.validate({**file_data, "task": task}, str(config_file))
        task = in_file.task
        if preset is None and in_file.preset is not None:
            preset, flag = in_file.preset, f"{config_file}: preset"
    task_obj = make_task(task, {})
    presets = task_obj.presets()
    preset = preset if preset is not None else C.default_preset(device)
    if preset not in presets:
        raise ConfigError(f"{flag} {preset}: task '{task}' has presets {', '.join(sorted(presets)) or 'none'}")
    data: dict = C.deep_merge({"task": task, "preset": preset}, presets[preset])
    data.setdefault("model", {}).setdefault("mixer", task_obj.default_mixer)
    data = C.deep_merge(data, file_data) | {"task": task, "preset": preset}
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
    "deterministic", "nonfinite", "keep", "tensorboard"))


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
    task: str = typer.Option(None, help="task to train (see `recursia plugins`; default: the --config file's)"),
    mixer: str = typer.Option(None, help="token mixer (default: the --config file's, else the task's)"),
    preset: str = typer.Option(None, help="small | paper (default: the --config file's, else paper on CUDA and "
                                          "small on CPU)"),
    config: Path = typer.Option(None, "--config", help="YAML/JSON config file"),
    out: Path = typer.Option(None, help="run directory (default runs/<task>-<mixer>-<time>); "
                                        "an existing run there is resumed"),
    steps: int = typer.Option(None, help="optimizer steps (overrides train.steps)"),
    overrides: list[str] = typer.Option([], "--set", help="override a config key, e.g. --set train.lr=3e-4"),
    data: Path = typer.Option(None, help="dataset folder (default: build the task's default into the cache)"),
    device: str = typer.Option(None, help="cpu or cuda (default: cuda when available)"),
    nproc: int = typer.Option(1, min=1, help="processes on this machine (launches torchrun; one per GPU); "
                                             "train.batch_size is split among them"),
    progress: bool = typer.Option(True, help="show a progress bar"),
) -> None:
    """Train a model; resumes when --out holds an unfinished run."""
    from recursia.plots import plot_metrics
    from recursia.train.loop import local_batch_size  # torch: imported once a command runs, not for --help

    device = pick_device(device)
    if nproc > 1 and world_from_env().size == 1:
        cfg, out, _ = _plan(task, mixer, preset, config, out, steps, overrides, data, device, SINGLE)
        local_batch_size(cfg, World(0, nproc))  # a batch that does not split is refused before launching
        dataset_folder(cfg, data)
        args = ["train", "--out", str(out), "--device", device, "--progress" if progress else "--no-progress"]
        for flag, value in (("--task", task), ("--mixer", mixer), ("--preset", preset), ("--config", config),
                            ("--steps", steps), ("--data", data)):
            args += [flag, str(value)] if value is not None else []
        for item in overrides:
            args += ["--set", item]
        raise typer.Exit(launch(nproc, args, device))
    with process_group(device) as world:
        device = rank_device(device, world)
        say = print if world.main else _quiet
        cfg, out, resumed = _plan(task, mixer, preset, config, out, steps, overrides, data, device, world)
        if resumed:
            say(f"resuming the run in {out} (its config.json is used; --steps may extend it)")
        task_obj = make_task(cfg.task, cfg.task_options)
        note = " (the CPU default; --preset paper for the paper's settings)" if cfg.preset == "small" else ""
        say(f"preset: {cfg.preset}{note}")
        procs = f"; {world.size} processes" if world.size > 1 else ""
        say(f"task: {task_obj.describe()}; mixer: {cfg.model.mixer}; device: {device}{procs}; run: {out}")
        data_dir = world.staged(lambda: dataset_folder(cfg, data, log=say))  # one build per cache
        _train_with_progress(cfg, out, data_dir, device, progress and world.main, world)
    if not world.main:
        return
    plot_metrics(out / "metrics.jsonl", out / "plots")  # the run summary is printed by train()
    print(f"saved {out} (model.safetensors, metrics.jsonl, plots/)")


def busy_note(record: dict) -> str:
    """``"busy machine (1.0 cores used by others): 1 thread"`` in the progress line while
    other processes use more than half a core (train.threads auto adapts then), else ``""``."""
    others = record.get("busy_cores_others", 0.0)
    if others < 0.5:
        return ""
    threads = record.get("threads")
    return f"[yellow]busy machine ({others:.1f} cores used by others): {threads} thread{'s' * (threads != 1)}"


def _quiet(*args, **kwargs) -> None:
    """What the processes other than rank 0 print: nothing."""


def _plan(task, mixer, preset, config, out, steps, overrides, data, device: str,
          world: World) -> tuple[C.RunConfig, Path, bool]:
    """The run's config, its directory, and whether it resumes. A new run without
    ``--out`` gets ``runs/<task>-<mixer>-<time>``, the time being rank 0's."""
    if out is not None:
        check_out_folder(out)
    if out is not None and (out / STATE_FILE).is_file():
        return resume_config(out, task, mixer, preset, config, overrides, steps), out, True
    cfg = resolve_config(task, mixer, preset, config, overrides, steps, device)
    if data is not None or cfg.data.path:  # recorded in full, so that eval and solve find the data from anywhere
        cfg.data.path = str(Path(data if data is not None else cfg.data.path).resolve())
    if out is None:
        import torch

        stamp = torch.tensor([int(time.time())], device=device if world.size > 1 else "cpu")
        now = int(world.all_gather(stamp)[0])  # rank 0's time: one folder for every process
        out = Path("runs") / f"{cfg.task}-{cfg.model.mixer}-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}"
    return cfg, out, False


def _train_with_progress(cfg: C.RunConfig, out: Path, data_dir: Path, device: str, show: bool, world: World):
    from recursia.train.loop import train

    log = print if world.main else _quiet
    if not show:
        return train(cfg, out, data_dir, device, log=log, world=world)
    cols = [TextColumn("[bold]train"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
            TextColumn("loss {task.fields[loss]}"), TextColumn("acc {task.fields[acc]}"),
            TextColumn("{task.fields[sps]} steps/s"), TextColumn("{task.fields[busy]}"), TimeElapsedColumn(),
            TimeRemainingColumn()]
    with Progress(*cols) as bar:
        tid = bar.add_task("train", total=cfg.train.steps, loss="-", acc="-", sps="-", busy="")

        def on_step(m: dict) -> None:
            fields = {}
            if "loss" in m:  # a logged step: the window's means
                fields = {"loss": f"{m['loss']:.3f}", "sps": f"{m['steps_per_s']:.2f}", "busy": busy_note(m)}
                acc = m["halted_exact_acc"]
                if acc == acc:  # not NaN: some slots finished in the window
                    fields["acc"] = f"{acc:.1%}"
            bar.update(tid, completed=m["step"], **fields)
            if "test_exact_acc" in m:
                bar.console.print(f"step {m['step']}: test exact {m['test_exact_acc']:.1%}, "
                                  f"cells {m['test_cell_acc']:.1%}")

        return train(cfg, out, data_dir, device, on_step=on_step, log=bar.console.print, world=world)
