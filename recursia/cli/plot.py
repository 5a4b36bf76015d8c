"""``recursia plot``: training curves of one or several runs as PNG files."""

from __future__ import annotations

from pathlib import Path

import typer

from recursia.cli.common import check_out_folder
from recursia.errors import CheckpointError
from recursia.plots import check_run_dirs, plot_runs


def plot_command(
    run_dir: list[Path] = typer.Argument(..., help="run directories (each holding metrics.jsonl)"),
    out: Path = typer.Option(None, help="folder for the PNG files (default: the run's plots/ for one run, "
                                        "plots/ in the current folder for several)"),
) -> None:
    """Draw loss, exact accuracy (train and test) and mean halting step against the
    optimizer step; several runs are overlaid, labelled by their folder names."""
    out = out or (run_dir[0] / "plots" if len(run_dir) == 1 else Path("plots"))
    check_run_dirs(run_dir)
    check_out_folder(out)
    written = plot_runs(run_dir, out)
    if not written:
        raise CheckpointError(f"{', '.join(map(str, run_dir))}: metrics.jsonl holds no training records to plot")
    print(f"wrote {', '.join(p.name for p in written)} to {out}")
