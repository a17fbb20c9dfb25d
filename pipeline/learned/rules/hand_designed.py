"""Hand-designed optimisers as rules (nothing learned): Adam, RMSprop, SGD with Nesterov momentum."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from pipeline.learned.rules.base import RuleSetup, UpdateRule
from pipeline.optim import OptimiserKind, Params, SGDConfig, hand_designed_step


class HandDesignedRule(UpdateRule):
    """``torch.optim``'s update (functional, ``pipeline.optim``) on the handcrafted loss."""

    def __init__(self, loss: nn.Module, base_lr: float, optimiser: OptimiserKind) -> None:
        super().__init__(loss, base_lr)
        self.optimiser = optimiser  # adam, rmsprop or nesterov

    def meta_module(self) -> nn.Module:
        return self.loss

    def step(
        self, params: Params, grads: Params, buffers: Params, cfg: SGDConfig, lr: float | torch.Tensor
    ) -> tuple[Params, Params]:
        return hand_designed_step(self.optimiser, params, grads, buffers, lr=float(lr), cfg=cfg)


def builder(name: OptimiserKind) -> Callable[[RuleSetup], UpdateRule]:
    return lambda setup: HandDesignedRule(setup.loss, setup.base_lr, name)
