"""The few-shot branch's part of the report: a table per family and adaptation curves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline.fewshot.config import FewshotConfig

NOT_RUN_HERE = (
    "Omniglot 5-way 1-shot: MAML 98.7% (Finn et al. 2017); miniImageNet 5-way: MAML 48.7% / 63.1% (1 / 5 shots): "
    "not run here (the data sets need a download; Omniglot's loader is `pipeline/fewshot/pools.py`)."
)
PAPER_SINUSOID = (
    "The Meta-SGD paper's Table 1 (sinusoid MSE of MAML and Meta-SGD at 5, 10, 20 shots, arXiv 1707.09835) "
    "was not found in the stored public material searched for this report, so its numbers are not beside ours."
)


def load_results(cfg: FewshotConfig, root: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """family -> method -> the meta_test record (only those present)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for family in cfg.families:
        for method in cfg.methods:
            path = root / f"{family}-{method}.json"
            if path.is_file():
                out.setdefault(family, {})[method] = json.loads(path.read_text())
    return out


def _shots(record: dict[str, Any]) -> list[str]:
    """The record's shot counts in numeric order (JSON keys come back sorted as text: 10 before 5)."""
    return sorted(record["shots"], key=int)


def _cell(result: dict[str, Any], best: bool) -> str:
    if result["mean"] is None:
        return "diverged"
    text = f"{result['mean']:.3g} ± {result['ci95']:.2g}"
    if result["diverged_tasks"]:
        text += f" ({result['diverged_tasks']} tasks diverged)"
    return f"**{text}**" if best else text


def family_table(family: str, records: dict[str, dict[str, Any]]) -> str:
    first = next(iter(records.values()))
    shots = _shots(first)
    lines = [
        f"## Few-shot: {family} ({first['metric']} after {first['inner_steps']} inner step(s), "
        f"mean ± 95% interval over the test tasks)",
        "",
        "| method | " + " | ".join(f"K = {k}" for k in shots) + " |",
        "|---|" + "---|" * len(shots),
    ]
    sign = 1 if first["lower_is_better"] else -1
    best = {
        k: min(
            (sign * r["shots"][k]["result"]["mean"], m)
            for m, r in records.items()
            if r["shots"][k]["result"]["mean"] is not None
        )[1]
        for k in shots
    }
    for method, record in records.items():
        lines.append(
            f"| {method} | " + " | ".join(_cell(record["shots"][k]["result"], best[k] == method) for k in shots) + " |"
        )
    return "\n".join(lines)


def section(cfg: FewshotConfig, root: Path) -> tuple[str, dict[str, Any]]:
    """(markdown, metrics for `dvc exp show`): empty when the branch did not run."""
    results = load_results(cfg, root)
    if not results:
        return "", {}
    parts = [family_table(family, records) for family, records in results.items()]
    if "sinusoid" in results:
        parts.append(PAPER_SINUSOID)
    parts.append(NOT_RUN_HERE)
    metrics = {
        family: {method: {f"K{k}": s["result"]["mean"] for k, s in r["shots"].items()} for method, r in records.items()}
        for family, records in results.items()
    }
    return "\n\n".join(parts) + "\n", metrics


def adaptation_figures(cfg: FewshotConfig, root: Path, plot_dir: Path) -> list[tuple[str, Path]]:
    """One figure per family: the test metric against inner steps, a panel per K, a line per method.

    The band is the 95% interval over the test tasks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = []
    for family, records in load_results(cfg, root).items():
        shots = _shots(next(iter(records.values())))
        fig, axes = plt.subplots(1, len(shots), figsize=(4.5 * len(shots), 3.6), squeeze=False)
        first = next(iter(records.values()))
        for ax, k in zip(axes[0], shots):
            # an error curve that explodes (a rule learned for one step, applied ten times) would flatten every
            # other curve: the axis stops at 10x the worst starting error, and the legend says where a curve leaves it
            cap = (
                10 * max(r["shots"][k]["curve"][0]["mean"] or 0.0 for r in records.values())
                if first["lower_is_better"]
                else None
            )
            for method, record in records.items():
                curve = record["shots"][k]["curve"]
                steps = [i for i, c in enumerate(curve) if c["mean"] is not None and (cap is None or c["mean"] <= cap)]
                shown = (
                    steps
                    if not steps
                    else list(
                        range(steps[0], next((i for i in range(steps[0], len(curve)) if i not in steps), len(curve)))
                    )
                )
                mean = [curve[i]["mean"] for i in shown]
                half = [curve[i]["ci95"] or 0.0 for i in shown]
                left = len(shown) < len(curve)
                ax.plot(
                    shown,
                    mean,
                    marker="o",
                    ms=3,
                    label=method + (f" (off the scale after step {shown[-1]})" if left and shown else ""),
                )
                ax.fill_between(
                    shown, [m - h for m, h in zip(mean, half)], [m + h for m, h in zip(mean, half)], alpha=0.2
                )
            ax.set(title=f"{family}, K = {k}", xlabel="inner steps at meta-test", ylabel=first["metric"])
            ax.axvline(first["inner_steps"], color="grey", lw=0.8, ls=":")
            if first["lower_is_better"]:
                ax.set_yscale("log")
        for ax in axes[0]:
            ax.legend(fontsize=7)
        fig.tight_layout()
        path = plot_dir / f"fewshot_{family}_adaptation.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        figures.append(
            (
                f"few-shot {family}: test {next(iter(records.values()))['metric']} against adaptation steps "
                "(dotted: the meta-trained number of steps; band: 95% interval over tasks)",
                path,
            )
        )
    return figures
