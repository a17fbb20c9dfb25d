"""A scratch working folder for tune/train stage runs on a shrunk config (digits_logistic, 30 steps)."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from stages.common import run_stage
from tests.conftest import BASE_PARAMS

PAIR = "digits_logistic"


PAIRS = {
    PAIR: {"dataset": "digits", "model": "logistic", "steps": 30, "eval_interval": 10, "optim": {"lr": 0.01}},
    "diabetes_mlp": {"dataset": "diabetes", "model": "mlp", "steps": 30, "eval_interval": 10, "optim": {"lr": 0.001}},
}


def tune_params(prepared: Path, tuning_dir: Path, pair: str = PAIR, **tune: Any) -> dict[str, Any]:
    params: dict[str, Any] = json.loads(json.dumps(BASE_PARAMS))
    params["data"]["prepared_dir"] = str(prepared)
    params["seeds"] = [0]
    params["pairs"] = {pair: json.loads(json.dumps(PAIRS[pair]))}
    params["run"] = {"pairs": [pair], "methods": ["baseline", "meta_lr"], "inits": ["learning_rate"]}
    params["offline"] = {"learning_rate": {"steps": 3, "meta_lr": 0.01}}
    params["methods"] = {"baseline": {}, "meta_lr": {"online": {"meta_lr": 1e-4}}}
    params["tune"] = {"pairs": [pair], "methods": ["baseline", "meta_lr"], "n_trials": 4, "startup_trials": 2, "dir": str(tuning_dir), **tune}
    return params


def make_folder(tmp: Path, prepared_root: Path, pair: str = PAIR, **tune: Any) -> Path:
    dataset = PAIRS[pair]["dataset"]
    shutil.copytree(prepared_root / dataset, tmp / "prepared" / dataset)
    write_params(tmp, tune_params(tmp / "prepared", tmp / "journals", pair, **tune))
    return tmp


def write_params(folder: Path, params: dict[str, Any]) -> None:
    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def run_in(folder: Path, module: Any, *args: str) -> tuple[int, str, str]:
    """Run a stage entry point in-process with ``folder``'s params; (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run_stage(module.main, module.build_parser(), ["--params", str(folder / "params.yaml"), *args])
    return code, out.getvalue(), err.getvalue()
