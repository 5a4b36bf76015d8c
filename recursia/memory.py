"""Reuse freed memory instead of asking the kernel for fresh pages (glibc's malloc).

torch's CPU tensors come from ``malloc``. glibc serves a request above its mmap
threshold (at most 32 MiB) with a fresh ``mmap`` and unmaps it when the tensor is freed,
so every large activation of every step costs a page fault per 4 KiB page and the
zeroing of it. The paper Sudoku-MLP shape at evaluation batch 256 has 150 MiB
intermediates: in bf16 half of the time went to those faults (docs/benchmarks.md,
``benchmarks/malloc_reuse.py``). :func:`reuse_freed_memory` makes malloc take every block
from its heap and keep what is freed there for the next request — what the CUDA caching
allocator does on a GPU. Numbers do not change, only where the memory comes from; the
process keeps its peak memory until it exits.

The ``recursia`` command turns it on; ``RECURSIA_MALLOC=system`` leaves glibc's defaults.
Elsewhere than glibc (macOS, Windows, musl) nothing changes.
"""

from __future__ import annotations

import ctypes
import os
from functools import lru_cache

from recursia.errors import ConfigError

# mallopt parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
GLIBC_MMAP_MAX = 65536  # glibc's default number of mmap'd blocks
GLIBC_TRIM_THRESHOLD = 128 * 1024  # glibc's default (before its dynamic adjustment)
KEEP_ALL = 2**31 - 1  # the largest trim threshold mallopt takes (an int): freed memory is kept

MODES = ("reuse", "system")


@lru_cache(maxsize=1)
def _mallopt():
    """glibc's ``mallopt`` (None where the C library has none)."""
    try:
        func = ctypes.CDLL(None).mallopt  # the C library the interpreter is linked against
    except (OSError, AttributeError, TypeError):
        return None
    func.argtypes, func.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int  # int mallopt(int, int)
    return func


def set_malloc(mode: str) -> bool:
    """``reuse``: every block from the heap, freed memory kept for reuse; ``system``:
    glibc's defaults (large blocks mmap'd and returned when freed). Returns whether the
    C library took it (False without glibc's ``mallopt``)."""
    if mode not in MODES:
        raise ValueError(f"malloc mode must be one of {', '.join(MODES)}, not {mode!r}")
    mallopt = _mallopt()
    if mallopt is None:
        return False
    reuse = mode == "reuse"
    ok = mallopt(M_MMAP_MAX, 0 if reuse else GLIBC_MMAP_MAX)
    ok &= mallopt(M_TRIM_THRESHOLD, KEEP_ALL if reuse else GLIBC_TRIM_THRESHOLD)
    return bool(ok)


def reuse_freed_memory() -> str:
    """Apply ``RECURSIA_MALLOC`` (default ``reuse``; ``system`` to opt out) to this
    process and return the mode in effect (``system`` where it cannot be changed);
    ConfigError for another value."""
    mode = os.environ.get("RECURSIA_MALLOC", "reuse")
    if mode not in MODES:
        raise ConfigError(f"RECURSIA_MALLOC={mode!r}: expected {' or '.join(MODES)}")
    return mode if set_malloc(mode) else "system"
