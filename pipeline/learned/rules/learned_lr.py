"""Meta-LR (Algorithms 3-4): the handcrafted loss, SGD, and the base learning rate alpha as the meta-parameter."""

from __future__ import annotations

from typing import cast

import torch
from torch import nn

from pipeline.learned.learning_rate import LearnedLearningRate
from pipeline.learned.rules.base import ForwardMetaContext, RuleState, UpdateRule
from pipeline.optim import Params


class LearnedLRRule(UpdateRule):
    """theta' = theta - alpha * d, alpha (or log alpha) learned."""

    def __init__(self, loss: nn.Module, base_lr: float, learned_lr: LearnedLearningRate) -> None:
        super().__init__(loss, base_lr)
        self.learned_lr = learned_lr

    def meta_module(self) -> nn.Module:
        return self.learned_lr

    def learning_rate(self) -> torch.Tensor:
        return self.learned_lr()

    def current_lr(self) -> float:
        return float(self.learned_lr().detach())

    def update(
        self, params: Params, directions: Params, loss: torch.Tensor, state: RuleState
    ) -> tuple[Params, RuleState]:
        return self.apply(params, directions, self.learning_rate()), state

    def forward_meta_gradients(self, context: ForwardMetaContext) -> list[torch.Tensor | None]:
        """The step is linear in alpha: dL/dalpha = -v . d (times alpha for log alpha)."""
        lr, v = context.lr, context.v
        with torch.no_grad():
            d_dot_v = cast(
                torch.Tensor, sum(((context.params[k].detach() - context.new_params[k]) / lr * v[k]).sum() for k in v)
            )
        chain = lr if self.learned_lr.form == "log" else 1.0  # dalpha/dlog(alpha) = alpha
        return [-chain * d_dot_v.reshape(p.shape).to(p.dtype) for p in self.meta_parameters()]
