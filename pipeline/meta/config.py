"""The ``offline:`` and ``methods.<m>.online:`` sections: the meta-training procedures' settings."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from pipeline.utils.configparse import ConfigError, non_negative, positive

MetaSplit = Literal["valid", "train"]


@dataclass(frozen=True)
class OfflineConfig:
    """Algorithm 1 (learned loss) or 3 (learned learning rate)."""

    steps: int = 2500  # S_init
    inner_steps: int = 1  # S_inner
    meta_lr: float = 1e-3
    meta_split: MetaSplit = "valid"
    meta_batch_size: int | None = None  # defaults to the pair's batch size
    reset_interval: int = (
        0  # fresh theta every k meta steps; 0: never (one trajectory), 1: Algorithm 1 literally (docs/reproduction.md)
    )

    def __post_init__(self) -> None:
        non_negative("steps", self.steps)
        non_negative("reset_interval", self.reset_interval)
        if self.inner_steps < 1:
            raise ConfigError(f"inner_steps: expected an integer >= 1, got {self.inner_steps}")
        positive("meta_lr", self.meta_lr)
        if self.meta_batch_size is not None and self.meta_batch_size < 1:
            raise ConfigError(f"meta_batch_size: expected an integer >= 1, got {self.meta_batch_size}")


@dataclass(frozen=True)
class OfflineOverride:
    """Keys of ``offline.<init>`` that one pair sets differently (null/absent: the global value).

    The offline phase's horizon has to suit the pair's training (docs/reproduction.md: an
    episode of 10 steps teaches a loss that is too steep for LeNet-5 at lr 0.1, one of 100
    steps one that is too steep for logistic regression over 400 steps).
    """

    steps: int | None = None
    inner_steps: int | None = None
    meta_lr: float | None = None
    meta_split: MetaSplit | None = None
    meta_batch_size: int | None = None
    reset_interval: int | None = None

    def apply(self, base: OfflineConfig) -> OfflineConfig:
        return replace(base, **{name: value for name, value in vars(self).items() if value is not None})


@dataclass(frozen=True)
class OnlineConfig:
    """Algorithm 2 (learned loss) or 4 (learned learning rate)."""

    meta_lr: float = 1e-5
    meta_split: MetaSplit = "valid"
    meta_batch_size: int | None = None  # defaults to the pair's batch size
    meta_interval: int = 1  # a meta step every k base steps
    meta_grad: Literal["forward", "unrolled"] = "forward"  # exact forward-mode or unrolled second order
    clip_meta_grad_norm: float | None = None  # divergence guard: clip phi's gradient norm (off by default)

    def __post_init__(self) -> None:
        positive("meta_lr", self.meta_lr)
        if self.clip_meta_grad_norm is not None:
            positive("clip_meta_grad_norm", self.clip_meta_grad_norm)
        if self.meta_interval < 1:
            raise ConfigError(f"meta_interval: expected an integer >= 1, got {self.meta_interval}")
        if self.meta_batch_size is not None and self.meta_batch_size < 1:
            raise ConfigError(f"meta_batch_size: expected an integer >= 1, got {self.meta_batch_size}")
