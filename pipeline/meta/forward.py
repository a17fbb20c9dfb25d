"""Exact forward-mode meta-gradient for the online step (Algorithms 2 and 4), after issue 7.

For a base step theta' = theta - alpha * (c * g(phi) + r), where g = grad_theta M_phi(y, f_theta(x))
and r does not depend on phi (weight decay, the carried momentum buffer), the meta-gradient is

    grad_phi L_T(theta') = -alpha * c * grad_phi [ sum (dM_phi/df)(y, f_theta(x)) * u ],
    v = grad_theta' L_T(theta'),   u = J_f(theta, x) v   (one Jacobian-vector product at the OLD theta).

No second-order graph through the model is built; only the tiny loss network is
differentiated twice. c is 1 for plain SGD, 1 + mu for Nesterov (see ``phi_coefficient``).
Each rule forms its own meta-gradient from the step's ``ForwardMetaContext``
(``UpdateRule.forward_meta_gradients``): the formula above for a learned loss; for a learned
learning rate the step is linear in alpha, dL/dalpha = -v . d; for Meta-SGD and Meta-Curvature
it is linear in their factors, whose closed-form gradients come from d and v alone.
u comes from the tangent half of the base step's own forward pass (``pipeline.meta.linearize``),
so the JVP costs the tangent work alone; ``torch.func.jvp`` is the fallback.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn
from torch.func import functional_call, jvp

from pipeline.learned.rules import ForwardMetaContext, UpdateRule
from pipeline.meta.linearize import SplitForward, split_forward
from pipeline.meta.step import BaseState, Batch, meta_objective, step_meta_parameters
from pipeline.optim import Params, SGDConfig, detached, sgd_directions


def phi_coefficient(cfg: SGDConfig, has_buffer: bool) -> float:
    """c in theta' = theta - alpha * (c * g + terms free of g), for torch.optim.SGD's update."""
    if not cfg.momentum:
        return 1.0
    if not has_buffer:  # first step: the buffer is d itself
        return 1.0 + cfg.momentum if cfg.nesterov else 1.0
    fresh = 1.0 - cfg.dampening  # weight of d in the new buffer
    return 1.0 + cfg.momentum * fresh if cfg.nesterov else fresh


@contextmanager
def batch_statistics_only(model: nn.Module) -> Iterator[None]:
    """BatchNorm uses batch statistics and updates no running statistics (needed inside jvp)."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    for m in norms:
        m.track_running_stats = False
    try:
        yield
    finally:
        for m in norms:
            m.track_running_stats = True


def forward_meta_step(
    model: nn.Module,
    state: BaseState,
    rule: UpdateRule,
    optimizer: torch.optim.Optimizer,
    batch: Batch,
    meta_batch: Batch,
    cfg: SGDConfig,
    task: str,
    traced: bool = True,
) -> tuple[BaseState, float, float]:
    """One base step plus one meta step with the forward-mode meta-gradient; same contract as ``online_step``.

    ``traced`` takes the JVP from the split forward pass of ``pipeline.meta.linearize``
    (tangent work only); without it, or for a model that cannot be traced, ``torch.func.jvp``
    runs the forward pass again.
    """
    x, y = batch
    params = {k: p.detach().requires_grad_() for k, p in state.params.items()}
    split = split_forward(model, params, state.buffers, x) if traced and rule.learns_loss else None
    linear = (
        TracedLinearization(split, params, state.buffers, x)
        if split is not None
        else RecomputedLinearization(model, state, params, x)
    )
    base_loss = rule.loss(linear.outputs, y)
    grads = dict(zip(params, torch.autograd.grad(base_loss, list(params.values()))))
    with torch.no_grad():
        lr = rule.current_lr()
        directions, momentum = sgd_directions(detached(params), grads, state.momentum, cfg)
        new_params = rule.apply(detached(params), directions, lr)
    leaves = {k: p.requires_grad_() for k, p in new_params.items()}
    meta_loss = meta_objective(model, leaves, state.buffers, meta_batch, task)
    v = dict(zip(leaves, torch.autograd.grad(meta_loss, list(leaves.values()))))
    context = ForwardMetaContext(
        params, new_params, directions, v, lr, linear.outputs, y, phi_coefficient(cfg, bool(state.momentum)), linear.jvp
    )
    meta_grads = rule.forward_meta_gradients(context)
    step_meta_parameters(rule.meta_parameters(), meta_grads, optimizer)
    next_state = BaseState(detached(new_params), state.buffers, detached(momentum))
    return next_state, float(base_loss.detach()), float(meta_loss.detach())


class TracedLinearization:
    """f_theta(x) from the primal graph; u = J v from the saved intermediates (no second forward pass)."""

    def __init__(self, split: SplitForward, params: Params, buffers: Params, x: torch.Tensor) -> None:
        self.split = split
        self.outputs, self.saved = split.forward(params, buffers, x)  # updates running stats once

    def jvp(self, v: Params) -> torch.Tensor:
        return self.split.jvp(self.saved, v)


class RecomputedLinearization:
    """f_theta(x) eagerly; u = J v by ``torch.func.jvp``, replaying the forward pass's random draws."""

    def __init__(self, model: nn.Module, state: BaseState, params: Params, x: torch.Tensor) -> None:
        self.model, self.state, self.params, self.x = model, state, params, x
        self.rng = _rng_state(x.device)  # the JVP pass must see the base forward's dropout masks
        self.outputs = functional_call(model, (params, state.buffers), (x,))  # updates running stats once

    def jvp(self, v: Params) -> torch.Tensor:
        return _jvp_outputs(self.model, self.state, self.params, v, self.x, self.rng)


def _rng_state(device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
    return torch.get_rng_state(), torch.cuda.get_rng_state(device) if device.type == "cuda" else None


def _jvp_outputs(
    model: nn.Module,
    state: BaseState,
    params: Params,
    v: Params,
    x: torch.Tensor,
    rng: tuple[torch.Tensor, torch.Tensor | None],
) -> torch.Tensor:
    primals = detached(params)
    buffers = {k: b.clone() for k, b in state.buffers.items()}

    def f(p: Params) -> torch.Tensor:
        return functional_call(model, (p, buffers), (x,))

    cpu_state, cuda_state = rng
    with batch_statistics_only(model), torch.random.fork_rng(devices=[x.device] if cuda_state is not None else []):
        torch.set_rng_state(cpu_state)
        if cuda_state is not None:
            torch.cuda.set_rng_state(cuda_state, x.device)
        with (
            warnings.catch_warnings()
        ):  # torch's first jvp loads decompositions through the deprecated torch.jit.script
            warnings.filterwarnings("ignore", message=".*torch.jit.script.* is deprecated", category=FutureWarning)
            u = jvp(f, (primals,), (v,))[1]
    return u
