"""The forward-mode meta-gradient against unrolled differentiation, in float64."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from pipeline.config import RepresentationConfig
from pipeline.meta.forward import forward_meta_step, phi_coefficient
from pipeline.meta.online import online_step
from pipeline.meta.step import BaseState
from pipeline.optim import SGDConfig
from tests.meta.helpers import copy_state, double_rule, tiny_problem

PLAIN = SGDConfig()
NESTEROV = SGDConfig(momentum=0.9, nesterov=True, weight_decay=5e-4)
MOMENTUM = SGDConfig(momentum=0.9, dampening=0.2, weight_decay=1e-3)


class TinyBNNet(nn.Module):
    """Linear -> BatchNorm -> ReLU -> Linear, small enough for float64 checks."""

    def __init__(self, d: int = 3, c: int = 3) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def captured_meta_gradient(step, model, state, rule, batch, meta_batch, cfg, task):
    """Run one step with an SGD(lr=0) meta optimiser and return the gradients it received."""
    optimizer = torch.optim.SGD(rule.meta_parameters(), lr=0.0)
    next_state, _, _ = step(model, state, rule, optimizer, batch, meta_batch, cfg, task)
    return [p.grad.clone() for p in rule.meta_parameters()], next_state


def problem(task: str, batchnorm: bool, momentum_buffer: bool):
    model, batch, meta_batch, state = tiny_problem(task)
    if batchnorm:
        torch.manual_seed(1)
        model = TinyBNNet().double().train()
        state = BaseState.from_module(model)
    if momentum_buffer:
        gen = torch.Generator().manual_seed(3)
        state.momentum = {k: 0.1 * torch.randn(v.shape, generator=gen, dtype=v.dtype) for k, v in state.params.items()}
    return model, batch, meta_batch, state


@pytest.mark.parametrize("traced", [True, False], ids=["traced-jvp", "func-jvp"])
@pytest.mark.parametrize("batchnorm", [False, True], ids=["no-bn", "bn"])
@pytest.mark.parametrize(("cfg", "momentum_buffer"), [(PLAIN, False), (NESTEROV, True), (NESTEROV, False), (MOMENTUM, True)], ids=["sgd", "nesterov", "nesterov-first-step", "momentum-dampening"])
@pytest.mark.parametrize(("method", "task"), [("adalfl", "classification"), ("taylor_cubic", "regression"), ("meta_lr", "regression")])
def test_forward_mode_equals_unrolled_meta_gradient(traced, batchnorm, cfg, momentum_buffer, method, task):
    model, batch, meta_batch, state = problem(task, batchnorm, momentum_buffer)
    rule_a, rule_b = double_rule(method, task), double_rule(method, task)
    unrolled, state_a = captured_meta_gradient(online_step, model, copy_state(state), rule_a, batch, meta_batch, cfg, task)
    step = lambda *args: forward_meta_step(*args, traced=traced)  # noqa: E731
    forward, state_b = captured_meta_gradient(step, model, copy_state(state), rule_b, batch, meta_batch, cfg, task)
    for a, b in zip(unrolled, forward):
        torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-12)
    assert any(float(g.abs().max()) > 1e-6 for g in unrolled)  # not a vacuous comparison
    for name in state_a.params:  # the base step itself is the same
        torch.testing.assert_close(state_b.params[name], state_a.params[name], rtol=0, atol=1e-14)
    for name in state_a.buffers:  # running statistics updated once, identically
        torch.testing.assert_close(state_b.buffers[name], state_a.buffers[name], rtol=0, atol=0)


@pytest.mark.parametrize("form", ["direct", "log"])
def test_forward_mode_learning_rate_gradient_in_either_form(form):
    """dL/dalpha (direct) and dL/dlog(alpha) = alpha dL/dalpha (log) both equal the unrolled ones."""
    model, batch, meta_batch, state = problem("regression", False, True)
    rep = RepresentationConfig(lr_form=form)
    rule_a, rule_b = double_rule("meta_lr", "regression", representation=rep), double_rule("meta_lr", "regression", representation=rep)
    unrolled, _ = captured_meta_gradient(online_step, model, copy_state(state), rule_a, batch, meta_batch, NESTEROV, "regression")
    forward, _ = captured_meta_gradient(forward_meta_step, model, copy_state(state), rule_b, batch, meta_batch, NESTEROV, "regression")
    torch.testing.assert_close(forward[0], unrolled[0], rtol=1e-10, atol=1e-12)
    assert float(unrolled[0].abs()) > 1e-6


def test_phi_coefficient_matches_torch_sgd_semantics():
    assert phi_coefficient(SGDConfig(), has_buffer=True) == 1.0
    assert phi_coefficient(SGDConfig(momentum=0.9), has_buffer=False) == 1.0
    assert phi_coefficient(SGDConfig(momentum=0.9, nesterov=True), has_buffer=False) == pytest.approx(1.9)
    assert phi_coefficient(SGDConfig(momentum=0.9, dampening=0.5), has_buffer=True) == pytest.approx(0.5)
    assert phi_coefficient(SGDConfig(momentum=0.9, nesterov=True, dampening=0.5), has_buffer=True) == pytest.approx(1.45)
