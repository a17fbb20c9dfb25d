"""PNG figures: learning curves (paper Fig. 3) and learned-loss evolution (paper Fig. 1/4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from pipeline.io import atomic_path  # noqa: E402
from pipeline.learned.snapshot import loss_grid  # noqa: E402
from pipeline.report.collect import mean_curve  # noqa: E402


def learning_curves(path: Path, pair: str, histories: dict[str, list[list[dict[str, Any]]]], ylabel: str) -> None:
    """Validation error vs gradient step: mean over seeds with a ±1 std band, one line per method."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for method, runs in histories.items():
        steps, mean, std = mean_curve(runs, "valid_error")
        ax.plot(steps, mean, label=method, linewidth=1.6)
        ax.fill_between(steps, mean - std, mean + std, alpha=0.18)
    ax.set(title=f"{pair}: validation {ylabel}", xlabel="gradient step", ylabel=ylabel)
    finite = [h for runs in histories.values() for run in runs for h in run[1:] if h["valid_error"] is not None]
    if finite:  # the untrained model's error would squash the interesting part
        top = np.percentile([h["valid_error"] for h in finite], 98)
        ax.set_ylim(bottom=0, top=top * 1.1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)


def loss_evolution(path: Path, pair: str, method: str, task: str, snapshots: list[dict[str, Any]]) -> None:
    """The learned loss at every recorded step, coloured from the first (dark) to the last (bright) step."""
    curves = list(snapshots[0]["curves"])
    fig, axes = plt.subplots(1, len(curves), figsize=(5.2 * len(curves), 4.0), squeeze=False)
    grid = np.array(loss_grid(task))
    steps = [s["step"] for s in snapshots]
    norm = matplotlib.colors.Normalize(vmin=min(steps), vmax=max(max(steps), 1))
    cmap = matplotlib.colormaps["viridis"]
    for ax, name in zip(axes[0], curves):
        for snap in snapshots:
            ax.plot(grid, snap["curves"][name], color=cmap(norm(snap["step"])), linewidth=1.0)
        xlabel = "predicted probability p" if task == "classification" else "residual r = prediction - target"
        ax.set(title=f"{pair} {method}: loss for {name}", xlabel=xlabel, ylabel="learned loss")
        ax.grid(alpha=0.3)
    fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes[0].tolist(), label="gradient step")
    _save(fig, path)


def _save(fig: Any, path: Path) -> None:
    with atomic_path(path) as tmp:  # same name in a temporary folder: savefig still sees ".png"
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)


def optimisation_history(path: Path, title: str, trials: list[dict[str, Any]]) -> None:
    """Optuna study: each completed trial's value, pruned trials at their last reported value, best so far."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    done = [t for t in trials if t["state"] == "complete"]
    pruned = [t for t in trials if t["state"] == "pruned" and t["last_value"] is not None]
    ax.scatter([t["number"] for t in done], [t["value"] for t in done], label="complete", zorder=3)
    ax.scatter([t["number"] for t in pruned], [t["last_value"] for t in pruned], marker="x", color="grey",
               label="pruned / diverged (last reported)", zorder=2)
    ordered = sorted(done, key=lambda t: t["number"])
    if ordered:
        best = np.minimum.accumulate([t["value"] for t in ordered])
        ax.step([t["number"] for t in ordered], best, where="post", color="C3", label="best so far")
    ax.set(title=title, xlabel="trial", ylabel="final validation error")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)
