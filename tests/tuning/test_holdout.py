"""The tuning split: drawn from the training split only, never trained on, and what a trial is ranked by."""

from __future__ import annotations

import dataclasses

import optuna
import pytest
import torch

from pipeline.config import parse_params
from pipeline.evaluation import split_error
from pipeline.training.loop import train
from pipeline.training.offline import starting_rule
from pipeline.training.setup import base_setup, initial_model
from pipeline.tuning.holdout import HOLDOUT, with_tuning_holdout
from pipeline.tuning.objective import make_objective, trial_data
from pipeline.utils.configparse import ConfigError

CPU = torch.device("cpu")


def test_the_holdout_is_a_stratified_part_of_the_training_split_and_nothing_else(digits_data):
    split = with_tuning_holdout(digits_data, 0.15, seed=0)
    train, held, full = split.splits["train"], split.splits[HOLDOUT], digits_data.splits["train"]
    assert len(held.y) == round(0.15 * len(full.y)) and len(train.y) + len(held.y) == len(full.y)
    assert set(train.index.tolist()).isdisjoint(held.index.tolist())
    assert sorted(train.index.tolist() + held.index.tolist()) == sorted(full.index.tolist())
    rows = {int(i): row for i, row in zip(full.index, full.x)}
    assert all(torch.equal(rows[int(i)], x) for i, x in zip(held.index, held.x))  # the instances themselves, not copies of others
    expected = torch.bincount(full.y, minlength=10) * len(held.y) / len(full.y)
    assert (torch.bincount(held.y, minlength=10) - expected).abs().max() <= 1  # stratified: each class within one instance
    assert split.splits["valid"] is digits_data.splits["valid"] and split.splits["test"] is digits_data.splits["test"]
    assert split.meta["n_train"] == len(train.y) and digits_data.meta["n_train"] == len(full.y)  # the input is untouched


def test_the_draw_is_fixed_by_the_seed(diabetes_data):
    first, again = (with_tuning_holdout(diabetes_data, 0.15, seed=0).splits[HOLDOUT].index for _ in range(2))
    other = with_tuning_holdout(diabetes_data, 0.15, seed=1).splits[HOLDOUT].index
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_a_fraction_that_leaves_a_side_empty_fails_naming_the_key(diabetes_data):
    with pytest.raises(ConfigError, match="tune.holdout_fraction"):
        with_tuning_holdout(diabetes_data, 0.001, seed=0)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("holdout_fraction", 1.0, "tune.holdout_fraction: expected a number in"),
    ("objective_split", "test", "tune.objective_split: expected one of 'holdout', 'valid'"),
])
def test_bad_tune_objective_settings_fail_with_the_key(params_dict, key, value, message):
    params_dict["tune"] = {key: value}
    with pytest.raises(ConfigError, match=message):
        parse_params(params_dict)


def test_valid_keeps_the_data_and_ranks_by_the_validation_split(params_dict, digits_data):
    params_dict["tune"] = {"objective_split": "valid"}
    data, split = trial_data(digits_data, parse_params(params_dict).tune, split_seed=0)
    assert data is digits_data and split == "valid"


def test_a_trial_is_ranked_by_the_holdout_error_of_a_run_that_never_saw_it(params_dict, digits_data):
    """The objective's value equals a hand-built reference: train on the rest, score the holdout."""
    params_dict["pairs"]["digits_mlp"].update(steps=20, eval_interval=10)
    params = parse_params(params_dict)
    setup = base_setup(params, "digits_mlp", "baseline")
    data, split = trial_data(digits_data, params.tune, split_seed=params.data.split_seed)
    assert split == HOLDOUT
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0), pruner=optuna.pruners.NopPruner())
    study.optimize(make_objective(data, setup, "baseline", ["base_lr"], params.tune.space, (0,), CPU, split), n_trials=1)
    trial = study.trials[0]

    tuned = dataclasses.replace(setup.pair, optim=dataclasses.replace(setup.pair.optim, lr=trial.params["base_lr"]))
    rule = starting_rule(data, tuned, "baseline", 0, CPU, None, None, progress=False, representation=setup.representation)
    result = train(data, tuned, setup.method, rule, 0, CPU, progress=False, watch=(HOLDOUT,))
    held = data.splits[HOLDOUT]
    model = initial_model(data, tuned, 0, CPU)
    expected = split_error(model, result.state.params, result.state.buffers, held.x, held.y, data.task)
    assert trial.value == pytest.approx(expected, abs=0) and result.history[-1]["holdout_error"] == expected
    assert trial.intermediate_values == {10: result.history[1]["holdout_error"], 20: expected}
    assert "holdout_error" not in train(digits_data, tuned, setup.method, rule, 0, CPU, progress=False).history[-1]
