"""The typed, frozen view of ``params.yaml``.

``load_params`` is the only way stages read configuration: it rejects unknown keys,
wrong types and impossible values with one line naming the key path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from pipeline.data.config import DataConfig
from pipeline.distributed.config import ExecutorConfig
from pipeline.fewshot.config import FewshotConfig
from pipeline.l2l.config import L2LConfig
from pipeline.learned.config import RepresentationConfig
from pipeline.meta.config import OfflineConfig, OfflineOverride, OnlineConfig
from pipeline.methods import INITS, METHODS, has_offline_phase, needed_inits
from pipeline.training.config import MethodConfig, OptimConfig, PairConfig
from pipeline.training.grid import all_methods, check_run_extra, methods_on
from pipeline.training.transfer import TransferConfig, check_transfer
from pipeline.tuning.config import SearchSpace, TuneConfig
from pipeline.utils.configparse import ConfigError, key_path, non_negative, parse_dataclass

__all__ = [  # the sections, assembled here from the packages they configure
    "CheckpointConfig",
    "ConfigError",
    "DataConfig",
    "ExecutorConfig",
    "FewshotConfig",
    "L2LConfig",
    "MethodConfig",
    "OfflineConfig",
    "OfflineOverride",
    "OnlineConfig",
    "OptimConfig",
    "PairConfig",
    "Params",
    "RepresentationConfig",
    "RunConfig",
    "SearchSpace",
    "TransferConfig",
    "TuneConfig",
    "load_params",
    "parse_params",
]


@dataclass(frozen=True)
class CheckpointConfig:
    """Training checkpoints (they never change results, so no DVC stage depends on them)."""

    every: int = 50  # base steps between checkpoints; 0 turns checkpointing off
    dir: str = "data/checkpoints"  # outside every DVC output, so a re-run stage finds them

    def __post_init__(self) -> None:
        non_negative("every", self.every)


@dataclass(frozen=True)
class RunConfig:
    """What `dvc repro` runs: the DVC matrix reads these lists."""

    pairs: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    inits: tuple[str, ...] = ()  # the offline phases the methods need (checked)


@dataclass(frozen=True)
class Params:
    data: DataConfig = field(default_factory=DataConfig)
    datasets: tuple[str, ...] = ("diabetes", "digits")  # what `prepare` writes
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    seeds: tuple[int, ...] = (0,)
    run: RunConfig = field(default_factory=RunConfig)
    run_extra: RunConfig = field(
        default_factory=RunConfig
    )  # a second grid on some of run.pairs (pipeline/training/grid.py)
    pairs: dict[str, PairConfig] = field(default_factory=dict)
    offline: dict[str, OfflineConfig] = field(default_factory=dict)  # keyed by init kind
    methods: dict[str, MethodConfig] = field(default_factory=dict)
    representation: RepresentationConfig = field(default_factory=RepresentationConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)  # where seeds run (never changes a result)
    tune: TuneConfig = field(default_factory=TuneConfig)
    l2l: L2LConfig = field(default_factory=L2LConfig)  # the L2L benchmark (seed 002); no problems: no stage
    fewshot: FewshotConfig = field(
        default_factory=FewshotConfig
    )  # few-shot meta-learning (seed 003); no families: no stage
    transfer: TransferConfig = field(default_factory=TransferConfig)  # ML3's meta-test; empty lists: no stage

    def __post_init__(self) -> None:
        from pipeline.data.registry import DATASETS

        for i, name in enumerate(self.datasets):
            if name not in DATASETS:
                raise ConfigError(f"datasets[{i}]: unknown data set {name!r} (known: {', '.join(DATASETS)})")
        _check_seeds(self.seeds)
        for name, method in self.methods.items():
            _check_method(name, method)
        for name in self.offline:
            if name not in INITS or not has_offline_phase(name):
                raise ConfigError(f"{key_path('offline', name)}: unknown offline phase (known: {', '.join(INITS[1:])})")
        _check_pair_offline(self)
        _check_run(self)
        check_run_extra(self)
        _check_tune(self)
        check_transfer(self)
        if any(problem != "quadratic" for problem in self.l2l.problems) and self.l2l.dataset not in self.datasets:
            raise ConfigError(
                f"l2l.dataset: {self.l2l.dataset!r} is not in datasets ({', '.join(self.datasets)}); "
                f"the MLP problems train on its prepared images"
            )
        for name in self.fewshot.families:
            dataset = self.fewshot.tasks[name].dataset
            if dataset not in (None, "omniglot") and dataset not in self.datasets:
                raise ConfigError(
                    f"fewshot.tasks.{name}.dataset: {dataset!r} is not in datasets ({', '.join(self.datasets)}); "
                    f"its tasks are drawn from the prepared images"
                )

    def offline_for(self, pair: str, init: str) -> OfflineConfig | None:
        """``offline.<init>`` with the pair's overrides applied; None for the handcrafted loss (no offline phase)."""
        base = self.offline.get(init) if has_offline_phase(init) else None
        override = self.pairs[pair].offline.get(init) if pair in self.pairs else None
        return override.apply(base) if base is not None and override is not None else base


def _check_pair_offline(params: Params) -> None:
    for pair_name, pair in params.pairs.items():
        for init, override in pair.offline.items():
            path = f"{key_path('pairs', pair_name)}.offline.{init}"
            if init not in params.offline:
                raise ConfigError(
                    f"{path}: no offline.{init} to override (defined: {', '.join(params.offline) or 'none'})"
                )
            try:
                override.apply(params.offline[init])
            except ConfigError as error:
                raise ConfigError(f"{path}.{error}") from None


def _check_seeds(seeds: tuple[int, ...]) -> None:
    if not seeds:
        raise ConfigError("seeds: expected at least one seed, got []")
    for i, seed in enumerate(seeds):
        if seed < 0:
            raise ConfigError(f"seeds[{i}]: expected an integer >= 0, got {seed}")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds: seeds must be distinct, got {list(seeds)}")


def _check_method(name: str, method: MethodConfig) -> None:
    spec = METHODS.get(name)
    if spec is None:
        raise ConfigError(f"{key_path('methods', name)}: unknown method (known: {', '.join(METHODS)})")
    present = method.online is not None
    if spec.online and not present:
        raise ConfigError(f"{key_path('methods', name)}.online: missing required key ({name} has an online phase)")
    if present and not spec.online:
        raise ConfigError(f"{key_path('methods', name)}.online: unknown key ({name} has no online phase)")


def _check_tune(params: Params) -> None:
    run, tune = params.run, params.tune
    for i, name in enumerate(tune.pairs):
        if name not in run.pairs:
            raise ConfigError(f"tune.pairs[{i}]: {name!r} is not in run.pairs (run: {', '.join(run.pairs) or 'none'})")
    for i, name in enumerate(tune.methods):
        if name not in all_methods(params):
            raise ConfigError(
                f"tune.methods[{i}]: {name!r} is not in run.methods (run: {', '.join(run.methods) or 'none'})"
            )
        missing = [pair for pair in tune.pairs if name not in methods_on(params, pair)]
        if missing:
            raise ConfigError(
                f"tune.methods[{i}]: {name!r} does not train on {', '.join(missing)} (not in run.methods, "
                f"nor in run_extra.methods for that pair); every tune.pairs x tune.methods is tuned"
            )


def _check_run(params: Params) -> None:
    run = params.run
    for key, names, defined in (("pairs", run.pairs, params.pairs), ("methods", run.methods, params.methods)):
        for i, name in enumerate(names):
            if key == "methods" and name not in METHODS:
                raise ConfigError(f"run.methods[{i}]: unknown method {name!r} (known: {', '.join(METHODS)})")
            if name not in defined:
                raise ConfigError(
                    f"run.{key}[{i}]: {name!r} is not defined under {key}: (defined: {', '.join(defined) or 'none'})"
                )
        if len(set(names)) != len(names):
            raise ConfigError(f"run.{key}: entries must be distinct, got {list(names)}")
    for i, name in enumerate(run.pairs):
        dataset = params.pairs[name].dataset
        if dataset not in params.datasets:
            raise ConfigError(
                f"run.pairs[{i}]: pair {name!r} uses data set {dataset!r}, which is not in datasets: "
                f"add it there ({', '.join(params.datasets) or 'none'}) so that the prepare stage writes it"
            )
    if not run.methods:
        return
    needed = needed_inits(run.methods)
    if list(run.inits) != needed:
        raise ConfigError(
            f"run.inits: the methods {list(run.methods)} need exactly {needed}, got {list(run.inits)}; "
            f"set run.inits: [{', '.join(needed)}]"
        )
    for init in needed:
        if has_offline_phase(init) and init not in params.offline:
            raise ConfigError(f"offline.{init}: missing required key (run.inits needs it)")


def parse_params(data: Any) -> Params:
    return parse_dataclass(Params, data)


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate a params file; raises ConfigError with the file and key path."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    try:
        return parse_params(data)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
