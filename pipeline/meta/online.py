"""Algorithms 2 and 4: online adaptation of a loss (AdaLFL) or a learning rate (Meta-LR).

After every base step theta_{t+1} = SGD(theta_t, grad M_phi), the task loss of
theta_{t+1} on a meta-objective batch updates phi through theta_{t+1}(phi) with Adam;
theta_{t+1} is then detached and training goes on with the optimiser state intact.
"""

from __future__ import annotations

import torch
from torch import nn

from pipeline.learned.rules import UpdateRule
from pipeline.meta.step import BaseState, Batch, apply_meta_gradient, base_step, meta_objective
from pipeline.optim import SGDConfig, detached


def online_meta_loss(
    model: nn.Module, state: BaseState, rule: UpdateRule, batch: Batch, meta_batch: Batch, cfg: SGDConfig, task: str
) -> tuple[torch.Tensor, BaseState, torch.Tensor]:
    """(L_T(theta_{t+1}(phi)), the next detached state, the base loss)."""
    params, momentum, base_loss = base_step(model, state, rule, batch, cfg, differentiable=True)
    meta_loss = meta_objective(model, params, state.buffers, meta_batch, task)
    return meta_loss, BaseState(detached(params), state.buffers, detached(momentum)), base_loss.detach()


def online_step(
    model: nn.Module,
    state: BaseState,
    rule: UpdateRule,
    optimizer: torch.optim.Optimizer,
    batch: Batch,
    meta_batch: Batch,
    cfg: SGDConfig,
    task: str,
) -> tuple[BaseState, float, float]:
    """One base step plus one meta step; returns (next state, base loss, meta loss)."""
    meta_loss, next_state, base_loss = online_meta_loss(model, state, rule, batch, meta_batch, cfg, task)
    apply_meta_gradient(rule, optimizer, meta_loss)
    return next_state, float(base_loss), float(meta_loss.detach())


def plain_step(
    model: nn.Module, state: BaseState, rule: UpdateRule, batch: Batch, cfg: SGDConfig
) -> tuple[BaseState, float]:
    """A base step with no meta step (baseline, ML3 after its offline phase)."""
    params, momentum, base_loss = base_step(model, state, rule, batch, cfg, differentiable=False)
    return BaseState(params, state.buffers, momentum), float(base_loss)
