"""A study's record (studies/results/<study>/) is in git whole: nothing under studies/ is ignored.

DVC writes a `.gitignore` beside every output it tracks; copying an output folder with it into
studies/ silently kept files out of two committed studies (docs/reproduction.md says which).
"""

from __future__ import annotations

from tests.pipeline_repo import ROOT


def test_no_gitignore_hides_part_of_a_study():
    hiding = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "studies").rglob(".gitignore"))
    assert hiding == [], f"remove these (copy outputs without DVC's .gitignore): {hiding}"
