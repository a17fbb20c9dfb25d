"""tools.fit_gap on hand-written run histories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.fit_gap import main, run_fit


def write_history(root: Path, pair: str, method: str, seed: int, rows: list[tuple[int, float, float]]) -> None:
    folder = root / pair / method / f"seed{seed}"
    folder.mkdir(parents=True)
    history = [{"step": 0, "train_error": 0.3, "valid_error": None}]  # an unevaluated row is skipped
    history += [{"step": s, "train_error": t, "valid_error": v} for s, t, v in rows]
    (folder / "history.json").write_text(json.dumps(history))


def test_run_fit_reads_the_final_and_the_lowest_validation_error():
    history = [
        {"step": 0, "train_error": 0.3, "valid_error": 0.3},
        {"step": 500, "train_error": 0.02, "valid_error": 0.03},
        {"step": 1000, "train_error": 0.01, "valid_error": 0.04},
    ]
    assert run_fit(history) == {"train": 0.01, "valid": 0.04, "best_valid": 0.03, "best_step": 500}
    with pytest.raises(ValueError, match="no evaluated step"):
        run_fit([{"step": 0, "train_error": None, "valid_error": None}])


def test_table_averages_over_seeds_per_pair_and_method(tmp_path, capsys):
    write_history(tmp_path, "p", "baseline", 0, [(500, 0.02, 0.03), (1000, 0.015, 0.029)])
    write_history(tmp_path, "p", "ml3", 0, [(500, 0.01, 0.03), (1000, 0.002, 0.04)])
    write_history(tmp_path, "p", "ml3", 1, [(500, 0.01, 0.02), (1000, 0.004, 0.05)])
    write_history(tmp_path, "q", "ml3", 0, [(500, 0.5, 0.5)])
    assert main(["--root", str(tmp_path), "--pairs", "p"]) == 0
    out = capsys.readouterr().out
    assert "| p | baseline | 1 | 0.0150 | 0.0290 | 0.0290 | 1000 |" in out
    assert "| p | ml3 | 2 | 0.0030 | 0.0450 | 0.0250 | 500 |" in out
    assert "| q |" not in out
    with pytest.raises(SystemExit):
        main(["--root", str(tmp_path / "none")])
    assert "no run histories" in capsys.readouterr().err
