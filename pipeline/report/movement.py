"""How far the online phase moves the learned representation: does it do anything?

For a method with an offline and an online phase (AdaLFL, Meta-LR, the Taylor losses, the
learned update rules), phi after the offline phase (``data/init/<pair>/<init>/seed<k>/state.pt``)
against phi after training (``data/runs/<pair>/<method>/seed<k>/learned.pt``): the relative
change ||phi_T - phi_0|| / ||phi_0|| over all of phi's tensors. ML3 (no online phase) moves 0.
"""

from __future__ import annotations

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
        start, end = (
            init_dir(pair, spec.init, seed, init_root) / "state.pt",
            run_dir(pair, method, seed, runs_root) / "learned.pt",
        )
        if not (start.is_file() and end.is_file()):  # a tuned method ran its own offline phase: no shared start
            moved[seed] = None
            continue
        moved[seed] = relative_change(_load(start), _load(end))
    return moved


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
