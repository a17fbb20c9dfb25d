"""Paired, per-seed comparisons of methods, and how fast each run converges.

Seeds share initial weights and data order across methods, so the unit of comparison is the
seed: the difference method - reference on the same seed. For each comparison: the mean
difference with its 95% interval (Student's t), a paired test and a verdict at 5%: ``better``
(lower error), ``level`` or ``worse``.

Which test: Wilcoxon's signed-rank test assumes nothing about the differences' distribution,
but its smallest two-sided p-value with n seeds is 2 / 2^n (0.25 at n = 3, 0.0625 at n = 5):
below 6 seeds it can never reach 5%. So the verdict uses Wilcoxon from 6 seeds on, and the
paired t-test (differences assumed normal) below; both p-values are reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

ALPHA = 0.05
WILCOXON_MIN_SEEDS = 6


def paired_test(differences: Sequence[float]) -> dict[str, Any]:
    """Mean difference, its 95% interval, both p-values and the verdict (lower is better)."""
    diff = np.asarray(differences, dtype=float)
    n = len(diff)
    result: dict[str, Any] = {
        "n": n,
        "mean_diff": float(diff.mean()) if n else None,
        "ci95": None,
        "p_t": None,
        "p_wilcoxon": None,
        "test": None,
        "verdict": "level",
    }
    if n < 2:
        return result
    sd = diff.std(ddof=1)
    half = float(stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n))
    result["ci95"] = [float(diff.mean() - half), float(diff.mean() + half)]
    if np.allclose(diff, diff[0], rtol=1e-9, atol=1e-15):  # every seed differs by the same amount: no variance
        result["p_t"] = 1.0 if diff.mean() == 0 else 0.0
    else:
        result["p_t"] = float(stats.ttest_1samp(diff, 0.0).pvalue)
    result["p_wilcoxon"] = 1.0 if not np.any(diff != 0) else float(stats.wilcoxon(diff).pvalue)
    result["test"] = "wilcoxon" if n >= WILCOXON_MIN_SEEDS else "t"
    p = verdict_p(result)
    if p is not None and p < ALPHA and diff.mean() != 0:
        result["verdict"] = "better" if diff.mean() < 0 else "worse"
    return result


def verdict_p(result: dict[str, Any]) -> float | None:
    """The p-value the verdict rests on: Wilcoxon's from 6 seeds on, the t-test's below (None below 2)."""
    return result["p_wilcoxon"] if result["test"] == "wilcoxon" else result["p_t"]


def mean_of(values: dict[int, float | None]) -> float | None:
    """Mean over the seeds that have a value (a diverged run has none); None when no seed has one."""
    kept = [v for v in values.values() if v is not None]
    return float(np.mean(kept)) if kept else None


def curve_auc(history: list[dict[str, Any]], key: str = "valid_error") -> float | None:
    """Area under the validation-error curve divided by the steps it spans: the mean error over training."""
    points = [(row["step"], row[key]) for row in history if row.get(key) is not None]
    if len(points) < 2:
        return None
    steps, values = np.array(points, dtype=float).T
    return float(np.trapezoid(values, steps) / (steps[-1] - steps[0]))


def steps_to_reach(history: list[dict[str, Any]], target: float, key: str = "valid_error") -> int | None:
    """The first evaluated step at which the error is at or below ``target``; None: never."""
    return next((int(row["step"]) for row in history if row.get(key) is not None and row[key] <= target), None)


def final_value(history: list[dict[str, Any]], key: str = "valid_error") -> float | None:
    values = [row[key] for row in history if row.get(key) is not None]
    return float(values[-1]) if values else None


def compare(values: dict[str, dict[int, float | None]], method: str, reference: str) -> dict[str, Any]:
    """``method`` against ``reference`` on the seeds where both have a value (a diverged run has none)."""
    seeds = sorted(s for s in values[method] if values[method][s] is not None and values[reference].get(s) is not None)
    result = paired_test([values[method][s] - values[reference][s] for s in seeds])  # type: ignore[operator]
    result["seeds"] = seeds
    result["left_out"] = sorted(set(values[method]) - set(seeds))
    return result


def convergence(
    histories: dict[str, list[list[dict[str, Any]]]], seeds: Sequence[int], reference: str = "baseline"
) -> dict[str, dict[str, Any]]:
    """Per method: each seed's AUC and the first step at which it reaches the reference's final
    validation error on the same seed (``None``: never)."""
    targets = {s: final_value(h) for s, h in zip(seeds, histories.get(reference, []))}
    out: dict[str, dict[str, Any]] = {}
    for method, runs in histories.items():
        auc = {s: curve_auc(h) for s, h in zip(seeds, runs)}
        reach = {s: steps_to_reach(h, t) if (t := targets.get(s)) is not None else None for s, h in zip(seeds, runs)}
        out[method] = {"auc": auc, "steps_to_reference_final": reach}
    return out
