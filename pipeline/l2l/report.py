"""The L2L benchmark's outputs: loss-vs-step curves with a band over instances, and a table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

LABELS = {"lstm": "LSTM (learned)", "sgd": "SGD", "nesterov": "Nesterov", "rmsprop": "RMSprop", "adam": "Adam"}


def curves_figure(path: Path, result: dict[str, Any]) -> None:
    """Mean training loss per step, +- one standard deviation over the evaluation instances, log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2), constrained_layout=True)
    for method, summary in result["methods"].items():
        mean, std = summary["mean"], summary["std"]
        steps = range(len(mean))
        lower = [max(m - s, min(mean) * 1e-3) for m, s in zip(mean, std)]
        label = LABELS.get(method, method) + (
            f" (lr {result['tuned_lr'][method]:g})" if method in result["tuned_lr"] else ""
        )
        ax.plot(steps, mean, lw=2 if method == "lstm" else 1.2, label=label)
        ax.fill_between(steps, lower, [m + s for m, s in zip(mean, std)], alpha=0.15)
    ax.set_yscale("log")
    ax.set(
        xlabel="optimisee step",
        ylabel="training loss",
        title=f"L2L benchmark: {result['problem']} ({len(result['seeds'])} instances)",
    )
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def table(result: dict[str, Any]) -> str:
    """Final loss (mean +- std over instances) per optimiser, best in bold."""
    finals = {m: s["final_mean"] for m, s in result["methods"].items()}
    best = min(finals, key=finals.get)  # type: ignore[arg-type]
    lines = [
        f"L2L benchmark `{result['problem']}`: training loss after {result['steps']} steps, mean ± std over "
        f"{len(result['seeds'])} fresh instances; the LSTM was meta-trained on `{result['trained_on']}`; "
        f"hand-designed learning rates tuned on other instances.",
        "",
        "| optimiser | learning rate | final loss |",
        "|---|---|---|",
    ]
    for method, summary in result["methods"].items():
        cell = f"{summary['final_mean']:.4g} ± {summary['final_std']:.2g}"
        lr = f"{result['tuned_lr'][method]:g}" if method in result["tuned_lr"] else "learned"
        lines.append(f"| {LABELS.get(method, method)} | {lr} | {'**' + cell + '**' if method == best else cell} |")
    return "\n".join(lines) + "\n"
