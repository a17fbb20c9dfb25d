"""The second grid (run_extra): its checks, which methods each pair trains, its DVC stages and its report cells."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.config import parse_params
from pipeline.utils.configparse import ConfigError
from pipeline.training.grid import all_methods, methods_on
from pipeline.report.collect import collect
from pipeline.report.tables import NOT_RUN, results_markdown
from tests.pipeline_repo import env

ROOT = Path(__file__).resolve().parents[1]


def with_extra(params_dict: dict[str, Any], **extra: list[str]) -> dict[str, Any]:
    """digits_mlp and diabetes_mlp in the main grid; Adam and Meta-SGD on digits_mlp only."""
    params_dict["run"]["pairs"] = ["digits_mlp", "diabetes_mlp"]
    params_dict["methods"] = {**params_dict["methods"], "adam": {"lr": 1.0e-3}, "meta_sgd": {"online": {}}}
    params_dict["offline"]["meta_sgd"] = {"steps": 5}
    params_dict["run_extra"] = {"pairs": ["digits_mlp"], "methods": ["adam", "meta_sgd"], "inits": ["meta_sgd"], **extra}
    return params_dict


def test_each_pair_trains_the_main_grid_and_its_extra_methods(params_dict):
    params = parse_params(with_extra(params_dict))
    assert methods_on(params, "digits_mlp") == ("baseline", "adalfl", "meta_lr", "adam", "meta_sgd")
    assert methods_on(params, "diabetes_mlp") == ("baseline", "adalfl", "meta_lr")
    assert methods_on(params, "digits_lenet5") == ()
    assert all_methods(params) == ("baseline", "adalfl", "meta_lr", "adam", "meta_sgd")


@pytest.mark.parametrize("change, message", [
    ({"pairs": ["digits_lenet5"]}, "run_extra.pairs[0]: 'digits_lenet5' is not in run.pairs"),
    ({"methods": ["adam", "meta_lr"], "inits": []}, "run_extra.methods[1]: 'meta_lr' is also in run.methods"),
    ({"methods": ["adam", "rmsprop"], "inits": []}, "run_extra.methods[1]: 'rmsprop' is not defined under methods:"),
    ({"inits": []}, "run_extra.inits: the methods ['adam', 'meta_sgd'] need exactly ['meta_sgd'] beyond run.inits"),
    ({"pairs": []}, "run_extra.pairs, run_extra.methods: list both or neither"),
])
def test_an_extra_grid_that_cannot_run_fails_naming_its_key(params_dict, change, message):
    with pytest.raises(ConfigError) as raised:
        parse_params(with_extra(params_dict, **change))
    assert message in str(raised.value)


def test_a_method_tuned_where_it_does_not_train_is_refused(params_dict):
    raw = with_extra(params_dict)
    raw["tune"] = {"pairs": ["digits_mlp", "diabetes_mlp"], "methods": ["adam"]}
    with pytest.raises(ConfigError, match="tune.methods\\[0\\]: 'adam' does not train on diabetes_mlp"):
        parse_params(raw)
    raw["tune"]["pairs"] = ["digits_mlp"]
    assert parse_params(raw).tune.methods == ("adam",)


def test_dvc_runs_the_extra_grid_as_its_own_stages(tmp_path, monkeypatch):
    shutil.copy(ROOT / "dvc.yaml", tmp_path / "dvc.yaml")
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["run_extra"] = {"pairs": ["digits_mlp"], "methods": ["adam", "meta_sgd"], "inits": ["meta_sgd"]}
    raw["run"]["methods"] = ["baseline", "ml3"]
    raw["run"]["inits"] = ["smooth_nn"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["dvc", "init", "-q"], cwd=tmp_path, env=env(), check=True)
    listed = subprocess.run(["dvc", "stage", "list", "--name-only"], cwd=tmp_path, env=env(), capture_output=True, text=True,
                            check=True)
    names = set(listed.stdout.split())
    assert {"train_extra@digits_mlp-adam", "train_extra@digits_mlp-meta_sgd", "init_loss_extra@digits_mlp-meta_sgd"} <= names
    assert not any(n.startswith(("train_extra@diabetes", "init_loss_extra@diabetes")) for n in names)
    from dvc.repo import Repo

    monkeypatch.chdir(tmp_path)  # DVC reads params.yaml for the templating from the working directory
    with Repo(str(tmp_path)) as repo:
        (stage,) = repo.stage.collect("train_extra@digits_mlp-meta_sgd")
        (train,) = repo.stage.collect("train@digits_mlp-ml3")
    assert stage.cmd == "python -m stages.train --pair digits_mlp --method meta_sgd"
    own = [str(d.def_path).replace("-ml3.txt", "-meta_sgd.txt") for d in train.deps]  # its own inputs digest
    assert [str(d.def_path) for d in stage.deps] == own  # train's entry, merged
    assert str(stage.outs[0].def_path) == "data/runs/digits_mlp/meta_sgd"


def test_the_report_marks_a_method_the_pair_does_not_train(tmp_path, params_dict):
    params = parse_params(with_extra(params_dict))
    for pair in params.run.pairs:
        records = {m: [{"seed": s, "status": "finished", "test_error": 0.1, "absurd": False} for s in params.seeds]
                   for m in methods_on(params, pair)}
        (tmp_path / f"{pair}.json").write_text(json.dumps({"pair": pair, "methods": records}))
    cells = collect(params, tmp_path, tmp_path / "timings")
    assert set(cells["diabetes_mlp"]) == {"baseline", "adalfl", "meta_lr"}
    assert set(cells["digits_mlp"]) == set(all_methods(params))
    table = results_markdown(params, cells)
    header = next(line for line in table.splitlines() if line.startswith("| task |"))
    assert header.split(" | ")[2:7] == ["baseline", "adalfl", "meta_lr", "adam", "meta_sgd"]
    diabetes = next(line for line in table.splitlines() if line.startswith("| diabetes |"))
    assert diabetes.split(" | ")[5:7] == [NOT_RUN, NOT_RUN]
