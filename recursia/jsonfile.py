"""Reading a JSON object from a file with one-line errors a person can act on."""

from __future__ import annotations

import json
from pathlib import Path

from recursia.errors import RecursiaError


def read_json_object(path: str | Path, error: type[RecursiaError], what: str = "file") -> dict:
    """The JSON object in ``path``; raises ``error`` naming the file and the problem."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: {what} not found")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise error(f"{path}: malformed JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
    except UnicodeDecodeError:
        raise error(f"{path}: not a text file") from None
    if not isinstance(data, dict):
        raise error(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data
