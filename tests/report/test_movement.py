"""How far the online phase moves phi: measured from where each run really started."""

from __future__ import annotations

import json

import pytest
import torch

from pipeline.config import parse_params
from pipeline.distributed.jobs import TrainSeed
from pipeline.report.movement import online_movement
from pipeline.training.offline import starting_rule
from pipeline.tuning.space import apply_values, base_setup
from pipeline.utils.paths import init_dir, run_dir
from tests.conftest import BASE_PARAMS

CPU = torch.device("cpu")


def phi(value: float) -> dict[str, torch.Tensor]:
    return {"w": torch.full((4,), value)}


def write_run(runs, seed: int, end: float, tuned: bool, start: float | None = None) -> None:
    folder = run_dir("p", "adalfl", seed, runs)
    folder.mkdir(parents=True)
    torch.save(phi(end), folder / "learned.pt")
    if start is not None:
        torch.save(phi(start), folder / "start.pt")
    tuned_values = {"online_meta_lr": 1e-6} if tuned else None
    (folder / "result.json").write_text(json.dumps({"seed": seed, "tuned": tuned_values}))


def test_a_tuned_run_is_measured_from_its_own_start_and_never_from_the_shared_init(tmp_path):
    inits, runs = tmp_path / "init", tmp_path / "runs"
    for seed in (0, 1, 2):
        init_dir("p", "smooth_nn", seed, inits).mkdir(parents=True)
        torch.save(phi(1.0), init_dir("p", "smooth_nn", seed, inits) / "state.pt")
    write_run(runs, 0, end=1.5, tuned=False)  # untuned: started from the shared init
    write_run(runs, 1, end=3.3, tuned=True, start=3.0)  # tuned: its own offline phase ended at 3.0
    write_run(runs, 2, end=3.3, tuned=True)  # tuned, saved before runs kept their start
    moved = online_movement("p", "adalfl", (0, 1, 2), inits, runs)
    assert moved == {0: pytest.approx(0.5), 1: pytest.approx(0.1), 2: None}


def test_a_tuned_training_saves_the_phi_its_own_offline_phase_ended_with(digits_data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params = parse_params(json.loads(json.dumps(BASE_PARAMS)))
    tuned = {"base_lr": 0.05, "offline_meta_lr": 0.003, "online_meta_lr": 0.01}
    setup = apply_values(base_setup(params, "digits_mlp", "adalfl"), tuned)
    TrainSeed(digits_data, "digits_mlp", "adalfl", setup, tuned, "cpu", None, 0)(0, tmp_path / "tuned")
    expected = (
        starting_rule(
            digits_data,
            setup.pair,
            "adalfl",
            0,
            CPU,
            None,
            setup.offline,
            progress=False,
            representation=setup.representation,
        )
        .meta_module()
        .state_dict()
    )
    start = torch.load(tmp_path / "tuned/start.pt", weights_only=True)
    end = torch.load(tmp_path / "tuned/learned.pt", weights_only=True)
    assert start.keys() == expected.keys() and all(torch.equal(start[k], expected[k]) for k in start)
    assert any(not torch.equal(start[k], end[k]) for k in start)  # the online phase moved phi from there
