"""The transfer section (ML3's meta-test): each transferred run against the pair's baseline and
against the same method learned on the pair itself, paired per seed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.config import Params
from pipeline.report.collect import Cell, eval_records, stage_wall_times
from pipeline.report.comparisons import diff_text, test_text
from pipeline.report.paired import compare
from pipeline.report.tables import cell_text
from pipeline.training.transfer import run_name, transfer_runs
from pipeline.utils.paths import EVAL_ROOT, TIMINGS_ROOT


def transfer_cells(
    params: Params, eval_root: Path = EVAL_ROOT, timings_root: Path = TIMINGS_ROOT
) -> dict[str, dict[str, Cell]]:
    """Pair -> transferred run name -> its evaluations and training times."""
    cells: dict[str, dict[str, Cell]] = {}
    for pair, method, source in transfer_runs(params.transfer):
        name = run_name(method, source)
        cells.setdefault(pair, {})[name] = Cell(
            records=eval_records(pair, name, params.seeds, eval_root),
            train_s=stage_wall_times("transfer", f"{pair}-{method}-{source}", params.seeds, timings_root),
        )
    return cells


def transfer_comparisons(
    params: Params, cells: dict[str, dict[str, Cell]], transferred: dict[str, dict[str, Cell]]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Pair -> run name -> {"vs_baseline", "vs_<method>"}: paired test-error comparisons where the reference ran."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for pair, method, source in transfer_runs(params.transfer):
        name = run_name(method, source)
        values = {name: _errors(transferred[pair][name])}
        for reference in ("baseline", method):
            if reference in cells[pair]:
                values[reference] = _errors(cells[pair][reference])
        out.setdefault(pair, {})[name] = {f"vs_{ref}": compare(values, name, ref) for ref in values if ref != name}
    return out


def _errors(cell: Cell) -> dict[int, float | None]:
    return {r["seed"]: r["test_error"] if r["status"] == "finished" else None for r in cell.records}


def transfer_markdown(
    params: Params, transferred: dict[str, dict[str, Cell]], compared: dict[str, dict[str, dict[str, Any]]]
) -> list[str]:
    if not transferred:
        return []
    lines = [
        "## Transfer: a loss learned on another pair (ML3's meta-test)",
        "",
        "Each run trains the pair's seed-k model (its baseline's initial weights and batches) with the loss or "
        "learning rate that the method learned offline on the source pair's seed k. Test error, then the "
        "paired difference and verdict against the pair's baseline and against the method learned on the "
        "pair itself (lower is better).",
        "",
        "| pair | method | loss learned on | test error | vs baseline | verdict | vs learned in place | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for pair, method, source in transfer_runs(params.transfer):
        name = run_name(method, source)
        entry = compared[pair][name]
        cells = [cell_text(transferred[pair][name], len(params.seeds), False)]
        for key in ("vs_baseline", f"vs_{method}"):
            cells += [diff_text(entry[key]), test_text(entry[key])] if key in entry else ["–", "–"]
        lines.append(f"| {pair} | {method} | {source} | " + " | ".join(cells) + " |")
    return lines + [""]
