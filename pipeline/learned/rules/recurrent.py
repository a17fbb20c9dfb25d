"""The L2L LSTM optimiser and Meta-LSTM (seeds 002, 003): rules with a per-coordinate state."""

from __future__ import annotations

import torch
from torch import nn

from pipeline.learned.recurrent import RecurrentRule, flatten, unflatten
from pipeline.learned.rules.base import RuleState, UpdateRule
from pipeline.optim import Params


class RecurrentUpdateRule(UpdateRule):
    """theta', s' = m_phi(theta, d, L, s); meta-trained by truncated BPTT (``pipeline.meta.truncated``)."""

    stateful = True

    def __init__(self, loss: nn.Module, base_lr: float, network: RecurrentRule) -> None:
        super().__init__(loss, base_lr)
        self.network = network

    def meta_module(self) -> nn.Module:
        return self.network

    def apply(self, params: Params, directions: Params, lr: float | torch.Tensor) -> Params:
        raise TypeError("a recurrent rule carries a state between steps: use update(), or pipeline.meta.truncated")

    def initial_state(self, params: Params) -> RuleState:
        return self.network.initial_state(flatten(params))

    def update(
        self, params: Params, directions: Params, loss: torch.Tensor, state: RuleState
    ) -> tuple[Params, RuleState]:
        theta, state = self.network(flatten(params), flatten(directions), loss, state)
        return unflatten(theta, params), state
