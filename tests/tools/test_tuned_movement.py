"""tools.tuned_movement: which runs it re-measures, and its control (ML3 has no online phase)."""

from __future__ import annotations

import json

from pipeline.config import parse_params
from tests.conftest import BASE_PARAMS
from tools.tuned_movement import tuned_offline_methods, unreproduced_controls


def test_it_re_measures_every_tuned_method_with_an_offline_phase_and_nothing_untuned():
    raw = json.loads(json.dumps(BASE_PARAMS))
    raw["run"] = {
        "pairs": ["digits_mlp", "diabetes_mlp"],
        "methods": ["baseline", "meta_lr", "adalfl"],
        "inits": ["smooth_nn", "learning_rate"],
    }
    raw["tune"] = {"pairs": ["digits_mlp"], "methods": ["baseline", "meta_lr", "adalfl"]}
    assert tuned_offline_methods(parse_params(raw), None) == [("digits_mlp", "meta_lr"), ("digits_mlp", "adalfl")]
    assert tuned_offline_methods(parse_params(raw), ["diabetes_mlp"]) == []


def test_a_control_that_moved_at_all_means_the_offline_phase_did_not_re_run_bit_for_bit(capsys):
    rows = {
        "p": {"ml3": [{"seed": 0, "online": 0.0}, {"seed": 1, "online": 1e-9}], "adalfl": [{"seed": 0, "online": 0.3}]}
    }
    assert unreproduced_controls(rows) == ["p ml3 seed 1"]
    assert "p ml3 seed 1" in capsys.readouterr().err
    assert (
        unreproduced_controls({"p": {"ml3": [{"seed": 0, "online": 0.0}], "adalfl": [{"seed": 0, "online": 0.3}]}})
        == []
    )
