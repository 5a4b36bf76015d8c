"""A self-contained HTML page of one solve: every supervision step, the halting chart, the verdict.

``recursia solve PUZZLE --html FILE`` writes it (:func:`solve_page`). The page needs no
network and no server: CSS, the step-through script and the chart (SVG) are inline, and
every text from a file or a checkpoint is escaped. Without JavaScript every step's frame
is shown one after the other; with it, one frame at a time with prev/next buttons, a
slider, the arrow keys and "play".

Tasks draw their puzzles and answers with :meth:`recursia.task.Task.render_html`;
:func:`html_grid` (public, in :mod:`recursia.api`) is the table of a 2-D grid they use.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from recursia.errors import ConfigError
from recursia.train.run_files import atomic_write_text

if TYPE_CHECKING:
    from recursia.infer import Solution
    from recursia.task import Task

VERDICTS = ("valid", "not valid", "no checker")
_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})|[a-zA-Z]+|rgba?\([0-9.,%\s]+\)")


# --- grids -----------------------------------------------------------------------------

def html_grid(cells: Any, changed: Any = None, colours: Any = None, box: tuple[int, int] | None = None,
              given: Any = None) -> str:
    """An HTML ``<table class="grid">`` of a 2-D grid of cell texts, for :meth:`Task.render_html`.

    Args:
        cells: ``(h, w)`` cell texts (anything ``str()`` turns into the text; ``""`` for
            an empty cell), as nested lists or an array. The texts are escaped.
        changed: boolean mask of the cells to mark (e.g. changed since the previous
            supervision step), of ``h * w`` elements: ``(h, w)`` or flat ``(h*w,)``.
        colours: background colour per cell, for colour puzzles: ``(h, w)`` CSS colours
            (``"#0074D9"``, ``"white"``, ``"rgb(1,2,3)"``; None or ``""`` for none) or an
            ``(h, w, 3)`` array of RGB values in 0..1. Text on a dark colour turns white.
        box: ``(box_rows, box_cols)``: thicker borders between boxes (Sudoku).
        given: boolean mask of given cells, shown bold (same shapes as ``changed``).

    An empty grid (``h`` or ``w`` 0) is ``<p class="grid empty">(empty grid)</p>``.
    Raises ValueError for ragged cells, masks or colours of the wrong size, a colour
    that is not a plain CSS colour, or a box that is not two positive integers.
    """
    rows = [[str(v) for v in row] for row in cells]
    h = len(rows)
    w = len(rows[0]) if h else 0
    if any(len(row) != w for row in rows):
        raise ValueError("html_grid: cells must be a rectangular (h, w) grid")
    if h == 0 or w == 0:
        return '<p class="grid empty">(empty grid)</p>'
    marks = _mask(changed, h, w, "changed")
    givens = _mask(given, h, w, "given")
    paints = _colours(colours, h, w)
    if box is not None:
        if len(box) != 2 or not all(isinstance(b, (int, np.integer)) and b > 0 for b in box):
            raise ValueError(f"html_grid: box must be (box_rows, box_cols) positive integers, got {box!r}")
        br, bc = int(box[0]), int(box[1])
    side = max(h, w)
    cell = 30 if side <= 9 else 22 if side <= 16 else 14
    out = [f'<table class="grid{" boxed" if box else ""}" style="--cell:{cell}px" '
           f'data-rows="{h}" data-cols="{w}">']
    for r in range(h):
        out.append("<tr>")
        for c in range(w):
            classes = []
            if box is not None:
                if r and r % br == 0:
                    classes.append("bt")
                if c and c % bc == 0:
                    classes.append("bl")
            if givens is not None and givens[r, c]:
                classes.append("given")
            if marks is not None and marks[r, c]:
                classes.append("chg")
            style = ""
            if paints is not None and paints[r][c]:
                colour, dark = paints[r][c]
                style = f' style="background:{colour}"'
                if dark:
                    classes.append("dark")
            cls = f' class="{" ".join(classes)}"' if classes else ""
            out.append(f"<td{cls}{style}>{escape(rows[r][c])}</td>")
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def _mask(mask: Any, h: int, w: int, name: str) -> np.ndarray | None:
    """A boolean ``(h, w)`` array of a mask of ``h * w`` elements, or None."""
    if mask is None:
        return None
    arr = np.asarray(mask, dtype=bool)
    if arr.size != h * w:
        raise ValueError(f"html_grid: {name} has {arr.size} elements, the grid {h}x{w} has {h * w} cells")
    return arr.reshape(h, w)


def _colours(colours: Any, h: int, w: int) -> list[list[tuple[str, bool] | None]] | None:
    """Per cell ``(css colour, dark)`` or None, from CSS strings or RGB floats in 0..1."""
    if colours is None:
        return None
    if isinstance(colours, np.ndarray) and colours.dtype.kind in "fiu":
        if colours.shape != (h, w, 3):
            raise ValueError(f"html_grid: RGB colours must have shape ({h}, {w}, 3), got {colours.shape}")
        rgb = np.clip(np.nan_to_num(colours.astype(float)), 0.0, 1.0)
        return [[(_hex(rgb[r, c]), _dark(rgb[r, c])) for c in range(w)] for r in range(h)]
    grid = [list(row) for row in colours]
    if len(grid) != h or any(len(row) != w for row in grid):
        raise ValueError(f"html_grid: colours must be a {h}x{w} grid like the cells")
    out: list[list[tuple[str, bool] | None]] = []
    for row in grid:
        line: list[tuple[str, bool] | None] = []
        for value in row:
            if value is None or value == "":
                line.append(None)
                continue
            text = str(value).strip()
            if not _COLOUR.fullmatch(text):
                raise ValueError(f"html_grid: {text!r} is not a CSS colour (#rgb, #rrggbb, a name or rgb(...))")
            line.append((text, _dark_css(text)))
        out.append(line)
    return out


def _hex(rgb: np.ndarray) -> str:
    """``#rrggbb`` of RGB values in 0..1."""
    return "#" + "".join(f"{round(float(v) * 255):02x}" for v in rgb)


def _dark(rgb: np.ndarray) -> bool:
    """Whether white text reads better than black on this RGB (0..1) background."""
    r, g, b = (float(v) for v in rgb)
    return 0.299 * r + 0.587 * g + 0.114 * b < 0.5


def _dark_css(colour: str) -> bool:
    """:func:`_dark` for a ``#rgb``/``#rrggbb`` colour; False for names and rgb(...)."""
    if not colour.startswith("#"):
        return colour.lower() in ("black", "navy", "maroon", "purple", "darkblue", "darkred", "darkgreen")
    digits = colour[1:]
    if len(digits) in (3, 4):
        digits = "".join(d * 2 for d in digits[:3])
    return _dark(np.array([int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4)]))


# --- the page -----------------------------------------------------------------------------

@dataclass
class StepTrace:
    """One puzzle's supervision steps as the page shows them.

    Attributes:
        puzzle: HTML fragment of the puzzle (:meth:`Task.render_html` of the inputs).
        frames: HTML fragment of the answer after each step, changed cells marked.
        confidence: halt confidence ``sigmoid(q_halt)`` after each step.
        changed: number of cells changed at each step (since the previous step; step 1
            against the puzzle).
        halt_step: the learned halting step, 1-based.
        halted: whether the model asked to halt there (else it ran to N_sup).
        verdict: the checker's verdict: ``"valid"``, ``"not valid"`` or ``"no checker"``.
        title: a heading when the page shows several puzzles (``"test 1"``), else ``""``.
    """

    puzzle: str
    frames: list[str]
    confidence: list[float]
    changed: list[int]
    halt_step: int
    halted: bool = True
    verdict: str = "no checker"
    title: str = ""

    def __post_init__(self) -> None:
        if not (len(self.frames) == len(self.confidence) == len(self.changed)):
            raise ValueError("StepTrace: frames, confidence and changed need one entry per step")
        if self.verdict not in VERDICTS:
            raise ValueError(f"StepTrace: verdict must be one of {VERDICTS}, got {self.verdict!r}")


def verdict_of(task: Task, sol: Solution) -> str:
    """``"valid"``/``"not valid"`` from the checker, or ``"no checker"`` for a task that
    cannot judge an answer from the puzzle alone (:attr:`Task.checks_answers` False)."""
    if not task.checks_answers:
        return "no checker"
    return "valid" if sol.valid else "not valid"


def step_trace(task: Task, inputs: np.ndarray, sol: Solution, title: str = "") -> StepTrace:
    """The :class:`StepTrace` of a :class:`recursia.infer.Solution`: the task draws the puzzle
    and every step's answer (:meth:`Task.render_html`), cells changed since the previous
    step (the puzzle for step 1) marked."""
    frames, changed = [], []
    prev = np.asarray(inputs)
    for answer, _ in sol.trace:
        mask = np.asarray(answer) != prev
        frames.append(task.render_html(inputs, answer, changed=mask))
        changed.append(int(mask.sum()))
        prev = np.asarray(answer)
    return StepTrace(puzzle=task.render_html(inputs), frames=frames, confidence=[c for _, c in sol.trace],
                     changed=changed, halt_step=sol.steps, halted=sol.halted, verdict=verdict_of(task, sol),
                     title=title)


@dataclass
class Section:
    """An extra part of the page after the steps (e.g. voted attempts): a heading and a
    trusted HTML fragment (build it with :func:`html_grid`, ``render_html`` or escaped text)."""

    heading: str
    html: str


def solve_page(title: str, traces: Sequence[StepTrace], model: str, facts: Sequence[tuple[str, str]] = (),
               notes: Sequence[str] = (), sections: Sequence[Section] = (), verdict: str | None = None) -> str:
    """The whole HTML page of one solve, as a string.

    Args:
        title: the page title (e.g. the puzzle file's name); escaped.
        traces: one :class:`StepTrace` per puzzle (several for an ARC task's test inputs),
            all with the same number of steps; each gets its puzzle, one
            ``<section class="frame" data-step="k">`` per step and a halting chart.
        model: which model answered (the checkpoint path); escaped.
        facts: more ``(label, text)`` lines for the summary (task, steps, adaptation); escaped.
        notes: warnings about the puzzle; escaped.
        sections: extra parts after the steps (voted attempts); their HTML is trusted.
        verdict: the summary's verdict; default: the traces' verdicts (one per test input).

    The script shows one step at a time (starting at the first trace's learned halt) and
    sets ``data-ready="1"`` on ``<body>`` when it has run; without it every frame shows.
    """
    if not traces:
        raise ValueError("solve_page needs at least one StepTrace")
    steps = max(len(t.frames) for t in traces)
    if verdict is None:
        verdict = "; ".join(f"{t.title}: {t.verdict}" if t.title else t.verdict for t in traces)
    start = min(max(traces[0].halt_step, 1), max(steps, 1))
    summary = [("model", f"<code>{escape(model)}</code>"),
               ("verdict", f'<span class="verdict {_verdict_class(verdict)}">{escape(verdict)}</span>')]
    summary += [(label, escape(text)) for label, text in facts]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{_CSS}</style></head>",
        f'<body data-steps="{steps}" data-start="{start}">',
        f"<header><h1>{escape(title)}</h1><dl class=\"summary\">",
        "".join(f"<dt>{escape(label)}</dt><dd>{value}</dd>" for label, value in summary),
        "</dl>",
    ]
    if notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>")
    parts.append("</header>")
    parts.append(_controls(steps))
    parts.append("<main>")
    for trace in traces:
        parts.append(_trace_html(trace))
    for section in sections:
        parts.append(f'<section class="extra"><h2>{escape(section.heading)}</h2>{section.html}</section>')
    parts.append("</main>")
    parts.append('<footer>Written by <code>recursia solve --html</code>. Without JavaScript every step is '
                 "shown; with it: &larr;/&rarr; step, Home/End, space plays.</footer>")
    parts.append(f"<script>{_JS}</script>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _verdict_class(verdict: str) -> str:
    """CSS class of a verdict text: ``bad`` if anything is not valid or wrong, ``good`` if
    all is valid, else ``none``."""
    if "not valid" in verdict or "wrong" in verdict:
        return "bad"
    if "valid" in verdict or "correct" in verdict:
        return "good"
    return "none"


def _controls(steps: int) -> str:
    """The step-through controls, hidden until the script shows them."""
    return (f'<nav class="controls" hidden>'
            f'<button type="button" id="first" title="first step (Home)">&laquo; first</button>'
            f'<button type="button" id="prev" title="previous step (&larr;)">&#x25C0; prev</button>'
            f'<button type="button" id="play" title="play (space)">&#x25B6; play</button>'
            f'<button type="button" id="next" title="next step (&rarr;)">next &#x25B6;</button>'
            f'<button type="button" id="last" title="last step (End)">last &raquo;</button>'
            f'<input type="range" id="slider" min="1" max="{steps}" value="1" step="1" aria-label="step">'
            f'<output id="step-label">step 1 of {steps}</output></nav>')


def _trace_html(trace: StepTrace) -> str:
    """One puzzle: heading, puzzle, one frame per step, chart and verdict."""
    n = len(trace.frames)
    how = "learned halt" if trace.halted else f"no halt before N_sup={n}"
    out = [f'<article class="trace" data-halt="{trace.halt_step}">']
    if trace.title:
        out.append(f"<h2>{escape(trace.title)}</h2>")
    out.append(f'<p class="verdict-line">verdict: <span class="verdict {_verdict_class(trace.verdict)}">'
               f"{escape(trace.verdict)}</span>; answer at step {trace.halt_step} of {n} ({escape(how)})</p>")
    out.append('<div class="row">')
    out.append(f'<figure class="puzzle"><figcaption>puzzle</figcaption>{trace.puzzle}</figure>')
    out.append('<div class="frames">')
    for i, (frame, conf, changed) in enumerate(zip(trace.frames, trace.confidence, trace.changed), 1):
        halt = i == trace.halt_step
        badge = f' <span class="badge">{"learned halt" if trace.halted else "answer (N_sup)"}</span>' if halt else ""
        out.append(f'<section class="frame{" halt" if halt else ""}" data-step="{i}" data-changed="{changed}">'
                   f"<h3>step {i} of {n}{badge}</h3>"
                   f'<p class="meta">halt confidence {_fmt(conf)} &middot; {changed} cell'
                   f'{"" if changed == 1 else "s"} changed</p>{frame}</section>')
    out.append("</div>")
    out.append(f'<figure class="chart-box"><figcaption>halt confidence per step</figcaption>'
               f"{halt_chart(trace.confidence, trace.halt_step, trace.halted)}</figure>")
    out.append("</div></article>")
    return "".join(out)


def _fmt(value: float) -> str:
    """A confidence with two decimals (``nan`` as it is)."""
    return "nan" if math.isnan(value) else f"{value:.2f}"


def halt_chart(confidence: Sequence[float], halt_step: int, halted: bool = True, width: int = 320,
               height: int = 140) -> str:
    """An inline ``<svg class="chart">`` of the halt confidence (0..1) per step: a line with
    one point per step (``<circle class="pt" data-step="k">``, a tooltip each), the 0.5
    threshold (``q_halt > 0``) dashed and the answer's step marked (``class="halt"``),
    labelled ``halt`` when the model asked to halt there (``halted``), else ``N_sup``."""
    n = len(confidence)
    left, right, top, bottom = 34, 12, 12, 26
    pw, ph = width - left - right, height - top - bottom

    def x(step: int) -> float:
        return left + (pw / 2 if n <= 1 else pw * (step - 1) / (n - 1))

    def y(value: float) -> float:
        v = 0.0 if math.isnan(value) else min(max(value, 0.0), 1.0)
        return top + ph * (1.0 - v)

    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'aria-label="halt confidence per step">']
    out.append(f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}"/>'
               f'<line class="axis" x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}"/>')
    for v in (0.0, 0.5, 1.0):
        out.append(f'<text class="tick" x="{left - 5}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
    out.append(f'<line class="threshold" x1="{left}" y1="{y(0.5):.1f}" x2="{left + pw}" y2="{y(0.5):.1f}"/>')
    for step in sorted({1, n, halt_step} if n else set()):
        if 1 <= step <= n:
            out.append(f'<text class="tick" x="{x(step):.1f}" y="{top + ph + 16}" text-anchor="middle">{step}</text>')
    if 1 <= halt_step <= n:
        hx = x(halt_step)
        anchor = "end" if hx > left + 0.8 * pw else "start" if hx < left + 0.2 * pw else "middle"
        out.append(f'<line class="halt-line" x1="{hx:.1f}" y1="{top}" x2="{hx:.1f}" y2="{top + ph}"/>'
                   f'<text class="halt-label" x="{hx:.1f}" y="{top - 2}" text-anchor="{anchor}">'
                   f'{"halt" if halted else "N_sup"}</text>')
    cx0 = x(min(max(halt_step, 1), max(n, 1)))
    out.append(f'<line class="cursor" x1="{cx0:.1f}" y1="{top}" x2="{cx0:.1f}" y2="{top + ph}"/>')
    if n:
        points = " ".join(f"{x(i):.1f},{y(c):.1f}" for i, c in enumerate(confidence, 1))
        out.append(f'<polyline class="line" points="{points}"/>')
    for i, c in enumerate(confidence, 1):
        cls = "pt halt" if i == halt_step else "pt"
        out.append(f'<circle class="{cls}" data-step="{i}" cx="{x(i):.1f}" cy="{y(c):.1f}" '
                   f'r="{5 if i == halt_step else 3.5}"><title>step {i}: halt confidence {_fmt(c)}'
                   f'{(" (learned halt)" if halted else " (answer)") if i == halt_step else ""}</title></circle>')
    out.append("</svg>")
    return "".join(out)


def write_html(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (:func:`recursia.train.run_files.atomic_write_text`),
    so a reader never sees half a page. ConfigError (one line) when it cannot."""
    try:
        atomic_write_text(Path(path), text)
    except OSError as e:
        raise ConfigError(f"--html {path}: cannot write: {e.strerror or e}") from None


_CSS = """
:root{color-scheme:light;--fg:#1d232b;--muted:#5f6b7a;--line:#c9d0d8;--accent:#1c64d1;--good:#1f7a34;
--bad:#b42318;--none:#5f6b7a}
*{box-sizing:border-box}
body{margin:0;padding:1rem 1.5rem 3rem;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:#fafbfc}
h1{font-size:1.35rem;margin:.2rem 0 .6rem;word-break:break-all}
h2{font-size:1.1rem;margin:1.2rem 0 .4rem}
h3{font-size:.95rem;margin:0 0 .2rem}
code{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:.15rem .9rem;margin:0}
dl.summary dt{color:var(--muted)}dl.summary dd{margin:0}
.verdict{font-weight:600}.verdict.good{color:var(--good)}.verdict.bad{color:var(--bad)}
.verdict.none{color:var(--none)}
ul.notes{color:#8a5a00;margin:.5rem 0}
nav.controls{position:sticky;top:0;z-index:2;display:flex;flex-wrap:wrap;align-items:center;gap:.4rem;
margin:1rem 0 .5rem;padding:.5rem .6rem;background:#eef2f7;border:1px solid var(--line);border-radius:6px}
nav.controls[hidden]{display:none}
nav.controls button{font:inherit;padding:.2rem .6rem;border:1px solid #9aa6b2;border-radius:4px;
background:#fff;cursor:pointer}
nav.controls button:hover{background:#e3ebf6}
nav.controls input[type=range]{flex:1 1 10rem;min-width:8rem}
#step-label{font-variant-numeric:tabular-nums;min-width:7rem}
article.trace{border-top:1px solid var(--line);padding-top:.4rem;margin-top:.8rem}
.verdict-line{margin:.2rem 0 .6rem}
.row{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start}
figure{margin:0}figcaption{color:var(--muted);font-size:.85rem;margin-bottom:.25rem}
.frames{display:flex;flex-wrap:wrap;gap:1.2rem;align-items:flex-start}
section.frame{padding:.4rem .5rem;border:1px solid var(--line);border-radius:6px;background:#fff}
section.frame.halt{border-color:var(--accent);box-shadow:0 0 0 1px var(--accent)}
.meta{margin:0 0 .35rem;color:var(--muted);font-size:.85rem}
.badge{font-size:.75rem;font-weight:600;color:#fff;background:var(--accent);border-radius:3px;
padding:0 .35rem;margin-left:.3rem}
body.js section.frame{display:none}body.js section.frame.current{display:block}
table.grid{border-collapse:collapse;border:2px solid #39424d;background:#fff}
table.grid td{width:var(--cell);height:var(--cell);min-width:var(--cell);padding:0;text-align:center;
vertical-align:middle;border:1px solid #c3c9d0;font:calc(var(--cell) * .55)/1 ui-monospace,Menlo,Consolas,monospace}
table.grid.boxed td.bt{border-top:2px solid #39424d}table.grid.boxed td.bl{border-left:2px solid #39424d}
table.grid td.given{font-weight:700}
table.grid td:not(.given){color:#1c4fa0}
table.grid td.dark{color:#fff}
table.grid td.chg{box-shadow:inset 0 0 0 2px #fff,inset 0 0 0 3px #d6336c}
table.grid td.chg:not([style]){background:#ffe8a3}
p.grid.empty{color:var(--muted);font-style:italic}
pre.text-grid{margin:0;font:13px/1.25 ui-monospace,Menlo,Consolas,monospace}
svg.chart{background:#fff;border:1px solid var(--line);border-radius:6px;font:11px system-ui,sans-serif}
svg.chart .axis{stroke:#8895a3;stroke-width:1}
svg.chart .tick{fill:var(--muted)}
svg.chart .threshold{stroke:#9aa6b2;stroke-dasharray:4 3}
svg.chart .line{fill:none;stroke:var(--accent);stroke-width:2}
svg.chart .pt{fill:#fff;stroke:var(--accent);stroke-width:2}
svg.chart .pt.halt{fill:var(--accent)}
svg.chart .pt.on{stroke:#d6336c;stroke-width:3}
svg.chart .halt-line{stroke:var(--accent);stroke-dasharray:2 2}
svg.chart .halt-label{fill:var(--accent);font-weight:600}
svg.chart .cursor{stroke:#d6336c;stroke-width:1.5;display:none}
body.js svg.chart .cursor{display:inline}
body.js svg.chart .pt{cursor:pointer}
section.extra .attempts{display:flex;flex-wrap:wrap;gap:1.2rem;align-items:flex-start;margin-bottom:1rem}
section.extra figure{padding:.4rem .5rem;border:1px solid var(--line);border-radius:6px;background:#fff}
footer{margin-top:2rem;color:var(--muted);font-size:.85rem}
"""

_JS = """
(function () {
  "use strict";
  var body = document.body;
  var frames = Array.prototype.slice.call(document.querySelectorAll("section.frame"));
  var last = parseInt(body.getAttribute("data-steps"), 10) || 1;
  var slider = document.getElementById("slider");
  var label = document.getElementById("step-label");
  var play = document.getElementById("play");
  var current = 1, timer = null;
  function show(k) {
    current = Math.max(1, Math.min(last, k));
    frames.forEach(function (f) {
      f.classList.toggle("current", parseInt(f.getAttribute("data-step"), 10) === current);
    });
    Array.prototype.forEach.call(document.querySelectorAll("svg.chart"), function (svg) {
      var cursor = svg.querySelector(".cursor");
      Array.prototype.forEach.call(svg.querySelectorAll("circle.pt"), function (c) {
        var on = parseInt(c.getAttribute("data-step"), 10) === current;
        c.classList.toggle("on", on);
        if (on && cursor) {
          cursor.setAttribute("x1", c.getAttribute("cx"));
          cursor.setAttribute("x2", c.getAttribute("cx"));
        }
      });
    });
    slider.value = String(current);
    label.textContent = "step " + current + " of " + last;
  }
  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    play.innerHTML = "&#x25B6; play";
  }
  function toggle() {
    if (timer !== null) { stop(); return; }
    if (current >= last) { show(1); }
    play.innerHTML = "&#x2016; pause";
    timer = setInterval(function () { if (current >= last) { stop(); } else { show(current + 1); } }, 800);
  }
  function go(k) { stop(); show(k); }
  document.getElementById("first").addEventListener("click", function () { go(1); });
  document.getElementById("prev").addEventListener("click", function () { go(current - 1); });
  document.getElementById("next").addEventListener("click", function () { go(current + 1); });
  document.getElementById("last").addEventListener("click", function () { go(last); });
  play.addEventListener("click", toggle);
  slider.addEventListener("input", function () { go(parseInt(slider.value, 10)); });
  Array.prototype.forEach.call(document.querySelectorAll("svg.chart circle.pt"), function (c) {
    c.addEventListener("click", function () { go(parseInt(c.getAttribute("data-step"), 10)); });
  });
  document.addEventListener("keydown", function (e) {
    if (e.target === slider || e.altKey || e.ctrlKey || e.metaKey) { return; }
    if (e.key === "ArrowLeft") { go(current - 1); }
    else if (e.key === "ArrowRight") { go(current + 1); }
    else if (e.key === "Home") { go(1); }
    else if (e.key === "End") { go(last); }
    else if (e.key === " " && (!e.target || e.target.tagName !== "BUTTON")) { toggle(); }
    else { return; }
    e.preventDefault();
  });
  document.querySelector("nav.controls").hidden = false;
  body.classList.add("js");
  show(parseInt(body.getAttribute("data-start"), 10) || 1);
  body.dataset.ready = "1";
}());
"""
