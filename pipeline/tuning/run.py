"""The tune stage's work for one pair x method: open or join its study, run trials, summarise."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna

from pipeline.data.loading import load_prepared
from pipeline.training.setup import base_setup
from pipeline.tuning.objective import make_objective, trial_data
from pipeline.tuning.space import knobs_for, study_name
from pipeline.tuning.study import fail_dead_trials, open_storage, open_study, redacted, run_trials, summarise
from pipeline.utils.configparse import ConfigError
from pipeline.utils.derive import resolve_device
from pipeline.utils.digest import content_digest
from pipeline.utils.interrupt import stop_on_signals

if TYPE_CHECKING:  # the root config's type only: tuning's package imports no module above its own config
    from pipeline.config import Params


def tune_method(
    params: Params,
    pair: str,
    method: str,
    data_dir: Path,
    worker: bool,
    n_trials: int | None,
    log: Callable[[str], None],
) -> dict[str, Any] | None:
    """Run (or, as a ``worker``, join) the study; the stage's result, or None for a worker.

    ``n_trials``: exactly this many trials here (default: until the study's budget is used).
    """
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # one line per trial, ours (failures add their traceback)
    tune, device = params.tune, resolve_device(params.device)
    setup = base_setup(params, pair, method)
    knobs = knobs_for(setup, tune.space)
    if not knobs:
        raise ConfigError(f"tune.space: nothing to tune for {method} (every range it uses is null)")
    try:
        storage, shown = open_storage(tune, pair, method)
    except ConfigError:
        raise
    except (
        Exception
    ) as error:  # an unreachable server, a bad URL, a missing driver: one line, no traceback, no password
        first = redacted((str(error).strip().splitlines() or [""])[0], tune)
        raise ConfigError(f"tune.storage: cannot open the study storage ({type(error).__name__}: {first})") from None
    name = study_name(tune, setup, pair, method, knobs, content_digest(data_dir), params.data.split_seed)
    study = open_study(tune, storage, name, worker=worker)
    revived = fail_dead_trials(study, storage)
    log(
        f"study {study.study_name} on {shown}: {len(study.trials)} trials so far"
        + (f", {revived} left running by a dead process marked interrupted" if revived else "")
    )
    data, split = trial_data(load_prepared(data_dir), tune, params.data.split_seed)
    log(f"objective: final {split} error ({len(data.splits[split].y)} instances), mean over seeds {list(tune.seeds)}")
    objective = make_objective(data, setup, method, knobs, tune.space, tune.seeds, device, split)
    with stop_on_signals() as stop:  # a stop between trials (or in an offline phase) ends the study cleanly
        ran = run_trials(study, storage, objective, tune.n_trials, tune.timeout_s, n_trials, log, stop)
    log(f"{ran} trials run by this process")
    if worker:
        return None
    try:
        return summarise(study, shown, knobs, tune.seeds, split)
    except ValueError as error:
        raise ConfigError(f"tune: {error}") from None
