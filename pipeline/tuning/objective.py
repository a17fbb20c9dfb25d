"""A trial: tuned values -> configs -> the train stage's own code path -> the objective split's error.

Nothing is reimplemented: a trial builds its starting rule with ``phases.starting_rule``
(running the method's offline phase with the trial's values) and trains with
``pipeline.training.loop.train``, exactly as the train stage does with tuned values.
"""

from __future__ import annotations

import os
import socket
import traceback
from collections.abc import Callable

import optuna
import torch

from pipeline.data.loading import LoadedData
from pipeline.training.loop import train
from pipeline.training.offline import OfflineDiverged, starting_rule
from pipeline.training.setup import MethodSetup
from pipeline.tuning.config import SearchSpace, TuneConfig
from pipeline.tuning.holdout import HOLDOUT, with_tuning_holdout
from pipeline.tuning.space import apply_values, suggest
from pipeline.utils.interrupt import Interrupted


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def trial_data(data: LoadedData, tune: TuneConfig, split_seed: int) -> tuple[LoadedData, str]:
    """The data a trial trains on and the split it is ranked by (pipeline/tuning/holdout.py)."""
    if tune.objective_split == "valid":
        return data, "valid"
    return with_tuning_holdout(data, tune.holdout_fraction, split_seed), HOLDOUT


def make_objective(
    data: LoadedData,
    setup: MethodSetup,
    method: str,
    knobs: list[str],
    space: SearchSpace,
    seeds: tuple[int, ...],
    device: torch.device,
    split: str = "valid",
) -> Callable[[optuna.Trial], float]:
    """Mean final error on ``split`` over ``seeds``; a diverged run prunes the trial."""

    def objective(trial: optuna.Trial) -> float:
        trial.set_user_attr("worker", worker_id())
        tuned = apply_values(setup, suggest(trial, knobs, space))
        try:
            errors = [_seed_error(trial, data, tuned, method, i, seed, device, split) for i, seed in enumerate(seeds)]
            return sum(errors) / len(seeds)
        except Interrupted:
            trial.set_user_attr("interrupted", True)  # not a failure of these values: the budget gets it back
            raise
        except optuna.TrialPruned:
            raise
        except Exception as error:  # recorded as failed and the study goes on; the traceback is for the log
            trial.set_user_attr("status", f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}")
            traceback.print_exc()
            raise

    return objective


def _seed_error(
    trial: optuna.Trial,
    data: LoadedData,
    tuned: MethodSetup,
    method: str,
    index: int,
    seed: int,
    device: torch.device,
    split: str,
) -> float:
    offset = index * tuned.pair.steps  # one step axis over the seeds, so the pruner compares like with like
    key = f"{split}_error"

    def report(step: int, row: dict[str, float | None]) -> None:
        error = row[key]
        assert error is not None  # always measured at an evaluation point
        trial.report(error, offset + step)
        if trial.should_prune():
            raise optuna.TrialPruned(f"{split} error {error:.4f} at step {step} (seed {seed})")

    try:
        rule = starting_rule(
            data,
            tuned.pair,
            method,
            seed,
            device,
            None,
            tuned.offline,
            progress=False,
            representation=tuned.representation,
        )
    except OfflineDiverged as error:  # these values leave no loss to train with: pruned like a diverged run
        raise _pruned(trial, f"offline phase diverged at meta step {error.meta_step} (seed {seed})") from error
    watch = () if split == "valid" else (split,)
    result = train(data, tuned.pair, tuned.method, rule, seed, device, progress=False, on_record=report, watch=watch)
    if result.status != "finished":
        raise _pruned(trial, f"diverged at step {result.diverged_at} (seed {seed})")
    value = result.history[-1][key]
    assert value is not None
    return float(value)


def _pruned(trial: optuna.Trial, why: str) -> optuna.TrialPruned:
    """The pruning of a trial whose run cannot count, with ``why`` in its note (the study's log shows it)."""
    trial.set_user_attr("status", why)
    return optuna.TrialPruned(why)
