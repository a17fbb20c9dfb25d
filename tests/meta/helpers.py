"""Small float64 problems and a central finite-difference checker for meta-gradients."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from pipeline.config import RepresentationConfig
from pipeline.learned.rules import UpdateRule, build_rule
from pipeline.meta.step import BaseState
from pipeline.models.small import MLP


def tiny_problem(task: str, seed: int = 0, n: int = 16, d: int = 3, c: int = 3):
    """A small float64 MLP with a batch, a meta batch and a starting state."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = MLP((d,), c, hidden=6).double()
    x, xv = torch.randn(n, d, generator=gen, dtype=torch.float64), torch.randn(n, d, generator=gen, dtype=torch.float64)
    if task == "classification":
        y, yv = torch.randint(0, c, (n,), generator=gen), torch.randint(0, c, (n,), generator=gen)
    else:
        y, yv = torch.rand(n, c, generator=gen, dtype=torch.float64), torch.rand(n, c, generator=gen, dtype=torch.float64)
    return model, (x, y), (xv, yv), BaseState.from_module(model)


def double_rule(method: str, task: str, base_lr: float = 0.1, seed: int = 0,
                representation: RepresentationConfig = RepresentationConfig(), model: nn.Module | None = None) -> UpdateRule:
    """The method's rule in float64; update rules (Meta-SGD, Meta-Curvature) take their shapes from ``model``."""
    shapes = {k: p.shape for k, p in model.named_parameters()} if model is not None else None
    rule = build_rule(method, task, base_lr, seed, representation, param_shapes=shapes)
    for module in rule.modules():
        module.double()
    return rule


def copy_state(state: BaseState) -> BaseState:
    clone = lambda d: {k: v.clone() for k, v in d.items()}  # noqa: E731
    return BaseState(clone(state.params), clone(state.buffers), clone(state.momentum))


def assert_matches_finite_differences(objective: Callable[[], torch.Tensor], params: list[nn.Parameter], n_directions: int = 4, eps: float = 1e-6, rtol: float = 1e-6) -> None:
    """Compare the autograd directional derivative with a central difference along random directions."""
    grads = torch.autograd.grad(objective(), params, allow_unused=True)
    grads = [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]
    gen = torch.Generator().manual_seed(1234)
    for _ in range(n_directions):
        direction = [torch.randn(p.shape, generator=gen, dtype=p.dtype) for p in params]
        analytic = sum(float((g * v).sum()) for g, v in zip(grads, direction))
        shift(params, direction, eps)
        plus =float(objective().detach())  # the objective itself needs autograd (it contains a gradient step)
        shift(params, direction, -2 * eps)
        minus =float(objective().detach())
        shift(params, direction, eps)
        numeric = (plus - minus) / (2 * eps)
        assert abs(analytic - numeric) <= rtol * max(1.0, abs(numeric)), (analytic, numeric)
        assert abs(analytic) > 1e-8, "a zero meta-gradient makes this check vacuous"


def shift(params: list[nn.Parameter], direction: list[torch.Tensor], scale: float) -> None:
    with torch.no_grad():
        for p, v in zip(params, direction):
            p.add_(scale * v)
