"""Studies on the embedded storage: budgets, failures, interruption, and the stage end to end."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from pipeline.config import TuneConfig
from pipeline.tuning.objective import worker_id
from pipeline.tuning.study import counts, fail_dead_trials, open_study, run_trials
from stages import evaluate as evaluate_stage
from stages import train as train_stage
from stages import tune as tune_stage
from tests.tuning.helpers import PAIR, make_folder, run_in, tune_params, write_params

ROOT = Path(__file__).resolve().parents[2]


def toy_objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", 1e-3, 1.0, log=True)
    if trial.number == 1:
        raise ValueError("a bug in this trial only")
    if trial.number == 2:
        raise optuna.TrialPruned("diverged")
    return x


def test_failed_and_pruned_trials_are_recorded_and_the_budget_is_exact():
    storage = optuna.storages.InMemoryStorage()
    study = open_study(TuneConfig(), storage, "toy", worker=False)
    lines: list[str] = []
    assert run_trials(study, storage, toy_objective, 5, None, None, lines.append) == 5
    state = counts(study)
    assert (state["complete"], state["fail"], state["pruned"], state["finished"]) == (3, 1, 1, 5)
    assert len(lines) == 5 and "trial 1" in lines[1] and "fail" in lines[1]
    assert run_trials(study, storage, toy_objective, 5, None, None, lines.append) == 0  # the budget is spent


def _drawn_points(tune: TuneConfig, sign: float) -> list[float]:
    """The values one study draws for one knob while minimising sign * log(x)."""
    study = open_study(tune, optuna.storages.InMemoryStorage(), "toy", worker=False)
    study.optimize(lambda trial: sign * math.log(trial.suggest_float("x", 1e-3, 1.0, log=True)), n_trials=8)
    return [t.params["x"] for t in study.trials]


def test_tpe_models_trials_only_after_its_random_start_up_trials():
    """With the default 10 start-up trials an 8-trial study is a seeded random search: two studies
    with opposite objectives draw the same points. With 3, TPE follows each objective after them."""
    random_search = TuneConfig()
    assert _drawn_points(random_search, 1.0) == _drawn_points(random_search, -1.0)
    modelled = TuneConfig(sampler_startup_trials=3)
    low, high = _drawn_points(modelled, 1.0), _drawn_points(modelled, -1.0)
    assert low[:3] == high[:3] and low[3:] != high[3:]
    assert sum(math.log(x) for x in low[3:]) < sum(math.log(x) for x in high[3:])  # each towards its minimum


def test_trials_of_a_dead_process_become_interrupted_and_free_their_slot(monkeypatch):
    monkeypatch.setattr("pipeline.tuning.study.ORPHAN_S", -1.0)  # no waiting for the ownerless trial to age
    storage = optuna.storages.InMemoryStorage()
    study = open_study(TuneConfig(), storage, "toy", worker=False)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = study.ask()
    orphan.set_user_attr("worker", f"{worker_id().split(':')[0]}:{dead.pid}")
    alive = study.ask()
    alive.set_user_attr("worker", worker_id())  # this process: left alone
    ownerless = study.ask()  # killed between its creation and its first write
    assert counts(study)["running"] == 2  # the ownerless trial holds no slot (the dead owner is found below)
    assert fail_dead_trials(study, storage) == 2
    states = {t.number: t.state for t in study.trials}
    assert states == {orphan.number: TrialState.FAIL, alive.number: TrialState.RUNNING, ownerless.number: TrialState.FAIL}
    assert counts(study)["interrupted"] == 2 and counts(study)["finished"] == 0


def finished_trials(result: dict) -> list[dict]:
    trials = [t for t in result["trials"] if t["state"] != "interrupted"]
    numbers = [t["number"] for t in trials]
    assert len(numbers) == len(set(numbers))
    drawn = [tuple(sorted(t["params"].items())) for t in trials]
    assert len(drawn) == len(set(drawn)), "two trials drew the same values"
    return trials


def test_embedded_study_end_to_end(tmp_path, prepared_root, monkeypatch):
    """tune -> train with the tuned values -> evaluate -> report marks the tuned runs."""
    folder = make_folder(tmp_path, prepared_root)
    monkeypatch.chdir(folder)
    code, out, err = run_in(folder, tune_stage, "--pair", PAIR, "--method", "meta_lr")
    assert code == 0, err
    result = json.loads((folder / f"reports/tuning/{PAIR}/meta_lr/result.json").read_text())
    assert result["n_trials"] == 4 and result["n_complete"] >= 1
    assert result["objective"] == "final holdout error, mean over seeds [0]" and "objective: final holdout error (" in out
    assert set(result["best_params"]) == {"base_lr", "offline_meta_lr", "online_meta_lr"}
    assert result["storage"].startswith("journal file") and (folder / "journals" / PAIR / "meta_lr.journal").is_file()
    assert len(finished_trials(result)) == 4 and (folder / f"reports/tuning/{PAIR}/meta_lr/history.png").stat().st_size > 1000
    code, out, _ = run_in(folder, tune_stage, "--pair", PAIR, "--method", "meta_lr")  # a re-run continues: nothing to do
    assert code == 0 and "4 trials so far" in out and "0 trials run by this process" in out

    assert run_in(folder, tune_stage, "--pair", PAIR, "--method", "baseline")[0] == 0
    for method in ("baseline", "meta_lr"):
        code, out, err = run_in(folder, train_stage, "--pair", PAIR, "--method", method)
        assert code == 0, err
        run = json.loads((folder / f"data/runs/{PAIR}/{method}/seed0/result.json").read_text())
        tuned = json.loads((folder / f"reports/tuning/{PAIR}/{method}/result.json").read_text())["best_params"]
        assert run["tuned"] == tuned and f"tuned values {tuned}" in out
    assert run_in(folder, evaluate_stage, "--pair", PAIR)[0] == 0
    from pipeline.config import load_params
    from pipeline.report.build import build_report

    build_report(load_params(folder / "params.yaml"), folder / "reports")
    table = (folder / "reports/results.md").read_text()
    assert table.count(" †") == 2 and f"† {PAIR} meta_lr: learning rates tuned by Optuna" in table
    assert json.loads((folder / "reports/metrics_detail.json").read_text())[PAIR]["meta_lr"]["tuned"] == tuned
    page = (folder / "reports/index.html").read_text()
    assert page.count("<figcaption>digits_logistic: meta_lr learning-rate study (Optuna; values used: base_lr = ") == 1
    assert page.count("<figcaption>digits_logistic: baseline learning-rate study (Optuna") == 1


def test_train_refuses_a_tuning_result_of_other_settings(tmp_path, prepared_root, monkeypatch):
    folder = make_folder(tmp_path, prepared_root, n_trials=2)
    monkeypatch.chdir(folder)
    assert run_in(folder, tune_stage, "--pair", PAIR, "--method", "baseline")[0] == 0
    params = tune_params(folder / "prepared", folder / "journals", n_trials=2)
    params["pairs"][PAIR]["steps"] = 40  # edited after tuning, tune not re-run
    write_params(folder, params)
    code, _, err = run_in(folder, train_stage, "--pair", PAIR, "--method", "baseline")
    assert code == 2 and "run the tune stage again" in err and err.count("\n") == 1


def test_a_changed_data_set_starts_a_fresh_study_and_train_refuses_the_old_result(tmp_path, prepared_root, monkeypatch):
    """Before, the study's name did not digest its data: a re-prepared data set joined the old trials."""
    folder = make_folder(tmp_path, prepared_root, n_trials=2)
    monkeypatch.chdir(folder)
    assert run_in(folder, tune_stage, "--pair", PAIR, "--method", "baseline")[0] == 0
    assert "2 trials so far" in run_in(folder, tune_stage, "--pair", PAIR, "--method", "baseline")[1]
    meta = folder / "prepared" / "digits" / "meta.json"
    meta.write_text(meta.read_text() + " ")  # any byte of the prepared data set
    code, _, err = run_in(folder, train_stage, "--pair", PAIR, "--method", "baseline")
    assert code == 2 and "run the tune stage again" in err
    code, out, _ = run_in(folder, tune_stage, "--pair", PAIR, "--method", "baseline")
    assert code == 0 and "0 trials so far" in out and "2 trials run by this process" in out


def test_diverging_trials_are_pruned_and_a_study_without_result_fails_in_one_line(tmp_path, prepared_root, monkeypatch):
    folder = make_folder(tmp_path, prepared_root, "diabetes_mlp", n_trials=2, space={"base_lr": [20.0, 100.0]})
    monkeypatch.chdir(folder)
    code, out, err = run_in(folder, tune_stage, "--pair", "diabetes_mlp", "--method", "baseline")
    assert out.count(": pruned (diverged at step") == 2
    assert code == 2 and "no trial completed (2 pruned or diverged, 0 failed)" in err and err.count("\n") == 1
    assert not (folder / "reports/tuning/diabetes_mlp/baseline").exists()


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM])
def test_stopped_study_continues_without_losing_or_repeating_trials(tmp_path, prepared_root, stop):
    """Stopped during trial 1: SIGKILL leaves it running (found dead at restart), SIGTERM marks it at once."""
    folder = make_folder(tmp_path, prepared_root, n_trials=5, pruning=False)
    command = [sys.executable, "-m", "stages.tune", "--pair", PAIR, "--method", "meta_lr"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    name = process.stdout.readline().split(" study ")[1].split()[0]
    for line in process.stdout:
        if "trial 0 [" in line:
            break
    journal = JournalStorage(JournalFileBackend(str(folder / "journals" / PAIR / "meta_lr.journal")))
    study = optuna.load_study(study_name=name, storage=journal)
    deadline = time.monotonic() + 60
    while not any(t.number == 1 and t.state == TrialState.RUNNING and "worker" in t.user_attrs for t in study.get_trials(deepcopy=False)):
        assert time.monotonic() < deadline, "trial 1 never started"
        time.sleep(0.02)
    process.send_signal(stop)
    _, err = process.communicate(timeout=60)
    if stop == signal.SIGTERM:
        assert process.returncode == 128 + signal.SIGTERM and err.strip().count("\n") == 0 and "interrupted" in err, err
        assert [t.user_attrs.get("interrupted") for t in study.get_trials(deepcopy=False) if t.number == 1] == [True]
    resumed = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert ("1 left running by a dead process marked interrupted" in resumed.stdout) == (stop == signal.SIGKILL)
    result = json.loads((folder / f"reports/tuning/{PAIR}/meta_lr/result.json").read_text())
    assert result["n_trials"] == 5 and result["n_interrupted"] == 1
    finished = finished_trials(result)
    assert len(finished) == 5 and 1 not in [t["number"] for t in finished]  # trial 1 was cut off and run again
    assert [t["number"] for t in result["trials"] if t["state"] == "interrupted"] == [1]
