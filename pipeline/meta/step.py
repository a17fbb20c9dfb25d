"""The base step and the meta-objective, written functionally so both can be differentiated.

BatchNorm policy (documented in the README):
* the base step's forward runs in train mode on batch statistics and updates the
  running statistics once, exactly like an ordinary training step;
* the meta-objective forward on theta_{t+1} also uses batch statistics (train mode, as
  the paper's unrolled implementation does) but on a *copy* of the buffers, which is
  thrown away: the running statistics are never touched by the meta step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.func import functional_call

from pipeline.learned.handcrafted import task_loss
from pipeline.learned.rules import UpdateRule
from pipeline.optim import Params, SGDConfig, detached

Batch = tuple[torch.Tensor, torch.Tensor]


@dataclass
class BaseState:
    """The base learner between steps: detached parameters, buffers, momentum buffers."""

    params: Params
    buffers: Params
    momentum: Params = field(default_factory=dict)

    @classmethod
    def from_module(cls, model: nn.Module) -> BaseState:
        return cls(
            {k: v.detach().clone() for k, v in model.named_parameters()},
            {k: v.detach().clone() for k, v in model.named_buffers()},
        )


def forward(model: nn.Module, params: Params, buffers: Params, x: torch.Tensor, track_stats: bool) -> torch.Tensor:
    """Train-mode forward with explicit state; without ``track_stats`` the running statistics stay untouched."""
    if not track_stats:
        buffers = {k: v.clone() for k, v in buffers.items()}
    return functional_call(model, (params, buffers), (x,))


def base_step(
    model: nn.Module, state: BaseState, rule: UpdateRule, batch: Batch, cfg: SGDConfig, differentiable: bool
) -> tuple[Params, Params, torch.Tensor]:
    """theta' = SGD(theta, grad_theta M(y, f_theta(x))); returns (theta', momentum', M).

    With ``differentiable`` the result stays in the autograd graph (second-order through
    the gradient) so a meta-objective on theta' can be back-propagated to the rule's
    meta-parameters; without it, this is a plain training step.
    """
    x, y = batch
    params = {k: p if p.requires_grad else p.detach().requires_grad_() for k, p in state.params.items()}
    loss = rule.loss(forward(model, params, state.buffers, x, track_stats=True), y)
    grads = torch.autograd.grad(loss, list(params.values()), create_graph=differentiable)
    named_grads = dict(zip(params, grads))
    if differentiable:
        new_params, momentum = rule.step(params, named_grads, state.momentum, cfg, rule.learning_rate())
        return new_params, momentum, loss
    with torch.no_grad():
        new_params, momentum = rule.step(detached(params), named_grads, state.momentum, cfg, rule.current_lr())
    return new_params, momentum, loss.detach()


def meta_objective(model: nn.Module, params: Params, buffers: Params, batch: Batch, task: str) -> torch.Tensor:
    """L_T of theta' on a meta-objective batch, without touching the running statistics."""
    x, y = batch
    return task_loss(task, forward(model, params, buffers, x, track_stats=False), y)


def apply_meta_gradient(rule: UpdateRule, optimizer: torch.optim.Optimizer, meta_loss: torch.Tensor) -> None:
    """One optimiser step on the rule's meta-parameters from ``meta_loss``.

    Parameters with no path to the meta-loss (the loss network's output bias shifts M
    by a constant, which no gradient sees) get an exact zero gradient.
    """
    meta_params = rule.meta_parameters()
    step_meta_parameters(meta_params, torch.autograd.grad(meta_loss, meta_params, allow_unused=True), optimizer)


def step_meta_parameters(
    meta_params: list[torch.Tensor], grads: Sequence[torch.Tensor | None], optimizer: torch.optim.Optimizer
) -> None:
    """Install the meta-gradients (None: no path to the meta-loss, an exact zero) and step."""
    for param, grad in zip(meta_params, grads):
        param.grad = torch.zeros_like(param) if grad is None else grad
    optimizer.step()
