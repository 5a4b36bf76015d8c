"""Stopping a run cleanly on SIGTERM (what a cluster scheduler sends before it kills a
job) and Ctrl-C (SIGINT).

A signal only sets a flag; the training loop reads it at the next step boundary, where
every process of a run agrees to stop at the same step, saves a checkpoint and exits.
So a signal can never interrupt a process inside a collective or a half-written
checkpoint. A second Ctrl-C stops at once, without saving.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

from recursia.errors import Terminated


class StopRequest:
    """The signal that asked the run to stop (``None``: none did)."""

    def __init__(self) -> None:
        self.signum: int | None = None

    @property
    def requested(self) -> bool:
        """Whether a stop was asked for."""
        return self.signum is not None

    def _handle(self, signum, frame) -> None:
        if signum == signal.SIGINT and self.signum == signal.SIGINT:
            raise KeyboardInterrupt  # the second Ctrl-C: stop now
        self.signum = self.signum or signum

    @contextmanager
    def installed(self) -> Iterator[StopRequest]:
        """While inside, SIGTERM and SIGINT set the flag instead of ending the process
        (outside the main thread, where signals cannot be set, nothing changes)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {s: signal.signal(s, self._handle) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield self
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    def exception(self) -> BaseException:
        """What the run raises after its checkpoint: KeyboardInterrupt for Ctrl-C,
        :class:`recursia.errors.Terminated` for SIGTERM (or a stop another process asked for)."""
        if self.signum == signal.SIGINT:
            return KeyboardInterrupt()
        return Terminated("terminated by SIGTERM")
