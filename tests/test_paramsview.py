"""Each stage reads the config through a view holding only its declared params."""

from __future__ import annotations

import pytest

from pipeline.config import load_params
from pipeline.utils.configparse import ConfigError
from pipeline.paramsview import declared_params, stage_view
from tests.pipeline_repo import ROOT

DVC_YAML = ROOT / "dvc.yaml"


@pytest.fixture(scope="module")
def params():
    return load_params(ROOT / "params.yaml")


def test_declared_params_fill_in_the_matrix_item():
    name, declared = declared_params(DVC_YAML, "train", {"pair": "digits_mlp", "method": "adalfl", "seed": None})
    assert name == "train@digits_mlp-adalfl"
    assert declared is not None and "pairs.digits_mlp" in declared and "methods.adalfl" in declared
    assert "run.pairs" in declared and "run.methods" in declared  # the lists its matrix fans out over
    assert declared_params(DVC_YAML, "check", {})[1] is None  # `params.yaml:` reads every key


def test_a_stage_reads_what_it_declares_and_nothing_else(params):
    view = stage_view(params, "train", {"pair": "digits_mlp", "method": "adalfl"}, DVC_YAML)
    assert view.pairs["digits_mlp"] == params.pairs["digits_mlp"]  # the real config object, not a copy
    assert view.methods["adalfl"].online.meta_lr == params.methods["adalfl"].online.meta_lr
    assert view.seeds == params.seeds and view.checkpoint == params.checkpoint  # checkpoint never changes a result
    assert view.offline_for("digits_mlp", "smooth_nn") == params.offline_for("digits_mlp", "smooth_nn")  # methods too
    assert "digits_lenet5" in view.pairs  # the names of a section are readable, its entries only as declared
    with pytest.raises(ConfigError, match=r"pairs\.digits_lenet5: stage train@digits_mlp-adalfl reads it.*add `- pairs\.digits_lenet5`"):
        view.pairs["digits_lenet5"]
    with pytest.raises(ConfigError, match=r"methods\.ml3: stage train@digits_mlp-adalfl"):
        view.methods["ml3"]
    with pytest.raises(ConfigError, match=r"^fewshot: stage train"):
        view.fewshot


def test_evaluate_may_not_read_the_methods_settings(params):
    view = stage_view(params, "evaluate", {"pair": "digits_mlp"}, DVC_YAML)
    assert view.run.methods == params.run.methods
    with pytest.raises(ConfigError, match="representation: stage evaluate@digits_mlp"):
        view.representation


def test_without_dvc_yaml_the_config_is_unchanged(params, tmp_path):
    assert stage_view(params, "train", {"pair": "x"}, tmp_path / "dvc.yaml") is params


def test_a_tuned_training_reads_only_what_its_stage_declares(params, tmp_path, monkeypatch):
    """train_extra@digits_logistic-adam is tuned in params.yaml: its study check reads the tune keys and
    data.split_seed through the view (a key missing from dvc.yaml would raise the view's error here)."""
    from pipeline.tuning.space import training_setup

    monkeypatch.setattr("pipeline.tuning.space.content_digest", lambda folder: "0" * 64)  # no prepared data needed
    (tmp_path / "result.json").write_text('{"study": "of other settings", "best_params": {"base_lr": 0.01}}')
    view = stage_view(params, "train_extra", {"pair": "digits_logistic", "method": "adam"}, DVC_YAML)
    with pytest.raises(ConfigError, match="comes from study 'of other settings'.*run the tune stage again"):
        training_setup(view, "digits_logistic", "adam", tmp_path)
