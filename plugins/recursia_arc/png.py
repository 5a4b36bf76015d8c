"""PNG pictures of ARC grids with the standard 10-colour palette (matplotlib Agg, no pyplot).

A picture is a table of panels, each one grid drawn cell by cell with thin grey
lines between cells; an empty grid (a prediction without a grid) is a panel saying so.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

PALETTE_HEX = ("#000000", "#0074D9", "#FF4136", "#2ECC40", "#FFDC00",
               "#AAAAAA", "#F012BE", "#FF851B", "#7FDBFF", "#870C25")
PALETTE = np.array([[int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)] for h in PALETTE_HEX])  # (10, 3) RGB 0..1

Panel = tuple[str, "np.ndarray | None"]


def grid_rgb(grid: np.ndarray) -> np.ndarray:
    """``(h, w, 3)`` float colours of a grid of colours 0..9."""
    return PALETTE[np.clip(np.asarray(grid, dtype=np.int64), 0, 9)]


def _draw_panel(ax, title: str, grid: np.ndarray | None) -> None:
    """One grid (or a note when it is empty or unknown) with its title."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)
    if grid is None or np.asarray(grid).size == 0:
        ax.text(0.5, 0.5, "unknown" if grid is None else "no grid", ha="center", va="center",
                transform=ax.transAxes, fontsize=9, color="0.4")
        for spine in ax.spines.values():
            spine.set_color("0.8")
        return
    grid = np.asarray(grid)
    h, w = grid.shape
    ax.imshow(grid_rgb(grid), interpolation="nearest")
    ax.set_xticks(np.arange(-0.5, w, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, h, 1), minor=True)
    ax.grid(which="minor", color="0.35", linewidth=0.5)
    ax.tick_params(which="both", length=0)


def draw_panels(rows: list[list[Panel]], path: Path, title: str | None = None) -> None:
    """Write a PNG at ``path`` with one row of panels per entry of ``rows``."""
    n_rows = max(len(rows), 1)
    n_cols = max((len(r) for r in rows), default=1)
    fig = Figure(figsize=(2.6 * n_cols, 2.7 * n_rows + (0.4 if title else 0)), dpi=100)
    FigureCanvasAgg(fig)
    for r, row in enumerate(rows):
        for c, (name, grid) in enumerate(row):
            _draw_panel(fig.add_subplot(n_rows, n_cols, r * n_cols + c + 1), name, grid)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
