"""The prepare stage end to end on the two offline data sets."""

from __future__ import annotations

import json

import pytest
import yaml

from stages import prepare as prepare_stage
from stages.common import run_stage


@pytest.mark.parametrize(("dataset", "total"), [("diabetes", 442), ("digits", 1797)])
def test_prepare_stage_writes_meta(tmp_path, params_dict, dataset, total):
    params_dict["data"]["prepared_dir"] = str(tmp_path / "prepared")
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params_dict))
    assert run_stage(prepare_stage.main, prepare_stage.build_parser(), ["--params", str(path), "--dataset", dataset]) == 0
    meta = json.loads((tmp_path / "prepared" / dataset / "meta.json").read_text())
    assert meta["n_train"] + meta["n_valid"] + meta["n_test"] == total
    assert abs(meta["n_valid"] - 0.1 * (meta["n_train"] + meta["n_valid"])) <= 1
    for key in ("task", "input_shape", "n_outputs", "x_stats"):
        assert key in meta


def test_prepare_stage_reports_missing_download(tmp_path, params_dict, capsys):
    params_dict["data"]["root"] = str(tmp_path / "raw")
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params_dict))
    code = run_stage(prepare_stage.main, prepare_stage.build_parser(), ["--params", str(path), "--dataset", "cifar10"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: data set 'cifar10' not found") and "\n" not in err
