"""tools.stage_times: the wall times read off a stamped `dvc repro` log, and merging a run's pieces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.stage_times import join, main, merge, rows_from_log, stage_walls

KILLED_LOG = """Running stage 'prepare@digits':
> python -m stages.prepare --dataset digits
[timing] prepare@digits: start-up 4.86 s, work 0.26 s, CPU 4.34 s
Running stage 'tune@p-ml3':
[timing] tune@p-ml3: start-up None s, work 641.23 s, CPU 639.9 s
Running stage 'tune@p-adalfl':
[tune p adalfl] trial 4 [base_lr=0.00944]: value 0.0423; best 0.0419 (trial 2)
"""


def saved_run(path: Path, rows: list[dict], exit_code: int = 0) -> Path:
    path.write_text(json.dumps({"command": ["dvc", "repro"], "total_s": 1.0, "exit_code": exit_code, "rows": rows}))
    return path


def test_a_stage_runs_from_its_line_to_the_next_stages_and_overhead_is_what_the_stage_did_not_measure():
    lines = [(0.0, "Running stage 'a':"), (1.0, "x"), (5.0, "Running stage 'b':"), (6.0, "y")]
    walls = stage_walls(lines, total=9.0)
    assert walls == {"a": 5.0, "b": 4.0}
    rows = join(walls, [{"stage": "a", "startup_s": 1.0, "work_s": 3.5, "cpu_s": 4.0}])
    assert rows[0]["overhead_s"] == 0.5
    assert "overhead_s" not in rows[1] and rows[1]["wall_s"] == 4.0  # b's own figures were never written


def test_a_killed_runs_log_gives_the_stages_that_finished_and_not_the_one_it_was_killed_in():
    rows = rows_from_log(KILLED_LOG)
    assert [row["stage"] for row in rows] == ["prepare@digits", "tune@p-ml3"]
    assert rows[0]["wall_s"] == pytest.approx(5.12) and rows[0]["cpu_s"] == 4.34
    assert rows[1]["startup_s"] is None and rows[1]["wall_s"] == 641.23


def test_merge_keeps_the_last_pieces_row_and_every_stage_once(tmp_path):
    (tmp_path / "killed.txt").write_text(KILLED_LOG)
    resumed = saved_run(tmp_path / "resumed.json", [{"stage": "tune@p-adalfl", "wall_s": 900.0}])
    rerun = saved_run(tmp_path / "rerun.json", [{"stage": "prepare@digits", "wall_s": 6.0}], exit_code=1)
    merged = merge([resumed, rerun], [tmp_path / "killed.txt"])
    by_stage = {row["stage"]: row["wall_s"] for row in merged["rows"]}
    assert by_stage == {"prepare@digits": 6.0, "tune@p-ml3": 641.23, "tune@p-adalfl": 900.0}
    assert merged["total_s"] == pytest.approx(1547.2, abs=0.05)
    assert "3 invocations" in merged["note"] and "(exit 1)" in merged["note"] and "killed.txt" in merged["note"]


def test_merge_on_the_command_line_writes_a_file_that_show_reads(tmp_path, capsys):
    piece = saved_run(tmp_path / "piece.json", [{"stage": "train@p-ml3", "wall_s": 3.0, "work_s": 2.0}])
    assert main(["merge", "--save", str(tmp_path / "all.json"), str(piece)]) == 0
    assert main(["show", str(tmp_path / "all.json")]) == 0
    assert "| train@p-ml3 | 3.0 |" in capsys.readouterr().out


def test_merge_of_nothing_or_of_a_missing_file_fails_with_a_message(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["merge", "--save", str(tmp_path / "all.json")])
    with pytest.raises(SystemExit):
        main(["merge", "--save", str(tmp_path / "all.json"), str(tmp_path / "missing.json")])
    assert "missing.json" in capsys.readouterr().err
