"""Turn SIGTERM / SIGINT into a request that a long loop honours at a safe point.

Without this a terminated training run dies between two steps and loses the work since
its last periodic checkpoint; with it, the loop finishes the current step, writes a
checkpoint and exits with 128 + the signal number.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


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


_active: list[StopRequest] = []  # the request of the outermost active block


@contextmanager
def stop_on_signals(signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)) -> Iterator[StopRequest]:
    """Install the handlers for the duration (main thread only; elsewhere signals stay as they are).

    Nested blocks share the outer block's request, so a signal that arrives while an outer
    loop is busy outside the inner one (a study between trials, an offline phase) is seen by
    the inner loop (training) at its next step.
    """
    if _active:
        yield _active[0]
        return
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = {s: signal.signal(s, request.handle) for s in signals}
    _active.append(request)
    try:
        yield request
    finally:
        _active.clear()
        for s, handler in previous.items():
            signal.signal(s, handler)
