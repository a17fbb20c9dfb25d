"""Building rules: one builder per update kind (``RULE_BUILDERS``), and the seeded loss representations.

Adding an update rule: its class and ``build`` in a new file under ``pipeline/learned/rules/``,
one line in ``RULE_BUILDERS`` (and its method / offline phase in ``pipeline.methods``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from pipeline.learned.config import RepresentationConfig
from pipeline.learned.handcrafted import HandcraftedLoss
from pipeline.learned.learning_rate import LearnedLearningRate
from pipeline.learned.network import LossNetwork
from pipeline.learned.recurrent import LSTMOptimiserRule, MetaLSTMRule
from pipeline.learned.rules.base import UpdateRule
from pipeline.learned.rules.hand_designed import HandDesignedRule
from pipeline.learned.rules.learned_lr import LearnedLRRule
from pipeline.learned.rules.linear_update import LinearUpdateRule
from pipeline.learned.rules.loss_rule import LossRule
from pipeline.learned.rules.recurrent import RecurrentUpdateRule
from pipeline.learned.taylor import TaylorLoss
from pipeline.learned.update import MetaCurvature, MetaSGDRates
from pipeline.methods import METHODS, LossKind, UpdateKind, init_representation
from pipeline.optim import OptimiserKind
from pipeline.utils.derive import derive_seed


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


def _sgd(setup: RuleSetup) -> UpdateRule:
    if setup.learns_lr:
        learned = LearnedLearningRate(setup.base_lr, setup.representation.lr_form)
        return LearnedLRRule(setup.loss, setup.base_lr, learned)
    return LossRule(setup.loss, setup.base_lr)


def _meta_sgd(setup: RuleSetup) -> UpdateRule:
    rates = MetaSGDRates(setup.shapes("meta_sgd"), setup.base_lr, setup.representation.rate_form)
    return LinearUpdateRule(setup.loss, setup.base_lr, rates)


def _meta_curvature(setup: RuleSetup) -> UpdateRule:
    curvature = MetaCurvature(setup.shapes("meta_curvature"), setup.base_lr, setup.representation.curvature_rank)
    return LinearUpdateRule(setup.loss, setup.base_lr, curvature)


def _meta_lstm(setup: RuleSetup) -> UpdateRule:
    rep = setup.representation
    return RecurrentUpdateRule(
        setup.loss, setup.base_lr, MetaLSTMRule(setup.base_lr, rep.lstm_p, rep.meta_lstm_forget_bias)
    )


def _l2l_lstm(setup: RuleSetup) -> UpdateRule:
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


def _hand_designed(name: OptimiserKind) -> Callable[[RuleSetup], UpdateRule]:
    return lambda setup: HandDesignedRule(setup.loss, setup.base_lr, name)


RULE_BUILDERS: dict[UpdateKind, Callable[[RuleSetup], UpdateRule]] = {
    "sgd": _sgd,
    "meta_sgd": _meta_sgd,
    "meta_curvature": _meta_curvature,
    "l2l_lstm": _l2l_lstm,
    "meta_lstm": _meta_lstm,
    "adam": _hand_designed("adam"),
    "rmsprop": _hand_designed("rmsprop"),
    "nesterov": _hand_designed("nesterov"),
}


def build_loss(
    kind: LossKind,
    task: str,
    seed: int,
    representation: RepresentationConfig = RepresentationConfig(),
    n_outputs: int = 1,
) -> nn.Module:
    """A loss representation; learned ones are initialised from ``seed`` alone (``n_outputs`` sets the Taylor scale)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "loss-init", kind))
        if kind == "handcrafted":
            return HandcraftedLoss(task)
        if kind in ("smooth_nn", "relu_nn"):
            variant = "smooth" if kind == "smooth_nn" else "relu"
            return LossNetwork(
                task,
                variant=variant,
                bias=representation.loss_bias,
                init=representation.loss_init,
                form=representation.loss_form,
            )
        scale = taylor_scale(task, n_outputs) if representation.taylor_scale == "match_handcrafted" else 1.0
        return TaylorLoss(task, degree=2 if kind == "taylor_quadratic" else 3, scale=scale)


def taylor_scale(task: str, n_outputs: int) -> float:
    """kappa with which squared error's logit gradient at uniform probabilities equals cross-entropy's.

    With M = (1/C) sum_c (p_c - y_c)^2 on softmax outputs, dM/dz_true = -2 (C - 1) / C^3 at p = 1/C,
    against cross-entropy's -(C - 1) / C: kappa = C^2 / 2. Regression keeps squared error itself.
    """
    return n_outputs**2 / 2 if task == "classification" and n_outputs >= 2 else 1.0


def make_rule(
    loss_kind: LossKind,
    learns_lr: bool,
    task: str,
    base_lr: float,
    seed: int,
    representation: RepresentationConfig = RepresentationConfig(),
    n_outputs: int = 1,
    update: UpdateKind = "sgd",
    param_shapes: dict[str, torch.Size] | None = None,
) -> UpdateRule:
    """The rule of an update kind, at its seeded initial value."""
    loss = build_loss(loss_kind, task, seed, representation, n_outputs)
    return RULE_BUILDERS[update](RuleSetup(loss, base_lr, seed, representation, param_shapes, learns_lr))


def build_rule(
    method: str,
    task: str,
    base_lr: float,
    seed: int,
    representation: RepresentationConfig = RepresentationConfig(),
    n_outputs: int = 1,
    param_shapes: dict[str, torch.Size] | None = None,
) -> UpdateRule:
    """A method's rule at its seeded initial value (before any offline phase)."""
    spec = METHODS[method]
    return make_rule(
        spec.loss, spec.learns_lr, task, base_lr, seed, representation, n_outputs, spec.update, param_shapes
    )


def build_init_rule(
    init: str,
    task: str,
    base_lr: float,
    seed: int,
    representation: RepresentationConfig = RepresentationConfig(),
    n_outputs: int = 1,
    param_shapes: dict[str, torch.Size] | None = None,
) -> UpdateRule:
    """The rule an offline phase trains; identical to ``build_rule`` of every method using it."""
    loss_kind, learns_lr, update = init_representation(init)
    return make_rule(loss_kind, learns_lr, task, base_lr, seed, representation, n_outputs, update, param_shapes)
