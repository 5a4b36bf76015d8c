"""The files of a run directory, and the checks and writes that need no torch.

Imported by the CLI before any command runs (``recursia --help`` does not import
torch); :mod:`recursia.train.checkpoint` reads and writes the tensors.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from safetensors import SafetensorError, safe_open

from recursia.errors import CheckpointError

MODEL_FILE = "model.safetensors"
STATE_FILE = "train_state.safetensors"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
RUN_FILES = (MODEL_FILE, STATE_FILE, CONFIG_FILE, METRICS_FILE)
TEMP_SUFFIX = ".tmp"  # what atomic writes append to the final name while writing


def atomic_write_text(path: Path, text: str) -> None:
    """Write a UTF-8 text file atomically: to a temporary name beside it, renamed over it
    (the temporary file is removed again when the write fails)."""
    tmp = path.with_name(path.name + TEMP_SUFFIX)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_stale_temp_files(run_dir: Path) -> list[Path]:
    """Delete the half-written files a killed atomic write left in ``run_dir``; returns them.

    Only temporary names of the run directory's own files are touched
    (``model.safetensors.tmp``, ``train_state.safetensors.tmp``, ...).
    """
    stale = [run_dir / (name + TEMP_SUFFIX) for name in RUN_FILES]
    stale = [path for path in stale if path.is_file()]
    for path in stale:
        path.unlink()
    return stale


def check_safetensors_file(path: Path) -> None:
    """CheckpointError naming ``path`` unless it is a readable, complete safetensors file.

    Reads only the header: an 8-byte little-endian length, then that many bytes of
    JSON whose tensors' ``data_offsets`` must lie inside the rest of the file. This
    turns a missing, unreadable, truncated or mislabelled file into one line that says
    which, before safetensors itself parses it.
    """
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder, expected a safetensors file")
    if not path.exists():
        raise CheckpointError(f"{path}: file not found")
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(8)
            n = int.from_bytes(head, "little") if len(head) == 8 else -1
            header = f.read(n) if 0 <= n <= size - 8 else b""
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read it ({e.strerror or type(e).__name__})") from None
    if n < 0:
        raise CheckpointError(f"{path}: truncated or empty ({size} bytes; not a safetensors file)")
    if n > size - 8:
        raise CheckpointError(f"{path}: not a safetensors file, or truncated (its header claims {n} bytes, "
                              f"the file has {size})")
    try:
        entries = json.loads(header)
        ends = [int(v["data_offsets"][1]) for k, v in entries.items() if k != "__metadata__"]
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
        raise CheckpointError(f"{path}: not a safetensors file (its header is not the expected JSON)") from None
    data, needed = size - 8 - n, max(ends, default=0)
    if needed > data:
        raise CheckpointError(f"{path}: truncated (its tensors need {needed} bytes of data, the file holds {data})")
    if needed < data:
        raise CheckpointError(f"{path}: {data - needed} bytes more than its header describes (a header that lies "
                              f"about its size, or data appended)")


def read_metadata(path: Path) -> dict[str, str]:
    """The metadata of a safetensors file; CheckpointError when missing or unreadable."""
    check_safetensors_file(path)
    try:
        with safe_open(str(path), "numpy") as f:
            return dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: not a readable safetensors file ({e})") from None
