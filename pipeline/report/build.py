"""The report stage's pure function: read the evaluations and histories, write reports/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.config import Params
from pipeline.data.registry import DATASETS
from pipeline.fewshot import report as fewshot_report
from pipeline.methods import METHODS, has_offline_phase
from pipeline.report import l2l as l2l_report
from pipeline.report import plots
from pipeline.report.collect import (
    Cell,
    collect,
    finished_runs,
    load_histories,
    load_offline_info,
    load_snapshots,
    mean_curve,
    pair_reference,
)
from pipeline.report.comparisons import Histories, comparisons_markdown, convergence_metrics, pair_comparisons
from pipeline.report.l2l import L2L_ROOT
from pipeline.report.movement import movement_markdown, online_movement
from pipeline.report.page import write_page
from pipeline.report.tables import metrics, metrics_detail, results_markdown
from pipeline.report.transfer import transfer_cells, transfer_comparisons, transfer_markdown
from pipeline.training.exports import export_command, exports_a_loss, exports_a_rule
from pipeline.training.grid import all_inits, methods_on
from pipeline.utils.io import atomic_path, write_json, write_text
from pipeline.utils.paths import EVAL_ROOT, FEWSHOT_RESULTS, INIT_ROOT, RUNS_ROOT, TIMINGS_ROOT, TUNING_ROOT, tuning_dir

LOSS_PLOT_METHODS = ("adalfl",)  # the paper's Figure 1/4 shows AdaLFL's loss over training


def build_report(
    params: Params,
    out: Path = Path("reports"),
    eval_root: Path = EVAL_ROOT,
    runs_root: Path = RUNS_ROOT,
    tuning_root: Path = TUNING_ROOT,
    init_root: Path = INIT_ROOT,
    stamp: str = "",
    fewshot_root: Path = FEWSHOT_RESULTS,
    timings_root: Path = TIMINGS_ROOT,
    l2l_root: Path = L2L_ROOT,
) -> dict:
    cells = collect(params, eval_root, timings_root)
    histories = {
        pair: {m: load_histories(pair, m, params.seeds, runs_root) for m in methods_on(params, pair)}
        for pair in params.run.pairs
    }
    compared = {pair: pair_comparisons(cells[pair], histories[pair], params.seeds) for pair in params.run.pairs}
    convergence = convergence_metrics(compared)
    moved = {
        pair: {
            m: v
            for m in methods_on(params, pair)
            if (v := online_movement(pair, m, params.seeds, init_root, runs_root)) is not None
        }
        for pair in params.run.pairs
    }
    transferred = transfer_cells(params, eval_root, timings_root)
    for pair, row in transferred.items():
        pair_reference(cells[pair], row)
    transfer_compared = transfer_comparisons(params, cells, transferred)
    fewshot_md, fewshot_metrics = fewshot_report.section(params.fewshot, fewshot_root)
    l2l_md, l2l_figures = l2l_report.section(params.l2l.problems, l2l_root)
    table = (
        results_markdown(params, cells)
        + "\n"
        + "\n".join(
            comparisons_markdown(compared)
            + movement_markdown(moved)
            + transfer_markdown(params, transferred, transfer_compared)
            + export_markdown(params)
        )
        + (f"\n{fewshot_md}" if fewshot_md else "")
        + (f"\n{l2l_md}" if l2l_md else "")
        + (f"\n{stamp}\n" if stamp else "")
    )
    images: list[tuple[str, Path]] = []
    with atomic_path(out / "plots") as plot_dir, atomic_path(out / "curves") as curve_dir:
        plot_dir.mkdir()
        curve_dir.mkdir()
        for pair in params.run.pairs:
            images += _pair_figures(
                params, pair, cells[pair], histories[pair], convergence[pair], plot_dir, curve_dir, runs_root, init_root
            )
        images += fewshot_report.adaptation_figures(params.fewshot, fewshot_root, plot_dir)
    images = [(caption, out / "plots" / path.name) for caption, path in images] + l2l_figures
    for pair, row in cells.items():  # the Optuna study behind every tuned cell (marked † in the table)
        for method, cell in row.items():
            study_plot = tuning_dir(pair, method, tuning_root) / "history.png"
            if cell.tuned and study_plot.is_file():
                used = ", ".join(f"{k} = {v:.3g}" for k, v in cell.tuned.items())
                images.append((f"{pair}: {method} learning-rate study (Optuna; values used: {used})", study_plot))
    summary = metrics({pair: {**row, **transferred.get(pair, {})} for pair, row in cells.items()})
    if fewshot_metrics:
        summary["fewshot"] = fewshot_metrics
    write_json(out / "metrics.json", summary)
    detail = metrics_detail(cells)
    for pair, row in compared.items():
        for method, entry in row.items():
            detail[pair][method]["paired"] = entry
            if method in moved[pair]:
                detail[pair][method]["phi_relative_change"] = moved[pair][method]
    for pair, row in transferred.items():
        for name, cell in row.items():
            detail[pair][name] = {**cell.summary(), "paired": transfer_compared[pair][name]}
    write_json(out / "metrics_detail.json", detail)
    write_json(out / "convergence.json", convergence)
    write_text(out / "results.md", table)
    write_page(out / "index.html", table, images)
    return summary


def _pair_figures(
    params: Params,
    pair: str,
    cells: dict[str, Cell],
    histories: Histories,
    convergence: dict[str, dict[str, Any]],
    plot_dir: Path,
    curve_dir: Path,
    runs_root: Path,
    init_root: Path,
) -> list[tuple[str, Path]]:
    task = DATASETS[params.pairs[pair].dataset].task
    metric = "error rate" if task == "classification" else "MSE"
    diverged = {m: set(cells[m].diverged_seeds) for m in cells}
    _write_curve_csv(
        curve_dir / f"{pair}.csv", {m: finished_runs(runs, params.seeds, diverged[m]) for m, runs in histories.items()}
    )
    figures = [(f"{pair}: learning curves", plot_dir / f"{pair}_curves.png")]
    auc = {m: convergence[m]["valid_error_auc"] for m in histories}
    labels = {m: f"{m} (AUC {auc[m]:.3g})" if auc[m] is not None else m for m in histories}
    plots.learning_curves(figures[0][1], pair, histories, metric, params.seeds, diverged, labels)
    for method in (m for m in LOSS_PLOT_METHODS if m in cells):
        snapshots = {seed: load_snapshots(pair, method, seed, runs_root) for seed in params.seeds}
        if any(snapshots.values()):
            path = plot_dir / f"{pair}_{method}_loss.png"
            plots.loss_evolution(path, pair, method, task, snapshots)
            figures.append((f"{pair}: {method} learned loss over training, every seed (one row each)", path))
    offline = {init: load_offline_info(pair, init, params.seeds, init_root) for init in _offline_phases(params, pair)}
    if any(offline.values()):
        path = plot_dir / f"{pair}_offline_meta_loss.png"
        plots.offline_meta_loss(
            path, pair, {init: [i["meta_loss"] for i in infos] for init, infos in offline.items() if infos}
        )
        figures.append((f"{pair}: offline phases' meta-loss (validation task loss after the step), every seed", path))
    return figures


def export_markdown(params: Params) -> list[str]:
    """Each learned loss and update rule of the run, with the command that takes it home (``pipeline.api``)."""
    losses = [(p, m) for p in params.run.pairs for m in methods_on(params, p) if exports_a_loss(m)]
    rules = [(p, m) for p in params.run.pairs for m in methods_on(params, p) if exports_a_rule(m)]
    if not losses and not rules:
        return []
    seed = params.seeds[0]
    lines = [
        "## Take a learned loss or update rule home",
        "",
        f"Each command writes a self-contained file (seed {seed}; any seed of {list(params.seeds)} works). "
        "A loss: `pipeline.api.LearnedLoss.load(path)`, called like `nn.CrossEntropyLoss`; an update rule: "
        "`pipeline.api.LearnedOptimizer.load(path, model.named_parameters())`, stepped like a `torch.optim` "
        'optimiser (README, "Use a learned loss in your own code").',
        "",
    ]
    lines += [f"- {pair} {method} (loss): `{export_command(pair, method, seed)}`" for pair, method in losses]
    lines += [f"- {pair} {method} (update rule): `{export_command(pair, method, seed)}`" for pair, method in rules]
    return lines + [""]


def _offline_phases(params: Params, pair: str) -> list[str]:
    """The offline phases the pair's methods start from, in run.inits then run_extra.inits order."""
    return [
        i
        for i in all_inits(params)
        if has_offline_phase(i) and any(METHODS[m].init == i for m in methods_on(params, pair))
    ]


def _write_curve_csv(path: Path, runs_by_method: dict[str, list]) -> None:
    """step, then one column per method: the mean validation error over the finished seeds (DVC overlays them)."""
    empty: tuple[Any, Any, Any] = ([], [], [])
    curves = {method: mean_curve(runs, "valid_error") if runs else empty for method, runs in runs_by_method.items()}
    steps = sorted({int(s) for steps, _, _ in curves.values() for s in steps})
    columns = {method: dict(zip((int(s) for s in steps_), mean)) for method, (steps_, mean, _) in curves.items()}
    rows = ["step," + ",".join(columns)]
    for step in steps:  # a method with no finished seed leaves its cells empty
        rows.append(f"{step}," + ",".join(f"{columns[m][step]:.6g}" if step in columns[m] else "" for m in columns))
    path.write_text("\n".join(rows) + "\n")
