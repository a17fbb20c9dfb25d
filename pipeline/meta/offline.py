"""Algorithms 1 and 3: offline meta-learning of a loss (ML3) or a learning rate (Meta-LR init).

Every meta step takes ``inner_steps`` differentiable base steps on training batches from
a base state and back-propagates the task loss on a meta-objective batch (validation
split by default) to the meta-parameters, which Adam updates.

Where that base state comes from is ``reset_interval`` (docs/reproduction.md):
* 1 (Algorithm 1 read literally): a fresh initialisation before every meta step. The
  meta-objective then only ever sees an untrained model; on min-max scaled regression
  targets its predictions all sit below the targets, and the learned loss pushes every
  prediction up, also past the target (the Diabetes divergence);
* K > 1: theta follows its own trajectory (the detached result of each meta step's base
  steps) and is reset every K meta steps, as ML3's reference code does per task;
* 0: theta is never reset: one training trajectory of S_init steps ("one step on theta is
  taken for each step in phi", paper Sec. 2.3).

A non-finite meta-loss ends the phase at that meta step, its gradient unapplied: what the
meta-parameters would become is noise, and a training run cannot start from them
(``offline_diverged_at``; the training loop stops at a non-finite loss the same way).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import cast

import torch
from torch import nn

from pipeline.learned.rules import RecurrentUpdateRule, UpdateRule
from pipeline.meta.config import OfflineConfig
from pipeline.meta.step import BaseState, Batch, apply_meta_gradient, base_step, meta_objective
from pipeline.meta.truncated import learn_offline_recurrent
from pipeline.optim import SGDConfig, detached
from pipeline.utils.progress import Progress


def unrolled_meta_loss(
    model: nn.Module,
    start: BaseState,
    rule: UpdateRule,
    batches: list[Batch],
    meta_batch: Batch,
    cfg: SGDConfig,
    task: str,
) -> tuple[torch.Tensor, BaseState]:
    """(L_T(theta_S), theta_S detached) after S = len(batches) differentiable steps from ``start``.

    The meta-loss is differentiable in the rule; the detached end state is where a
    trajectory-following offline phase continues from.
    """
    state = BaseState(start.params, start.buffers, dict(start.momentum))
    for batch in batches:
        params, momentum, _ = base_step(model, state, rule, batch, cfg, differentiable=True)
        state = BaseState(params, state.buffers, momentum)
    meta_loss = meta_objective(model, state.params, state.buffers, meta_batch, task)
    return meta_loss, BaseState(detached(state.params), state.buffers, detached(state.momentum))


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
    """Run Algorithm 1/3 in place on ``rule``; returns the meta-loss of every meta step.

    A stateful rule (an LSTM optimiser) is meta-trained by truncated BPTT instead
    (``pipeline.meta.truncated``): ``cfg.steps`` truncations of ``cfg.inner_steps`` steps.
    The first non-finite meta-loss ends the phase; the history then ends with it."""
    if rule.stateful:
        recurrent = cast(RecurrentUpdateRule, rule)
        return learn_offline_recurrent(
            model, fresh_state, recurrent.network, recurrent.loss, next_train, next_meta, cfg, sgd, task, progress
        )
    optimizer = torch.optim.Adam(rule.meta_parameters(), lr=cfg.meta_lr)
    history: list[float] = []
    state: BaseState | None = None
    for i in range(cfg.steps):
        if state is None or (cfg.reset_interval > 0 and i % cfg.reset_interval == 0):
            state = fresh_state(i)
        batches = [next_train() for _ in range(cfg.inner_steps)]
        meta_loss, state = unrolled_meta_loss(model, state, rule, batches, next_meta(), sgd, task)
        history.append(float(meta_loss.detach()))
        if not math.isfinite(history[-1]):
            break
        apply_meta_gradient(rule, optimizer, meta_loss)
        if progress:
            progress.update(i + 1, meta_loss=history[-1])
    return history


def offline_diverged_at(history: list[float]) -> int | None:
    """The meta step (1-based) whose meta-loss was not finite, which ended the phase; None if none was."""
    return next((i + 1 for i, value in enumerate(history) if not math.isfinite(value)), None)


def meta_loss_rose(history: list[float]) -> bool:
    """Did the offline phase end with a higher meta-loss than it started with?

    Single meta-losses are noisy (one batch each), so the first and the last tenth of
    the run (at least one step each) are compared by their means. Of a diverged phase only
    the steps before its non-finite meta-loss count (the divergence is reported apart).
    """
    diverged_at = offline_diverged_at(history)
    if diverged_at is not None:
        history = history[: diverged_at - 1]
    if len(history) < 2:
        return False
    window = max(1, len(history) // 10)
    return sum(history[-window:]) / window > sum(history[:window]) / window
