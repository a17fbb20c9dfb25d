"""The L2L LSTM optimiser and Meta-LSTM (seeds 002, 003): rules with a per-coordinate state."""

from __future__ import annotations

import torch
from torch import nn

from pipeline.learned.recurrent import LSTMOptimiserRule, MetaLSTMRule, RecurrentRule, flatten, unflatten
from pipeline.learned.rules.base import RuleSetup, RuleState, UpdateRule
from pipeline.optim import Params
from pipeline.utils.derive import derive_seed


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


def build_meta_lstm(setup: RuleSetup) -> UpdateRule:
    rep = setup.representation
    return RecurrentUpdateRule(
        setup.loss, setup.base_lr, MetaLSTMRule(setup.base_lr, rep.lstm_p, rep.meta_lstm_forget_bias)
    )


def build_l2l_lstm(setup: RuleSetup) -> UpdateRule:
    """The L2L LSTM, its random weights drawn from the seed alone."""
    rep = setup.representation
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(setup.seed, "rule-init", "l2l_lstm"))
        network = LSTMOptimiserRule(
            rep.lstm_hidden,
            rep.lstm_layers,
            "log_sign",
            rep.lstm_p,
            rep.lstm_output_scale,
            zero_head=rep.lstm_head_init == "zero",
        )
    return RecurrentUpdateRule(setup.loss, setup.base_lr, network)
