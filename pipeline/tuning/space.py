"""What a study tunes for a method (its *knobs*), and how tuned values become configs.

Knobs: ``base_lr`` (every method; for Meta-LR it is alpha's starting value),
``offline_meta_lr`` (methods with an offline phase) and ``online_meta_lr`` (methods
with an online phase). A knob whose range is null in ``tune.space`` is left as it is.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Protocol

from pipeline.config import Params
from pipeline.configparse import ConfigError
from pipeline.learned.config import RepresentationConfig
from pipeline.meta.config import OfflineConfig
from pipeline.methods import METHODS
from pipeline.pairs import MethodConfig, PairConfig
from pipeline.tuning.config import SearchSpace, TuneConfig
from pipeline.tuning.files import read_tuning

KNOBS = ("base_lr", "offline_meta_lr", "online_meta_lr")


class Suggests(Protocol):
    def suggest_float(self, name: str, low: float, high: float, *, log: bool) -> float: ...


@dataclass(frozen=True)
class MethodSetup:
    """Everything a run of one method on one pair depends on (tuned or not)."""

    pair: PairConfig
    method: MethodConfig
    offline: OfflineConfig | None  # the method's offline phase; None for the handcrafted loss
    representation: RepresentationConfig = RepresentationConfig()  # how a learned loss / learning rate is built


def base_setup(params: Params, pair: str, method: str) -> MethodSetup:
    return replace(setup_without_offline(params, pair, method), offline=params.offline_for(pair, METHODS[method].init))


def setup_without_offline(params: Params, pair: str, method: str) -> MethodSetup:
    """The setup of a run that starts from an offline output made elsewhere (it reads no ``offline`` key)."""
    config, method_config = params.pairs[pair], params.methods[method]
    if method_config.lr is not None:  # the method's own base learning rate (hand-designed optimisers)
        config = replace(config, optim=replace(config.optim, lr=method_config.lr))
    return MethodSetup(config, method_config, None, params.representation)


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


def study_name(tune: TuneConfig, setup: MethodSetup, pair: str, method: str, knobs: list[str]) -> str:
    """``<pair>-<method>-<digest of all a trial depends on>``: every worker with the same params
    joins the same study; an edited config starts a fresh one instead of mixing results."""
    identity = {
        "pair": asdict(setup.pair),
        "method": asdict(setup.method),
        "offline": asdict(setup.offline) if setup.offline else None,
        "knobs": knobs,
        "space": asdict(tune.space),
        "seeds": tune.seeds,
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
    return f"{pair}-{method}-{digest}"


def is_tuned(tune: TuneConfig, pair: str, method: str) -> bool:
    return pair in tune.pairs and method in tune.methods


def training_setup(params: Params, pair: str, method: str, folder: Path) -> tuple[MethodSetup, dict[str, float] | None]:
    """The setup train uses and the tuned values in it (None where this pair and method are not tuned).

    A tuning result from a study of other settings (an edited config without re-running
    tune) is an error.
    """
    setup = base_setup(params, pair, method)
    if not is_tuned(params.tune, pair, method):
        return setup, None
    result = read_tuning(folder)
    expected = study_name(params.tune, setup, pair, method, knobs_for(setup, params.tune.space))
    if result.get("study") != expected:
        raise ConfigError(
            f"tune: {folder}/result.json comes from study {result.get('study')!r}, the params need "
            f"{expected!r}; run the tune stage again (dvc repro)"
        )
    tuned = {k: float(v) for k, v in result["best_params"].items()}
    return apply_values(setup, tuned), tuned
