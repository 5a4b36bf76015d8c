"""PNG pictures of mazes with matplotlib's Agg canvas (no display, no pyplot state).

Walls are dark, open cells white, ``S`` green, ``G`` red and the cells an answer marks
``o`` orange; an ``o`` that is not on an open cell of the maze (a path through a wall,
or over S or G) is magenta, so a wrong answer is visible at a glance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from recursia_maze.grid import GOAL, OPEN, PATH, START, is_shortest_path, side

_COLOURS = {  # RGB in 0..1; "other" is for PAD and unknown tokens
    "other": (0.6, 0.6, 0.6), "wall": (0.15, 0.17, 0.2), "open": (1.0, 1.0, 1.0),
    "start": (0.18, 0.55, 0.2), "goal": (0.78, 0.16, 0.16), "path": (1.0, 0.6, 0.0),
    "bad_path": (0.85, 0.0, 0.85),
}
_TOKEN_COLOURS = np.array([_COLOURS[k] for k in ("other", "wall", "open", "start", "goal", "path")])


def maze_rgb(inputs: np.ndarray, answer: np.ndarray | None = None) -> np.ndarray:
    """``(n, n, 3)`` float colours of the maze ``inputs`` with the ``o`` cells of ``answer`` drawn."""
    inputs = np.asarray(inputs)
    n = side(inputs)
    known = (inputs >= 0) & (inputs < len(_TOKEN_COLOURS))
    rgb = _TOKEN_COLOURS[np.where(known, inputs, 0)]
    if answer is not None:
        marked = np.asarray(answer) == PATH
        rgb[marked & (inputs == OPEN)] = _COLOURS["path"]
        rgb[marked & (inputs != OPEN)] = _COLOURS["bad_path"]
    return rgb.reshape(n, n, 3)


def title(inputs: np.ndarray, answer: np.ndarray | None = None) -> str:
    """The size of the maze and, with an answer, its path cells and the checker's verdict."""
    n = side(inputs)
    head = f"maze {n}x{n}"
    if answer is None:
        return head
    cells = int(np.count_nonzero(np.asarray(answer) == PATH))
    verdict = "a shortest path" if is_shortest_path(inputs, answer) else "NOT a shortest path"
    return f"{head}: {cells} path cells, {verdict}"


def draw_maze(inputs: np.ndarray, answer: np.ndarray | None, path: Path) -> None:
    """Write a PNG of the maze (and the path of ``answer`` when given), titled by :func:`title`, to ``path``."""
    rgb = maze_rgb(inputs, answer)
    n = rgb.shape[0]
    inches = float(np.clip(0.22 * n, 3.0, 12.0))
    fig = Figure(figsize=(inches, inches + 0.4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.imshow(rgb, interpolation="nearest")
    flat = np.asarray(inputs)
    for token, label in ((START, "S"), (GOAL, "G")):
        for cell in np.flatnonzero(flat == token):
            r, c = divmod(int(cell), n)
            ax.text(c, r, label, ha="center", va="center", color="white", fontweight="bold",
                    fontsize=max(5.0, min(12.0, 180.0 / n)))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title(inputs, answer), fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
