"""Meta-SGD and Meta-Curvature: the closed-form one-step meta-gradient against unrolled autograd
and central finite differences, in float64 (issue 14)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from pipeline.config import RepresentationConfig
from pipeline.learned.update import MetaCurvature, transform, transform_adjoints
from pipeline.meta.forward import forward_meta_step
from pipeline.meta.online import online_meta_loss, online_step, plain_step
from pipeline.meta.step import BaseState
from pipeline.optim import SGDConfig
from tests.meta.helpers import assert_matches_finite_differences, copy_state, double_rule, tiny_problem

pytestmark = pytest.mark.gradcheck

PLAIN = SGDConfig()
NESTEROV = SGDConfig(momentum=0.9, nesterov=True, weight_decay=5e-4)
MOMENTUM = SGDConfig(momentum=0.9, dampening=0.2, weight_decay=1e-3)
RULES = [("meta_sgd", "log"), ("meta_sgd", "direct"), ("meta_curvature", "log"), ("meta_curvature", "rank2")]


def representation(form: str) -> RepresentationConfig:
    """Meta-SGD's rate form, or (``rank2``) Meta-Curvature with rank-2 dense factors."""
    return RepresentationConfig(curvature_rank=2) if form == "rank2" else RepresentationConfig(rate_form=form)


class TinyConvNet(nn.Module):
    """Conv2d (the three-factor form) -> ReLU -> Linear, on 1 x 5 x 5 images."""

    def __init__(self, c: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.head = nn.Linear(2 * 3 * 3, c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.conv(x)).flatten(1))


def problem(net: str, momentum_buffer: bool):
    model, batch, meta_batch, state = tiny_problem("classification")
    if net == "conv":
        gen = torch.Generator().manual_seed(2)
        torch.manual_seed(2)
        model = TinyConvNet().double()
        batch = (torch.randn(16, 1, 5, 5, generator=gen, dtype=torch.float64), batch[1])
        meta_batch = (torch.randn(16, 1, 5, 5, generator=gen, dtype=torch.float64), meta_batch[1])
        state = BaseState.from_module(model)
    if momentum_buffer:
        gen = torch.Generator().manual_seed(3)
        state.momentum = {k: 0.1 * torch.randn(v.shape, generator=gen, dtype=v.dtype) for k, v in state.params.items()}
    return model, batch, meta_batch, state


def perturbed_rule(method: str, form: str, model: nn.Module):
    """The rule moved off its initial value (identity factors would hide a transposed adjoint)."""
    rule = double_rule(method, "classification", representation=representation(form), model=model)
    gen = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p in rule.meta_parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=gen, dtype=p.dtype) * (p.abs().mean() + 1.0))
    return rule


def captured(step, model, state, rule, batch, meta_batch, cfg):
    optimizer = torch.optim.SGD(rule.meta_parameters(), lr=0.0)
    next_state, _, _ = step(model, state, rule, optimizer, batch, meta_batch, cfg, "classification")
    return [p.grad.clone() for p in rule.meta_parameters()], next_state


@pytest.mark.parametrize("net", ["mlp", "conv"])
@pytest.mark.parametrize(("cfg", "momentum_buffer"), [(PLAIN, False), (NESTEROV, True), (MOMENTUM, True)],
                         ids=["sgd", "nesterov-with-buffer", "momentum-dampening"])
@pytest.mark.parametrize(("method", "form"), RULES)
def test_closed_form_equals_unrolled_meta_gradient(net, cfg, momentum_buffer, method, form):
    model, batch, meta_batch, state = problem(net, momentum_buffer)
    rule_a, rule_b = perturbed_rule(method, form, model), perturbed_rule(method, form, model)
    unrolled, state_a = captured(online_step, model, copy_state(state), rule_a, batch, meta_batch, cfg)
    closed, state_b = captured(forward_meta_step, model, copy_state(state), rule_b, batch, meta_batch, cfg)
    assert len(closed) == len(unrolled) == len(rule_a.meta_parameters())
    for a, b in zip(unrolled, closed):
        torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-13)
    assert all(float(g.abs().max()) > 1e-8 for g in unrolled)  # every factor gets a gradient: not vacuous
    for name in state_a.params:
        torch.testing.assert_close(state_b.params[name], state_a.params[name], rtol=0, atol=1e-14)


@pytest.mark.parametrize("net", ["mlp", "conv"])
@pytest.mark.parametrize(("method", "form"), RULES)
def test_unrolled_meta_gradient_matches_finite_differences(net, method, form):
    model, batch, meta_batch, state = problem(net, momentum_buffer=True)
    rule = perturbed_rule(method, form, model)

    def objective() -> torch.Tensor:
        return online_meta_loss(model, copy_state(state), rule, batch, meta_batch, NESTEROV, "classification")[0]

    assert_matches_finite_differences(objective, rule.meta_parameters())


@pytest.mark.parametrize("net", ["mlp", "conv"])
@pytest.mark.parametrize(("method", "form"), RULES)
def test_initial_rule_takes_the_plain_sgd_step(net, method, form):
    """Identity factors / rates at the base lr: training starts as the pair's SGD (torch.optim.SGD's arithmetic).

    Built in float64 from the start: a float32 rate holds 0.1 only to float32 rounding.
    """
    model, batch, _, state = problem(net, momentum_buffer=True)
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        rule = double_rule(method, "classification", base_lr=0.1, representation=representation(form), model=model)
    finally:
        torch.set_default_dtype(default)
    rtol = 1e-15 if form == "direct" or method == "meta_curvature" else 1e-13  # exp(log 0.1) is 0.1 to a few ulp
    sgd = double_rule("baseline", "classification", base_lr=0.1)
    mine, _ = plain_step(model, copy_state(state), rule, batch, NESTEROV)
    reference, _ = plain_step(model, copy_state(state), sgd, batch, NESTEROV)
    for name in reference.params:
        torch.testing.assert_close(mine.params[name], reference.params[name], rtol=rtol, atol=1e-15)
    assert any(not torch.equal(mine.params[k], state.params[k]) for k in state.params)  # a step was taken


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 2, 2), (5,)], ids=["dense", "conv", "vector"])
def test_transform_adjoints_are_the_gradients_of_the_pairing(shape):
    """<v, M(d)> differentiated by autograd in each factor equals the hand-written adjoint."""
    curvature = MetaCurvature({"w": torch.Size(shape)}, lr=1.0).double()
    gen = torch.Generator().manual_seed(0)
    factors = [(f + 0.3 * torch.randn(f.shape, generator=gen, dtype=f.dtype)).requires_grad_() for f in curvature._factors("w")]
    d, v = torch.randn(shape, generator=gen, dtype=torch.float64), torch.randn(shape, generator=gen, dtype=torch.float64)
    expected = torch.autograd.grad((v * transform(factors, d)).sum(), factors)
    for mine, reference in zip(transform_adjoints([f.detach() for f in factors], d, v), expected):
        torch.testing.assert_close(mine, reference, rtol=1e-12, atol=1e-13)


def test_low_rank_factors_apply_i_plus_u_w_transposed_without_forming_it():
    """rank r: a dense weight's factors hold 2 n r numbers each and act as (I + U W^T / n); vectors stay element-wise."""
    curvature = MetaCurvature({"w": torch.Size((40, 30)), "b": torch.Size((40,))}, lr=0.5, rank=3).double()
    assert curvature.low_rank == {"w"}
    assert max(p.numel() for p in curvature.parameters()) == 40 * 3
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in curvature.parameters():
            p.add_(torch.randn(p.shape, generator=gen, dtype=p.dtype))
    raw = curvature.raw
    a = torch.eye(40, dtype=torch.float64) + raw["w__m0u"] @ raw["w__m0w"].T / 40
    b = torch.eye(30, dtype=torch.float64) + raw["w__m1u"] @ raw["w__m1w"].T / 30
    d = torch.randn(40, 30, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(curvature.step("w", d), 0.5 * a @ d @ b, rtol=1e-12, atol=1e-13)
