"""The transfer branch (ML3's meta-test): its config checks, and the stage against a hand-built reference."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

from pipeline.training.artifacts import save_init
from pipeline.utils.paths import init_dir, run_dir
from pipeline.config import parse_params
from pipeline.utils.configparse import ConfigError
from pipeline.training.offline import offline_phase
from pipeline.training.transfer import run_name, transfer_runs
from stages import train as train_stage
from stages import transfer as transfer_stage
from stages.common import run_stage
from tests.seed_outputs import assert_identical, seed_outputs

ROOT = Path(__file__).resolve().parents[1]
CPU = torch.device("cpu")


def with_transfer(params_dict: dict[str, Any], **transfer: list[str]) -> dict[str, Any]:
    params_dict["run"] = {"pairs": ["digits_mlp", "digits_logistic", "diabetes_mlp"], "methods": ["baseline", "ml3", "meta_lr"],
                          "inits": ["smooth_nn", "learning_rate"]}
    params_dict["pairs"]["digits_logistic"] = {"dataset": "digits", "model": "logistic", "steps": 10, "optim": {"lr": 0.01}}
    params_dict["methods"] = {"baseline": {}, "ml3": {}, "meta_lr": {"online": {}}}
    params_dict["transfer"] = {"pairs": ["digits_mlp"], "methods": ["ml3"], "loss_from": ["digits_logistic"], **transfer}
    return params_dict


def test_every_listed_combination_runs_under_its_own_name(params_dict):
    params = parse_params(with_transfer(params_dict, methods=["ml3", "meta_lr"]))
    assert transfer_runs(params.transfer) == [("digits_mlp", "ml3", "digits_logistic"), ("digits_mlp", "meta_lr", "digits_logistic")]
    assert transfer_runs(params.transfer, "digits_logistic") == []
    assert run_name("ml3", "digits_logistic") == "ml3_from_digits_logistic"


@pytest.mark.parametrize("change, message", [
    ({"loss_from": []}, "transfer.loss_from: empty while other transfer lists are not"),
    ({"pairs": ["digits_lenet5"]}, "transfer.pairs[0]: 'digits_lenet5' is not in run.pairs"),
    ({"methods": ["adalfl"]}, "transfer.methods[0]: 'adalfl' is not in run.methods"),
    ({"methods": ["baseline"]}, "transfer.methods[0]: 'baseline' learns handcrafted, which is shaped by its model"),
    ({"loss_from": ["digits_logistic", "digits_mlp"]}, "transfer.loss_from[1]: 'digits_mlp' is also in transfer.pairs"),
    ({"loss_from": ["diabetes_mlp"]}, "transfer.loss_from[0]: 'diabetes_mlp' is regression and 'digits_mlp' is 10-class "
                                      "classification; a loss moves only between pairs of the same task kind"),
])
def test_a_transfer_that_cannot_run_fails_naming_its_key(params_dict, change, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_params(with_transfer(params_dict, **change))


def test_no_transfer_by_default(params_dict):
    assert transfer_runs(parse_params(params_dict).transfer) == []


@pytest.fixture
def project(tmp_path, prepared_root, digits_data, params_dict, monkeypatch):
    """A working folder with dvc.yaml (so the stages see only their declared params) and the source's inits."""
    raw = with_transfer(params_dict)
    raw["data"]["prepared_dir"] = str(prepared_root)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    shutil.copy(ROOT / "dvc.yaml", tmp_path / "dvc.yaml")
    params = parse_params(raw)
    for seed in params.seeds:
        rule, history = offline_phase(digits_data, params.pairs["digits_logistic"], "smooth_nn", params.offline["smooth_nn"],
                                      seed, CPU, progress=False)
        save_init(tmp_path / init_dir("digits_logistic", "smooth_nn", seed), rule, history, {}, {"wall_time_s": 0.0})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_transfer_run_is_the_method_trained_from_the_source_pairs_offline_output(project):
    """Reference: ml3 trained on digits_mlp by the train stage, with the source's init files copied into place."""
    argv = ["--pair", "digits_mlp", "--method", "ml3"]
    assert run_stage(transfer_stage.main, transfer_stage.build_parser(), [*argv, "--loss-from", "digits_logistic"]) == 0
    shutil.copytree(init_dir("digits_logistic", "smooth_nn"), init_dir("digits_mlp", "smooth_nn"))
    assert run_stage(train_stage.main, train_stage.build_parser(), argv) == 0
    name = run_name("ml3", "digits_logistic")
    for seed in (0, 1):
        transferred, reference = run_dir("digits_mlp", name, seed), run_dir("digits_mlp", "ml3", seed)
        got, expected = seed_outputs(transferred), seed_outputs(reference)
        assert got["result.json"].pop("loss_from") == "digits_logistic"  # the one thing that differs
        assert_identical(got, expected)
        learned = torch.load(transferred / "learned.pt", weights_only=True)  # ML3 has no online phase: phi is the source's
        source = torch.load(init_dir("digits_logistic", "smooth_nn", seed) / "state.pt", weights_only=True)
        assert all(torch.equal(learned[k], v) for k, v in source.items())
    assert (project / "reports" / "timings" / "transfer@digits_mlp-ml3-digits_logistic.json").is_file()


def test_a_transfer_not_listed_is_refused_in_one_line(project, capsys):
    argv = ["--pair", "digits_mlp", "--method", "meta_lr", "--loss-from", "digits_logistic"]
    assert run_stage(transfer_stage.main, transfer_stage.build_parser(), argv) == 2
    assert "transfer: digits_mlp x meta_lr x digits_logistic is not listed" in capsys.readouterr().err
