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
    "run": {"pairs": ["digits_mlp"], "methods": ["baseline", "adalfl", "meta_lr"], "inits": ["smooth_nn", "learning_rate"]},
    "pairs": {
        "digits_mlp": {"dataset": "digits", "model": "mlp", "steps": 10, "optim": {"lr": 0.01}},
        "diabetes_mlp": {"dataset": "diabetes", "model": "mlp", "steps": 10, "optim": {"lr": 0.001}},
    },
    "offline": {"smooth_nn": {"steps": 5, "meta_lr": 0.001}, "learning_rate": {"steps": 5}},
    "methods": {
        "baseline": {},
        "adalfl": {"online": {"meta_lr": 1.0e-5}},
        "meta_lr": {"online": {}},
    },
}


@pytest.fixture
def params_dict() -> dict[str, Any]:
    return copy.deepcopy(BASE_PARAMS)


@pytest.fixture(scope="session")
def prepared_root(tmp_path_factory):
    """Diabetes and Digits prepared once per test session (a few seconds)."""
    from pathlib import Path

    from pipeline.config import DataConfig
    from pipeline.data.prepare import prepare_dataset
    from pipeline.data.registry import DATASETS
    from pipeline.data.store import write_prepared

    root = tmp_path_factory.mktemp("prepared")
    for name in ("diabetes", "digits"):
        info = DATASETS[name]
        write_prepared(prepare_dataset(info, info.load(Path("data/raw")), DataConfig()), root / name)
    return root


@pytest.fixture(scope="session")
def digits_data(prepared_root):
    from pipeline.data.loading import load_prepared

    return load_prepared(prepared_root / "digits")


@pytest.fixture(scope="session")
def diabetes_data(prepared_root):
    from pipeline.data.loading import load_prepared

    return load_prepared(prepared_root / "diabetes")
