"""Training curves from ``metrics.jsonl`` as PNG files (matplotlib, no display).

:func:`plot_runs` draws one or several runs against the optimizer step, each run
labelled with its folder name: ``loss.png`` (train loss, log scale),
``accuracy.png`` (train exact accuracy; test exact accuracy where evaluated) and
``halt_steps.png`` (mean halting step of the slots that halted). A figure without
data is not written. Missing keys (older runs) and NaN values are skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

from recursia.errors import CheckpointError
from recursia.train.run_files import METRICS_FILE
from recursia.train.metrics_log import read_metrics, series


def run_labels(run_dirs: list[Path]) -> list[str]:
    """Each run's folder name; where names repeat, as many parent folders as tell them
    apart, and `` (2)``, `` (3)``... for a folder given more than once."""
    parts = [Path(os.path.abspath(d)).parts for d in run_dirs]
    labels = []
    for p in parts:
        depth = 1
        while depth < len(p) and any(q != p and q[-depth:] == p[-depth:] for q in parts):
            depth += 1
        labels.append(str(Path(*p[-depth:])))
    seen: dict[str, int] = {}
    for i, label in enumerate(labels):
        seen[label] = seen.get(label, 0) + 1
        labels[i] = label if seen[label] == 1 else f"{label} ({seen[label]})"
    return labels


def check_run_dirs(run_dirs: list[Path]) -> None:
    """CheckpointError naming the first of ``run_dirs`` that is missing, a file, or
    without a metrics.jsonl."""
    for d in run_dirs:
        if d.is_file():
            raise CheckpointError(f"{d}: is a file; expected a run directory (holding {METRICS_FILE})")
        if not d.is_dir():
            raise CheckpointError(f"{d}: run directory not found")
        if not (d / METRICS_FILE).is_file():
            raise CheckpointError(f"{d}: no {METRICS_FILE} (not a recursia run directory, or nothing logged yet)")


def read_runs(run_dirs: list[Path]) -> dict[str, list[dict]]:
    """label -> records of each run directory (see :func:`run_labels`); CheckpointError
    as :func:`check_run_dirs` says."""
    check_run_dirs(run_dirs)
    return {label: read_metrics(d / METRICS_FILE) for label, d in zip(run_labels(run_dirs), run_dirs)}


def plot_runs(run_dirs: list[Path], out_dir: Path) -> list[Path]:
    """Write ``loss.png``, ``accuracy.png`` and ``halt_steps.png`` of the runs in
    ``run_dirs`` (overlaid, labelled by folder name) to ``out_dir``; returns the files
    written (a figure without data is skipped). CheckpointError for a folder that is
    not a run directory, before anything is written."""
    return plot_records(read_runs([Path(d) for d in run_dirs]), Path(out_dir))


def plot_metrics(metrics: Path, out_dir: Path) -> list[Path]:
    """The figures of :func:`plot_runs` for the one run whose metrics.jsonl is
    ``metrics`` (none when the file is missing or empty); returns the files written."""
    return plot_records({metrics.parent.name or "run": read_metrics(metrics)}, out_dir)


# figure file -> y label, log scale, [(metrics key, line label, matplotlib format)]
FIGURES = {
    "loss.png": ("train loss", True, [("loss", "", "-")]),
    "accuracy.png": ("exact accuracy", False, [("exact_acc", "train", "-"), ("test_exact_acc", "test", "o--")]),
    "halt_steps.png": ("mean halting step (halted slots)", False, [("halted_steps", "", "-")]),
}


def pyplot():
    """``matplotlib.pyplot``, drawing to files (the Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_records(runs: dict[str, list[dict]], out_dir: Path) -> list[Path]:
    """Write the :data:`FIGURES` of ``runs`` (label -> records) to ``out_dir``; returns
    the files written."""
    plt = pyplot()

    written = []
    for name, (ylabel, log, keys) in FIGURES.items():
        fig, ax = plt.subplots(figsize=(7, 4.5))
        lines = 0
        for i, (run, rows) in enumerate(runs.items()):
            for key, what, fmt in keys:
                steps, values = series(rows, key, positive=log)
                if steps:
                    label = " ".join(s for s in (run if len(runs) > 1 else "", what) if s) or run
                    ax.plot(steps, values, fmt, color=f"C{i % 10}", label=label, markersize=4, alpha=0.8)
                    lines += 1
        if lines:
            ax.set_xlabel("optimizer step"), ax.set_ylabel(ylabel)
            if log:
                ax.set_yscale("log")
            if name == "accuracy.png":
                ax.set_ylim(-0.02, 1.02)
            ax.legend(fontsize="small")
            out_dir.mkdir(parents=True, exist_ok=True)
            fig.tight_layout(), fig.savefig(out_dir / name, dpi=100)
            written.append(out_dir / name)
        plt.close(fig)
    return written


def plot_step_accuracy(curves: dict[str, list[float]], out: Path, title: str = "") -> Path:
    """Write a PNG of accuracy against supervision step 1..N (one line per entry of
    ``curves``: label -> accuracy at each step) to ``out``; returns ``out``."""
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, values in curves.items():
        ax.plot(range(1, len(values) + 1), values, "o-", label=label, markersize=3)
    ax.set_xlabel("supervision step"), ax.set_ylabel("accuracy"), ax.set_ylim(0, 1)
    if title:
        ax.set_title(title)
    ax.legend()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout(), fig.savefig(out, dpi=100), plt.close(fig)
    return out
