"""Building rules: one builder per update kind (``RULE_BUILDERS``), and the seeded loss representations.

Adding an update rule: its class and its builder in a new file under ``pipeline/learned/rules/``,
one line in ``RULE_BUILDERS`` (and its method and offline phase in ``pipeline.methods``; docs/extending.md).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from pipeline.learned.config import RepresentationConfig
from pipeline.learned.handcrafted import HandcraftedLoss
from pipeline.learned.network import LossNetwork
from pipeline.learned.rules import hand_designed, linear_update, loss_rule, recurrent
from pipeline.learned.rules.base import RuleSetup, UpdateRule
from pipeline.learned.taylor import TaylorLoss
from pipeline.methods import METHODS, LossKind, UpdateKind, init_representation
from pipeline.utils.derive import derive_seed

RULE_BUILDERS: dict[UpdateKind, Callable[[RuleSetup], UpdateRule]] = {  # one line per update kind
    "sgd": loss_rule.build,
    "meta_sgd": linear_update.build_meta_sgd,
    "meta_curvature": linear_update.build_meta_curvature,
    "l2l_lstm": recurrent.build_l2l_lstm,
    "meta_lstm": recurrent.build_meta_lstm,
    "adam": hand_designed.builder("adam"),
    "rmsprop": hand_designed.builder("rmsprop"),
    "nesterov": hand_designed.builder("nesterov"),
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
