"""tools.save_study on a hand-made run folder."""

from __future__ import annotations

from pathlib import Path

from tools.save_study import main, save_study


def make_run(root: Path) -> None:
    for name, text in {
        "reports/results.md": "# Results\n",
        "reports/metrics.json": "{}",
        "reports/plots/p_curves.png": "png",
        "reports/plots/.gitignore": "/p_curves.png\n",
        "data/eval/p.json": "{}",
        "data/eval/.gitignore": "/p.json\n",
        "reports/tuning/p/ml3/result.json": "{}",
        "reports/tuning/p/ml3/history.png": "png",
        "params.yaml": "seeds: [0]\n",
        "stage_times.json": "{}",
        "data/runs/p/ml3/seed0/history.json": "[]",
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_the_record_has_the_report_evaluations_studies_and_params_and_no_gitignore(tmp_path):
    make_run(tmp_path / "run")
    files = save_study(tmp_path / "run", tmp_path / "out", tmp_path / "run/stage_times.json")
    assert sorted(str(f.relative_to(tmp_path / "out")) for f in files) == [
        "eval/p.json",
        "metrics.json",
        "params.yaml",
        "plots/p_curves.png",
        "results.md",
        "stage_times.json",
        "tuning/p/ml3/history.png",
        "tuning/p/ml3/result.json",
    ]


def test_a_run_that_tuned_nothing_gets_no_tuning_folder(tmp_path):
    make_run(tmp_path / "run")
    for name in ("result.json", "history.png"):
        (tmp_path / "run/reports/tuning/p/ml3" / name).unlink()
    (tmp_path / "run/reports/tuning/README.md").write_text("# reports/tuning\n")  # git-tracked in every checkout
    save_study(tmp_path / "run", tmp_path / "out")
    assert not (tmp_path / "out/tuning").exists() and (tmp_path / "out/eval/p.json").is_file()


def test_an_existing_record_or_an_unfinished_run_is_refused(tmp_path, capsys):
    make_run(tmp_path / "run")
    (tmp_path / "records/kept").mkdir(parents=True)
    assert main(["--run", str(tmp_path / "run"), "--name", "kept", "--root", str(tmp_path / "records")]) == 2
    assert "exists" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["--run", str(tmp_path / "empty"), "--name", "new", "--root", str(tmp_path / "records")]) == 2
    assert "no reports/results.md, data/eval; run dvc repro there first" in capsys.readouterr().err
    assert not (tmp_path / "records/new").exists()
    assert main(["--run", str(tmp_path / "run"), "--name", "new", "--root", str(tmp_path / "records")]) == 0
    assert "records/new: 7 files" in capsys.readouterr().out
