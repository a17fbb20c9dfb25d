"""What a study tunes for a method (its *knobs*), and how tuned values become configs.

Knobs: ``base_lr`` (every method; for Meta-LR it is alpha's starting value),
``offline_meta_lr`` (methods with an offline phase) and ``online_meta_lr`` (methods
with an online phase). A knob whose range is null in ``tune.space`` is left as it is.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pipeline.training.setup import MethodSetup, base_setup, setup_without_offline
from pipeline.tuning.config import SearchSpace, TuneConfig, is_tuned
from pipeline.tuning.files import read_tuning
from pipeline.utils.configparse import ConfigError
from pipeline.utils.digest import content_digest
from pipeline.utils.paths import prepared_dir

if TYPE_CHECKING:  # the root config's type only: tuning's package imports no module above its own config
    from pipeline.config import Params

KNOBS = ("base_lr", "offline_meta_lr", "online_meta_lr")


class Suggests(Protocol):
    def suggest_float(self, name: str, low: float, high: float, *, log: bool) -> float: ...


def knobs_for(setup: MethodSetup, space: SearchSpace) -> list[str]:
    present = {
        "base_lr": True,
        "offline_meta_lr": setup.offline is not None,
        "online_meta_lr": setup.method.online is not None,
    }
    return [k for k in KNOBS if present[k] and getattr(space, k) is not None]


def suggest(trial: Suggests, knobs: list[str], space: SearchSpace) -> dict[str, float]:
    """Draw every knob log-uniformly from its range."""
    values = {}
    for knob in knobs:
        low, high = getattr(space, knob)
        values[knob] = trial.suggest_float(knob, low, high, log=True)
    return values


def apply_values(setup: MethodSetup, values: dict[str, float]) -> MethodSetup:
    """The setup with tuned values in place; unknown knobs are an error, not silently ignored."""
    unknown = set(values) - set(KNOBS)
    if unknown:
        raise ValueError(f"unknown tuned values {sorted(unknown)} (known: {', '.join(KNOBS)})")
    pair, method, offline = setup.pair, setup.method, setup.offline
    if "base_lr" in values:
        pair = replace(pair, optim=replace(pair.optim, lr=values["base_lr"]))
    if "offline_meta_lr" in values and offline is not None:
        offline = replace(offline, meta_lr=values["offline_meta_lr"])
    if "online_meta_lr" in values and method.online is not None:
        method = replace(method, online=replace(method.online, meta_lr=values["online_meta_lr"]))
    return MethodSetup(pair, method, offline, setup.representation)


def study_name(
    tune: TuneConfig, setup: MethodSetup, pair: str, method: str, knobs: list[str], data: str, split_seed: int
) -> str:
    """``<pair>-<method>-<digest of all a trial depends on>``: every worker with the same params
    joins the same study; an edited config or data set starts a fresh one instead of mixing results.

    ``data`` is the prepared data set's content digest; ``split_seed`` draws the holdout."""
    holdout = tune.objective_split == "holdout"
    identity = {
        "pair": asdict(setup.pair),
        "method": asdict(setup.method),
        "offline": asdict(setup.offline) if setup.offline else None,
        "knobs": knobs,
        "space": asdict(tune.space),
        "seeds": tune.seeds,
        "objective": [tune.objective_split, tune.holdout_fraction if holdout else None],
        "representation": asdict(setup.representation),
        "data": data,
        "holdout_seed": split_seed if holdout else None,
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
    return f"{pair}-{method}-{digest}"


def training_setup(params: Params, pair: str, method: str, folder: Path) -> tuple[MethodSetup, dict[str, float] | None]:
    """The setup train uses and the tuned values in it (None where this pair and method are not tuned).

    A tuning result from a study of other settings (an edited config without re-running
    tune) is an error.
    """
    if not is_tuned(params.tune, pair, method):  # it starts from init_loss's output: it reads no offline key
        return setup_without_offline(params, pair, method), None
    setup = base_setup(params, pair, method)
    result = read_tuning(folder)
    data = content_digest(prepared_dir(params.data.prepared_dir, setup.pair.dataset))
    knobs = knobs_for(setup, params.tune.space)
    expected = study_name(params.tune, setup, pair, method, knobs, data, params.data.split_seed)
    if result.get("study") != expected:
        raise ConfigError(
            f"tune: {folder}/result.json comes from study {result.get('study')!r}, the params need "
            f"{expected!r}; run the tune stage again (dvc repro)"
        )
    tuned = {k: float(v) for k, v in result["best_params"].items()}
    return apply_values(setup, tuned), tuned
