"""Exact forward-mode meta-gradient for the online step (Algorithms 2 and 4), after issue 7.

For a base step theta' = theta - alpha * (c * g(phi) + r), where g = grad_theta M_phi(y, f_theta(x))
and r does not depend on phi (weight decay, the carried momentum buffer), the meta-gradient is

    grad_phi L_T(theta') = -alpha * c * grad_phi [ sum (dM_phi/df)(y, f_theta(x)) * u ],
    v = grad_theta' L_T(theta'),   u = J_f(theta, x) v   (one Jacobian-vector product at the OLD theta).

No second-order graph through the model is built; only the tiny loss network is
differentiated twice. c is 1 for plain SGD, 1 + mu for Nesterov (see ``phi_coefficient``).
For a learned learning rate the step is linear in alpha: dL/dalpha = -v . d, d the whole update.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn
from torch.func import functional_call, jvp

from pipeline.learned.rules import UpdateRule
from pipeline.meta.step import Batch, BaseState, meta_objective, step_meta_parameters
from pipeline.optim import Params, SGDConfig, detached, sgd_step


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


def forward_meta_step(model: nn.Module, state: BaseState, rule: UpdateRule, optimizer: torch.optim.Optimizer,
                      batch: Batch, meta_batch: Batch, cfg: SGDConfig, task: str) -> tuple[BaseState, float, float]:
    """One base step plus one meta step with the forward-mode meta-gradient; same contract as ``online_step``."""
    x, y = batch
    rng = _rng_state(x.device)  # the JVP pass must see the base forward's dropout masks
    params = {k: p.detach().requires_grad_() for k, p in state.params.items()}
    outputs = functional_call(model, (params, state.buffers), (x,))  # updates running stats once
    base_loss = rule.loss(outputs, y)
    grads = dict(zip(params, torch.autograd.grad(base_loss, list(params.values()))))
    with torch.no_grad():
        lr = rule.current_lr()
        new_params, momentum = sgd_step(detached(params), grads, state.momentum, lr, cfg)
    leaves = {k: p.requires_grad_() for k, p in new_params.items()}
    meta_loss = meta_objective(model, leaves, state.buffers, meta_batch, task)
    v = dict(zip(leaves, torch.autograd.grad(meta_loss, list(leaves.values()))))
    meta_grads = _meta_gradients(model, state, rule, params, new_params, v, outputs.detach(), (x, y), rng, cfg, lr)
    step_meta_parameters(rule.meta_parameters(), meta_grads, optimizer)
    next_state = BaseState(detached(new_params), state.buffers, detached(momentum))
    return next_state, float(base_loss.detach()), float(meta_loss.detach())


def _meta_gradients(model, state, rule, params, new_params, v, outputs, batch, rng, cfg, lr) -> list[torch.Tensor | None]:
    meta_params = rule.meta_parameters()
    if rule.learned_lr is not None:  # theta' = theta - alpha * d: dL/dlog(alpha) = -alpha * v . d
        with torch.no_grad():
            d_dot_v = sum(((params[k].detach() - new_params[k]) / lr * v[k]).sum() for k in v)
        return [-lr * d_dot_v.reshape(p.shape).to(p.dtype) for p in meta_params]
    u = _jvp_outputs(model, state, params, v, batch[0], rng)
    pred = outputs.requires_grad_()
    m = torch.autograd.grad(rule.loss(pred, batch[1]), pred, create_graph=True)[0]  # dM_phi/df, a function of phi
    c = phi_coefficient(cfg, has_buffer=bool(state.momentum))
    grads = torch.autograd.grad((m * u).sum(), meta_params, allow_unused=True)
    return [None if g is None else -lr * c * g for g in grads]


def _rng_state(device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
    return torch.get_rng_state(), torch.cuda.get_rng_state(device) if device.type == "cuda" else None


def _jvp_outputs(model: nn.Module, state: BaseState, params: Params, v: Params, x: torch.Tensor, rng: tuple[torch.Tensor, torch.Tensor | None]) -> torch.Tensor:
    primals = detached(params)
    buffers = {k: b.clone() for k, b in state.buffers.items()}

    def f(p: Params) -> torch.Tensor:
        return functional_call(model, (p, buffers), (x,))

    cpu_state, cuda_state = rng
    with batch_statistics_only(model), torch.random.fork_rng(devices=[x.device] if cuda_state is not None else []):
        torch.set_rng_state(cpu_state)
        if cuda_state is not None:
            torch.cuda.set_rng_state(cuda_state, x.device)
        with warnings.catch_warnings():  # torch's first jvp loads decompositions through the deprecated torch.jit.script
            warnings.filterwarnings("ignore", message=".*torch.jit.script.* is deprecated", category=FutureWarning)
            _, u = jvp(f, (primals,), (v,))
    return u
