"""Every profile under profiles/ (and params.yaml) parses in DVC and passes the config check.

DVC's templating reads the raw file: a key that `dvc.yaml` templates over or lists as a
stage's param must be written, not defaulted. The config check must fail wherever DVC does.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from pipeline.configcheck import load_checked
from pipeline.utils.configparse import ConfigError
from tests.pipeline_repo import ROOT, env

PROFILES = sorted(ROOT.glob("profiles/*.yaml")) + [ROOT / "params.yaml"]


def dvc_stage_list(tmp: Path, params_text: str) -> subprocess.CompletedProcess[str]:
    """`dvc stage list` on dvc.yaml with the given params, in a scratch git + DVC folder."""
    repo = tmp / "parse"
    repo.mkdir(exist_ok=True)
    shutil.copy(ROOT / "dvc.yaml", repo / "dvc.yaml")
    (repo / "params.yaml").write_text(params_text)
    if not (repo / ".dvc").exists():
        subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
        subprocess.run(["dvc", "init", "-q"], cwd=repo, env=env(), check=True)
    return subprocess.run(["dvc", "stage", "list"], cwd=repo, env=env(), capture_output=True, text=True)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_profile_parses_in_dvc_and_passes_the_check(profile, tmp_path):
    load_checked(profile, ROOT / "dvc.yaml")
    listed = dvc_stage_list(tmp_path, profile.read_text())
    assert listed.returncode == 0, f"dvc stage list with {profile.name}: {listed.stderr}"
    assert "train@" in listed.stdout or "meta_train@" in listed.stdout


def _drop(data: dict, dotted: str) -> dict:
    node = data
    *parents, last = dotted.split(".")
    for part in parents:
        node = node[part]
    del node[last]
    return data


@pytest.mark.parametrize("key, dvc_fails", [
    ("fewshot.families", True),   # a matrix DVC cannot resolve
    ("tune.pairs", True),
    ("run.inits", True),
    ("datasets", True),
    ("representation", False),    # only a stage's params: list; DVC fails when that stage runs
    ("fewshot.test", False),
])
def test_check_fails_naming_the_key_wherever_dvc_would(key, dvc_fails, tmp_path):
    raw = _drop(yaml.safe_load((ROOT / "params.yaml").read_text()), key)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(ConfigError, match=f"{re.escape(key)}: (missing required key|the methods|empty while)"):
        load_checked(path, ROOT / "dvc.yaml")
    listed = dvc_stage_list(tmp_path, path.read_text())
    assert (listed.returncode != 0) == dvc_fails, listed.stderr
    if dvc_fails:
        assert f"Could not find '{key}'" in listed.stderr


def test_check_command_names_the_key(tmp_path):
    raw = _drop(yaml.safe_load((ROOT / "params.yaml").read_text()), "fewshot.families")
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    done = subprocess.run(["python", "-m", "tools.config", "check", "--quiet", "--params", str(path),
                           "--dvc-yaml", str(ROOT / "dvc.yaml")], cwd=ROOT, env=env(), capture_output=True, text=True)
    assert done.returncode == 2
    assert "fewshot.families: missing required key" in done.stderr


def test_every_profile_that_trains_a_loss_network_names_its_form():
    """The dataclass default (plain, the paper's) and params.yaml's (anchored) differ: a profile that
    left the key out silently trained the paper's form while claiming to be the default."""
    networks = {"ml3", "adalfl", "ml3_relu"}
    for profile in PROFILES:
        raw = yaml.safe_load(profile.read_text())
        methods = set(raw["run"]["methods"]) | set((raw.get("run_extra") or {}).get("methods", []))
        if methods & networks:
            assert "loss_form" in (raw.get("representation") or {}), f"{profile.name}: representation.loss_form"
