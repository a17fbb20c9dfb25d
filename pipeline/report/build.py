"""The report stage's pure function: read the evaluations and histories, write reports/."""

from __future__ import annotations

from pathlib import Path

from pipeline.artifacts import EVAL_ROOT, RUNS_ROOT
from pipeline.config import Params
from pipeline.data.registry import DATASETS
from pipeline.io import atomic_path, write_json, write_text
from pipeline.report import plots
from pipeline.report.collect import collect, load_histories, load_snapshots, mean_curve
from pipeline.report.page import write_page
from pipeline.report.tables import metrics, results_markdown
from pipeline.tuning.files import TUNING_ROOT, tuning_dir

LOSS_PLOT_METHODS = ("adalfl",)  # the paper's Figure 1/4 shows AdaLFL's loss over training


def build_report(params: Params, out: Path = Path("reports"), eval_root: Path = EVAL_ROOT, runs_root: Path = RUNS_ROOT,
                 tuning_root: Path = TUNING_ROOT) -> dict:
    cells = collect(params, eval_root)
    table = results_markdown(params, cells)
    images: list[tuple[str, Path]] = []
    with atomic_path(out / "plots") as plot_dir, atomic_path(out / "curves") as curve_dir:
        plot_dir.mkdir()
        curve_dir.mkdir()
        for pair in params.run.pairs:
            images += _pair_figures(params, pair, plot_dir, curve_dir, runs_root)
    images = [(caption, out / "plots" / path.name) for caption, path in images]
    for pair, row in cells.items():  # the Optuna study behind every tuned cell (marked † in the table)
        for method, cell in row.items():
            study_plot = tuning_dir(pair, method, tuning_root) / "history.png"
            if cell.tuned and study_plot.is_file():
                used = ", ".join(f"{k} = {v:.3g}" for k, v in cell.tuned.items())
                images.append((f"{pair}: {method} learning-rate study (Optuna; values used: {used})", study_plot))
    summary = metrics(cells)
    write_json(out / "metrics.json", summary)
    write_text(out / "results.md", table)
    write_page(out / "index.html", table, images)
    return summary


def _pair_figures(params: Params, pair: str, plot_dir: Path, curve_dir: Path, runs_root: Path) -> list[tuple[str, Path]]:
    task = DATASETS[params.pairs[pair].dataset].task
    metric = "error rate" if task == "classification" else "MSE"
    histories = {m: load_histories(pair, m, params.seeds, runs_root) for m in params.run.methods}
    for method, runs in histories.items():
        _write_curve_csv(curve_dir / f"{pair}__{method}.csv", runs)
    figures = [(f"{pair}: learning curves", plot_dir / f"{pair}_curves.png")]
    plots.learning_curves(figures[0][1], pair, histories, metric)
    for method in (m for m in LOSS_PLOT_METHODS if m in params.run.methods):
        snapshots = load_snapshots(pair, method, params.seeds[0], runs_root)
        if snapshots:
            path = plot_dir / f"{pair}_{method}_loss.png"
            plots.loss_evolution(path, pair, method, task, snapshots)
            figures.append((f"{pair}: {method} learned loss over training (seed {params.seeds[0]})", path))
    return figures


def _write_curve_csv(path: Path, runs: list) -> None:
    steps, valid_mean, _ = mean_curve(runs, "valid_error")
    _, train_mean, _ = mean_curve(runs, "train_error")
    rows = ["step,valid_error,train_error"] + [f"{s},{v:.6g},{t:.6g}" for s, v, t in zip(steps, valid_mean, train_mean)]
    path.write_text("\n".join(rows) + "\n")


