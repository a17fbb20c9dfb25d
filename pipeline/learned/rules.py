"""Update rules: what the base step uses (a loss and a learning rate) and what is meta-learned.

A rule pairs a representation with its role, so the meta-training procedures
(``pipeline.meta``) work the same for a learned loss and for a learned learning rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from pipeline.config import RepresentationConfig
from pipeline.derive import derive_seed
from pipeline.learned.handcrafted import HandcraftedLoss
from pipeline.learned.learning_rate import LearnedLearningRate
from pipeline.learned.network import LossNetwork
from pipeline.learned.recurrent import LSTMOptimiserRule, MetaLSTMRule, RecurrentRule
from pipeline.learned.taylor import TaylorLoss
from pipeline.learned.update import MetaCurvature, MetaSGDRates
from pipeline.methods import HAND_DESIGNED, METHODS, RECURRENT, LossKind, UpdateKind, init_representation
from pipeline.optim import Params, SGDConfig, hand_designed_step, sgd_directions

LearnedUpdate = MetaSGDRates | MetaCurvature


@dataclass
class UpdateRule:
    loss: nn.Module  # M: (y_pred, y_true) -> scalar, used for the base step
    base_lr: float  # used unless a learned learning rate is present
    learned_lr: LearnedLearningRate | None = None
    learned_update: LearnedUpdate | None = None  # Meta-SGD / Meta-Curvature: the map from direction to step
    base_optimizer: str = "sgd"  # sgd (the pair's), or a hand-designed one: adam, rmsprop, nesterov
    recurrent: RecurrentRule | None = None  # L2L LSTM / Meta-LSTM: stateful, stepped by pipeline.meta.truncated

    def step(
        self, params: Params, grads: Params, buffers: Params, cfg: SGDConfig, lr: float | torch.Tensor
    ) -> tuple[Params, Params]:
        """(theta', momentum'): SGD's direction d, scaled by ``lr`` or mapped by the learned update rule."""
        if self.base_optimizer != "sgd":
            return hand_designed_step(self.base_optimizer, params, grads, buffers, lr=float(lr), cfg=cfg)
        directions, new_buffers = sgd_directions(params, grads, buffers, cfg)
        return self.apply(params, directions, lr), new_buffers

    def apply(self, params: Params, directions: Params, lr: float | torch.Tensor) -> Params:
        """theta - lr * d (torch.optim.SGD's update), or theta - M(d) for a learned update rule."""
        if self.recurrent is not None:
            raise TypeError("a recurrent rule carries a state between steps; step it with pipeline.meta.truncated")
        if self.learned_update is None:
            return {k: p - lr * directions[k] for k, p in params.items()}
        return {k: p - self.learned_update.step(k, directions[k]) for k, p in params.items()}

    def modules(self) -> list[nn.Module]:
        """The loss and whichever learned parts the rule has (to move or cast them together)."""
        return [m for m in (self.loss, self.learned_lr, self.learned_update, self.recurrent) if m is not None]

    @property
    def learns_loss(self) -> bool:
        return self.learned_lr is None and self.learned_update is None and bool(list(self.loss.parameters()))

    def learning_rate(self) -> torch.Tensor | float:
        return self.learned_lr() if self.learned_lr is not None else self.base_lr

    def current_lr(self) -> float:
        return float(self.learned_lr().detach()) if self.learned_lr is not None else self.base_lr

    def meta_module(self) -> nn.Module:
        """The module holding the meta-parameters (phi, alpha, per-parameter rates or curvature factors)."""
        if self.recurrent is not None:
            return self.recurrent
        if self.learned_update is not None:
            return self.learned_update
        return self.learned_lr if self.learned_lr is not None else self.loss

    def meta_parameters(self) -> list[torch.Tensor]:
        return list(self.meta_module().parameters())

    @property
    def is_learned(self) -> bool:
        return bool(self.meta_parameters())


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
    learned_lr = LearnedLearningRate(base_lr, representation.lr_form) if learns_lr else None
    rule = UpdateRule(build_loss(loss_kind, task, seed, representation, n_outputs), base_lr, learned_lr)
    if update in HAND_DESIGNED:
        rule.base_optimizer = update
    elif update in RECURRENT:
        rule.recurrent = build_recurrent(update, base_lr, seed, representation)
    elif update != "sgd":
        if param_shapes is None:
            raise ValueError(f"the {update} rule needs the model's parameter shapes")
        rule.learned_update = (
            MetaSGDRates(param_shapes, base_lr, representation.rate_form)
            if update == "meta_sgd"
            else MetaCurvature(param_shapes, base_lr, representation.curvature_rank)
        )
    return rule


def build_recurrent(kind: str, base_lr: float, seed: int, representation: RepresentationConfig) -> RecurrentRule:
    """The L2L LSTM (random weights drawn from ``seed`` alone) or the Meta-LSTM (SGD at the start)."""
    if kind == "meta_lstm":
        return MetaLSTMRule(base_lr, representation.lstm_p, representation.meta_lstm_forget_bias)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "rule-init", kind))
        return LSTMOptimiserRule(
            representation.lstm_hidden,
            representation.lstm_layers,
            "log_sign",
            representation.lstm_p,
            representation.lstm_output_scale,
            zero_head=representation.lstm_head_init == "zero",
        )


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
