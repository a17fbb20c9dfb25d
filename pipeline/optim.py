"""A functional, differentiable SGD that matches ``torch.optim.SGD`` step for step.

``sgd_step`` returns new parameters instead of mutating them, so the step can be part of
an autograd graph: differentiable in the gradients (hence in a learned loss phi) and in a
tensor learning rate (Meta-LR). The momentum buffers are returned as the new state; the
caller detaches them between steps, as the paper's online algorithm does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import torch

Params = dict[str, torch.Tensor]


@dataclass(frozen=True)
class SGDConfig:
    momentum: float = 0.0
    dampening: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0


def sgd_step(
    params: Params, grads: Params, buffers: Params, lr: float | torch.Tensor, cfg: SGDConfig
) -> tuple[Params, Params]:
    """One SGD step; ``buffers`` maps names to momentum buffers (empty before the first step).

    Same arithmetic as ``torch.optim.SGD`` (see its docs): d = g + wd * p; with momentum,
    b = d on the first step, else b = mu * b + (1 - dampening) * d; Nesterov uses
    d + mu * b, plain momentum uses b; then p - lr * d.
    """
    directions, new_buffers = sgd_directions(params, grads, buffers, cfg)
    return {name: param - lr * directions[name] for name, param in params.items()}, new_buffers


def sgd_directions(params: Params, grads: Params, buffers: Params, cfg: SGDConfig) -> tuple[Params, Params]:
    """(d, new momentum buffers): the direction ``torch.optim.SGD`` scales by lr, for every parameter.

    Learned update rules (``pipeline.learned.update``) transform d instead of scaling it.
    """
    directions: Params = {}
    new_buffers: Params = {}
    for name, param in params.items():
        direction = grads[name]
        if cfg.weight_decay:
            direction = direction + cfg.weight_decay * param
        if cfg.momentum:
            previous = buffers.get(name)
            if previous is None:
                buffer = direction
            else:
                buffer = cfg.momentum * previous + (1 - cfg.dampening) * direction
            new_buffers[name] = buffer
            direction = direction + cfg.momentum * buffer if cfg.nesterov else buffer
        directions[name] = direction
    return directions, new_buffers


def detached(tensors: Params) -> Params:
    return {name: t.detach() for name, t in tensors.items()}


@dataclass(frozen=True)
class AdaptiveConfig:
    """Adam's and RMSprop's constants, ``torch.optim``'s defaults (the L2L paper's hand-designed baselines)."""

    betas: tuple[float, float] = (0.9, 0.999)  # Adam
    alpha: float = 0.99  # RMSprop's smoothing constant
    eps: float = 1e-8
    weight_decay: float = 0.0


def adam_step(
    params: Params, grads: Params, state: Params, lr: float, cfg: AdaptiveConfig = AdaptiveConfig()
) -> tuple[Params, Params]:
    """One ``torch.optim.Adam`` step (no amsgrad), functional.

    ``state`` holds exp_avg/<name>, exp_avg_sq/<name> and step."""
    beta1, beta2 = cfg.betas
    step = float(state["step"]) + 1 if "step" in state else 1.0
    new_state: Params = {"step": torch.tensor(step)}
    new_params: Params = {}
    for name, param in params.items():
        grad = grads[name] + cfg.weight_decay * param if cfg.weight_decay else grads[name]
        exp_avg = state.get(f"exp_avg/{name}", torch.zeros_like(param)) * beta1 + (1 - beta1) * grad
        exp_avg_sq = state.get(f"exp_avg_sq/{name}", torch.zeros_like(param)) * beta2 + (1 - beta2) * grad * grad
        denom = exp_avg_sq.sqrt() / math.sqrt(1 - beta2**step) + cfg.eps  # torch's order of operations
        new_params[name] = param - (lr / (1 - beta1**step)) * exp_avg / denom
        new_state[f"exp_avg/{name}"], new_state[f"exp_avg_sq/{name}"] = exp_avg, exp_avg_sq
    return new_params, new_state


def rmsprop_step(
    params: Params, grads: Params, state: Params, lr: float, cfg: AdaptiveConfig = AdaptiveConfig()
) -> tuple[Params, Params]:
    """One ``torch.optim.RMSprop`` step (not centred, no momentum), functional: ``state`` holds square_avg/<name>."""
    new_state: Params = {}
    new_params: Params = {}
    for name, param in params.items():
        grad = grads[name] + cfg.weight_decay * param if cfg.weight_decay else grads[name]
        square_avg = (
            state.get(f"square_avg/{name}", torch.zeros_like(param)) * cfg.alpha + (1 - cfg.alpha) * grad * grad
        )
        new_params[name] = param - lr * grad / (square_avg.sqrt() + cfg.eps)
        new_state[f"square_avg/{name}"] = square_avg
    return new_params, new_state


OptimiserKind = Literal["sgd", "nesterov", "adam", "rmsprop"]
Step = Callable[[Params, Params, Params, float, SGDConfig], tuple[Params, Params]]


def _nesterov(params: Params, grads: Params, state: Params, lr: float, cfg: SGDConfig) -> tuple[Params, Params]:
    return sgd_step(params, grads, state, lr, replace(cfg, momentum=cfg.momentum or 0.9, nesterov=True))


def _adaptive(step: Callable[..., tuple[Params, Params]]) -> Step:
    return lambda params, grads, state, lr, cfg: step(
        params, grads, state, lr, AdaptiveConfig(weight_decay=cfg.weight_decay)
    )


# sgd as ``cfg`` says; nesterov with momentum 0.9 where ``cfg`` has none; adam and rmsprop with torch's
# defaults; every one keeps ``cfg``'s weight decay.
HAND_DESIGNED_STEPS: dict[str, Step] = {
    "sgd": sgd_step,
    "nesterov": _nesterov,
    "adam": _adaptive(adam_step),
    "rmsprop": _adaptive(rmsprop_step),
}


def hand_designed_step(
    kind: str, params: Params, grads: Params, state: Params, lr: float, cfg: SGDConfig = SGDConfig()
) -> tuple[Params, Params]:
    """One step of a hand-designed optimiser of ``HAND_DESIGNED_STEPS``."""
    step = HAND_DESIGNED_STEPS.get(kind)
    if step is None:
        raise ValueError(f"unknown optimiser {kind!r} (known: {', '.join(HAND_DESIGNED_STEPS)})")
    return step(params, grads, state, lr, cfg)
