"""The report's paired comparisons: every method against the baseline (and AdaLFL against ML3),
per seed, in final test error and in convergence speed (pipeline.report.paired)."""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.report.collect import Cell
from pipeline.report.paired import compare, convergence, mean_of, verdict_p

Histories = dict[str, list[list[dict[str, Any]]]]


def references(methods: list[str]) -> list[tuple[str, str]]:
    """(method, reference) pairs to compare: each method against the baseline, AdaLFL against ML3."""
    pairs = [(m, "baseline") for m in methods if m != "baseline"] if "baseline" in methods else []
    return pairs + ([("adalfl", "ml3")] if {"adalfl", "ml3"} <= set(methods) else [])


def pair_comparisons(cells: dict[str, Cell], histories: Histories, seeds: tuple[int, ...]) -> dict[str, Any]:
    """method -> its convergence per seed and its paired comparisons (``vs_<reference>``)."""
    finished = {
        m: {r["seed"]: r["test_error"] if r["status"] == "finished" else None for r in cell.records}
        for m, cell in cells.items()
    }
    speed = convergence(histories, seeds)
    for method, per_seed in speed.items():  # a diverged run's curve stops early: its area means nothing
        per_seed["auc"] = {s: (v if finished[method].get(s) is not None else None) for s, v in per_seed["auc"].items()}
    auc = {m: speed[m]["auc"] for m in speed}
    out: dict[str, Any] = {m: {"convergence": speed[m]} for m in cells}
    for method, reference in references(list(cells)):
        out[method][f"vs_{reference}"] = {
            "test_error": compare(finished, method, reference),
            "auc": compare(auc, method, reference),
        }
    return out


def convergence_metrics(comparisons: dict[str, dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """reports/convergence.json for `dvc exp show`: mean AUC and the paired verdicts per pair x method."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for pair, row in comparisons.items():
        for method, entry in row.items():
            record: dict[str, Any] = {"valid_error_auc": mean_of(entry["convergence"]["auc"])}
            for key, value in entry.items():
                if key.startswith("vs_"):
                    record[f"{key}_test_error"] = value["test_error"]["verdict"]
                    record[f"{key}_test_error_p"] = verdict_p(value["test_error"])
                    record[f"{key}_auc"] = value["auc"]["verdict"]
                    record[f"{key}_auc_p"] = verdict_p(value["auc"])
            out.setdefault(pair, {})[method] = record
    return out


def diff_text(result: dict[str, Any]) -> str:
    if result["n"] == 0:
        return "–"
    if result["ci95"] is None:
        return f"{result['mean_diff']:+.4f}"
    low, high = result["ci95"]
    return f"{result['mean_diff']:+.4f} [{low:+.4f}, {high:+.4f}]"


def test_text(result: dict[str, Any]) -> str:
    p = verdict_p(result)
    if p is None:
        return f"– (n={result['n']})"
    mark = {"better": "**better**", "worse": "*worse*"}.get(result["verdict"], "level")
    return f"{mark} (p={p:.3g}, {'Wilcoxon' if result['test'] == 'wilcoxon' else 't'}, n={result['n']})"


def _reach_text(steps: dict[int, int | None]) -> str:
    reached = [s for s in steps.values() if s is not None]
    never = len(steps) - len(reached)
    if not reached:
        return "never"
    return f"step {int(np.median(reached))} (median of {len(reached)})" + (f", never on {never}" if never else "")


def comparisons_markdown(comparisons: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "## Paired comparisons",
        "",
        "Per seed (the methods share initial weights and batches), method minus reference: mean difference "
        "[95% interval], the paired test's verdict at 5% (paired t-test below 6 seeds, where Wilcoxon's "
        "signed-rank test cannot reach 5%; Wilcoxon from 6 on) and the seeds it rests on. Lower is better. "
        "AUC: the area under the validation-error curve divided by the steps, i.e. the mean validation "
        "error over training (lower: converges faster). Reach: the first evaluated step at which the run's "
        "validation error is at or below the baseline's final one on the same seed.",
        "",
        "| pair | method | vs | Δ test error | verdict | Δ AUC | verdict | reaches baseline's final |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for pair, row in comparisons.items():
        for method, entry in row.items():
            for key, value in entry.items():
                if key.startswith("vs_"):
                    lines.append(
                        f"| {pair} | {method} | {key[3:]} | {diff_text(value['test_error'])} | "
                        f"{test_text(value['test_error'])} | {diff_text(value['auc'])} | "
                        f"{test_text(value['auc'])} | "
                        f"{_reach_text(entry['convergence']['steps_to_reference_final'])} |"
                    )
    return lines + [""]
