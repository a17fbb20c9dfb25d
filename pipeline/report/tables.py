"""reports/metrics.json (for `dvc exp show`) and the Table-1-style reports/results.md."""

from __future__ import annotations

from typing import Any

from pipeline.config import Params
from pipeline.report.collect import Cell
from pipeline.report.health import offline_divergence
from pipeline.report.paper import PAPER_DATASET, TABLE1
from pipeline.training.grid import all_methods

NOT_RUN = "·"  # a method the pair does not train (run_extra lists it on other pairs only)

PAPER_METHODS = ("baseline", "ml3", "adalfl")


def metrics(cells: dict[str, dict[str, Cell]]) -> dict[str, dict[str, float | None]]:
    """reports/metrics.json: what `dvc exp show` leads with, the mean test error per pair x method."""
    return {
        pair: {method: cell.summary()["test_error_mean"] for method, cell in row.items()} for pair, row in cells.items()
    }


def metrics_detail(cells: dict[str, dict[str, Cell]]) -> dict[str, dict[str, dict[str, Any]]]:
    """reports/metrics_detail.json: std, 95% interval, seed counts, flags and wall times behind the headline."""
    return {pair: {method: cell.summary() for method, cell in row.items()} for pair, row in cells.items()}


def cell_text(cell: Cell, n_seeds: int, best: bool) -> str:
    summary = cell.summary()
    if summary["n_seeds"] == 0:
        text = "diverged"
    else:
        text = f"{summary['test_error_mean']:.4f} ± {summary['test_error_std']:.4f}"
        text = f"**{text}**" if best else text
        if summary["test_error_ci95"] is not None:
            text += f" (CI ±{summary['test_error_ci95']:.4f})"
    if cell.diverged_seeds:
        seeds = ", ".join(_diverged_seed(r) for r in cell.diverged)
        text += f" ({summary['n_seeds']}/{n_seeds} finished; diverged: seed {seeds})"
    if cell.absurd_seeds:
        text += f" ⚠ no better than trivial: seed {', '.join(str(s) for s in cell.absurd_seeds)}"
    if cell.collapsed_seeds:
        text += f" ▼ collapsed: seed {', '.join(str(s) for s in cell.collapsed_seeds)}"
    return text + (" †" if cell.tuned else "")


def _diverged_seed(record: dict[str, Any]) -> str:
    """A diverged seed, and where its offline phase diverged if the run never started."""
    where = offline_divergence(record)
    return str(record["seed"]) if where is None else f"{record['seed']} ({where})"


def tuned_notes(cells: dict[str, dict[str, Cell]]) -> list[str]:
    """One footnote line per tuned (pair, method), with the values its runs used."""
    notes = []
    for pair, row in cells.items():
        for method, cell in row.items():
            if cell.tuned:
                values = ", ".join(f"{k} = {v:.3g}" for k, v in cell.tuned.items())
                notes.append(
                    f"† {pair} {method}: learning rates tuned by Optuna ({values}; the study and the error "
                    f"it was ranked by in reports/tuning/{pair}/{method}/result.json)"
                )
    return notes


def results_markdown(params: Params, cells: dict[str, dict[str, Cell]]) -> str:
    methods = list(all_methods(params))
    paper_cols = [m for m in PAPER_METHODS if m in methods]
    header = ["task", "model", *methods, *[f"paper {m}" for m in paper_cols]]
    lines = [
        "# Results",
        "",
        f"Final test error: mean ± std (population std) over seeds {list(params.seeds)}, and the half-width of "
        "the mean's 95% confidence interval (Student's t); "
        "mean squared error on [0, 1]-scaled targets for regression, error rate for classification. "
        "Best mean per row in bold. The paper's columns are its Table 1 (10 seeds, full budgets); "
        "MNIST-5k rows show the paper's full-MNIST numbers (60k training images there, 3,600 here); "
        "pairs that are not in the paper (Digits stands in for MNIST offline) have none. "
        "⚠ marks finished seeds no better than a trivial predictor (the training mean / majority class); "
        "▼ marks collapsed ones, which lost at least half of the same seed's baseline margin over that "
        "predictor (pipeline/report/health.py)."
        + (
            f" {NOT_RUN} marks a method the pair does not train "
            f"(run_extra trains it on {', '.join(params.run_extra.pairs)} "
            "only)."
            if params.run_extra.pairs
            else ""
        ),
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for pair, row in cells.items():
        cfg = params.pairs[pair]
        means = {m: c.summary()["test_error_mean"] for m, c in row.items()}
        finite = [v for v in means.values() if v is not None]
        best = min(finite) if finite else None
        texts = [
            cell_text(row[m], len(params.seeds), means[m] is not None and means[m] == best) if m in row else NOT_RUN
            for m in methods
        ]
        paper = TABLE1.get((PAPER_DATASET.get(cfg.dataset, cfg.dataset), cfg.model), {})
        paper_texts = [f"{paper[m][0]:.4f} ± {paper[m][1]:.4f}" if m in paper else "–" for m in paper_cols]
        lines.append("| " + " | ".join([cfg.dataset, cfg.model, *texts, *paper_texts]) + " |")
    lines += ["", "Budgets: " + "; ".join(f"{p} {params.pairs[p].steps} steps" for p in cells), ""]
    lines += wall_time_table(params, cells)
    notes = tuned_notes(cells)
    lines += [*notes, ""] if notes else ["Every run used the learning rates in params.yaml (no tuned values).", ""]
    return "\n".join(lines)


def wall_time_table(params: Params, cells: dict[str, dict[str, Cell]]) -> list[str]:
    """Mean seconds per seed: offline phase + training (the offline phase is shared by methods that start from it)."""
    methods = list(all_methods(params))
    lines = [
        "Wall time per seed in seconds, offline phase + training (methods that start from the same offline "
        "phase share it; it runs once per pair and seed):",
        "",
        "| pair | " + " | ".join(methods) + " |",
        "|" + "---|" * (len(methods) + 1),
    ]
    for pair, row in cells.items():
        texts = []
        for method in methods:
            if method not in row:
                texts.append(NOT_RUN)
                continue
            times = row[method].wall_times()
            train = f"{times['train_s']:.1f}" if times["train_s"] is not None else "–"
            texts.append(f"{times['offline_s']:.1f} + {train}" if times["offline_s"] is not None else train)
        lines.append(f"| {pair} | " + " | ".join(texts) + " |")
    return lines + [""]
