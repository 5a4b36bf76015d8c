"""``train.threads: auto``: fewer CPU threads while other processes keep cores busy.

torch's CPU kernels split every operation among its threads and wait for the slowest;
when another process occupies a core, the thread that shares it is descheduled for
whole time slices and a 2-thread run on 2 cores slows down 3-10x. :class:`ThreadGovernor`
measures, every few seconds, how many cores the *other* processes used (the machine's
busy time from ``/proc/stat`` minus the CPU time of this process and its children) and
runs on the cores left free (at least one); when the neighbours go, it returns to the starting count. Thread
counts change float rounding, so a run that adapted does not repeat bitwise (a fixed
``train.threads`` does).
"""

from __future__ import annotations

import os
import time
from typing import Callable

import torch

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def machine_busy_seconds() -> float | None:
    """CPU seconds all processes have been busy since boot (``/proc/stat``), or None
    where that is not available."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(v) for v in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS  # user .. steal (guest time is inside user)


def own_cpu_seconds() -> float:
    """CPU seconds this process (all its threads) and its child processes (running or
    ended; e.g. torch.compile's compile workers) have used."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system + _live_descendants_seconds()


def _live_descendants_seconds() -> float:
    """CPU seconds of the running descendants of this process (Linux ``/proc``; 0 elsewhere)."""
    parent: dict[int, int] = {}
    used: dict[int, float] = {}
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return 0.0
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()  # after "pid (name)"
        except (OSError, IndexError):
            continue  # ended meanwhile
        parent[int(entry)] = int(fields[1])
        used[int(entry)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
    me, total = os.getpid(), 0.0
    for pid in parent:
        up, seen = parent.get(pid), 0
        while up and up != me and seen < 64:
            up, seen = parent.get(up), seen + 1
        if up == me and pid != me:
            total += used[pid]
    return total


class ThreadGovernor:
    """Sets torch's thread count to the cores other processes leave free, checked every
    ``interval`` seconds at :meth:`check` (call it once per training step). A change
    takes two intervals in a row that ask for it: a compiled model recompiles for a new
    thread count (once per count), so a short burst of work elsewhere is not followed."""

    def __init__(self, base: int, interval: float = 3.0, clock: Callable[[], float] = time.monotonic,
                 busy: Callable[[], float | None] = machine_busy_seconds, own: Callable[[], float] = own_cpu_seconds):
        self.base, self.interval = base, interval
        self.clock, self.busy, self.own = clock, busy, own
        self.threads = base
        self.others = 0.0  # cores the other processes used in the last interval
        self._wanted = base  # the thread count the last interval asked for
        self._mark = (clock(), busy(), own())

    @property
    def contended(self) -> bool:
        """Whether other processes took cores this run would otherwise use."""
        return self.threads < self.base

    def check(self) -> bool:
        """Re-measure when ``interval`` has passed; returns whether the thread count changed."""
        now = self.clock()
        if now - self._mark[0] < self.interval:
            return False
        busy, own = self.busy(), self.own()
        if busy is None or self._mark[1] is None:
            return False
        self.others = max(0.0, (busy - self._mark[1]) - (own - self._mark[2])) / (now - self._mark[0])
        self._mark = (now, busy, own)
        wanted = max(1, min(self.base, round(self.base - self.others)))
        previous, self._wanted = self._wanted, wanted
        if wanted == self.threads or wanted != previous:  # a change must be measured twice in a row
            return False
        self.threads = wanted
        torch.set_num_threads(wanted)
        return True

    def describe(self) -> str:
        """``"busy machine: 1 of 2 threads"`` while contended, else ``""``."""
        return f"busy machine: {self.threads} of {self.base} threads" if self.contended else ""


def governor_for(threads: int | str | None, device: str | torch.device, processes: int = 1) -> ThreadGovernor | None:
    """The governor a run of ``train.threads`` gets: one starting from torch's current
    thread count for ``auto`` on the CPU in a single process, else None (a fixed count)."""
    if threads == "auto" and torch.device(device).type == "cpu" and processes == 1:
        return ThreadGovernor(torch.get_num_threads())
    return None
