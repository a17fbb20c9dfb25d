"""Knobs per method, tuned values into configs, and the study's identity."""

from __future__ import annotations

import dataclasses

import pytest

from pipeline.config import SearchSpace, parse_params
from pipeline.utils.configparse import ConfigError
from pipeline.tuning.space import apply_values, is_tuned, knobs_for, study_name, suggest
from pipeline.training.setup import base_setup
from tests.conftest import BASE_PARAMS


@pytest.fixture
def params():
    return parse_params(BASE_PARAMS)


@pytest.mark.parametrize(("method", "expected"), [
    ("baseline", ["base_lr"]),
    ("adalfl", ["base_lr", "offline_meta_lr", "online_meta_lr"]),
    ("meta_lr", ["base_lr", "offline_meta_lr", "online_meta_lr"]),
])
def test_knobs_follow_the_method_phases(params, method, expected):
    assert knobs_for(base_setup(params, "digits_mlp", method), params.tune.space) == expected


def test_a_null_range_is_not_tuned(params):
    space = SearchSpace(online_meta_lr=None)
    assert knobs_for(base_setup(params, "digits_mlp", "adalfl"), space) == ["base_lr", "offline_meta_lr"]


def test_values_land_in_the_right_configs(params):
    setup = base_setup(params, "digits_mlp", "adalfl")
    tuned = apply_values(setup, {"base_lr": 0.05, "offline_meta_lr": 0.002, "online_meta_lr": 3e-4})
    assert tuned.pair.optim.lr == 0.05 and tuned.offline.meta_lr == 0.002 and tuned.method.online.meta_lr == 3e-4
    assert tuned.pair.steps == setup.pair.steps and setup.pair.optim.lr == 0.01  # the rest, and the original, untouched
    with pytest.raises(ValueError, match="unknown tuned values"):
        apply_values(setup, {"momentum": 0.9})


def test_a_method_lr_replaces_the_pairs_and_tuning_replaces_both(params_dict):
    """methods.adam.lr is Adam's base learning rate (the pair's optim.lr stays SGD's); a tuned base_lr wins."""
    params_dict["methods"]["adam"] = {"lr": 3e-3}
    params = parse_params(params_dict)
    setup = base_setup(params, "digits_mlp", "adam")
    assert setup.pair.optim.lr == 3e-3 and params.pairs["digits_mlp"].optim.lr == 0.01
    assert base_setup(params, "digits_mlp", "baseline").pair.optim.lr == 0.01
    assert knobs_for(setup, params.tune.space) == ["base_lr"]
    assert apply_values(setup, {"base_lr": 2e-4}).pair.optim.lr == 2e-4


def test_suggest_draws_log_uniform_within_the_ranges(params):
    class Recorder:
        def __init__(self):
            self.calls = []

        def suggest_float(self, name, low, high, *, log):
            self.calls.append((name, low, high, log))
            return low

    trial = Recorder()
    values = suggest(trial, ["base_lr", "online_meta_lr"], params.tune.space)
    assert trial.calls == [("base_lr", 1e-4, 0.3, True), ("online_meta_lr", 1e-6, 1e-2, True)]
    assert values == {"base_lr": 1e-4, "online_meta_lr": 1e-6}


def test_study_name_is_stable_and_tracks_what_trials_depend_on(params):
    setup = base_setup(params, "digits_mlp", "adalfl")
    knobs = knobs_for(setup, params.tune.space)

    def name_of(tune=params.tune, setup=setup, data="d" * 64, split_seed=0):
        return study_name(tune, setup, "digits_mlp", "adalfl", knobs, data, split_seed)

    name = name_of()
    assert name == name_of() and name.startswith("digits_mlp-adalfl-")
    longer = dataclasses.replace(setup, pair=dataclasses.replace(setup.pair, steps=99))
    forms = {
        form: name_of(setup=dataclasses.replace(setup, representation=dataclasses.replace(setup.representation, loss_form=form)))
        for form in ("plain", "residual", "anchored")
    }
    assert len(set(forms.values())) == 3 and forms[setup.representation.loss_form] == name
    changed = [name_of(setup=longer), name_of(data="e" * 64)]
    assert len({name, *changed, *forms.values()}) == 5
    assert name_of(split_seed=1) != name  # the default objective is the holdout, which split_seed draws
    valid = dataclasses.replace(params.tune, objective_split="valid")
    assert name_of(tune=valid, split_seed=1) == name_of(tune=valid)  # no holdout: the seed draws nothing here
    more_trials = dataclasses.replace(params.tune, n_trials=99, timeout_s=5.0)  # a bigger budget continues the study
    assert name_of(tune=more_trials) == name


def test_content_digest_follows_the_bytes_not_the_place(tmp_path):
    from pipeline.utils.digest import content_digest

    for folder in (tmp_path / "a", tmp_path / "b" / "deeper"):
        folder.mkdir(parents=True)
        (folder / "x.pt").write_bytes(b"123")
    assert content_digest(tmp_path / "a") == content_digest(tmp_path / "b" / "deeper")
    (tmp_path / "a" / "x.pt").write_bytes(b"124")
    assert content_digest(tmp_path / "a") != content_digest(tmp_path / "b" / "deeper")
    with pytest.raises(FileNotFoundError, match="missing or empty"):
        content_digest(tmp_path / "none")


def test_selection_and_config_checks(params_dict):
    params_dict["tune"] = {"pairs": ["digits_mlp"], "methods": ["adalfl"]}
    tune = parse_params(params_dict).tune
    assert is_tuned(tune, "digits_mlp", "adalfl") and not is_tuned(tune, "digits_mlp", "baseline")
    assert not parse_params({**params_dict, "tune": {}}).tune.enabled  # both lists empty: off
    params_dict["tune"] = {"pairs": ["digits_mlp"], "methods": ["ml3"]}
    with pytest.raises(ConfigError, match=r"tune.methods\[0\]: 'ml3' is not in run.methods"):
        parse_params(params_dict)
    params_dict["tune"] = {"methods": ["adalfl"]}
    with pytest.raises(ConfigError, match=r"tune.pairs: empty while tune.methods is not"):
        parse_params(params_dict)
    params_dict["tune"] = {"enabled": True}
    with pytest.raises(ConfigError, match=r"tune.enabled: unknown key"):
        parse_params(params_dict)
    params_dict["tune"] = {"space": {"base_lr": [0.1, 0.01]}}
    with pytest.raises(ConfigError, match=r"tune.space.base_lr: expected \[low, high\] with 0 < low < high"):
        parse_params(params_dict)
    params_dict["tune"] = {"storage": "redis://localhost"}
    with pytest.raises(ConfigError, match="tune.storage: expected null, sqlite"):
        parse_params(params_dict)
