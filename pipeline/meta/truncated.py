"""Truncated back-propagation through time for recurrent update rules (L2L's LSTM, Meta-LSTM).

The base model trains under theta_{t+1}, s_{t+1} = m_phi(theta_t, d_t, L_t, s_t). Every
``unroll`` steps (a truncation) phi takes an Adam step on the meta-loss
J(phi) = sum_{t=1..T} L_meta(theta_t(phi)), the meta-objective (validation loss by default)
after every step of the truncation, with the SGD direction d_t and the base loss L_t held
constant, as the L2L paper does ("we drop the second derivatives").

Because d_t and L_t are constants and the rule is coordinatewise, dJ/dphi equals the
gradient of the surrogate sum_t <v_t, theta_t(phi)> with v_t = grad L_meta(theta_t) fixed,
and that surrogate is a sum over coordinates. So the truncation runs once without a graph
(storing d_t, L_t and v_t: 2 T floats per coordinate), and the meta-gradient re-runs the
rule one slice of coordinates at a time with a graph: memory O(slice x T), not
O(coordinates x T x LSTM width), which would be ~50 GB for a 1M-parameter MLP.
``tests/meta/test_truncated.py`` checks it against autograd through the whole truncation
and finite differences (float64).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from pipeline.learned.handcrafted import task_loss
from pipeline.learned.recurrent import CHUNK, RecurrentRule, RecurrentState, flatten, unflatten
from pipeline.meta.config import OfflineConfig
from pipeline.meta.step import BaseState, Batch, forward, step_meta_parameters
from pipeline.optim import Params, SGDConfig, sgd_directions
from pipeline.utils.progress import Progress


@dataclass
class Window:
    """One truncation so far: where it started and the constants each step saw."""

    theta: torch.Tensor  # flat theta at the start
    state: RecurrentState  # the rule's state at the start
    directions: list[torch.Tensor] = field(default_factory=list)  # d_t, flat
    losses: list[torch.Tensor] = field(default_factory=list)  # L_t, scalars
    adjoints: list[torch.Tensor] = field(default_factory=list)  # v_{t+1} = grad L_meta(theta_{t+1}), flat


def surrogate_meta_gradient(rule: RecurrentRule, window: Window) -> list[torch.Tensor]:
    """dJ/dphi for the truncation in ``window``, re-run CHUNK coordinates at a time."""
    params = list(rule.parameters())
    total = [torch.zeros_like(p) for p in params]
    for start in range(0, window.theta.numel(), CHUNK):
        part = slice(start, start + CHUNK)
        theta, state = window.theta[part], [s[part] for s in window.state]
        surrogate = theta.new_zeros(())
        for direction, loss, adjoint in zip(window.directions, window.losses, window.adjoints):
            theta, state = rule(theta, direction[part], loss, state)
            surrogate = surrogate + (adjoint[part] * theta).sum()
        grads = torch.autograd.grad(surrogate, params, allow_unused=True)
        total = [t + g if g is not None else t for t, g in zip(total, grads)]
    return total


def loss_and_gradients(
    model: nn.Module,
    params: Params,
    buffers: Params,
    batch: Batch,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    track_stats: bool,
) -> tuple[torch.Tensor, Params]:
    """(loss, its gradient in every parameter), nothing kept in a graph."""
    leaves = {k: p.detach().requires_grad_() for k, p in params.items()}
    x, y = batch
    loss = loss_fn(forward(model, leaves, buffers, x, track_stats), y)
    return loss.detach(), dict(zip(leaves, torch.autograd.grad(loss, list(leaves.values()))))


class TruncatedTrainer:
    """Base steps under a recurrent rule; with a meta optimiser, a meta step after every ``unroll`` of them."""

    def __init__(
        self,
        model: nn.Module,
        rule: RecurrentRule,
        loss: nn.Module,
        sgd: SGDConfig,
        task: str,
        unroll: int,
        optimizer: torch.optim.Optimizer | None,
    ) -> None:
        self.model, self.rule, self.loss, self.sgd, self.task = model, rule, loss, sgd, task
        self.unroll, self.optimizer = unroll, optimizer
        self.rule_state: RecurrentState = []
        self.window: Window | None = None

    def start(self, base: BaseState) -> None:
        """A fresh rule state (and truncation) for the base state ``base``."""
        theta = flatten(base.params).detach()
        self.rule_state = [
            s.detach().clone() for s in self.rule.initial_state(theta)
        ]  # a constant of the first truncation
        self.window = Window(theta, self.rule_state)

    def advance(self, base: BaseState, batch: Batch, meta_batch: Batch | None) -> tuple[BaseState, float, float | None]:
        """One base step (and a meta step at the end of a truncation): (next state, base loss, meta loss or None)."""
        loss, grads = loss_and_gradients(self.model, base.params, base.buffers, batch, self.loss, track_stats=True)
        directions, momentum = sgd_directions(base.params, grads, base.momentum, self.sgd)
        direction = flatten(directions)
        theta, self.rule_state = self.rule.step_chunked(flatten(base.params), direction, loss, self.rule_state)
        params = unflatten(theta, base.params)
        meta_loss = None
        if self.optimizer is not None and meta_batch is not None and self.window is not None:
            meta_value, adjoint = loss_and_gradients(
                self.model,
                params,
                base.buffers,
                meta_batch,
                lambda out, y: task_loss(self.task, out, y),
                track_stats=False,
            )
            meta_loss = float(meta_value)
            self.window.directions.append(direction)
            self.window.losses.append(loss)
            self.window.adjoints.append(flatten(adjoint))
            if len(self.window.directions) == self.unroll:
                step_meta_parameters(
                    list(self.rule.parameters()), surrogate_meta_gradient(self.rule, self.window), self.optimizer
                )
                self.window = Window(theta, self.rule_state)
        return BaseState(params, base.buffers, momentum), float(loss), meta_loss

    def state_dict(self) -> dict[str, Any]:
        window = self.window
        return {"rule_state": self.rule_state, "window": None if window is None else vars(window).copy()}

    def load_state_dict(self, saved: dict[str, Any], device: torch.device) -> None:
        self.rule_state = [t.to(device) for t in saved["rule_state"]]
        window = saved["window"]
        self.window = (
            None
            if window is None
            else Window(
                window["theta"].to(device),
                [t.to(device) for t in window["state"]],
                *([t.to(device) for t in window[key]] for key in ("directions", "losses", "adjoints")),
            )
        )


def learn_offline_recurrent(
    model: nn.Module,
    fresh_state: Callable[[int], BaseState],
    rule: RecurrentRule,
    loss: nn.Module,
    next_train: Callable[[], Batch],
    next_meta: Callable[[], Batch],
    cfg: OfflineConfig,
    sgd: SGDConfig,
    task: str,
    progress: Progress | None = None,
) -> list[float]:
    """Meta-train ``rule`` in place: ``cfg.steps`` truncations of ``cfg.inner_steps`` base steps each.

    The base model (and the rule's state) starts afresh every ``reset_interval`` truncations
    (0: one trajectory); the history holds each truncation's mean meta-loss, and ends with
    the first non-finite one (its update is applied: the trainer steps inside each truncation).
    """
    trainer = TruncatedTrainer(
        model, rule, loss, sgd, task, cfg.inner_steps, torch.optim.Adam(rule.parameters(), lr=cfg.meta_lr)
    )
    history: list[float] = []
    base: BaseState | None = None
    for i in range(cfg.steps):
        if base is None or (cfg.reset_interval > 0 and i % cfg.reset_interval == 0):
            base = fresh_state(i)
            trainer.start(base)
        meta_losses = []
        for _ in range(cfg.inner_steps):
            base, _, meta_loss = trainer.advance(base, next_train(), next_meta())
            meta_losses.append(float(meta_loss))  # type: ignore[arg-type]  # always measured with an optimiser
        history.append(sum(meta_losses) / len(meta_losses))
        if not math.isfinite(history[-1]):  # the phase ends here, as learn_offline's does
            break
        if progress:
            progress.update(i + 1, meta_loss=history[-1])
    return history
