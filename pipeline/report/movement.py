"""How far the online phase moves the learned representation: does it do anything?

For a method with an offline and an online phase (AdaLFL, Meta-LR, the Taylor losses, the
learned update rules), phi after the offline phase against phi after training
(``data/runs/<pair>/<method>/seed<k>/learned.pt``): the relative change ||phi_T - phi_0|| / ||phi_0||
over all of phi's tensors. ML3 (no online phase) moves 0. The offline phase's phi is the shared
init_loss output (``data/init/<pair>/<init>/seed<k>/state.pt``), except for a tuned method, which ran
its own offline phase with its tuned values and saved where it started in its run folder
(``start.pt``). Tuned runs saved before runs kept their start have no phi_0 to measure from (None):
before that, the report measured them from the shared init, which they never started from.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from pipeline.methods import METHODS
from pipeline.utils.paths import INIT_ROOT, RUNS_ROOT, init_dir, run_dir


def relative_change(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor]) -> float | None:
    """||after - before|| / ||before|| over every tensor; None when the two do not match (or phi is empty)."""
    if before.keys() != after.keys() or not before:
        return None
    if any(before[k].shape != after[k].shape for k in before):
        return None
    delta = sum(float((after[k].double() - before[k].double()).pow(2).sum()) for k in before)
    norm = sum(float(before[k].double().pow(2).sum()) for k in before)
    return float(np.sqrt(delta / norm)) if norm > 0 else None


def online_movement(
    pair: str, method: str, seeds: tuple[int, ...], init_root: Path = INIT_ROOT, runs_root: Path = RUNS_ROOT
) -> dict[int, float | None] | None:
    """Seed -> relative change of phi over the online phase; None for a method without both phases."""
    spec = METHODS[method]
    if not spec.online or not spec.has_offline_phase:
        return None
    moved: dict[int, float | None] = {}
    for seed in seeds:
        run = run_dir(pair, method, seed, runs_root)
        start, end = online_start(run, init_dir(pair, spec.init, seed, init_root)), run / "learned.pt"
        if start is None or not (start.is_file() and end.is_file()):
            moved[seed] = None
            continue
        moved[seed] = relative_change(_load(start), _load(end))
    return moved


def online_start(run: Path, shared_init: Path) -> Path | None:
    """Where the run's online phase started: its own start.pt, else (an untuned run) the shared init's state;
    None for a tuned run without start.pt (saved before runs kept it: it never started from the shared init)."""
    if (run / "start.pt").is_file():
        return run / "start.pt"
    result = run / "result.json"
    if result.is_file() and json.loads(result.read_text()).get("tuned"):
        return None
    return shared_init / "state.pt"


def _load(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True, map_location="cpu")


def movement_markdown(moved: dict[str, dict[str, dict[int, float | None]]]) -> list[str]:
    """One row per pair and method with an online phase: the relative change of phi per seed."""
    rows = [(pair, method, values) for pair, row in moved.items() for method, values in row.items()]
    if not rows:
        return []
    lines = [
        "## How far the online phase moves phi",
        "",
        "The relative change ‖φ_T − φ_0‖ / ‖φ_0‖: the learned representation after training against where the offline "
        "phase left it, per seed (0: the online phase changed nothing; ML3 is AdaLFL without it).",
        "",
        "| pair | method | relative change per seed | mean |",
        "|---|---|---|---|",
    ]
    for pair, method, values in rows:
        kept = [v for v in values.values() if v is not None]
        per_seed = ", ".join(f"{v:.3g}" if v is not None else "–" for v in values.values())
        lines.append(
            f"| {pair} | {method} | {per_seed} | {np.mean(kept):.3g} |"
            if kept
            else f"| {pair} | {method} | {per_seed} | – |"
        )
    return lines + [""]
