"""Progress lines for long loops: at most one line every few seconds, plus the last step."""

from __future__ import annotations

import sys
import time


class Progress:
    """The ETA uses the speed since the previous line, not since the start: the first steps
    carry one-off costs (imports, first evaluation, allocator warm-up) that made the first
    estimate many times too long; the first line therefore shows no ETA."""

    def __init__(self, label: str, total: int, every_s: float = 5.0, enabled: bool = True) -> None:
        self.label, self.total, self.every_s, self.enabled = label, total, every_s, enabled
        self.start = self.last = time.monotonic()
        self.last_step: int | None = None

    def update(self, step: int, **values: float | None) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < self.every_s and step != self.total):
            return
        shown = " ".join(f"{k} {v:.4g}" for k, v in values.items() if v is not None)
        print(
            f"[{self.label}] {step}/{self.total} {shown} ({now - self.start:.0f}s{self._eta(step, now)})",
            file=sys.stderr,
            flush=True,
        )
        self.last, self.last_step = now, step

    def _eta(self, step: int, now: float) -> str:
        if self.last_step is None or step <= self.last_step or step >= self.total:
            return ""
        rate = (step - self.last_step) / max(now - self.last, 1e-9)
        return f", eta {(self.total - step) / rate:.0f}s"
