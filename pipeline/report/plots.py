"""PNG figures: learning curves (paper Fig. 3) and learned-loss evolution (paper Fig. 1/4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

from pipeline.learned.snapshot import loss_grid  # noqa: E402
from pipeline.report.collect import finished_runs, mean_curve  # noqa: E402
from pipeline.utils.io import atomic_path  # noqa: E402


def learning_curves(
    path: Path,
    pair: str,
    histories: dict[str, list[list[dict[str, Any]]]],
    ylabel: str,
    seeds: tuple[int, ...],
    diverged: dict[str, set[int]],
    labels: dict[str, str] | None = None,
) -> tuple[float, float, str]:
    """Validation error vs gradient step: mean over the finished seeds with a ±1 std band, one line per method.

    A diverged seed is drawn on its own (dashed, thin) up to its last finite error and marked with an x where it
    stopped; the y-range follows the finished runs (log scale when their errors span more than a decade), so
    one run that blew up cannot flatten every other curve.
    """
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    kept_values: list[float] = []
    for index, (method, runs) in enumerate(histories.items()):
        colour = f"C{index % 10}"
        finished = finished_runs(runs, seeds, diverged.get(method, set()))
        if finished:
            steps, mean, std = mean_curve(finished, "valid_error")
            ax.plot(steps, mean, label=(labels or {}).get(method, method), linewidth=1.6, color=colour)
            ax.fill_between(steps, mean - std, mean + std, alpha=0.18, color=colour)
            kept_values += [h["valid_error"] for run in finished for h in run[1:] if h["valid_error"] is not None]
        for seed, run in zip(seeds, runs):
            if seed in diverged.get(method, set()):
                _diverged_run(ax, run, colour, f"{method} seed {seed} (diverged)")
    _error_axis(ax, kept_values)
    ax.set(title=f"{pair}: validation {ylabel}", xlabel="gradient step", ylabel=ylabel)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    shown = (*ax.get_ylim(), ax.get_yscale())
    _save(fig, path)
    return shown  # (bottom, top, scale) of the y-axis, for the tests


def _diverged_run(ax: Any, run: list[dict[str, Any]], colour: str, label: str) -> None:
    points = [
        (h["step"], h["valid_error"]) for h in run if h["valid_error"] is not None and np.isfinite(h["valid_error"])
    ]
    if not points:
        return
    steps, values = zip(*points)
    ax.plot(steps, values, linestyle="--", linewidth=0.9, color=colour, label=label)
    ax.plot(steps[-1], values[-1], marker="x", markersize=9, color=colour)


def _error_axis(ax: Any, values: list[float]) -> None:
    """Limits from the finished runs only (the untrained model's error and diverged runs would squash the rest)."""
    positive = [v for v in values if v > 0 and np.isfinite(v)]
    if not positive:
        return
    low, high = np.percentile(positive, 1), np.percentile(positive, 98)
    if high / low > 10:  # errors that span decades: only a log axis shows them all
        ax.set_yscale("log")
        ax.set_ylim(bottom=low / 1.5, top=high * 1.5)
    else:
        ax.set_ylim(bottom=0, top=high * 1.1)


def loss_evolution(path: Path, pair: str, method: str, task: str, snapshots: dict[int, list[dict[str, Any]]]) -> None:
    """The learned loss at every recorded step (dark: first, bright: last), one row per seed."""
    seeds = [seed for seed, snaps in snapshots.items() if snaps]
    curves = list(snapshots[seeds[0]][0]["curves"])
    fig, axes = plt.subplots(
        len(seeds), len(curves), figsize=(4.6 * len(curves), 3.2 * len(seeds)), squeeze=False, layout="constrained"
    )  # rows of panels without titles running into the labels above
    grid = np.array(loss_grid(task))
    steps = [s["step"] for seed in seeds for s in snapshots[seed]]
    norm = matplotlib.colors.Normalize(vmin=min(steps), vmax=max(max(steps), 1))
    cmap = matplotlib.colormaps["viridis"]
    xlabel = "predicted probability p" if task == "classification" else "residual r = prediction - target"
    for row, seed in zip(axes, seeds):
        for ax, name in zip(row, curves):
            for snap in snapshots[seed]:
                ax.plot(grid, snap["curves"][name], color=cmap(norm(snap["step"])), linewidth=1.0)
            ax.set(title=f"seed {seed}: {name}", xlabel=xlabel, ylabel="learned loss")
            ax.grid(alpha=0.3)
    fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes.ravel().tolist(), label="gradient step")
    fig.suptitle(f"{pair}: {method}'s learned loss over training")
    _save(fig, path)


def offline_meta_loss(path: Path, pair: str, curves: dict[str, list[list[float]]]) -> None:
    """Each offline phase's meta-loss per step (thin) and its running mean over 5% of the steps (bold), per seed."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for index, (init, runs) in enumerate(curves.items()):
        for seed_index, values in enumerate(runs):
            if not values:
                continue
            window = max(1, len(values) // 20)
            smooth = np.convolve(values, np.ones(window) / window, mode="valid")
            ax.plot(np.arange(len(values)), values, color=f"C{index}", alpha=0.15, linewidth=0.6)
            ax.plot(
                np.arange(window - 1, len(values)),
                smooth,
                color=f"C{index}",
                linewidth=1.4,
                label=init if seed_index == 0 else None,
            )
    ax.set(title=f"{pair}: offline meta-loss", xlabel="meta step", ylabel="meta-loss")
    positive = [v for runs in curves.values() for values in runs for v in values if v > 0 and np.isfinite(v)]
    if positive and max(positive) / min(positive) > 10:
        ax.set_yscale("log")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    _save(fig, path)


def _save(fig: Any, path: Path) -> None:
    with atomic_path(path) as tmp:  # same name in a temporary folder: savefig still sees ".png"
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)


def optimisation_history(
    path: Path, title: str, trials: list[dict[str, Any]], objective: str = "final validation error"
) -> None:
    """Optuna study: each completed trial's value, pruned trials at their last reported value, best so far."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    done = [t for t in trials if t["state"] == "complete"]
    pruned = [t for t in trials if t["state"] == "pruned" and t["last_value"] is not None]
    ax.scatter([t["number"] for t in done], [t["value"] for t in done], label="complete", zorder=3)
    ax.scatter(
        [t["number"] for t in pruned],
        [t["last_value"] for t in pruned],
        marker="x",
        color="grey",
        label="pruned / diverged (last reported)",
        zorder=2,
    )
    ordered = sorted(done, key=lambda t: t["number"])
    if ordered:
        best = np.minimum.accumulate([t["value"] for t in ordered])
        ax.step([t["number"] for t in ordered], best, where="post", color="C3", label="best so far")
    ax.set(title=title, xlabel="trial", ylabel=objective.split(",")[0])  # "final holdout error, mean over ..."
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))  # trials are numbered, never fractional
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)
