"""The contract between a stage's per-seed job and the executors (local, process pool, Ray)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class SeedJob(Protocol):
    def __call__(self, seed: int, out: Path, inputs: Path | None = None, node: str | None = None) -> str:
        """Write the seed's output folder ``out``; return the line to print."""
        ...


@dataclass(frozen=True)
class SeedDone:
    seed: int
    summary: str  # the job's line
    node: str | None  # the Ray node that ran it; None in the stage's own process
