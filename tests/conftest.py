"""Shared fixtures: a minimal valid params mapping that tests can modify."""

from __future__ import annotations

import copy
from typing import Any

import pytest

BASE_PARAMS: dict[str, Any] = {
    "device": "cpu",
    "datasets": ["diabetes", "digits"],
    "data": {"root": "data/raw", "prepared_dir": "data/prepared", "valid_fraction": 0.1, "test_fraction": 0.2, "split_seed": 0},
    "seeds": [0, 1],
    "pairs": {
        "digits_mlp": {"dataset": "digits", "model": "mlp", "steps": 10, "optim": {"lr": 0.01}},
        "diabetes_mlp": {"dataset": "diabetes", "model": "mlp", "steps": 10, "optim": {"lr": 0.001}},
    },
    "methods": {
        "baseline": {},
        "adalfl": {"offline": {"steps": 5, "meta_lr": 0.001}, "online": {"meta_lr": 1.0e-5}},
        "meta_lr": {"offline": {"steps": 5}, "online": {}},
    },
}


@pytest.fixture
def params_dict() -> dict[str, Any]:
    return copy.deepcopy(BASE_PARAMS)
