"""Truncated back-propagation through time for a learned optimiser (L2L, seed 002).

theta_{t+1} = theta_t + m_phi(grad f(theta_t)); the meta-loss of one truncation of T steps
is the sum of the task losses along it, sum_t f(theta_t), differentiated in phi through
every update of the truncation. As in the paper, the gradient fed to m_phi is a constant
(``detach``): no second derivatives of f. After each truncation theta and the LSTM state
are detached and the next truncation goes on from them.

theta is one flat tensor; the problem supplies ``objective(theta, batch) -> loss``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from pipeline.learned.lstm import CoordinatewiseLSTM, LSTMState

Objective = Callable[[torch.Tensor, Any], torch.Tensor]


def _detached(state: LSTMState) -> LSTMState:
    return [(h.detach(), c.detach()) for h, c in state]


def truncation(
    net: CoordinatewiseLSTM, objective: Objective, theta: torch.Tensor, state: LSTMState, batches: list[Any]
) -> tuple[torch.Tensor, torch.Tensor, LSTMState, list[float]]:
    """(meta-loss, theta_T detached, state detached, f(theta_t) for t < T) over one truncation.

    The meta-loss sums f(theta_t) for t = 1..T-1 on the step's own batch and f(theta_T) on
    the last batch; f(theta_0) does not depend on phi and is left out.
    """
    theta = theta.detach().requires_grad_()
    meta_loss = theta.new_zeros(())
    losses: list[float] = []
    for t, batch in enumerate(batches):
        loss = objective(theta, batch)
        losses.append(float(loss.detach()))
        if t > 0:
            meta_loss = meta_loss + loss
        grad = torch.autograd.grad(loss, theta, retain_graph=t > 0)[0].detach()  # a constant input (no 2nd derivatives)
        update, state = net(grad, state)
        theta = theta + update
    meta_loss = meta_loss + objective(theta, batches[-1])
    return meta_loss, theta.detach(), _detached(state), losses


def meta_train_episode(
    net: CoordinatewiseLSTM,
    optimizer: torch.optim.Optimizer,
    objective: Objective,
    theta0: torch.Tensor,
    next_batch: Callable[[], Any],
    steps: int,
    unroll: int,
) -> list[float]:
    """One optimisation run of ``steps`` steps from theta0, an Adam step on phi after every truncation."""
    theta, state, losses = theta0, net.initial_state(theta0.numel(), theta0), []
    for start in range(0, steps, unroll):
        batches = [next_batch() for _ in range(min(unroll, steps - start))]
        meta_loss, theta, state, seen = truncation(net, objective, theta, state, batches)
        optimizer.zero_grad()
        meta_loss.backward()
        optimizer.step()
        losses.extend(seen)
    return losses


def run_learned(
    net: CoordinatewiseLSTM, objective: Objective, theta0: torch.Tensor, next_batch: Callable[[], Any], steps: int
) -> list[float]:
    """f(theta_t) for t = 0..steps under the frozen optimiser (no meta-gradient)."""
    theta, state, losses = theta0.detach(), net.initial_state(theta0.numel(), theta0), []
    for _ in range(steps):
        theta.requires_grad_()
        loss = objective(theta, next_batch())
        grad = torch.autograd.grad(loss, theta)[0]
        losses.append(float(loss.detach()))
        with torch.no_grad():
            update, state = net(grad, state)
            theta = theta.detach() + update
    losses.append(float(objective(theta, next_batch()).detach()))
    return losses
