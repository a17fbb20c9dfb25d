"""Progress lines: throttled, and an ETA from the recent speed (a slow first step does not inflate it)."""

from __future__ import annotations

import pytest

from pipeline.utils import progress
from pipeline.utils.progress import Progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(progress.time, "monotonic", fake)
    return fake


def test_eta_follows_the_recent_speed_not_a_slow_start(clock, capsys):
    bar = Progress("train", total=600, every_s=5.0)
    clock.now += 20.0  # the first 10 steps took 20 s (imports, first evaluation)
    bar.update(10, loss=1.0)
    clock.now += 2.0  # then 100 steps in 2 s: under the throttle, nothing printed
    bar.update(110, loss=0.5)
    clock.now += 5.0  # 250 steps in 7 s since the last printed line: about 36 steps/s
    bar.update(260, loss=0.4)  # ETA 340 / 35.7 = 10 s (from the start it would say 35 s; it takes 6.8 s)
    clock.now += 6.8
    bar.update(600, loss=0.3)  # the last step is always printed
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["[train] 10/600 loss 1 (20s)", "[train] 260/600 loss 0.4 (27s, eta 10s)", "[train] 600/600 loss 0.3 (34s)"]


def test_disabled_progress_prints_nothing(clock, capsys):
    bar = Progress("x", total=3, enabled=False)
    for step in (1, 2, 3):
        clock.now += 10
        bar.update(step)
    assert capsys.readouterr().err == ""
