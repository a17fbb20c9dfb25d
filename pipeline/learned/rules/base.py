"""The update-rule protocol: what a base step uses, what is meta-learned, and how its meta-gradient is formed.

Every kind of rule is its own class (``pipeline.learned.rules.<kind>``) and answers the same
questions, so the pair training loop, the offline phase, the benchmark and the few-shot inner
loop never look inside one:

* what it meta-learns: ``meta_module()`` (phi, alpha, per-parameter rates, curvature factors,
  an LSTM), its parameters ``meta_parameters()``;
* its step: ``step`` (a whole optimiser step from gradients) and ``update`` (from a direction,
  carrying the rule's state; stateless rules keep an empty state);
* its meta-gradient in forward mode: ``forward_meta_gradients`` from a ``ForwardMetaContext``
  (``pipeline.meta.forward`` fills it), or ``stateful`` for the rules that carry a per-coordinate
  state and are meta-trained by truncated BPTT (``pipeline.meta.truncated``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from pipeline.learned.config import RepresentationConfig
from pipeline.optim import Params, SGDConfig, sgd_directions

RuleState = list[torch.Tensor]  # a recurrent rule's per-coordinate state; [] for a stateless rule


@dataclass(frozen=True)
class ForwardMetaContext:
    """One base step theta' = theta - step(d), seen from its meta-objective L_T(theta').

    ``v`` = grad L_T(theta'); ``jvp(v)`` = J_f(theta, x) v at the old theta; ``coefficient`` = c in
    theta' = theta - lr * (c * grad + terms free of the loss) (``pipeline.meta.forward.phi_coefficient``).
    """

    params: Params  # theta (leaves of the base step's graph)
    new_params: Params  # theta', detached
    directions: Params  # SGD's direction d of every parameter
    v: Params
    lr: float
    outputs: torch.Tensor  # f_theta(x) of the base step
    targets: torch.Tensor
    coefficient: float
    jvp: Callable[[Params], torch.Tensor]


@dataclass(frozen=True)
class RuleSetup:
    """What a builder may use: the base loss, the pair's learning rate, the seed and the model's shapes."""

    loss: nn.Module
    base_lr: float
    seed: int
    representation: RepresentationConfig
    param_shapes: dict[str, torch.Size] | None
    learns_lr: bool

    def shapes(self, kind: str) -> dict[str, torch.Size]:
        if self.param_shapes is None:
            raise ValueError(f"the {kind} rule needs the model's parameter shapes")
        return self.param_shapes


class UpdateRule(ABC):
    """A base loss plus the map from SGD's direction to the step; subclasses say what is learned."""

    stateful: ClassVar[bool] = False  # carries a per-coordinate state between steps (truncated BPTT)

    def __init__(self, loss: nn.Module, base_lr: float) -> None:
        self.loss = loss  # M: (y_pred, y_true) -> scalar, used for the base step
        self.base_lr = base_lr

    @abstractmethod
    def meta_module(self) -> nn.Module:
        """The module holding the meta-parameters (may have none: a hand-designed rule)."""

    def meta_parameters(self) -> list[torch.Tensor]:
        return list(self.meta_module().parameters())

    @property
    def is_learned(self) -> bool:
        return bool(self.meta_parameters())

    @property
    def learns_loss(self) -> bool:
        """The meta-gradient runs through the loss's gradient (it needs the model's JVP)."""
        return False

    def modules(self) -> list[nn.Module]:
        """The loss and the meta module (to move or cast them together)."""
        meta = self.meta_module()
        return [self.loss] if meta is self.loss else [self.loss, meta]

    def learning_rate(self) -> torch.Tensor | float:
        """The base learning rate as the differentiable step uses it."""
        return self.base_lr

    def current_lr(self) -> float:
        return self.base_lr

    def step(
        self, params: Params, grads: Params, buffers: Params, cfg: SGDConfig, lr: float | torch.Tensor
    ) -> tuple[Params, Params]:
        """(theta', optimiser buffers'): SGD's direction d (as ``torch.optim.SGD`` forms it), then ``apply``."""
        directions, new_buffers = sgd_directions(params, grads, buffers, cfg)
        return self.apply(params, directions, lr), new_buffers

    def apply(self, params: Params, directions: Params, lr: float | torch.Tensor) -> Params:
        """theta - lr * d (``torch.optim.SGD``'s update); learned maps of d override it."""
        return {k: p - lr * directions[k] for k, p in params.items()}

    def initial_state(self, params: Params) -> RuleState:
        return []

    def update(
        self, params: Params, directions: Params, loss: torch.Tensor, state: RuleState
    ) -> tuple[Params, RuleState]:
        """One differentiable step from ``directions`` at the base learning rate, carrying ``state``."""
        return self.apply(params, directions, self.base_lr), state

    def forward_meta_gradients(self, context: ForwardMetaContext) -> list[torch.Tensor | None]:
        """d L_T(theta') / d meta_parameters() for one base step (None: no path, an exact zero)."""
        raise TypeError(f"{type(self).__name__} has no forward-mode meta-gradient")
