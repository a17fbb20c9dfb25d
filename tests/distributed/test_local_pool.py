"""executor.workers > 1: a stage's seeds in parallel local processes give the sequential run's outputs, bit for bit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from pipeline.utils.paths import run_dir
from pipeline.distributed.config import ExecutorConfig
from pipeline.distributed.seeds import run_seeds
from pipeline.utils.interrupt import Interrupted
from stages import init_loss as init_stage
from stages import train as train_stage
from stages.common import run_stage
from tests.seed_outputs import assert_identical, seed_outputs

ROOT = Path(__file__).resolve().parents[2]
SEEDS = (0, 1, 2)


def test_two_workers_write_what_one_after_another_writes(tmp_path, params_dict, prepared_root, monkeypatch):
    for workers in (1, 2):
        folder = tmp_path / f"workers{workers}"
        folder.mkdir()
        monkeypatch.chdir(folder)
        _write_and_run(folder, params_dict, prepared_root, workers)
    for seed in SEEDS:
        sequential = seed_outputs(tmp_path / "workers1" / run_dir("digits_mlp", "adalfl", seed))
        parallel = seed_outputs(tmp_path / "workers2" / run_dir("digits_mlp", "adalfl", seed))
        assert_identical(parallel, sequential)


def _write_and_run(folder: Path, params_dict: dict, prepared_root: Path, workers: int) -> None:
    """init_loss (smooth_nn) then train (adalfl: the forward-mode online phase) for three seeds."""
    raw = {**params_dict, "seeds": list(SEEDS), "executor": {"workers": workers}}
    raw["data"] = {**raw["data"], "prepared_dir": str(prepared_root)}
    (folder / "params.yaml").write_text(yaml.safe_dump(raw))
    shutil.copy(ROOT / "dvc.yaml", folder / "dvc.yaml")
    assert run_stage(init_stage.main, init_stage.build_parser(), ["--pair", "digits_mlp", "--init", "smooth_nn"]) == 0
    assert run_stage(train_stage.main, train_stage.build_parser(), ["--pair", "digits_mlp", "--method", "adalfl"]) == 0


def _stops_on_seed_one(seed: int, out: Path, inputs: Path | None = None, node: str | None = None) -> str:
    if seed == 1:
        raise Interrupted("stopped at step 3; checkpoint written", 15)
    out.mkdir()
    return f"seed {seed} done"


def _fails_on_seed_one(seed: int, out: Path, inputs: Path | None = None, node: str | None = None) -> str:
    if seed == 1:
        raise ValueError("seed 1: the loss is NaN")
    return f"seed {seed} done"


def test_a_stopped_seed_stops_the_stage_with_its_exit_code(tmp_path):
    with pytest.raises(Interrupted, match="checkpoint written") as stop:
        list(run_seeds(_stops_on_seed_one, (0, 1), ExecutorConfig(workers=2), tmp_path))
    assert stop.value.exit_code == 128 + 15


def test_a_failing_seed_raises_its_own_error_in_the_stage(tmp_path):
    with pytest.raises(ValueError, match="seed 1: the loss is NaN"):
        list(run_seeds(_fails_on_seed_one, (0, 1), ExecutorConfig(workers=2), tmp_path))


def _process_id(seed: int, out: Path, inputs: Path | None = None, node: str | None = None) -> str:
    import os
    import time

    time.sleep(0.2)  # long enough that the two seeds overlap
    return str(os.getpid())


def test_the_seeds_run_in_worker_processes_not_the_stage(tmp_path):
    import os

    done = list(run_seeds(_process_id, (0, 1), ExecutorConfig(workers=2), tmp_path))
    assert {d.seed for d in done} == {0, 1}
    pids = {d.summary for d in done}
    assert str(os.getpid()) not in pids and len(pids) == 2


def test_workers_are_for_the_local_executor_only():
    from pipeline.utils.configparse import ConfigError

    with pytest.raises(ConfigError, match="workers: only used with executor.kind: local"):
        ExecutorConfig(kind="ray", workers=2)
    with pytest.raises(ConfigError, match="workers: expected an integer >= 1"):
        ExecutorConfig(workers=0)
