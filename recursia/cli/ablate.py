"""``recursia ablate TASK``: train every ablation row of :mod:`recursia.ablations` and
write one table (``ablations.md`` and ``ablations.json`` in the output folder).

Each row is an ordinary ``recursia train`` run in ``OUT/<row>/`` (its config in
``OUT/configs/<row>.yaml``, its output in ``OUT/logs/<row>.log``), started as a child
process in a session of its own; ``--jobs J`` runs J at a time with the CPU threads
split between them. A row whose run has finished is not run again, and an unfinished
one resumes from its last checkpoint, so a killed ``ablate`` continues where it was
when the same command is given again. SIGTERM and SIGINT (Ctrl-C) are passed to the
running rows, which save and stop; the wall time of every finished segment is kept in
``OUT/ablate.json`` (a segment cut by SIGKILL is not counted).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import typer

from recursia import config as C
from recursia.ablations import Variant, rows, variant_config
from recursia.build import make_model, make_task
from recursia.cli.common import check_out_folder, dataset_folder, pick_device
from recursia.errors import ConfigError
from recursia.jsonfile import read_json_object
from recursia.train.run_files import STATE_FILE, atomic_write_text
from recursia.train.metrics_log import read_metrics, series
from recursia.train.summary import run_summary

STATE = "ablate.json"


@dataclass
class Row:
    """One planned ablation row: its variant, resolved config (None: skipped, ``why``) and folder."""

    variant: Variant
    cfg: C.RunConfig | None
    run_dir: Path
    why: str = ""

    def finished(self) -> bool:
        """Whether its run trained all its steps and wrote its summary."""
        return self.cfg is not None and any(
            r.get("summary") and r.get("step") == self.cfg.train.steps for r in read_metrics(self.run_dir / "metrics.jsonl"))


def plan(task: str, scale: str, steps: int | None, out: Path, device: str, names: list[str] | None,
         overrides: list[str]) -> list[Row]:
    """Every row's config; rows the task cannot run (no ``hrm-<scale>`` preset) are skipped."""
    planned = []
    for variant in rows(names):
        if variant.hrm and variant.preset(scale) not in make_task(task, {}).presets():
            planned.append(Row(variant, None, out / variant.name,
                               f"skipped (task {task} has no preset {variant.preset(scale)})"))
            continue
        cfg = variant_config(task, variant, scale, device, steps, overrides)
        planned.append(Row(variant, cfg, out / variant.name))
    return planned


def _read_state(out: Path) -> dict:
    """``OUT/ablate.json`` (the setting and the wall time per row); ConfigError when it is not one."""
    path = out / STATE
    if not path.is_file():
        return {"wall_time_s": {}}
    state = read_json_object(path, ConfigError, "ablate state")
    if not isinstance(state.get("wall_time_s"), dict):
        raise ConfigError(f"{path}: not an ablate state file (no wall_time_s); use another --out")
    return state


def _child_args(row: Row, out: Path, threads: int, device: str) -> list[str]:
    """The ``recursia train`` command of a row: a new run from its config file, or a resume."""
    args = [sys.executable, "-m", "recursia", "train", "--out", str(row.run_dir), "--no-progress",
            "--device", device, "--set", f"train.threads={threads}"]
    if (row.run_dir / STATE_FILE).is_file():
        return args + ["--steps", str(row.cfg.train.steps)]
    config = out / "configs" / f"{row.variant.name}.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(config, C.dump_yaml(row.cfg))
    return args + ["--config", str(config)]


def run_rows(todo: list[Row], out: Path, jobs: int, device: str, say=print) -> int:
    """Train ``todo`` with at most ``jobs`` children at once; returns 0, or the signal exit
    code (130/143) when stopped, or 1 when a row failed."""
    state = _read_state(out)
    threads = max(1, (os.cpu_count() or 1) // jobs)
    running: dict[str, tuple[subprocess.Popen, float, Row]] = {}
    stop: list[int] = []
    failed = []

    def forward(signum, frame):
        stop.append(signum)
        for proc, _, _ in running.values():
            proc.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    (out / "logs").mkdir(parents=True, exist_ok=True)
    try:
        queue = list(todo)
        while queue or running:
            while queue and len(running) < jobs and not stop:
                row = queue.pop(0)
                with open(out / "logs" / f"{row.variant.name}.log", "a") as log:
                    proc = subprocess.Popen(_child_args(row, out, threads, device), stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
                running[row.variant.name] = (proc, time.perf_counter(), row)
                if stop:  # a signal between the start and the line above: pass it on too
                    proc.send_signal(stop[0])
                say(f"{row.variant.name}: started ({row.variant.label}; log {out / 'logs' / (row.variant.name + '.log')})")
            if stop:
                queue.clear()
            for name, (proc, start, row) in list(running.items()):
                if proc.poll() is None:
                    continue
                del running[name]
                spent = time.perf_counter() - start
                state["wall_time_s"][name] = state["wall_time_s"].get(name, 0.0) + spent
                atomic_write_text(out / STATE, json.dumps(state, indent=1))
                if proc.returncode == 0:
                    say(f"{name}: done in {spent:.0f} s")
                elif not stop:
                    last = _last_line(out / "logs" / f"{name}.log")
                    failed.append(name)
                    say(f"{name}: failed (exit {proc.returncode}: {last})")
            time.sleep(0.2)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if stop:
        return 128 + stop[0]
    return 1 if failed else 0


def _last_line(path: Path) -> str:
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()] if path.is_file() else []
    return lines[-1].strip() if lines else "no output"


def results(planned: list[Row], task: str, out: Path) -> list[dict]:
    """One dict per row: paper and measured exact accuracy (at the end, and at the first
    periodic evaluation from a third of the steps on: how fast the row learns), size,
    depth, passes, time."""
    task_cls = make_task(task, {})
    state = _read_state(out)
    table = []
    for row in planned:
        entry = {"name": row.variant.name, "row": row.variant.label, "table": row.variant.table,
                 "paper_exact_acc": task_cls.paper_ablations.get(row.variant.name)}
        if row.cfg is None:
            table.append(entry | {"status": row.why})
            continue
        m = row.cfg.model
        summary = run_summary(row.run_dir)
        done = row.finished()
        evals = zip(*series(read_metrics(row.run_dir / "metrics.jsonl"), "test_exact_acc"))
        early = next(((s, a) for s, a in evals if s >= row.cfg.train.steps / 3), (None, None))
        entry |= {
            "status": "done" if done else "not finished",
            "early_step": early[0], "early_exact_acc": early[1],
            "exact_acc": summary.get("final_test_exact_acc") if done else None,
            "exact_acc_halt": summary.get("final_test_exact_acc_halt") if done else None,
            "test_examples": summary.get("final_test_examples") if done else None,
            "parameters": summary.get("parameters") or _parameters(row.cfg),
            "T": m.T, "n": m.n, "layers": m.n_layers if m.net == "shared" else f"{m.n_layers}+{m.y_layers}",
            "mixer": m.mixer, "effective_depth": m.effective_depth(), "forward_passes": m.forward_passes(),
            "steps": row.cfg.train.steps, "wall_time_s": state["wall_time_s"].get(row.variant.name),
        }
        table.append(entry)
    return table


def _parameters(cfg: C.RunConfig) -> int:
    """Trainable parameters of a config's model (built, not trained)."""
    return make_model(cfg, make_task(cfg.task, cfg.task_options), 1).num_parameters()


def command_line(setting: dict) -> str:
    """The ``recursia ablate`` command that gives a run's ``setting`` (task, preset, steps, set)."""
    steps = f" --steps {setting['steps']}" if setting.get("steps") is not None else ""
    sets = "".join(f" --set {item}" for item in setting.get("set", []))
    return f"recursia ablate {setting['task']} --preset {setting['preset']}{steps}{sets}"


def markdown(table: list[dict], setting: dict, source: str) -> str:
    """The results as a markdown table (percentages; ``-`` where there is no value)."""
    def pct(v):
        return "-" if v is None else f"{100 * v:.1f}"

    lines = [f"`{command_line(setting)}`", "",
             ("| row | paper exact % | exact % (N_sup) | exact % (halting) | exact % early (step) | parameters "
              "| mixer | T, n, layers | effective depth | forward passes | steps | wall time |"),
             "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: |"]
    for e in table:
        paper = "-" if e["paper_exact_acc"] is None else f"{e['paper_exact_acc']:.1f}"
        if "parameters" not in e:
            lines.append(f"| {e['row']} | {paper} | {e['status']} | | | | | | | | | |")
            continue
        wall = "-" if e["wall_time_s"] is None else f"{e['wall_time_s'] / 60:.1f} min"
        early = "-" if e["early_step"] is None else f"{pct(e['early_exact_acc'])} ({e['early_step']})"
        lines.append(f"| {e['row']} | {paper} | {pct(e['exact_acc'])} | {pct(e['exact_acc_halt'])} | {early} | "
                     f"{e['parameters']:,} | {e['mixer']} | {e['T']}, {e['n']}, {e['layers']} | "
                     f"{e['effective_depth']} | {e['forward_passes']} | {e['steps']} | {wall} |")
    if source:
        lines += ["", f"Paper column: {source}."]
    return "\n".join(lines) + "\n"


def ablate_command(
    task: str = typer.Argument(..., help="task to ablate (see `recursia plugins`)"),
    preset: str = typer.Option("small", help="scale: the task preset every row starts from (small | paper); "
                                             "the HRM row uses hrm-<preset> (hrm for paper)"),
    steps: int = typer.Option(None, help="optimizer steps of every row (default: the preset's train.steps)"),
    jobs: int = typer.Option(1, min=1, help="rows trained at once (the CPU threads are split between them)"),
    out: Path = typer.Option(None, help="output folder (default runs/ablate-<task>-<preset>); rerun to resume"),
    only: str = typer.Option(None, help="comma-separated rows to run (default: all): "
                                        "trm,act,separate,no-ema,4-layers,attention,less-recursion,1-step,hrm,"
                                        "single-z,multi-z"),
    overrides: list[str] = typer.Option([], "--set", help="override a config key of every row before its change, "
                                                          "e.g. --set model.hidden_size=32"),
    device: str = typer.Option(None, help="cpu or cuda (default: cuda when available)"),
) -> None:
    """Train the TRM paper's ablations (Tables 1 and 2) and write one results table."""
    device = pick_device(device)
    out = out or Path("runs") / f"ablate-{task}-{preset}"
    check_out_folder(out)
    names = [n.strip() for n in only.split(",") if n.strip()] if only else None
    planned = plan(task, preset, steps, out, device, names, overrides)
    out.mkdir(parents=True, exist_ok=True)
    saved = _read_state(out)
    setting = {"task": task, "preset": preset, "steps": steps, "set": overrides}
    if saved.get("setting", setting) != setting:
        raise ConfigError(f"--out {out} holds the ablations of `{command_line(saved['setting'])}`; rerun that "
                          f"command to continue them, or use another --out")
    atomic_write_text(out / STATE, json.dumps(saved | {"setting": setting}, indent=1))
    for row in planned:
        if row.cfg is not None and not row.finished():
            dataset_folder(row.cfg, None)  # built once per dataset, before any row's clock starts
    todo = [r for r in planned if r.cfg is not None and not r.finished()]
    done = [r.variant.name for r in planned if r.cfg is not None and r.finished()]
    if done:
        print(f"already finished: {', '.join(done)}")
    code = run_rows(todo, out, jobs, device)
    table = results(planned, task, out)
    text = markdown(table, setting, make_task(task, {}).paper_ablations_source)
    atomic_write_text(out / "ablations.json", json.dumps(table, indent=1))
    atomic_write_text(out / "ablations.md", text)
    print(text, end="")
    print(f"wrote {out / 'ablations.md'} and {out / 'ablations.json'}")
    if code:
        if code > 1:
            print("stopped; run the same command again to continue", file=sys.stderr)
        raise typer.Exit(code)

