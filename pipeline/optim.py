"""A functional, differentiable SGD that matches ``torch.optim.SGD`` step for step.

``sgd_step`` returns new parameters instead of mutating them, so the step can be part of
an autograd graph: differentiable in the gradients (hence in a learned loss phi) and in a
tensor learning rate (Meta-LR). The momentum buffers are returned as the new state; the
caller detaches them between steps, as the paper's online algorithm does.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

Params = dict[str, torch.Tensor]


@dataclass(frozen=True)
class SGDConfig:
    momentum: float = 0.0
    dampening: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0


def sgd_step(params: Params, grads: Params, buffers: Params, lr: float | torch.Tensor, cfg: SGDConfig) -> tuple[Params, Params]:
    """One SGD step; ``buffers`` maps names to momentum buffers (empty before the first step).

    Same arithmetic as ``torch.optim.SGD`` (see its docs): d = g + wd * p; with momentum,
    b = d on the first step, else b = mu * b + (1 - dampening) * d; Nesterov uses
    d + mu * b, plain momentum uses b; then p - lr * d.
    """
    new_params: Params = {}
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
        new_params[name] = param - lr * direction
    return new_params, new_buffers


def detached(tensors: Params) -> Params:
    return {name: t.detach() for name, t in tensors.items()}
