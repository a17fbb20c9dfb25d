"""Paired statistics checked against hand-computed references and scipy's own tests."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from pipeline.report.comparisons import comparisons_markdown, convergence_metrics, pair_comparisons, references
from pipeline.report.collect import Cell
from pipeline.report.paired import compare, curve_auc, paired_test, steps_to_reach


def test_t_verdict_below_six_seeds_matches_a_hand_computed_t_test():
    diffs = [-0.02, -0.03, -0.025]
    result = paired_test(diffs)
    mean, sd = sum(diffs) / 3, math.sqrt(sum((d + 0.025) ** 2 for d in diffs) / 2)
    t = mean / (sd / math.sqrt(3))
    assert result["mean_diff"] == pytest.approx(mean)
    assert result["p_t"] == pytest.approx(2 * stats.t.sf(abs(t), 2))
    half = stats.t.ppf(0.975, 2) * sd / math.sqrt(3)
    assert result["ci95"] == pytest.approx([mean - half, mean + half])
    assert result["test"] == "t" and result["verdict"] == "better"
    assert result["p_wilcoxon"] == pytest.approx(0.25)  # 2 / 2^3: Wilcoxon cannot reach 5% on 3 seeds


def test_wilcoxon_decides_from_six_seeds_and_worse_means_higher_error():
    diffs = [0.01, 0.02, 0.015, 0.03, 0.005, 0.012]
    result = paired_test(diffs)
    assert result["test"] == "wilcoxon" and result["p_wilcoxon"] == pytest.approx(2 / 2 ** 6)
    assert result["verdict"] == "worse"


def test_noisy_or_tiny_samples_are_level():
    assert paired_test([0.01, -0.02, 0.015])["verdict"] == "level"
    assert paired_test([0.01])["verdict"] == "level" and paired_test([0.01])["p_t"] is None
    assert paired_test([0.0, 0.0, 0.0])["verdict"] == "level"


def test_compare_pairs_seeds_and_leaves_out_a_diverged_one():
    values = {"m": {0: 0.1, 1: None, 2: 0.3}, "baseline": {0: 0.2, 1: 0.2, 2: 0.2}}
    result = compare(values, "m", "baseline")
    assert result["seeds"] == [0, 2] and result["left_out"] == [1]
    assert result["mean_diff"] == pytest.approx(0.0)


def test_auc_is_the_mean_error_over_training_and_reach_finds_the_first_step():
    history = [{"step": 0, "valid_error": 1.0}, {"step": 10, "valid_error": 0.5}, {"step": 30, "valid_error": 0.5}]
    assert curve_auc(history) == pytest.approx((0.75 * 10 + 0.5 * 20) / 30)
    assert steps_to_reach(history, 0.5) == 10 and steps_to_reach(history, 0.4) is None


def _history(errors):
    return [{"step": 10 * i, "valid_error": e} for i, e in enumerate(errors)]


def test_pair_comparisons_end_to_end_on_three_seeds():
    seeds = (0, 1, 2)
    records = {m: [{"seed": s, "status": "finished", "test_error": e} for s, e in zip(seeds, errs)]
               for m, errs in {"baseline": [0.2, 0.21, 0.22], "ml3": [0.18, 0.2, 0.2], "adalfl": [0.1, 0.11, 0.13]}.items()}
    cells = {m: Cell(records=r) for m, r in records.items()}
    histories = {"baseline": [_history([1, 0.6, 0.3])] * 3, "ml3": [_history([1, 0.5, 0.3])] * 3,
                 "adalfl": [_history([1, 0.3, 0.2])] * 3}
    compared = pair_comparisons(cells, histories, seeds)
    assert references(list(cells)) == [("ml3", "baseline"), ("adalfl", "baseline"), ("adalfl", "ml3")]
    assert compared["adalfl"]["vs_baseline"]["test_error"]["verdict"] == "better"
    assert compared["adalfl"]["convergence"]["steps_to_reference_final"] == {0: 10, 1: 10, 2: 10}
    metrics = convergence_metrics({"p": compared})["p"]
    assert metrics["adalfl"]["vs_ml3_test_error"] == "better" and metrics["baseline"].keys() == {"valid_error_auc"}
    table = "\n".join(comparisons_markdown({"p": compared}))
    assert "| p | adalfl | baseline |" in table and "**better**" in table


def test_relative_change_of_phi():
    import torch

    from pipeline.report.movement import relative_change

    before = {"w": torch.tensor([3.0, 4.0]), "b": torch.zeros(1)}
    after = {"w": torch.tensor([3.0, 4.5]), "b": torch.zeros(1)}
    assert relative_change(before, after) == pytest.approx(0.1)
    assert relative_change(before, before) == 0.0
    assert relative_change(before, {"w": torch.zeros(3), "b": torch.zeros(1)}) is None  # another representation
    assert relative_change({}, {}) is None  # the handcrafted loss has no phi
