"""tools.paired_runs on two hand-written run folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.paired_runs import compare_runs, main


def write_run(root: Path, errors: dict[str, list[float | None]]) -> None:
    records = {}
    for method, per_seed in errors.items():
        records[method] = []
        for seed, error in enumerate(per_seed):
            status = "finished" if error is not None else "diverged"
            records[method].append({"seed": seed, "status": status, "test_error": error})
            folder = root / "data/runs/p" / method / f"seed{seed}"
            folder.mkdir(parents=True)
            history = [{"step": 0, "valid_error": 1.0}, {"step": 10, "valid_error": error if error is not None else 1.0}]
            (folder / "history.json").write_text(json.dumps(history))
    (root / "data/eval").mkdir(parents=True)
    (root / "data/eval/p.json").write_text(json.dumps({"pair": "p", "methods": records}))


def test_paired_difference_per_seed_and_a_diverged_seed_left_out(tmp_path, capsys):
    write_run(tmp_path / "a", {"adalfl": [0.10, 0.11, 0.12, None], "ml3": [0.2, 0.2, 0.2, 0.2]})
    write_run(tmp_path / "b", {"adalfl": [0.20, 0.22, 0.23, 0.2], "baseline": [0.3, 0.3, 0.3, 0.3]})
    result = compare_runs(tmp_path / "a", tmp_path / "b", None)
    assert list(result["p"]) == ["adalfl"]  # only what both runs have
    test = result["p"]["adalfl"]["test_error"]
    assert test["seeds"] == [0, 1, 2] and test["left_out"] == [3]
    assert test["mean_diff"] == pytest.approx(-0.32 / 3) and test["verdict"] == "better"
    assert result["p"]["adalfl"]["auc"]["verdict"] == "better"
    assert main(["--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"), "--label-a", "residual"]) == 0
    assert "| p | adalfl |" in capsys.readouterr().out


def test_a_saved_study_record_compares_test_errors_and_says_the_curves_are_missing(tmp_path, capsys):
    """studies/results/<name>/eval/<pair>.json without data/runs: the test error only."""
    write_run(tmp_path / "a", {"ml3": [0.10, 0.11, 0.12, 0.13]})
    write_run(tmp_path / "run_b", {"ml3": [0.20, 0.22, 0.23, 0.21]})
    saved = tmp_path / "studies/results/b"
    saved.mkdir(parents=True)
    (tmp_path / "run_b/data/eval").rename(saved / "eval")
    result = compare_runs(tmp_path / "a", saved, None)["p"]["ml3"]
    assert result["auc"] is None and result["mean_b"] == pytest.approx(0.215)
    assert result["test_error"]["mean_diff"] == pytest.approx(-0.10)
    assert main(["--a", str(tmp_path / "a"), "--b", str(saved)]) == 0
    assert "| no curves (a saved record) | 4 |" in capsys.readouterr().out
    assert main(["--a", str(tmp_path / "a"), "--b", str(tmp_path / "nothing")]) == 2
    assert "neither data/eval" in capsys.readouterr().err
