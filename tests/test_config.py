from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.config import load_params, parse_params
from pipeline.utils.configparse import ConfigError
from stages import prepare as prepare_stage
from stages.common import run_stage


def error_of(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        parse_params(data)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_valid_params_parse_into_frozen_objects(params_dict):
    params = parse_params(params_dict)
    assert params.pairs["digits_mlp"].optim.lr == 0.01
    assert params.methods["adalfl"].online.meta_lr == 1e-5
    assert params.seeds == (0, 1)
    with pytest.raises(AttributeError):
        params.device = "cuda"  # type: ignore[misc]


def test_repository_params_file_is_valid():
    params = load_params(Path(__file__).parents[1] / "params.yaml")
    assert "diabetes" in params.datasets and "digits" in params.datasets


def test_number_written_by_dvc_exp_run_parses_as_number(params_dict, tmp_path):
    params_dict["methods"]["adalfl"]["online"]["meta_lr"] = "1e-05"  # how plain YAML loaders read `1e-05`
    assert parse_params(params_dict).methods["adalfl"].online.meta_lr == pytest.approx(1e-5)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params_dict).replace("'1e-05'", "1e-05"))
    assert load_params(path).methods["adalfl"].online.meta_lr == pytest.approx(1e-5)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda p: p.update(colour="red"), "colour: unknown key"),
        (lambda p: p["data"].update(valid_fractoin=0.1), "data.valid_fractoin: unknown key"),
        (lambda p: p["data"].update(valid_fraction=1.5), "data.valid_fraction: expected a fraction in (0, 1)"),
        (lambda p: p["data"].update(valid_fraction=0), "data.valid_fraction: expected a fraction in (0, 1)"),
        (lambda p: p["data"].update(split_seed="zero"), "data.split_seed: expected an integer"),
        (lambda p: p["pairs"]["digits_mlp"]["optim"].update(lr=-0.1), "pairs.digits_mlp.optim.lr: expected a positive number"),
        (lambda p: p["pairs"]["digits_mlp"]["optim"].update(lr="fast"), "pairs.digits_mlp.optim.lr: expected a finite number"),
        (lambda p: p["pairs"]["digits_mlp"]["optim"].update(lr=True), "pairs.digits_mlp.optim.lr: expected a finite number"),
        (lambda p: p["pairs"]["digits_mlp"].update(dataset="imagenet"), "pairs.digits_mlp.dataset: unknown data set 'imagenet'"),
        (lambda p: p["pairs"]["digits_mlp"].update(model="gpt"), "pairs.digits_mlp.model: unknown model 'gpt'"),
        (lambda p: p["pairs"]["digits_mlp"].update(model="resnet18"), "pairs.digits_mlp.model: resnet18 needs 32x32 RGB images"),
        (lambda p: p["pairs"]["diabetes_mlp"].update(model="logistic"), "pairs.diabetes_mlp.model: logistic needs a classification"),
        (lambda p: p["pairs"]["digits_mlp"].pop("steps"), "pairs.digits_mlp.steps: missing required key"),
        (lambda p: p["pairs"]["digits_mlp"].update(steps=0), "pairs.digits_mlp.steps: expected an integer >= 1"),
        (lambda p: p["methods"].update(magic={}), "methods.magic: unknown method"),
        (lambda p: p["methods"]["adalfl"].pop("online"), "methods.adalfl.online: missing required key"),
        (lambda p: p["methods"]["baseline"].update(online={}), "methods.baseline.online: unknown key"),
        (lambda p: p["methods"]["adalfl"].update(offline={}), "methods.adalfl.offline: unknown key"),
        (lambda p: p["offline"]["smooth_nn"].update(meta_split="test"), "offline.smooth_nn.meta_split: expected one of 'valid', 'train'"),
        (lambda p: p["offline"]["smooth_nn"].update(inner_steps=0), "offline.smooth_nn.inner_steps: expected an integer >= 1"),
        (lambda p: p["offline"].update(lstm={}), "offline.lstm: unknown offline phase"),
        (lambda p: p["offline"].pop("learning_rate"), "offline.learning_rate: missing required key"),
        (lambda p: p["run"].update(pairs=["digits_vgg"]), "run.pairs[0]: 'digits_vgg' is not defined under pairs:"),
        (lambda p: p["run"].update(methods=["baseline", "ml3"]), "run.methods[1]: 'ml3' is not defined under methods:"),
        (lambda p: p["run"].update(inits=["smooth_nn"]), "run.inits: the methods ['baseline', 'adalfl', 'meta_lr'] need exactly ['smooth_nn', 'learning_rate'], got ['smooth_nn']; set run.inits: [smooth_nn, learning_rate]"),
        (lambda p: p.update(datasets=["digits", "mnist2"]), "datasets[1]: unknown data set 'mnist2'"),
        (lambda p: p.update(seeds=[0, 0]), "seeds: seeds must be distinct"),
        (lambda p: p.update(seeds=[]), "seeds: expected at least one seed"),
        (lambda p: p["pairs"]["digits_mlp"].update(offline={"relu_nn": {"steps": 3}}), "pairs.digits_mlp.offline.relu_nn: no offline.relu_nn to override"),
        (lambda p: p["pairs"]["digits_mlp"].update(offline={"smooth_nn": {"stepz": 3}}), "pairs.digits_mlp.offline.smooth_nn.stepz: unknown key"),
        (lambda p: p["pairs"]["digits_mlp"].update(offline={"smooth_nn": {"reset_interval": -1}}), "pairs.digits_mlp.offline.smooth_nn.reset_interval: expected a number >= 0"),
        (lambda p: p.update(seeds=[0, -1]), "seeds[1]: expected an integer >= 0"),
        (lambda p: p["run"].update(methods=["baseline", "adalfll"]), "run.methods[1]: unknown method 'adalfll' (known: baseline, ml3, adalfl"),
        (lambda p: p.update(datasets=["diabetes"]), "run.pairs[0]: pair 'digits_mlp' uses data set 'digits', which is not in datasets: add it there"),
        (lambda p: p.update(seeds=3), "seeds: expected a list"),
        (lambda p: p.update(device="tpu"), "device: expected one of 'cpu', 'cuda', 'auto'"),
        (lambda p: p.setdefault("tune", {}).update(storage="postgresql://lfl:s3cret@db:5432/lfl"), "tune.storage: the URL contains a password"),
        (lambda p: p.setdefault("tune", {}).update(storage="sqlite:///x.db", storage_env="LFL_STORAGE"), "tune.storage_env: set either"),
        (lambda p: p.update(l2l={"problems": ["quadratc"]}), "l2l.problems[0]: unknown problem 'quadratc'"),
        (lambda p: p.update(l2l={"problems": ["mlp"], "dataset": "mnist5k"}), "l2l.dataset: 'mnist5k' is not in datasets"),
        (lambda p: p.update(l2l={"optimiser": {"preprocess": "log"}}), "l2l.optimiser.preprocess: expected one of 'log_sign', 'none'"),
        (lambda p: p["methods"].update(adam={"lr": 0}), "methods.adam.lr: expected a positive number"),
        (lambda p: p["methods"].update(adam={"online": {"meta_lr": 1e-3}}), "methods.adam.online: unknown key (adam has no online phase)"),
    ],
)
def test_bad_params_fail_with_key_path(params_dict, mutate, expected):
    mutate(params_dict)
    assert error_of(params_dict).startswith(expected)


def test_load_params_names_the_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("data: [unclosed\n")
    with pytest.raises(ConfigError, match=r"p.yaml: not valid YAML"):
        load_params(path)
    with pytest.raises(ConfigError, match=r"missing.yaml: file not found"):
        load_params(tmp_path / "missing.yaml")


def test_stage_reports_bad_params_in_one_line(params_dict, tmp_path, capsys):
    params_dict["data"]["valid_fraction"] = 2
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params_dict))
    code = run_stage(prepare_stage.main, prepare_stage.build_parser(), ["--params", str(path), "--dataset", "digits"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and "data.valid_fraction: expected a fraction in (0, 1)" in err


def test_paper_profile_is_valid_and_complete():
    params = load_params(Path(__file__).parents[1] / "profiles" / "paper.yaml")
    assert len(params.run.pairs) == 12 and len(params.seeds) == 10
    assert params.offline["smooth_nn"].steps == 2500 and params.methods["adalfl"].online.meta_lr == 1e-5
    cifar = params.pairs["cifar10_resnet18"]
    assert cifar.steps == 150_000 and cifar.optim.nesterov and cifar.optim.weight_decay == 5e-4 and cifar.augment


def test_cuda_without_a_gpu_is_a_one_line_config_error():
    import torch

    from pipeline.utils.derive import resolve_device

    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="device: cuda was requested"):
            resolve_device("cuda")


def test_a_pair_overrides_only_the_offline_keys_it_names(params_dict):
    params_dict["pairs"]["digits_mlp"]["offline"] = {"smooth_nn": {"reset_interval": 100}}
    params = parse_params(params_dict)
    merged, base = params.offline_for("digits_mlp", "smooth_nn"), params.offline["smooth_nn"]
    assert merged.reset_interval == 100 and base.reset_interval != 100
    assert (merged.steps, merged.meta_lr, merged.inner_steps) == (base.steps, base.meta_lr, base.inner_steps)
    assert params.offline_for("digits_mlp", "learning_rate") == params.offline["learning_rate"]
    assert params.offline_for("digits_mlp", "handcrafted") is None
