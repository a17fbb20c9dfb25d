"""The README's first thing to try, as written: `cp profiles/smoke.yaml params.yaml && dvc repro`.

It passes through every branch the smoke profile switches on (code, prepare, init_loss and
its second grid, tune, train and its second grid, evaluate, report) in a temporary git + DVC copy of the project. ~3 minutes: `make test-slow`.
"""

from __future__ import annotations

import json

import pytest
import yaml

from tests.pipeline_repo import ROOT, make_repo, run

pytestmark = pytest.mark.slow


def test_smoke_profile_runs_end_to_end(tmp_path):
    params = yaml.safe_load((ROOT / "profiles" / "smoke.yaml").read_text())
    repo = make_repo(tmp_path, params)
    (repo / "params.yaml").write_text((ROOT / "profiles" / "smoke.yaml").read_text())  # byte for byte, comments too
    run(repo, "git", "commit", "-qam", "smoke profile")
    out = run(repo, "dvc", "repro")
    assert "Running stage 'tune@digits_logistic-baseline'" in out
    metrics = json.loads((repo / "reports" / "metrics.json").read_text())
    assert set(metrics) == set(params["run"]["pairs"])
    extra = params["run_extra"]
    assert "Running stage 'train_extra@digits_logistic-meta_sgd'" in out and "Running stage 'init_loss_extra@" in out
    for pair in params["run"]["pairs"]:
        assert set(metrics[pair]) == set(params["run"]["methods"]) | (set(extra["methods"]) if pair in extra["pairs"] else set())
        assert all(value is not None and value >= 0 for value in metrics[pair].values())
    for pair in params["run"]["pairs"]:  # the numbers mean little, but a learned loss must not do worse than a constant
        runs = json.loads((repo / "data" / "eval" / f"{pair}.json").read_text())["methods"]
        absurd = [(r["method"], r["seed"]) for records in runs.values() for r in records if r["absurd"]]
        assert absurd == [], f"{pair}: no better than the trivial predictor: {absurd}"
        assert all(r["status"] == "finished" for records in runs.values() for r in records)
    assert (repo / "reports/tuning/digits_logistic/baseline/result.json").is_file()
    timings = sorted(p.name for p in (repo / "reports" / "timings").iterdir())
    assert "train@digits_logistic-adalfl.json" in timings and "init_loss@diabetes_mlp-smooth_nn.json" in timings
    assert "up to date" in run(repo, "dvc", "status")
