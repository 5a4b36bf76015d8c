"""Reading a JSON object from a file with one-line errors a person can act on."""

from __future__ import annotations

import json
from pathlib import Path

from recursia.errors import RecursiaError


def read_json_object(path: str | Path, error: type[RecursiaError], what: str = "file") -> dict:
    """The JSON object in ``path``; raises ``error`` naming the file and the problem."""
    path = Path(path)
    text = read_text(path, error, what)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise error(f"{path}: malformed JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
    except RecursionError:
        raise error(f"{path}: JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise error(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def read_text(path: str | Path, error: type[RecursiaError], what: str = "file") -> str:
    """The UTF-8 text of ``path``; raises ``error`` for a missing, unreadable, non-text or non-file path."""
    path = Path(path)
    if path.is_dir():
        raise error(f"{path}: is a folder, expected a {what}")
    if not path.exists():
        raise error(f"{path}: {what} not found")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise error(f"{path}: not a text file (byte {e.start + 1} is not UTF-8)") from None
    except OSError as e:
        raise error(f"{path}: cannot read the {what} ({e.strerror or type(e).__name__})") from None
