"""The few-shot stages end to end on a tiny sinusoid budget: tasks -> meta_train -> meta_test -> report section."""

from __future__ import annotations

import json

import yaml

from pipeline.config import load_params
from pipeline.fewshot import report
from pipeline.utils.paths import FEWSHOT_RESULTS as RESULTS
from stages import fewshot_tasks, meta_test, meta_train
from stages.common import run_stage
from tests.pipeline_repo import TINY_FEWSHOT


def test_stages_write_results_the_report_reads(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"fewshot": TINY_FEWSHOT}))
    assert run_stage(fewshot_tasks.main, fewshot_tasks.build_parser(), ["--family", "sinusoid"]) == 0
    for method in ("maml", "meta_sgd"):
        assert run_stage(meta_train.main, meta_train.build_parser(), ["--family", "sinusoid", "--method", method]) == 0
        assert run_stage(meta_test.main, meta_test.build_parser(), ["--family", "sinusoid", "--method", method]) == 0
    record = json.loads((RESULTS / "sinusoid-maml.json").read_text())
    assert set(record["shots"]) == {"5", "10"}
    result = record["shots"]["5"]["result"]
    assert result["tasks"] == 8 and result["mean"] > 0 and result["ci95"] > 0
    assert len(record["shots"]["5"]["curve"]) == 4 and record["shots"]["5"]["valid_history"]["iteration"] == [3, 6]
    markdown, metrics = report.section(load_params("params.yaml").fewshot, RESULTS)
    assert "| maml |" in markdown and "| method | K = 5 | K = 10 |" in markdown and "not found" in markdown
    assert set(metrics["sinusoid"]) == {"maml", "meta_sgd"} and set(metrics["sinusoid"]["maml"]) == {"K5", "K10"}
    figures = report.adaptation_figures(load_params("params.yaml").fewshot, RESULTS, tmp_path)
    assert figures and figures[0][1].stat().st_size > 0


def test_a_family_or_method_not_listed_fails_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"fewshot": TINY_FEWSHOT}))
    assert run_stage(meta_train.main, meta_train.build_parser(), ["--family", "sinusoid", "--method", "meta_lstm"]) == 2
    assert "fewshot.methods: 'meta_lstm' is not listed" in capsys.readouterr().err
    assert run_stage(meta_test.main, meta_test.build_parser(), ["--family", "sinusoid", "--method", "maml"]) == 2
    assert "run the fewshot_tasks@sinusoid stage first" in capsys.readouterr().err
