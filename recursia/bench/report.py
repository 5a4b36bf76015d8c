"""Benchmark results as a table, JSON lines, and the markdown of docs/benchmarks.md."""

from __future__ import annotations

import datetime
import json
import os
import platform
from pathlib import Path

from recursia.errors import ConfigError
from recursia.train.run_files import atomic_write_text

# every JSON line has these keys (None where a bench does not measure one)
FIELDS = ("bench", "what", "mode", "dtype", "compile", "threads", "batch", "samples_steps_per_s",
          "model_gflop_per_s", "peak_gflop_per_s", "mfu", "peak_rss_mb")
BEGIN = "<!-- recursia bench all: begin (generated; edit outside the markers) -->"
END = "<!-- recursia bench all: end -->"


def complete(result: dict) -> dict:
    """``result`` with every key of :data:`FIELDS` (missing ones None), those first."""
    return {**{key: result.get(key) for key in FIELDS}, **result}


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``; the platform's guess elsewhere)."""
    try:
        with open("/proc/cpuinfo") as handle:
            return next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages, or ``n/a``."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def machine() -> str:
    """One line: CPU model, cores, memory, torch and Python versions, load average."""
    import torch

    memory = ""
    try:
        with open("/proc/meminfo") as handle:
            kib = int(next(line.split()[1] for line in handle if line.startswith("MemTotal")))
        memory = f", {kib / 2 ** 20:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    return (f"{cpu_model()}, {os.cpu_count()} cores{memory}, torch {torch.__version__}, Python "
            f"{platform.python_version()}, load average before {load_average()}")


def _num(value, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


COLUMNS = (("mode", "mode", None), ("samples x steps/s", "samples_steps_per_s", 2),
           ("model GFLOP/s", "model_gflop_per_s", 1), ("peak GFLOP/s", "peak_gflop_per_s", 1),
           ("MFU", "mfu", None), ("ratio", "ratio", 2), ("threads", "threads", None),
           ("peak RSS MiB", "peak_rss_mb", 0), ("runs", "runs", None))


def _cells(result: dict) -> list[str]:
    cells = []
    for _, key, digits in COLUMNS:
        value = result.get(key)
        if key == "mfu" and value is not None:
            cells.append(f"{value:.0%}")
        elif key == "runs" and value is not None:
            cells.append(", ".join(str(v) for v in value))
        else:
            cells.append(_num(value, digits if digits is not None else 2))
    extra = {"puzzles_per_s": "puzzles/s", "mean_steps": "mean steps", "seconds": "s",
             "import_torch_seconds": "s bare import torch", "over_import_torch_seconds": "s over it"}
    notes = [f"{_num(result[k])} {label}" for k, label in extra.items() if result.get(k) is not None]
    return cells + ["; ".join(notes)]


def table_rows(results: list[dict]) -> tuple[list[str], list[list[str]]]:
    """The header and one row per result; columns no result has a value in are left out."""
    header = [name for name, _, _ in COLUMNS] + ["also"]
    rows = [_cells(r) for r in results]
    keep = [i for i in range(len(header)) if any(row[i] not in ("-", "") for row in rows)]
    return [header[i] for i in keep], [[row[i] for i in keep] for row in rows]


def print_table(results: list[dict]) -> None:
    """A rich table per measured thing on stdout."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console.width = 200
    for bench, what in dict.fromkeys((r["bench"], r["what"]) for r in results):
        header, rows = table_rows([r for r in results if (r["bench"], r["what"]) == (bench, what)])
        table = Table(title=f"{bench}: {what}", title_justify="left")
        for name in header:
            table.add_column(name)
        for row in rows:
            table.add_row(*row)
        console.print(table)


def print_json(results: list[dict]) -> None:
    """One JSON object per result on stdout."""
    for result in results:
        print(json.dumps(complete(result)))


def markdown(results: list[dict], command: str, seconds: float) -> str:
    """The generated section of docs/benchmarks.md: machine, command, one table per
    measured thing, and the ratios the targets are about."""
    stamp = datetime.date.today().isoformat()
    lines = [BEGIN, "", "## Speed: `recursia bench all`", "", f"    {command}", "",
             f"Measured {stamp} on {machine()}; {seconds / 60:.0f} minutes in all. Rounds alternate between "
             "the things compared within one process; figures are medians over the rounds (each round's value "
             "in `runs`). MFU = model FLOP/s (DESIGN.md section 8) over the matmul peak measured in the same "
             "process at the model's own matrix shapes, in the mode's dtype. Peak RSS is the process's peak so "
             "far when the row was recorded (the modes of a bench share the process).", ""]
    for bench, what in dict.fromkeys((r["bench"], r["what"]) for r in results):
        header, rows = table_rows([r for r in results if (r["bench"], r["what"]) == (bench, what)])
        lines += [f"**{bench}**: {what}", "", "| " + " | ".join(header) + " |",
                  "|" + " --- |" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        lines.append("")
    lines.append(END)
    return "\n".join(lines) + "\n"


def write_markdown(path: Path, section: str) -> None:
    """Put ``section`` between the markers of ``path`` (appended when it has none; the
    file is created when missing)."""
    if path.is_dir():
        raise ConfigError(f"--markdown {path}: is a folder")
    text = path.read_text() if path.is_file() else "# Benchmarks\n\n"
    if (BEGIN in text) != (END in text):
        raise ConfigError(f"--markdown {path}: has one of the generated-section markers but not the other")
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section.rstrip("\n") + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    atomic_write_text(path, text)
