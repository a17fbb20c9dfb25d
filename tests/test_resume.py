"""A real train stage process killed mid-run resumes from its checkpoint and ends bit-identical.

Each test runs ``python -m stages.train`` in a scratch working folder (prepared data shared,
the offline init written in-process) and compares every output file of the killed and
resumed run with those of an uninterrupted run without checkpoints.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

from pipeline.training.artifacts import save_init
from pipeline.utils.paths import init_dir
from pipeline.training.checkpoint import read_header
from pipeline.config import parse_params
from pipeline.training.offline import offline_phase
from tests.conftest import BASE_PARAMS
from tests.seed_outputs import assert_identical, seed_outputs

pytestmark = pytest.mark.reliability
ROOT = Path(__file__).resolve().parents[1]
PAIR, METHOD, SEEDS = "digits_logistic", "adalfl", [0, 1]
CPU = torch.device("cpu")


def workdir(tmp: Path, prepared_root: Path, every: int, workers: int = 1) -> Path:
    """A working folder with params (Nesterov momentum, so the optimiser state matters) and the offline inits."""
    params: dict[str, Any] = json.loads(json.dumps(BASE_PARAMS))
    params.update(seeds=SEEDS, checkpoint={"every": every, "dir": "data/checkpoints"}, executor={"workers": workers})
    params["data"]["prepared_dir"] = str(prepared_root)
    params["pairs"] = {PAIR: {"dataset": "digits", "model": "logistic", "steps": 300, "eval_interval": 50,
                              "optim": {"lr": 0.01, "momentum": 0.9, "nesterov": True}}}
    params["run"] = {"pairs": [PAIR], "methods": [METHOD], "inits": ["smooth_nn"]}
    params["methods"] = {METHOD: {"online": {"meta_lr": 1e-3}}}
    tmp.mkdir()
    (tmp / "params.yaml").write_text(yaml.safe_dump(params))
    return tmp


def write_inits(folder: Path, digits_data) -> None:
    cfg = parse_params(yaml.safe_load((folder / "params.yaml").read_text()))
    for seed in SEEDS:
        rule, history = offline_phase(digits_data, cfg.pairs[PAIR], "smooth_nn", cfg.offline["smooth_nn"], seed, CPU, progress=False)
        save_init(folder / init_dir(PAIR, "smooth_nn", seed), rule, history, {}, {"wall_time_s": 0.0})


def start_stage(folder: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "stages.train", "--pair", PAIR, "--method", METHOD], cwd=folder,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_checkpoint(process: subprocess.Popen[str], path: Path, min_step: int, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the stage ended before step {min_step}: {process.communicate()}"
        if path.is_file():
            step = read_header(path)["step"]
            if step >= min_step:
                return step
        time.sleep(0.01)
    raise AssertionError(f"no checkpoint at step >= {min_step} within {timeout} s")


def run_outputs(folder: Path) -> dict[str, Any]:
    """Every output the stage writes, except the wall time (the only number allowed to differ)."""
    run = folder / "data/runs" / PAIR / METHOD
    return {f"{seed}/{name}": value for seed in SEEDS for name, value in seed_outputs(run / f"seed{seed}").items()}


def sigterm_once_checkpointed(process: subprocess.Popen[str], checkpoints: list[Path]) -> tuple[str, str]:
    """SIGTERM the stage once every one of ``checkpoints`` exists (between periodic checkpoints); its output."""
    while not (all(p.is_file() for p in checkpoints) or process.poll() is not None):
        time.sleep(0.01)
    time.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, (out, err)
    return out, err


def resume(folder: Path) -> str:
    """Run the stage again to the end; its standard output."""
    resumed = start_stage(folder)
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory, prepared_root, digits_data) -> dict[str, Any]:
    """The uninterrupted run, with checkpointing off."""
    folder = workdir(tmp_path_factory.mktemp("ref") / "work", prepared_root, every=0)
    write_inits(folder, digits_data)
    process = start_stage(folder)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert not (folder / "data/checkpoints").exists()
    return run_outputs(folder)


@pytest.mark.slow  # with the reference run about 35 s
def test_sigkill_mid_run_then_resume_is_bit_identical(tmp_path, prepared_root, digits_data, reference):
    folder = workdir(tmp_path / "work", prepared_root, every=25)
    write_inits(folder, digits_data)
    process = start_stage(folder)
    killed_at = wait_for_checkpoint(process, folder / f"data/checkpoints/{PAIR}/{METHOD}/seed1.ckpt", 50)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert not (folder / "data/runs" / PAIR / METHOD).exists(), "a killed stage left a partial output"
    out = resume(folder)
    assert "seed0.ckpt at step 300 (finished)" in out  # the finished seed is not trained again
    steps = [int(line.split(" at step ")[1].split()[0]) for line in out.splitlines() if "seed1.ckpt at step" in line]
    assert len(steps) == 1 and killed_at <= steps[0] < 300, out
    assert_identical(run_outputs(folder), reference)
    assert not (folder / "data/checkpoints" / PAIR / METHOD).exists(), "checkpoints outlived the finished stage"


@pytest.mark.slow
def test_sigterm_writes_a_checkpoint_and_resumes_bit_identical(tmp_path, prepared_root, digits_data, reference):
    folder = workdir(tmp_path / "work", prepared_root, every=100)
    write_inits(folder, digits_data)
    path = folder / f"data/checkpoints/{PAIR}/{METHOD}/seed0.ckpt"
    out, err = sigterm_once_checkpointed(start_stage(folder), [path])  # seed 0, between periodic checkpoints
    # progress lines may precede it on a loaded machine (every 5 s); the stop is one last line
    last = err.strip().splitlines()[-1]
    assert "interrupted at step" in last and err.count("interrupted at step") == 1, err
    stopped_at = int(last.split("interrupted at step ")[1].split()[0])
    assert read_header(path)["step"] == stopped_at and stopped_at < 300
    out = resume(folder)
    assert f"seed0.ckpt at step {stopped_at} (running)" in out
    assert_identical(run_outputs(folder), reference)


@pytest.mark.slow
def test_sigterm_with_two_workers_stops_both_seeds_and_resumes_bit_identical(tmp_path, prepared_root, digits_data,
                                                                            reference):
    """The default profile runs seeds in two processes: a SIGTERM to the stage reaches both, each writes its
    checkpoint and stops, the stage exits 143 with one line, and the next run resumes both seeds."""
    folder = workdir(tmp_path / "work", prepared_root, every=100, workers=2)
    write_inits(folder, digits_data)
    checkpoints = [folder / f"data/checkpoints/{PAIR}/{METHOD}/seed{seed}.ckpt" for seed in SEEDS]
    out, err = sigterm_once_checkpointed(start_stage(folder), checkpoints)  # both seeds running
    last = err.strip().splitlines()[-1]
    assert last.startswith("stopped:") and "interrupted at step" in last, err
    stopped = [read_header(p)["step"] for p in checkpoints]
    assert all(100 <= step < 300 for step in stopped), stopped  # each wrote its checkpoint at the stop
    assert not (folder / "data/runs" / PAIR / METHOD).exists(), "a stopped stage left a partial output"
    out = resume(folder)
    for seed, step in zip(SEEDS, stopped):
        assert f"seed{seed}.ckpt at step {step} (running)" in out, out
    assert_identical(run_outputs(folder), reference)
