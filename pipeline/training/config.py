"""The ``pairs:`` and ``methods:`` sections: a task-model pair's training run and a method's settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.meta.config import OfflineOverride, OnlineConfig
from pipeline.utils.configparse import ConfigError, non_negative, positive


@dataclass(frozen=True)
class OptimConfig:
    """The base optimiser: SGD exactly as ``torch.optim.SGD``."""

    lr: float
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        positive("lr", self.lr)
        non_negative("weight_decay", self.weight_decay)
        if not 0 <= self.momentum < 1:
            raise ConfigError(f"momentum: expected a number in [0, 1), got {self.momentum}")
        if self.nesterov and self.momentum == 0:
            raise ConfigError("nesterov: Nesterov momentum needs momentum > 0")


@dataclass(frozen=True)
class PairConfig:
    """One task-model pair (paper Table 1) and its training budget."""

    dataset: str
    model: str
    optim: OptimConfig
    steps: int  # base gradient steps
    batch_size: int = 128
    eval_interval: int = 100  # steps between validation-error records
    augment: bool = False  # random crop (+ flip where the data set allows it)
    offline: dict[str, OfflineOverride] = field(default_factory=dict)  # this pair's changes to offline.<init>

    def __post_init__(self) -> None:
        from pipeline.data.registry import DATASETS
        from pipeline.models.catalog import MODEL_NEEDS as MODELS
        from pipeline.models.catalog import check_pairing

        if self.dataset not in DATASETS:
            raise ConfigError(f"dataset: unknown data set {self.dataset!r} (known: {', '.join(DATASETS)})")
        if self.model not in MODELS:
            raise ConfigError(f"model: unknown model {self.model!r} (known: {', '.join(MODELS)})")
        problem = check_pairing(self.dataset, self.model)
        if problem:
            raise ConfigError(f"model: {problem}")
        for name in ("steps", "batch_size", "eval_interval"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: expected an integer >= 1, got {getattr(self, name)}")


@dataclass(frozen=True)
class MethodConfig:
    online: OnlineConfig | None = None  # required exactly for methods with an online phase
    lr: float | None = None  # this method's base learning rate in place of the pair's optim.lr (Adam wants its own)

    def __post_init__(self) -> None:
        if self.lr is not None:
            positive("lr", self.lr)
