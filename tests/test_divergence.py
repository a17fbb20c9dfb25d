"""Divergence: a run stops at the first non-finite value, and evaluate/report carry its status through."""

from __future__ import annotations

import json

import pytest
import torch

from pipeline.training.artifacts import save_eval, save_run
from pipeline.utils.paths import eval_file, run_dir
from pipeline.utils.runfacts import gather
from pipeline.utils.paths import timings_file
from pipeline.config import MethodConfig, OnlineConfig, OptimConfig, PairConfig, parse_params
from pipeline.meta.step import BaseState
from pipeline.evaluation import trivial_error
from pipeline.training.setup import fresh_rule
from pipeline.report.collect import collect
from pipeline.report.tables import metrics, metrics_detail, results_markdown
from pipeline.training.loop import TrainingRun, _finite, train
from stages.evaluate import evaluate_seed
from tests.conftest import BASE_PARAMS

pytestmark = pytest.mark.reliability
CPU = torch.device("cpu")


def diabetes_pair(lr: float) -> PairConfig:
    return PairConfig(dataset="diabetes", model="mlp", optim=OptimConfig(lr=lr), steps=60, eval_interval=20)


def test_diverged_seed_is_reported_not_averaged(diabetes_data, tmp_path, monkeypatch):
    """Seed 0 runs at a learning rate that must diverge (50), seed 1 at the paper's 0.001."""
    monkeypatch.chdir(tmp_path)
    for seed, lr in ((0, 50.0), (1, 0.001)):
        pair = diabetes_pair(lr)
        rule = fresh_rule(diabetes_data, pair, "baseline", seed, CPU)
        result = train(diabetes_data, pair, MethodConfig(), rule, seed, CPU, progress=False)
        assert result.status == ("diverged" if lr > 1 else "finished")
        save_run(run_dir("diabetes_mlp", "baseline", seed), result, rule, {"seed": seed}, {"wall_time_s": 1.5})
    gather(run_dir("diabetes_mlp", "baseline"), timings_file("train", "diabetes_mlp-baseline"))  # as the stage does
    trivial = trivial_error("regression", diabetes_data.splits["train"].y, diabetes_data.splits["test"].y)
    records = [evaluate_seed(diabetes_data, "mlp", "diabetes_mlp", "baseline", seed, trivial) for seed in (0, 1)]
    diverged, finished = records
    assert diverged["status"] == "diverged" and 1 <= diverged["diverged_at"] < 60 and diverged["test_error"] is None
    assert finished["status"] == "finished" and 0 < finished["test_error"] < 1
    save_eval(eval_file("diabetes_mlp"), {"pair": "diabetes_mlp", "methods": {"baseline": records}})
    raw = json.loads(json.dumps(BASE_PARAMS))
    raw.update(seeds=[0, 1], run={"pairs": ["diabetes_mlp"], "methods": ["baseline"], "inits": ["handcrafted"]})
    params = parse_params(raw)
    cells = collect(params)
    assert metrics(cells)["diabetes_mlp"]["baseline"] == finished["test_error"]
    summary = metrics_detail(cells)["diabetes_mlp"]["baseline"]
    assert summary == {"test_error_mean": finished["test_error"], "test_error_std": 0.0, "test_error_ci95": None, "n_seeds": 1,
                       "offline_s": None, "train_s": summary["train_s"], "diverged_seeds": [0]}
    assert summary["train_s"] > 0
    json.dumps(summary, allow_nan=False)  # metrics.json never holds a NaN
    table = results_markdown(params, cells)
    assert "(1/2 finished; diverged: seed 0)" in table and "nan" not in table.lower()


def test_non_finite_parameter_or_meta_parameter_counts_as_divergence(diabetes_data):
    pair = diabetes_pair(0.001)
    rule = fresh_rule(diabetes_data, pair, "adalfl", 0, CPU)
    state = BaseState.from_module(torch.nn.Linear(2, 1))
    assert _finite(0.5, [0.1], rule, state)
    state.params["weight"][0, 0] = float("nan")  # a finite loss does not hide a NaN weight
    assert not _finite(0.5, [0.1], rule, state)
    state.params["weight"][0, 0] = 1.0
    with torch.no_grad():
        rule.meta_parameters()[0].view(-1)[0] = float("inf")
    assert not _finite(0.5, [0.1], rule, state)
    assert not _finite(0.5, [float("nan")], fresh_rule(diabetes_data, pair, "adalfl", 0, CPU), state)


def test_exploding_learned_learning_rate_stops_the_run(diabetes_data):
    """Meta-LR with a huge meta learning rate: alpha overflows or the loss does; either way a clean stop."""
    pair = diabetes_pair(0.001)
    rule = fresh_rule(diabetes_data, pair, "meta_lr", 0, CPU)
    method = MethodConfig(online=OnlineConfig(meta_lr=100.0))
    result = train(diabetes_data, pair, method, rule, 0, CPU, progress=False)
    assert result.status == "diverged" and result.diverged_at is not None and result.steps_done == result.diverged_at


@pytest.mark.parametrize("max_norm", [None, 1e-6])
def test_meta_gradient_clipping_guard(digits_data, max_norm):
    """The guard (off by default) clips phi's gradient before every Adam step."""
    pair = PairConfig(dataset="digits", model="mlp", optim=OptimConfig(lr=0.01), steps=3)
    rule = fresh_rule(digits_data, pair, "adalfl", 0, CPU)
    run = TrainingRun(digits_data, pair, MethodConfig(online=OnlineConfig(meta_lr=1e-3, clip_meta_grad_norm=max_norm)), rule, 0, CPU)
    norms = []
    for _ in range(3):
        run.advance()
        norms.append(float(torch.nn.utils.get_total_norm([p.grad for p in rule.meta_parameters()])))
    if max_norm is None:
        assert min(norms) > 1e-5  # the unclipped gradients are far above the bound used below
    else:
        assert max(norms) <= max_norm * (1 + 1e-5)
