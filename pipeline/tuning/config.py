"""The ``tune:`` section: the Optuna branch's studies and search space."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from pipeline.utils.configparse import ConfigError, non_negative, positive


@dataclass(frozen=True)
class SearchSpace:
    """Log-uniform ranges [low, high] of the learning rates a study tunes; null: not tuned."""

    base_lr: tuple[float, ...] | None = (1e-4, 0.3)  # the pair's SGD lr (Meta-LR: the initial alpha)
    offline_meta_lr: tuple[float, ...] | None = (1e-4, 1e-1)  # Algorithm 1/3's Adam lr
    online_meta_lr: tuple[float, ...] | None = (1e-6, 1e-2)  # Algorithm 2/4's Adam lr

    def __post_init__(self) -> None:
        for name in ("base_lr", "offline_meta_lr", "online_meta_lr"):
            bounds = getattr(self, name)
            if bounds is not None and not (len(bounds) == 2 and 0 < bounds[0] < bounds[1]):
                raise ConfigError(f"{name}: expected [low, high] with 0 < low < high, got {list(bounds)}")


@dataclass(frozen=True)
class TuneConfig:
    """The optional Optuna branch: per pair x method, tune the learning rates on a held-out error."""

    # One study per pair x method listed; both empty (the default): tuning off, no tune stage exists
    # and train uses params.yaml's values. The DVC matrix of the tune stage reads these lists.
    pairs: tuple[str, ...] = ()  # pairs to tune (each must be in run.pairs)
    methods: tuple[str, ...] = ()  # methods to tune (each must be in run.methods)
    n_trials: int = 20  # the study's budget: trials that completed, were pruned or failed
    timeout_s: float | None = None  # wall-clock budget of one tune stage (null: none)
    seeds: tuple[int, ...] = (0,)  # training seeds a trial averages its error over
    # The split a trial is ranked by. holdout: a part of the training split (holdout_fraction, drawn
    # with data.split_seed) that the trial does not train on and no method meta-trains on; valid: the
    # validation split, which ML3 and AdaLFL meta-train on (meta_split: valid), which favours them.
    objective_split: Literal["holdout", "valid"] = "holdout"
    holdout_fraction: float = 0.15  # of the training split, with objective_split: holdout
    sampler_seed: int = 0  # TPE's seed
    # TPE draws its first trials at random (Optuna's n_startup_trials, 10 by default) and models the
    # finished ones after that: with n_trials <= sampler_startup_trials a study is a seeded random
    # search, and every study with as many knobs draws the same points (docs/tuning.md).
    sampler_startup_trials: int = 10
    pruning: bool = True  # median pruning on the objective split's errors reported during training
    startup_trials: int = 3  # trials before the median pruner starts (the sampler's: sampler_startup_trials)
    storage: str | None = (
        None  # null: a journal file under `dir`; or sqlite:///..., postgresql://user@host/db (no password)
    )
    storage_env: str | None = (
        None  # or the name of an environment variable holding the whole URL (a password may be in it)
    )
    dir: str = "data/tuning"  # embedded journals (outside DVC outputs, so an interrupted study continues)
    space: SearchSpace = field(default_factory=SearchSpace)

    @property
    def enabled(self) -> bool:
        return bool(self.pairs and self.methods)

    def __post_init__(self) -> None:
        if bool(self.pairs) != bool(self.methods):
            empty, other = ("methods", "pairs") if self.pairs else ("pairs", "methods")
            raise ConfigError(
                f"{empty}: empty while tune.{other} is not; tuning runs one study per pair x method, "
                f"so list both (or leave both empty to turn tuning off)"
            )
        for name in ("n_trials",):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: expected an integer >= 1, got {getattr(self, name)}")
        non_negative("startup_trials", self.startup_trials)
        non_negative("sampler_startup_trials", self.sampler_startup_trials)
        if self.timeout_s is not None:
            positive("timeout_s", self.timeout_s)
        if not 0 < self.holdout_fraction < 1:
            raise ConfigError(f"holdout_fraction: expected a number in (0, 1), got {self.holdout_fraction}")
        if not self.seeds:
            raise ConfigError("seeds: expected at least one seed")
        if self.storage is not None and not self.storage.startswith(("sqlite:///", "postgresql", "mysql")):
            raise ConfigError(f"storage: expected null, sqlite:///PATH or postgresql://..., got {self.storage!r}")
        if self.storage is not None and urlsplit(self.storage).password is not None:
            raise ConfigError(
                "storage: the URL contains a password, which would be copied into dvc.lock and `dvc exp show`; "
                "remove it and give the password by PGPASSWORD or ~/.pgpass, or put the whole URL in an "
                "environment variable and name it in tune.storage_env"
            )
        if self.storage is not None and self.storage_env is not None:
            raise ConfigError("storage_env: set either tune.storage or tune.storage_env, not both")


def is_tuned(tune: TuneConfig, pair: str, method: str) -> bool:
    """Whether ``pair`` x ``method`` has a study: train then reads its result instead of params.yaml's rates."""
    return pair in tune.pairs and method in tune.methods
