"""A loss and SGD at a fixed learning rate: the baseline (handcrafted loss), ML3, AdaLFL and Taylor losses."""

from __future__ import annotations

import torch
from torch import nn

from pipeline.learned.learning_rate import LearnedLearningRate
from pipeline.learned.rules.base import ForwardMetaContext, RuleSetup, UpdateRule
from pipeline.learned.rules.learned_lr import LearnedLRRule


class LossRule(UpdateRule):
    """theta' = SGD(theta, grad M_phi); phi (the loss's parameters, if any) is what is meta-learned."""

    def meta_module(self) -> nn.Module:
        return self.loss

    @property
    def learns_loss(self) -> bool:
        return bool(list(self.loss.parameters()))

    def forward_meta_gradients(self, context: ForwardMetaContext) -> list[torch.Tensor | None]:
        """-lr * c * grad_phi sum (dM_phi/df)(y, f_theta(x)) * u, with u = J_f v (``pipeline.meta.forward``)."""
        u = context.jvp(context.v)
        pred = context.outputs.detach().requires_grad_()
        m = torch.autograd.grad(self.loss(pred, context.targets), pred, create_graph=True)[0]  # dM_phi/df
        grads = torch.autograd.grad((m * u).sum(), self.meta_parameters(), allow_unused=True)
        return [None if g is None else -context.lr * context.coefficient * g for g in grads]


def build(setup: RuleSetup) -> UpdateRule:
    """SGD on the setup's loss; with ``learns_lr`` the learning rate is learned too (Meta-LR)."""
    if setup.learns_lr:
        learned = LearnedLearningRate(setup.base_lr, setup.representation.lr_form)
        return LearnedLRRule(setup.loss, setup.base_lr, learned)
    return LossRule(setup.loss, setup.base_lr)
