"""`make clean` removes the stages' outputs and nothing git tracks."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TRACKED = ["data/prepared/.gitignore", "data/inputs/.gitignore", "data/init/digits_mlp/.gitignore", "data/runs/digits_mlp/.gitignore",
           "data/eval/.gitignore", "reports/tuning/digits_mlp/.gitignore", "reports/metrics.json", "reports/bench.json",
           "reports/results.md", "reports/curves/digits_mlp__baseline.csv"]
OUTPUTS = ["data/code/stages.train.txt", "data/inputs/runs/train-digits_mlp-adalfl.txt", "data/prepared/digits/train.pt", "data/init/digits_mlp/smooth_nn/seed0/loss.pt",
           "data/runs/digits_mlp/adalfl/seed0/result.json", "data/eval/digits_mlp.json", "data/params_checked.txt",
           "reports/tuning/digits_mlp/adalfl/best.json"]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_clean_keeps_tracked_files(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    for name in TRACKED + OUTPUTS:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    subprocess.run(["make", "-s", "clean"], cwd=tmp_path, check=True)
    assert [n for n in TRACKED if not (tmp_path / n).exists()] == []
    assert [n for n in OUTPUTS if (tmp_path / n).exists()] == []
    assert not (tmp_path / "data/init/digits_mlp/smooth_nn").exists()
