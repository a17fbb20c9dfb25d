"""Every DVC stage depends on the digest of exactly the project files its entry module imports.

A file imported but not covered lets the cache serve results of old code; a file covered but
not imported re-runs the stage for nothing. The `code` stage writes one digest per stage module
(tools/stage_deps.py); dvc.yaml's code deps are fixed by one command:
``python -m tools.stage_deps --write``.
"""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.pipeline_repo import ROOT, env
from tools.stage_deps import is_code_dep
from tools.stage_deps import (check, digest_text, expected_code_deps, import_closure, rewrite, stage_modules,
                               write_digests)

PROFILES = sorted(ROOT.glob("profiles/*.yaml")) + [ROOT / "params.yaml"]
FIX = "run `python -m tools.stage_deps --write` and commit dvc.yaml"


def describe(problems: dict[str, tuple[list[str], list[str]]]) -> str:
    return "\n".join(f"{stage}: imported but not declared {missing}; declared but not imported {extra}"
                     for stage, (missing, extra) in problems.items())


def test_every_stage_declares_exactly_its_code_deps():
    problems = check(ROOT / "dvc.yaml")
    assert not problems, f"{describe(problems)}\n{FIX}"


def resolved_code_deps(tmp: Path, params: Path) -> dict[str, tuple[str, set[str]]]:
    """Stage -> (its module, its code deps), as DVC resolves dvc.yaml's templating with ``params``."""
    from dvc.repo import Repo

    repo = tmp / params.stem
    repo.mkdir()
    shutil.copy(ROOT / "dvc.yaml", repo / "dvc.yaml")
    shutil.copy(params, repo / "params.yaml")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["dvc", "init", "-q"], cwd=repo, env=env(), check=True)
    deps = {}
    with Repo(str(repo)) as dvc:
        for stage in dvc.index.stages:
            module = stage.cmd.split()[2]
            deps[stage.addressing] = (module, {str(Path(d.def_path)) for d in stage.deps if is_code_dep(str(d.def_path))})
    return deps


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_resolved_stages_of_every_profile_declare_their_code_deps(profile, tmp_path):
    for stage, (module, declared) in resolved_code_deps(tmp_path, profile).items():
        needed = set(expected_code_deps(module))
        assert declared == needed, (f"{stage} ({profile.name}): missing {sorted(needed - declared)}, "
                                    f"extra {sorted(declared - needed)}\n{FIX}")


def test_check_names_the_stage_and_files_on_a_stale_dvc_yaml(tmp_path):
    text = (ROOT / "dvc.yaml").read_text()
    stale = tmp_path / "dvc.yaml"
    train = text.index("\n  train:")
    head, tail = text[:train], text[train:]
    assert "      - data/code/stages.train.txt\n" in tail
    tail = tail.replace("      - data/code/stages.train.txt\n", "      - pipeline/meta\n", 1)
    stale.write_text(head + tail)
    problems = check(stale)
    assert set(problems) == {"train", "train_extra"}  # train_extra is train's entry merged (<<: *train)
    assert problems["train_extra"] == problems["train"]
    missing, extra = problems["train"]
    assert missing == ["data/code/stages.train.txt"] and extra == ["pipeline/meta"]
    stale.write_text(rewrite(stale.read_text(), {s: expected_code_deps(m) for s, m in stage_modules(stale).items()}))
    assert not check(stale) and stale.read_text() == text  # --write restores exactly the committed file


def test_the_command_fails_and_says_how_to_fix(tmp_path):
    stale = tmp_path / "dvc.yaml"
    stale.write_text((ROOT / "dvc.yaml").read_text().replace("      - data/code/stages.evaluate.txt\n", "", 1))
    done = subprocess.run(["python", "-m", "tools.stage_deps", "--dvc-yaml", str(stale)], cwd=ROOT, env=env(),
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert "evaluate: code deps missing: data/code/stages.evaluate.txt" in done.stdout
    assert "python -m tools.stage_deps --write" in done.stdout


def write_project(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def test_closure_follows_every_kind_of_import_and_skips_type_only_ones(tmp_path):
    write_project(tmp_path, {
        "stages/__init__.py": "",
        "stages/run.py": """
            from pipeline.a import f
            from pipeline import b
            if __name__ == "__main__":
                import pipeline.main_only
        """,
        "pipeline/__init__.py": "",
        "pipeline/a.py": """
            from typing import TYPE_CHECKING
            from .sub.c import g
            if TYPE_CHECKING:
                from pipeline.typeonly import T
            def f():
                from pipeline import lazy
        """,
        "pipeline/b.py": "if __name__ == '__main__':\n    import pipeline.never\n",
        "pipeline/sub/__init__.py": "",
        "pipeline/sub/c.py": "from .. import d\nimport os\n",
        "pipeline/d.py": "", "pipeline/lazy.py": "", "pipeline/typeonly.py": "",
        "pipeline/main_only.py": "", "pipeline/never.py": "", "pipeline/unused.py": "",
    })
    assert import_closure("stages.run", tmp_path) == [
        "pipeline/__init__.py", "pipeline/a.py", "pipeline/b.py", "pipeline/d.py", "pipeline/lazy.py",
        "pipeline/main_only.py", "pipeline/sub/__init__.py", "pipeline/sub/c.py", "stages/__init__.py", "stages/run.py"]


def test_rewrite_keeps_comments_and_data_deps():
    text = textwrap.dedent("""\
        stages:
          train:            # a comment
            cmd: python -m stages.train
            deps:
              - data/prepared      # the data
              - pipeline/old.py
              - stages/train.py
            params:
              - seeds
        """)
    out = rewrite(text, {"train": ["pipeline/new.py", "stages/train.py"]})
    assert out == text.replace("      - pipeline/old.py\n      - stages/train.py\n",
                               "      - pipeline/new.py\n      - stages/train.py\n")


TWO_STAGES = {
    "stages/__init__.py": "", "stages/run.py": "from pipeline.a import f\n", "stages/other.py": "import pipeline.b\n",
    "pipeline/__init__.py": "", "pipeline/a.py": "from pipeline import d\n", "pipeline/b.py": "",
    "pipeline/d.py": "x = 1\n", "pipeline/unused.py": "",
}


def test_a_digest_lists_every_file_of_the_closure_with_its_hash(tmp_path):
    import hashlib

    write_project(tmp_path, TWO_STAGES)
    lines = digest_text("stages.run", tmp_path).splitlines()
    assert lines[0].startswith("#")
    assert [line.split("  ")[1] for line in lines[1:]] == import_closure("stages.run", tmp_path)
    for line in lines[1:]:
        sha, name = line.split("  ")
        assert sha == hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()


def test_an_edit_changes_the_digests_of_exactly_the_modules_that_import_it(tmp_path):
    write_project(tmp_path, TWO_STAGES)
    assert write_digests(tmp_path / "code", tmp_path) == ["stages.other", "stages.run"]
    before = {p.name: p.read_text() for p in (tmp_path / "code").iterdir()}
    (tmp_path / "pipeline/unused.py").write_text("y = 2\n")  # imported by no stage
    write_digests(tmp_path / "code", tmp_path)
    assert {p.name: p.read_text() for p in (tmp_path / "code").iterdir()} == before
    (tmp_path / "pipeline/d.py").write_text("x = 2\n")  # two imports below stages.run, not under stages.other
    write_digests(tmp_path / "code", tmp_path)
    after = {p.name: p.read_text() for p in (tmp_path / "code").iterdir()}
    assert after["stages.other.txt"] == before["stages.other.txt"]
    assert after["stages.run.txt"] != before["stages.run.txt"]


def test_the_code_stage_also_hashes_a_file_outside_pipeline_and_stages_that_a_stage_imports(tmp_path):
    write_project(tmp_path, {**TWO_STAGES, "stages/run.py": "from pipeline.a import f\nimport tools.helper\n",
                             "tools/__init__.py": "", "tools/stage_deps.py": "", "tools/helper.py": ""})
    deps = expected_code_deps("tools.stage_deps", tmp_path)
    assert deps == ["pipeline", "stages", "tools/__init__.py", "tools/helper.py", "tools/stage_deps.py"]
    assert expected_code_deps("stages.run", tmp_path) == ["data/code/stages.run.txt"]
