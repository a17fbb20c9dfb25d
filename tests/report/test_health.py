"""pipeline.report.health: the collapse rule against hand-computed margins, and the report's marks."""

from __future__ import annotations

import json

from pipeline.config import parse_params
from pipeline.report.collect import collect
from pipeline.report.health import collapsed, margin_lost, pair_flags, trains_with_learned_loss
from pipeline.report.tables import metrics_detail, results_markdown


def record(seed: int, error: float | None, trivial: float = 0.9, **extra) -> dict:
    status = "finished" if error is not None else "diverged"
    absurd = error is not None and error >= trivial
    return {"seed": seed, "status": status, "test_error": error, "trivial_error": trivial, "absurd": absurd, **extra}


def test_the_margin_lost_is_the_share_of_the_baselines_gain_over_trivial_given_back():
    assert margin_lost(0.5, 0.1, 0.9) == 0.5  # half way from the baseline to chance
    assert margin_lost(0.1, 0.1, 0.9) == 0.0
    assert margin_lost(0.05, 0.1, 0.9) < 0  # better than the baseline
    assert margin_lost(0.5, 0.9, 0.9) is None  # a baseline at chance has no margin to lose


def test_collapse_starts_at_half_the_margin_and_excludes_absurd_diverged_and_unpaired_runs():
    # Diabetes-like numbers: trivial 0.064, baseline 0.030 -> the line is at 0.047
    assert collapsed(record(0, 0.0475, trivial=0.064), 0.030)
    assert not collapsed(record(0, 0.0465, trivial=0.064), 0.030)
    assert not collapsed(record(0, 0.95), 0.1)  # no better than chance: absurd, not collapsed
    assert not collapsed(record(0, None), 0.1)
    assert not collapsed(record(0, 0.8), None)  # the seed's baseline did not finish


def test_pair_flags_pair_each_run_with_its_own_seeds_baseline():
    methods = {
        "baseline": [record(0, 0.10), record(1, 0.40)],
        "ml3": [record(0, 0.60), record(1, 0.60)],  # seed 0 lost 62% of its margin, seed 1 40%
        "adalfl": [record(0, None, offline_diverged_at=12), record(1, 0.95)],
        "meta_lr": [record(0, 0.85), record(1, 0.2)],
    }
    flags = {(f.method, f.seed): f for f in pair_flags("p", methods)}
    assert set(flags) == {("ml3", 0), ("adalfl", 0), ("adalfl", 1), ("meta_lr", 0)}
    assert flags[("ml3", 0)].kind == "collapsed" and "62% of the baseline's margin lost" in flags[("ml3", 0)].detail
    assert flags[("adalfl", 0)].kind == "diverged" and flags[("adalfl", 0)].detail == "offline phase, meta step 12"
    assert flags[("adalfl", 1)].kind == "absurd"
    learned = {(f.method, f.seed) for f in pair_flags("p", methods, learned_loss_only=True)}
    assert learned == {("ml3", 0), ("adalfl", 0), ("adalfl", 1)}  # meta_lr trains with the handcrafted loss


def test_a_transferred_run_counts_as_its_methods():
    assert trains_with_learned_loss("ml3_from_digits_logistic") and trains_with_learned_loss("taylor_cubic")
    assert not trains_with_learned_loss("baseline") and not trains_with_learned_loss("meta_sgd")


def test_the_report_marks_and_lists_the_collapsed_seeds(tmp_path, params_dict):
    raw = dict(params_dict, seeds=[0, 1])
    params = parse_params(raw)
    for pair in params.run.pairs:
        methods = {m: [record(0, 0.2), record(1, 0.2)] for m in params.run.methods}
        methods["baseline"] = [record(0, 0.1), record(1, 0.1)]
        methods["adalfl"] = [record(0, 0.1), record(1, 0.7)]
        (tmp_path / f"{pair}.json").write_text(json.dumps({"pair": pair, "methods": methods}))
    cells = collect(params, tmp_path, tmp_path / "timings")
    pair = params.run.pairs[0]
    assert cells[pair]["adalfl"].collapsed_seeds == [1] and cells[pair]["baseline"].collapsed_seeds == []
    assert metrics_detail(cells)[pair]["adalfl"]["collapsed_seeds"] == [1]
    assert "▼ collapsed: seed 1" in results_markdown(params, cells)
