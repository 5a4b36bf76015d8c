"""The summary of a run: what its metrics.jsonl, config.json and model.safetensors say.

:func:`run_summary` is written as the ``"summary": true`` record at the end of
training; its keys never collide with a training or evaluation record's (the final
evaluation's ``test_*`` keys appear as ``final_test_*``), so readers looking for
``test_exact_acc`` do not mistake it for an evaluation.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from recursia.train.run_files import CONFIG_FILE, METRICS_FILE, MODEL_FILE, read_metadata
from recursia.train.metrics_log import read_metrics, series


def _parameters(model_file: Path) -> int | None:
    """The trainable parameter count recorded in a saved model's metadata (None without
    the file, or for a model saved before the count was recorded)."""
    if not model_file.is_file():
        return None
    count = read_metadata(model_file).get("parameters")
    return int(count) if count is not None and count.isdigit() else None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def run_summary(run_dir: Path, wall_time_s: float | None = None) -> dict:
    """The summary of the run in ``run_dir``.

    Keys: ``task``, ``mixer``, ``preset`` (from config.json, None without it),
    ``parameters`` (None without model.safetensors), ``steps`` (the last step logged),
    ``wall_time_s`` (as given), ``steps_per_s`` and ``samples_per_s`` (the mean of the
    logged rates; None when never logged), ``best_test_exact_acc`` and
    ``best_step`` (the best periodic or final evaluation, the earliest on a tie; None
    without one), and ``final_test_*`` (the ``test_*`` metrics of the final
    evaluation, absent without one).
    """
    run_dir = Path(run_dir)
    rows = [r for r in read_metrics(run_dir / METRICS_FILE) if not r.get("summary")]
    cfg_path, model_path = run_dir / CONFIG_FILE, run_dir / MODEL_FILE
    cfg = json.loads(cfg_path.read_text()) if cfg_path.is_file() else {}
    model = cfg.get("model", {})
    steps, accs = series(rows, "test_exact_acc")
    best = max(range(len(accs)), key=lambda i: (accs[i], -steps[i]), default=None)
    summary = {
        "task": cfg.get("task"), "mixer": model.get("mixer"), "preset": cfg.get("preset"),
        "parameters": _parameters(model_path),
        "steps": max((r["step"] for r in rows if isinstance(r.get("step"), int)), default=0),
        "wall_time_s": wall_time_s,
        "steps_per_s": _mean(series(rows, "steps_per_s")[1]),
        "samples_per_s": _mean(series(rows, "samples_per_s")[1]),
        "best_test_exact_acc": None if best is None else accs[best],
        "best_step": None if best is None else steps[best],
    }
    final = next((r for r in reversed(rows) if r.get("final")), {})
    return summary | {f"final_{k}": v for k, v in final.items() if k.startswith("test_")}


def _duration(seconds: float) -> str:
    """``1h 02m 03s`` / ``2m 03s`` / ``4.5s``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    m, s = divmod(round(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}h {m:02d}m {s:02d}s" if h else f"{m}m {s:02d}s"


def format_summary(summary: dict) -> str:
    """A few human lines of a :func:`run_summary` dict (lines without data are left out)."""
    what = " ".join(str(summary[k]) for k in ("task", "mixer", "preset") if summary.get(k))
    params = f"{summary['parameters']:,} parameters" if summary.get("parameters") is not None else ""
    head = "; ".join(s for s in (what, params) if s)
    rates = [f"{summary[k]:.2f} {k.split('_')[0]}/s" for k in ("steps_per_s", "samples_per_s")
             if summary.get(k) is not None]
    run = f"{summary['steps']} steps"
    if summary.get("wall_time_s") is not None:
        run += f" in {_duration(summary['wall_time_s'])}"
    lines = [f"run: {head}" if head else "", run + (f" ({', '.join(rates)})" if rates else "")]
    if summary.get("best_test_exact_acc") is not None:
        lines.append(f"best test exact {summary['best_test_exact_acc']:.2%} at step {summary['best_step']}")
    if "final_test_exact_acc" in summary:
        s = summary
        line = f"final test ({s.get('final_test_examples', '?')} puzzles): exact {s['final_test_exact_acc']:.2%}"
        if "final_test_exact_acc_halt" in s:
            line += (f", {s['final_test_exact_acc_halt']:.2%} with halting (mean "
                     f"{s.get('final_test_steps_halt', math.nan):.2f} steps)")
        if "final_test_cell_acc" in s:
            line += f"; cells {s['final_test_cell_acc']:.2%}"
        lines.append(line)
    return "\n".join(line for line in lines if line)
