"""Algorithms 1 and 3: offline meta-learning of a loss (ML3) or a learning rate (Meta-LR init).

Every meta step starts from a *fresh* base initialisation, takes ``inner_steps``
differentiable base steps on training batches, and back-propagates the task loss on a
meta-objective batch (validation split by default) to the meta-parameters, which Adam
updates.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from pipeline.config import OfflineConfig
from pipeline.learned.rules import UpdateRule
from pipeline.meta.step import Batch, BaseState, base_step, meta_objective, apply_meta_gradient
from pipeline.optim import SGDConfig
from pipeline.progress import Progress


def unrolled_meta_loss(model: nn.Module, start: BaseState, rule: UpdateRule, batches: list[Batch], meta_batch: Batch, cfg: SGDConfig, task: str) -> torch.Tensor:
    """L_T(theta_S) after S = len(batches) differentiable steps from ``start``; differentiable in the rule."""
    state = BaseState(start.params, start.buffers, dict(start.momentum))
    for batch in batches:
        params, momentum, _ = base_step(model, state, rule, batch, cfg, differentiable=True)
        state = BaseState(params, state.buffers, momentum)
    return meta_objective(model, state.params, state.buffers, meta_batch, task)


def learn_offline(
    model: nn.Module,
    fresh_state: Callable[[int], BaseState],
    rule: UpdateRule,
    next_train: Callable[[], Batch],
    next_meta: Callable[[], Batch],
    cfg: OfflineConfig,
    sgd: SGDConfig,
    task: str,
    progress: Progress | None = None,
) -> list[float]:
    """Run Algorithm 1/3 in place on ``rule``; returns the meta-loss of every meta step."""
    optimizer = torch.optim.Adam(rule.meta_parameters(), lr=cfg.meta_lr)
    history: list[float] = []
    for i in range(cfg.steps):
        batches = [next_train() for _ in range(cfg.inner_steps)]
        meta_loss = unrolled_meta_loss(model, fresh_state(i), rule, batches, next_meta(), sgd, task)
        apply_meta_gradient(rule, optimizer, meta_loss)
        history.append(float(meta_loss.detach()))
        if progress:
            progress.update(i + 1, meta_loss=history[-1])
    return history
