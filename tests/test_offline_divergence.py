"""A diverged offline phase: it stops at its first non-finite meta-loss, and no run trains from it.

The case behind it: tuned AdaLFL on Diabetes at the paper's protocol (offline meta lr 0.047)
drove the meta-loss of seeds 1 and 6 to NaN after ~1,800 meta steps; the phase went on in NaN,
saved a NaN loss, and the training from it "diverged after 1 steps" (docs/reproduction.md).
"""

from __future__ import annotations

import copy
import json

import pytest
import torch

from pipeline.config import OfflineConfig, OptimConfig, PairConfig, parse_params
from pipeline.distributed.jobs import TrainSeed
from pipeline.learned.rules import build_rule
from pipeline.meta.offline import learn_offline, meta_loss_rose, offline_diverged_at
from pipeline.meta.step import BaseState
from pipeline.optim import SGDConfig
from pipeline.report.collect import Cell
from pipeline.report.tables import cell_text
from pipeline.training.artifacts import save_init
from pipeline.training.offline import OfflineDiverged, starting_rule
from pipeline.training.setup import fresh_rule, setup_without_offline
from pipeline.utils.paths import run_dir
from stages import tune as tune_stage
from stages.evaluate import evaluate_seed
from pipeline.evaluation import trivial_error
from tests.conftest import BASE_PARAMS
from tests.tuning.helpers import make_folder, run_in

pytestmark = pytest.mark.reliability
CPU = torch.device("cpu")
NAN_BATCH = (torch.full((8, 2), float("nan")), torch.zeros(8, 1))


def _learn(rule, meta_batches: list) -> list[float]:
    torch.manual_seed(0)  # the same base model in every call
    model = torch.nn.Linear(2, 1)
    start = BaseState.from_module(model)
    good = (torch.randn(8, 2, generator=torch.Generator().manual_seed(0)), torch.zeros(8, 1))
    queue = iter(meta_batches)
    cfg = OfflineConfig(steps=len(meta_batches), meta_lr=1e-2, reset_interval=0)
    return learn_offline(model, lambda i: start, rule, lambda: good, lambda: next(queue), cfg, SGDConfig(), "regression")


def test_a_non_finite_meta_loss_ends_the_phase_with_its_gradient_unapplied():
    good = (torch.randn(8, 2, generator=torch.Generator().manual_seed(1)), torch.ones(8, 1))
    rule = build_rule("adalfl", "regression", 0.1, 0)
    clean = copy.deepcopy(rule)
    history = _learn(rule, [good, good, NAN_BATCH, good, good])
    assert len(history) == 3 and all(torch.isfinite(torch.tensor(history[:2]))) and history[2] != history[2]
    assert offline_diverged_at(history) == 3 and offline_diverged_at(history[:2]) is None
    _learn(clean, [good, good])  # the same two meta steps, without the third
    for after, reference in zip(rule.meta_parameters(), clean.meta_parameters(), strict=True):
        assert torch.equal(after, reference)  # the NaN step's gradient was not applied


def test_meta_loss_rose_judges_the_steps_before_the_divergence():
    assert not meta_loss_rose([2.0, 1.0, float("nan")])
    assert meta_loss_rose([1.0, 2.0, float("inf")])
    assert offline_diverged_at([1.0, float("inf")]) == 2


def test_a_tuned_offline_phase_that_diverges_raises_before_any_training(diabetes_data):
    """Base lr 1e30: the first differentiable base step sends the meta-loss to infinity."""
    pair = PairConfig(dataset="diabetes", model="mlp", optim=OptimConfig(lr=1e30), steps=10)
    with pytest.raises(OfflineDiverged, match="diverged at meta step 1") as caught:
        starting_rule(diabetes_data, pair, "ml3", 0, CPU, None, OfflineConfig(steps=5, meta_lr=1e-3), progress=False)
    assert caught.value.meta_step == 1


def _params():
    raw = json.loads(json.dumps(BASE_PARAMS))
    raw.update(seeds=[0], run={"pairs": ["diabetes_mlp"], "methods": ["adalfl"], "inits": ["smooth_nn"]})
    return parse_params(raw)


def test_a_run_from_a_diverged_offline_output_is_recorded_diverged_before_its_first_step(
    diabetes_data, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    setup = setup_without_offline(_params(), "diabetes_mlp", "adalfl")
    rule = fresh_rule(diabetes_data, setup.pair, "adalfl", 0, CPU)
    init = tmp_path / "init" / "seed0"
    save_init(init, rule, [0.5, float("nan")], {"seed": 0, "diverged_at": 2}, {"wall_time_s": 1.0})
    job = TrainSeed(diabetes_data, "diabetes_mlp", "adalfl", setup, None, "cpu", None, 0)
    line = job(0, run_dir("diabetes_mlp", "adalfl", 0), inputs=init)
    assert line.startswith("WARNING") and "diverged at meta step 2" in line
    result = json.loads((run_dir("diabetes_mlp", "adalfl", 0) / "result.json").read_text())
    assert (result["status"], result["diverged_at"], result["steps_done"], result["offline_diverged_at"]) == (
        "diverged", 0, 0, 2)
    trivial = trivial_error("regression", diabetes_data.splits["train"].y, diabetes_data.splits["test"].y)
    record = evaluate_seed(diabetes_data, "mlp", "diabetes_mlp", "adalfl", 0, trivial)
    assert record["test_error"] is None and record["offline_diverged_at"] == 2
    text = cell_text(Cell(records=[record]), 1, best=False)
    assert text == "diverged (0/1 finished; diverged: seed 0 (offline phase, meta step 2))"


def test_a_trial_whose_offline_phase_diverges_is_pruned_and_says_why(tmp_path, prepared_root, monkeypatch):
    folder = make_folder(tmp_path, prepared_root, "diabetes_mlp", n_trials=2, space={"base_lr": [1e30, 1e31]})
    monkeypatch.chdir(folder)
    code, out, err = run_in(folder, tune_stage, "--pair", "diabetes_mlp", "--method", "meta_lr")
    assert out.count(": pruned (offline phase diverged at meta step 1 (seed 0))") == 2, out
    assert code == 2 and "no trial completed (2 pruned or diverged, 0 failed)" in err
