"""Turn SIGTERM / SIGINT into a request that a long loop honours at a safe point.

Without this a terminated training run dies between two steps and loses the work since
its last periodic checkpoint; with it, the loop finishes the current step, writes a
checkpoint and exits with 128 + the signal number.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from types import FrameType
from typing import Iterator


class StopRequest:
    def __init__(self) -> None:
        self.signal: int | None = None

    @property
    def requested(self) -> bool:
        return self.signal is not None

    def handle(self, signum: int, frame: FrameType | None) -> None:
        self.signal = signum


class Interrupted(KeyboardInterrupt):
    """A run stopped on request; its checkpoint (if any) lets it resume.

    A KeyboardInterrupt, not an Exception, so that no ``except Exception`` on the way (an
    Optuna study catching failed trials, say) mistakes a stop for a failure and goes on.
    """

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.exit_code = 128 + signum


@contextmanager
def stop_on_signals(signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)) -> Iterator[StopRequest]:
    """Install the handlers for the duration (main thread only; elsewhere signals stay as they are)."""
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = {s: signal.signal(s, request.handle) for s in signals}
    try:
        yield request
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
