"""The report's L2L section: the l2l stage's table and figure for each listed problem, nothing when none ran."""

from __future__ import annotations

from pipeline.report.l2l import section

TABLE = "L2L benchmark `quadratic`: training loss after 100 steps\n\n| optimiser | learning rate | final loss |\n|---|---|---|\n"


def test_each_problem_that_ran_brings_its_table_and_curves(tmp_path):
    (tmp_path / "quadratic").mkdir()
    (tmp_path / "quadratic" / "table.md").write_text(TABLE + "| Adam | 0.3 | **0.4** |\n")
    (tmp_path / "quadratic" / "curves.png").write_bytes(b"\x89PNG")
    markdown, figures = section(("quadratic", "mlp"), tmp_path)  # mlp listed but not run yet: left out
    assert markdown.startswith("## L2L benchmark") and "| Adam | 0.3 | **0.4** |" in markdown
    assert "mlp" not in markdown
    assert [path for _, path in figures] == [tmp_path / "quadratic" / "curves.png"]


def test_no_problem_no_section(tmp_path):
    assert section((), tmp_path) == ("", [])
    assert section(("quadratic",), tmp_path) == ("", [])
