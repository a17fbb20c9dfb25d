"""``l2l:`` in params.yaml: the L2L benchmark (seed 002), one DVC stage per problem."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pipeline.utils.configparse import ConfigError

PROBLEMS = ("quadratic", "mlp", "mlp_40", "mlp_2layers", "mlp_relu")  # pipeline.l2l.problems builds each


@dataclass(frozen=True)
class LSTMOptimiserConfig:
    """The coordinatewise LSTM; null: the authors' code's value for the problem (pipeline.l2l.problems)."""

    hidden: int = 20
    layers: int = 2
    preprocess: Literal["log_sign", "none"] | None = None
    p: float | None = None  # the paper writes 10; its code uses 5 for MNIST
    output_scale: float | None = None

    def __post_init__(self) -> None:
        if self.hidden < 1 or self.layers < 1:
            raise ConfigError(f"hidden, layers: expected integers >= 1, got {self.hidden}, {self.layers}")
        for name in ("p", "output_scale"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ConfigError(f"{name}: expected a number > 0, got {value}")


@dataclass(frozen=True)
class L2LConfig:
    problems: tuple[str, ...] = ()  # quadratic, mlp, mlp_40, mlp_2layers, mlp_relu; none: no l2l stage
    dataset: str = "digits"  # the MLP problems' training images (a prepared data set)
    steps: int = 100  # optimisee steps per run (meta-training and evaluation)
    eval_steps: int = 100  # steps of the evaluation runs (the paper's generalisation check: 200)
    unroll: int = 20  # truncation length of BPTT
    meta_epochs: int = 100  # optimisation runs the LSTM is meta-trained on, one fresh instance each
    meta_lr: float = 1e-3  # Adam on phi
    batch_size: int = 128
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)  # evaluation instances (fresh functions / initial weights)
    tune_seeds: tuple[int, ...] = (100, 101)  # instances the hand-designed optimisers' lr is chosen on
    lr_grid: tuple[float, ...] = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0)
    optimiser: LSTMOptimiserConfig = field(default_factory=LSTMOptimiserConfig)

    def __post_init__(self) -> None:
        for i, name in enumerate(self.problems):
            if name not in PROBLEMS:
                raise ConfigError(f"problems[{i}]: unknown problem {name!r} (known: {', '.join(PROBLEMS)})")
        for name in ("steps", "eval_steps", "unroll", "meta_epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: expected an integer >= 1, got {getattr(self, name)}")
        if not self.meta_lr > 0:
            raise ConfigError(f"meta_lr: expected a number > 0, got {self.meta_lr}")
        if len(self.seeds) < 1 or set(self.seeds) & set(self.tune_seeds):
            raise ConfigError("seeds: expected at least one seed, none of them in tune_seeds")
        if not self.lr_grid or min(self.lr_grid) <= 0:
            raise ConfigError(f"lr_grid: expected positive learning rates, got {list(self.lr_grid)}")
