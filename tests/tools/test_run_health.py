"""tools.run_health over a hand-written checkout and a saved study record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.run_health import default_records, main


def write_eval(folder: Path, errors: dict[str, list[float | None]], trivial: float = 0.9) -> None:
    methods = {
        m: [
            {
                "seed": s,
                "status": "finished" if e is not None else "diverged",
                "test_error": e,
                "trivial_error": trivial,
                "absurd": e is not None and e >= trivial,
                "diverged_at": 3,
            }
            for s, e in enumerate(per_seed)
        ]
        for m, per_seed in errors.items()
    }
    folder.mkdir(parents=True)
    (folder / "p.json").write_text(json.dumps({"pair": "p", "methods": methods}))


def test_every_failed_run_is_listed_and_check_fails_on_any(tmp_path, capsys, monkeypatch):
    write_eval(tmp_path / "data/eval", {"baseline": [0.1, 0.1], "ml3": [0.1, 0.12]})
    write_eval(
        tmp_path / "studies/results/old/eval", {"baseline": [0.1, 0.1], "adalfl": [0.7, None], "meta_sgd": [0.9, 0.1]}
    )
    monkeypatch.chdir(tmp_path)
    assert default_records(Path(".")) == [Path("."), Path("studies/results/old")]
    assert main(["--check"]) == 1
    out = capsys.readouterr().out
    assert ". (form not recorded): 4 runs, none failed" in out
    assert "studies/results/old (form not recorded): 6 runs, 1 diverged, 1 absurd, 1 collapsed" in out
    assert "p adalfl seed 0: collapsed (test error 0.7000, baseline 0.1000, trivial 0.9000: 75% of" in out
    assert "p adalfl seed 1: diverged (step 3)" in out
    assert "3 failed runs in 2 records" in out
    assert main(["--learned-loss", "studies/results/old"]) == 0  # without --check it only reports
    out = capsys.readouterr().out
    assert "studies/results/old (form not recorded): 2 runs, 1 diverged, 1 collapsed" in out and "meta_sgd" not in out
    assert main(["--check", "."]) == 0


def test_records_name_their_loss_form_and_form_filters_them(tmp_path, capsys, monkeypatch):
    write_eval(tmp_path / "data/eval", {"baseline": [0.1, 0.1], "ml3": [0.1, 0.8]})
    (tmp_path / "params.yaml").write_text("representation: {loss_form: anchored}\n")
    write_eval(tmp_path / "studies/results/paper/eval", {"baseline": [0.1], "ml3": [0.9]})
    (tmp_path / "studies/results/paper/params.yaml").write_text("representation: {loss_bias: true}\n")
    write_eval(tmp_path / "studies/results/old/eval", {"baseline": [0.1], "ml3": [0.1]})
    monkeypatch.chdir(tmp_path)
    assert main(["--learned-loss"]) == 0
    out = capsys.readouterr().out
    assert ". (anchored): 2 runs, 1 collapsed" in out
    assert "studies/results/paper (plain): 1 runs, 1 absurd" in out  # no loss_form key: before the option, plain
    assert "studies/results/old (form not recorded): 1 runs, none failed" in out
    assert main(["--learned-loss", "--check", "--form", "plain"]) == 1
    out = capsys.readouterr().out
    assert "studies/results/paper" in out and "anchored" not in out and "1 failed runs in 1 records" in out
    assert main(["--check", "--form", "form not recorded"]) == 0
    with pytest.raises(SystemExit):
        main(["--form", "residual"])
    assert "no records of loss form 'residual'" in capsys.readouterr().err


def test_a_checkout_without_evaluations_is_no_record_and_an_empty_record_fails_the_check(tmp_path, capsys, monkeypatch):
    (tmp_path / "data/eval").mkdir(parents=True)  # what a fresh clone has: the folder, no record
    write_eval(tmp_path / "studies/results/done/eval", {"baseline": [0.1], "ml3": [0.1]})
    (tmp_path / "studies/results/empty/eval").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert default_records(Path(".")) == [Path("studies/results/done"), Path("studies/results/empty")]
    assert main(["--check", "studies/results/done"]) == 0
    assert main(["--check"]) == 1
    out = capsys.readouterr().out
    assert "studies/results/empty (form not recorded): 0 runs, nothing evaluated (counted as failed)" in out
    assert "1 failed runs in 2 records" in out
