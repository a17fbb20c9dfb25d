"""Opening, running and summarising one study (a pair x method), on any Optuna storage.

* Storage: a journal file under ``tune.dir`` by default (nothing to start, works offline);
  ``tune.storage: sqlite:///...`` or ``postgresql://...`` for an RDB, where any number of
  workers on any number of machines share the study (with heartbeats, so a dead worker's
  trial is failed and its slot freed).
* Identity: the study name carries a digest of everything its trials depend on, so every
  worker reading the same params.yaml joins the same study, and an edited config starts
  a fresh one instead of mixing results.
* Budget: ``n_trials`` finished trials (complete, pruned, or failed), counted in the
  storage, so an interrupted and restarted study continues where it stopped; a trial cut
  short by a stop request or a dead worker does not count and is run again.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

from pipeline.tuning.config import TuneConfig
from pipeline.tuning.objective import worker_id
from pipeline.utils.configparse import ConfigError
from pipeline.utils.interrupt import Interrupted, StopRequest

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
HEARTBEAT_S, GRACE_S = 20, 60
ORPHAN_S = 10  # a running trial still without its owner this long after it started lost its process


def storage_url(tune: TuneConfig) -> str | None:
    """The RDB URL: ``tune.storage``, or the environment variable ``tune.storage_env`` names; None: a journal file."""
    if tune.storage_env is None:
        return tune.storage
    url = os.environ.get(tune.storage_env)
    if not url:
        raise ConfigError(
            f"tune.storage_env: the environment variable {tune.storage_env} is not set (it should hold the storage URL)"
        )
    return url


def redacted(text: str, tune: TuneConfig) -> str:
    """``text`` with the storage URL's password (if any) replaced: error messages may quote the URL."""
    from urllib.parse import urlsplit

    url = storage_url(tune)  # set: this runs after open_storage got past it
    password = urlsplit(url).password if url else None
    return text.replace(password, "***") if password else text


def open_storage(tune: TuneConfig, pair: str, method: str) -> tuple[BaseStorage, str]:
    """(storage, a description safe to print: no password)."""
    url = storage_url(tune)
    if url is None:
        path = Path(tune.dir) / pair / f"{method}.journal"
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path))), f"journal file {path}"
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    shown = make_url(url).render_as_string(hide_password=True)
    for attempt in range(3):  # workers starting together race to create the tables; the loser retries
        try:
            with warnings.catch_warnings():
                warnings.simplefilter(
                    "ignore", optuna.exceptions.ExperimentalWarning
                )  # heartbeats: stable in use since v2.9
                return RDBStorage(url, heartbeat_interval=HEARTBEAT_S, grace_period=GRACE_S), shown
        except SQLAlchemyError:
            if attempt == 2:
                raise
            time.sleep(1.0 + attempt)
    raise AssertionError("unreachable")


def open_study(tune: TuneConfig, storage: BaseStorage, name: str, worker: bool) -> optuna.Study:
    """Create or join the study.

    The sampler's seed is ``sampler_seed`` plus the number of trials already stored (a fresh
    study is reproducible; a restarted one does not redraw its first trials' values), and
    for an extra worker also a digest of its host and pid (workers must not draw alike).
    """
    try:
        existing = len(storage.get_all_trials(storage.get_study_id_from_name(name), deepcopy=False))
    except KeyError:
        existing = 0
    seed = tune.sampler_seed + existing
    if worker:
        seed += int(hashlib.sha256(worker_id().encode()).hexdigest()[:8], 16)
    pruner = (
        optuna.pruners.MedianPruner(n_startup_trials=tune.startup_trials)
        if tune.pruning
        else optuna.pruners.NopPruner()
    )
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=tune.sampler_startup_trials)
    return optuna.create_study(
        study_name=name, storage=storage, direction="minimize", sampler=sampler, pruner=pruner, load_if_exists=True
    )


def counts(study: optuna.Study) -> dict[str, int]:
    """Trials by state; a failure marked ``interrupted`` is counted apart (it does not use the budget)."""
    trials = study.get_trials(deepcopy=False)
    by_state = {state.name.lower(): sum(1 for t in trials if t.state == state) for state in TrialState}
    # a trial is owned from its first instant; one without an owner was cut off before it had one
    by_state["running"] = sum(1 for t in trials if t.state == TrialState.RUNNING and "worker" in t.user_attrs)
    by_state["interrupted"] = sum(1 for t in trials if t.state == TrialState.FAIL and t.user_attrs.get("interrupted"))
    by_state["fail"] -= by_state["interrupted"]
    by_state["finished"] = by_state["complete"] + by_state["pruned"] + by_state["fail"]
    return by_state


def fail_dead_trials(study: optuna.Study, storage: BaseStorage) -> int:
    """Running trials of dead processes on this machine become interrupted failures (journal
    storage has no heartbeat; RDB storages also get Optuna's heartbeat check for other machines)."""
    if isinstance(storage, RDBStorage):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
    host, now = worker_id().split(":")[0], datetime.datetime.now()
    failed = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        owner_host, _, pid = str(trial.user_attrs.get("worker", "")).partition(":")
        dead_owner = owner_host == host and pid.isdigit() and not _alive(int(pid))
        orphan = (
            not owner_host
            and trial.datetime_start is not None
            and (now - trial.datetime_start).total_seconds() > ORPHAN_S
        )
        if dead_owner or orphan:
            storage.set_trial_user_attr(trial._trial_id, "interrupted", True)
            storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
            failed += 1
    return failed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_trials(
    study: optuna.Study,
    storage: BaseStorage,
    objective: Callable[[optuna.Trial], float],
    n_trials: int,
    timeout_s: float | None,
    max_here: int | None,
    log: Callable[[str], None],
    stop: StopRequest | None = None,
) -> int:
    """Run trials one at a time until the study's budget (or ``max_here`` trials here) or the time budget is used up.

    A stop request (SIGTERM/SIGINT) ends the study with ``Interrupted`` between trials; one
    that arrives inside a trial's training stops it there, and the trial is marked interrupted.
    """
    started, done_here = time.monotonic(), 0
    while max_here is None or done_here < max_here:
        if stop is not None and stop.requested:
            raise Interrupted(
                f"study {study.study_name}: stopped after {done_here} trials here; run it again to continue",
                stop.signal or 15,
            )
        fail_dead_trials(study, storage)
        state = counts(study)
        if max_here is None and state["finished"] + state["running"] >= n_trials:
            break
        if timeout_s is not None and time.monotonic() - started >= timeout_s:
            log(f"time budget of {timeout_s:g} s used up after {done_here} trials here")
            break
        study.optimize(objective, n_trials=1, catch=(Exception,), callbacks=[lambda s, t: log(describe(s, t))])
        done_here += 1
    return done_here


def describe(study: optuna.Study, trial: FrozenTrial) -> str:
    values = ", ".join(f"{k}={v:.3g}" for k, v in trial.params.items())
    outcome = f"value {trial.value:.4f}" if trial.state == TrialState.COMPLETE else trial.state.name.lower()
    if "status" in trial.user_attrs:
        outcome += f" ({trial.user_attrs['status']})"
    try:
        best = f"best {study.best_value:.4f} (trial {study.best_trial.number})"
    except ValueError:
        best = "no completed trial yet"
    return f"trial {trial.number} [{values}]: {outcome}; {best}"


def summarise(
    study: optuna.Study, storage_shown: str, knobs: list[str], seeds: tuple[int, ...], split: str = "valid"
) -> dict[str, Any]:
    """The stage's result; raises ValueError when no trial completed (nothing to recommend)."""
    state = counts(study)
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    if not complete:
        raise ValueError(
            f"study {study.study_name}: no trial completed ({state['pruned']} pruned or diverged, "
            f"{state['fail']} failed); widen tune.space or raise tune.n_trials"
        )
    best = min(complete, key=lambda t: (t.value, t.number))
    return {
        "study": study.study_name,
        "storage": storage_shown,
        "objective": f"final {split} error, mean over seeds {list(seeds)}",
        "knobs": knobs,
        "best_params": best.params,
        "best_value": best.value,
        "best_trial": best.number,
        "n_trials": state["finished"],
        "n_complete": state["complete"],
        "n_pruned": state["pruned"],
        "n_failed": state["fail"],
        "n_interrupted": state["interrupted"],
        "trials": [
            {
                "number": t.number,
                "state": "interrupted" if t.user_attrs.get("interrupted") else t.state.name.lower(),
                "value": t.value,
                "params": t.params,
                "last_step": t.last_step,
                "last_value": t.intermediate_values.get(t.last_step) if t.last_step is not None else None,
                "note": t.user_attrs.get("status"),
            }
            for t in trials
            if t.state in FINISHED
        ],
    }
