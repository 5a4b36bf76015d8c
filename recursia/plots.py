"""Training curves from ``metrics.jsonl`` as PNG files (matplotlib, no display)."""

from __future__ import annotations

import json
from pathlib import Path


def read_metrics(path: Path) -> list[dict]:
    """The records of a metrics.jsonl (unparseable lines, e.g. from a kill, are skipped)."""
    rows = []
    for line in path.read_text().splitlines() if path.is_file() else []:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def plot_metrics(metrics: Path, out_dir: Path) -> list[Path]:
    """Write ``loss.png`` and ``accuracy.png``; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in read_metrics(metrics) if "loss" in r]
    tests = [r for r in read_metrics(metrics) if "test_exact_acc" in r]
    if not rows:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([r["step"] for r in rows], [r["loss"] for r in rows], label="train loss")
    ax.set_xlabel("optimizer step"), ax.set_ylabel("loss"), ax.set_yscale("log"), ax.legend()
    fig.tight_layout(), fig.savefig(out_dir / "loss.png", dpi=100), plt.close(fig)
    written.append(out_dir / "loss.png")
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([r["step"] for r in rows], [r["cell_acc"] for r in rows], label="train cells", alpha=0.6)
    ax.plot([r["step"] for r in rows], [r["exact_acc"] for r in rows], label="train exact", alpha=0.6)
    if tests:
        ax.plot([r["step"] for r in tests], [r["test_exact_acc"] for r in tests], "o-", label="test exact")
    ax.set_xlabel("optimizer step"), ax.set_ylabel("accuracy"), ax.set_ylim(0, 1), ax.legend()
    fig.tight_layout(), fig.savefig(out_dir / "accuracy.png", dpi=100), plt.close(fig)
    written.append(out_dir / "accuracy.png")
    return written


def plot_step_accuracy(curves: dict[str, list[float]], out: Path, title: str = "") -> Path:
    """Write a PNG of accuracy against supervision step 1..N (one line per entry of
    ``curves``: label -> accuracy at each step) to ``out``; returns ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
