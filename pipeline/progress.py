"""Progress lines for long loops: at most one line every few seconds, plus the last step."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, label: str, total: int, every_s: float = 5.0, enabled: bool = True) -> None:
        self.label, self.total, self.every_s, self.enabled = label, total, every_s, enabled
        self.start = self.last = time.monotonic()

    def update(self, step: int, **values: float) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < self.every_s and step != self.total):
            return
        self.last = now
        shown = " ".join(f"{k} {v:.4g}" for k, v in values.items())
        rate = step / max(now - self.start, 1e-9)
        eta = (self.total - step) / rate if rate > 0 else 0.0
        print(f"[{self.label}] {step}/{self.total} {shown} ({now - self.start:.0f}s, eta {eta:.0f}s)", file=sys.stderr, flush=True)
