"""A temporary git + DVC repository holding a copy of the project with shrunk params."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
COPIED = ["pipeline", "stages", "tools", "dvc.yaml", ".dvcignore", ".gitignore", "reports/tuning/README.md", "data/fewshot/results/.keep", "reports/l2l/.keep"]


# The few-shot branch on a budget of seconds: one family, two methods, a handful of iterations and tasks.
TINY_FEWSHOT: dict[str, Any] = {
    "families": ["sinusoid"], "methods": ["maml", "meta_sgd"], "seed": 0, "test": {"tasks": 8, "steps": 3},
    "tasks": {"sinusoid": {"kind": "sinusoid", "shots": [5, 10], "query": 5, "test_query": 20, "hidden": 8,
                           "train": {"iterations": 6, "meta_batch": 4, "valid_tasks": 5, "valid_interval": 3}}}}


SEVEN_METHODS = ("baseline", "ml3", "adalfl", "meta_lr", "taylor_quadratic", "taylor_cubic", "ml3_relu")


def shrunk_params(pair: str = "digits_logistic", steps: int = 20, offline_steps: int = 3) -> dict[str, Any]:
    """The real params.yaml with one pair, one seed and tiny budgets (every method kept; few-shot shrunk too)."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["seeds"] = [0]
    params["run"]["pairs"] = [pair]
    params["pairs"][pair].update(steps=steps, eval_interval=10)
    for block in params["offline"].values():
        block["steps"] = offline_steps
    params["fewshot"] = TINY_FEWSHOT
    params["transfer"] = {"pairs": [], "methods": [], "loss_from": []}  # it needs two pairs (tests/test_transfer.py)
    # the paper's seven methods in one grid, no second grid, no tuning, no L2L benchmark: the tests on this
    # repository are about caching and the report; test_smoke_profile.py runs those branches end to end
    params["run"].update(methods=list(SEVEN_METHODS), inits=["smooth_nn", "relu_nn", "taylor_quadratic", "taylor_cubic",
                                                             "learning_rate"])
    params["run_extra"] = {"pairs": [], "methods": [], "inits": []}
    params["tune"].update(pairs=[], methods=[])
    params["l2l"]["problems"] = []
    return params


def make_repo(tmp: Path, params: dict[str, Any]) -> Path:
    repo = tmp / "repo"
    repo.mkdir()
    for name in COPIED:
        source = ROOT / name
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, repo / name)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(repo, "git", "init", "-q")
    run(repo, "git", "config", "user.email", "ci@example.invalid")
    run(repo, "git", "config", "user.name", "CI")
    run(repo, "dvc", "init", "-q")
    run(repo, "dvc", "config", "core.analytics", "false")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "pipeline copy")
    return repo


def env() -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), "DVC_NO_ANALYTICS": "1", "PYTHONUNBUFFERED": "1"}


def run(repo: Path, *cmd: str) -> str:
    done = subprocess.run(cmd, cwd=repo, env=env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout
