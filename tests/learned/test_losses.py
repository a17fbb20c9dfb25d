from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from pipeline.learned.handcrafted import HandcraftedLoss
from pipeline.learned.network import LossNetwork, SmoothLeakyReLU
from pipeline.learned.rules import build_loss, build_rule
from pipeline.learned.taylor import TaylorLoss, taylor_exponents


def test_smooth_leaky_relu_matches_closed_form_derivative_eq25():
    beta, gamma = 10.0, 0.01
    x = torch.linspace(-3, 3, 601, dtype=torch.float64, requires_grad=True)
    act = SmoothLeakyReLU(beta, gamma)
    (grad,) = torch.autograd.grad(act(x).sum(), x)
    e = torch.exp(beta * x.detach())
    torch.testing.assert_close(grad, (e + gamma) / (e + 1), rtol=1e-12, atol=1e-12)
    expected = torch.log1p(e) / beta * (1 - gamma) + gamma * x.detach()
    torch.testing.assert_close(act(x).detach(), expected, rtol=1e-12, atol=1e-12)


def test_smooth_leaky_relu_is_finite_for_large_inputs():
    out = SmoothLeakyReLU()(torch.tensor([-1e4, 1e4]))
    assert torch.isfinite(out).all() and out[1] == pytest.approx(1e4)


def test_taylor_keeps_only_terms_that_depend_on_the_prediction():
    assert taylor_exponents(2) == [(0, 1), (0, 2), (1, 1)]
    assert sorted(taylor_exponents(3)) == sorted([(0, 1), (0, 2), (1, 1), (0, 3), (1, 2), (2, 1)])


@pytest.mark.parametrize("degree", [2, 3])
def test_taylor_with_squared_error_coefficients_has_the_squared_error_gradient(degree):
    loss = TaylorLoss("regression", degree).double()
    loss.set_squared_error()
    y = torch.rand(7, 2, dtype=torch.float64)
    y_hat = torch.randn(7, 2, dtype=torch.float64, requires_grad=True)
    (grad_taylor,) = torch.autograd.grad(loss(y_hat, y), y_hat)
    (grad_se,) = torch.autograd.grad(F.mse_loss(y_hat, y), y_hat)
    torch.testing.assert_close(grad_taylor, grad_se, rtol=1e-12, atol=1e-14)
    # equal to squared error up to a y-only term (-y^2)
    torch.testing.assert_close(loss(y_hat, y), F.mse_loss(y_hat, y) - (y**2).mean(), rtol=1e-12, atol=1e-12)


def test_loss_network_is_outputwise_and_invariant_to_number_of_outputs():
    loss = LossNetwork("regression").double()
    y, y_hat = torch.rand(5, 1, dtype=torch.float64), torch.rand(5, 1, dtype=torch.float64)
    single = loss(y_hat, y)
    assert torch.allclose(loss(y_hat.repeat(1, 4), y.repeat(1, 4)), single)  # C copies -> same loss
    manual = loss.net(torch.stack([y, y_hat], dim=-1)).mean()
    assert torch.allclose(single, manual)


def test_classification_uses_softmax_probabilities_and_one_hot_targets():
    loss = LossNetwork("classification").double()
    logits, labels = torch.randn(4, 3, dtype=torch.float64), torch.tensor([0, 2, 1, 2])
    pairs = torch.stack([F.one_hot(labels, 3).double(), logits.softmax(1)], dim=-1)
    assert torch.allclose(loss(logits, labels), loss.net(pairs).mean())


def test_relu_variant_is_ml3_network_with_nonnegative_output():
    loss = LossNetwork("regression", variant="relu")
    assert isinstance(loss.net[1], torch.nn.ReLU) and isinstance(loss.output_activation, torch.nn.Softplus)
    assert loss.pointwise(torch.randn(50), torch.randn(50)).min() >= 0


def test_loss_network_shape_is_2_40_40_1():
    sizes = [(m.in_features, m.out_features) for m in LossNetwork("regression").net if isinstance(m, torch.nn.Linear)]
    assert sizes == [(2, 40), (40, 40), (40, 1)]


def test_learned_loss_initialisation_depends_on_seed_only():
    a, b, c = (build_loss("smooth_nn", "classification", s) for s in (3, 3, 4))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_rules_pick_the_right_meta_parameters():
    assert build_rule("baseline", "regression", 0.01, 0).meta_parameters() == []
    assert isinstance(build_rule("baseline", "regression", 0.01, 0).loss, HandcraftedLoss)
    meta_lr = build_rule("meta_lr", "regression", 0.01, 0)
    assert len(meta_lr.meta_parameters()) == 1 and meta_lr.current_lr() == pytest.approx(0.01)
    assert len(build_rule("adalfl", "regression", 0.01, 0).meta_parameters()) == 6


@pytest.mark.parametrize("task, variant", [("classification", "smooth"), ("regression", "smooth"), ("classification", "relu")])
def test_residual_loss_starts_as_the_handcrafted_loss_and_can_move(task, variant):
    """handcrafted + NN_phi with NN_phi's last layer at zero: equal value (up to ReLU's constant softplus(0))
    and equal gradient with respect to the predictions at the start; the meta-gradient reaches phi."""
    torch.manual_seed(0)
    loss = LossNetwork(task, variant=variant, form="residual").double()
    outputs = torch.randn(16, 10 if task == "classification" else 1, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(0, 10, (16,)) if task == "classification" else torch.randn(16, 1, dtype=torch.float64)
    handcrafted = HandcraftedLoss(task)(outputs, targets)
    value = loss(outputs, targets)
    offset = torch.log(torch.tensor(2.0, dtype=torch.float64)) if variant == "relu" else 0.0
    torch.testing.assert_close(value, handcrafted + offset, rtol=1e-12, atol=1e-12)
    (grad,) = torch.autograd.grad(value, outputs, create_graph=True)
    (expected,) = torch.autograd.grad(handcrafted, outputs)
    torch.testing.assert_close(grad, expected, rtol=1e-12, atol=1e-12)
    last = loss.net[-1].weight
    (meta,) = torch.autograd.grad(grad.pow(2).sum(), last)  # a meta-objective through the gradient
    assert meta.abs().sum() > 0


def test_plain_loss_is_unchanged_by_the_form_option():
    torch.manual_seed(3)
    plain = LossNetwork("classification")
    torch.manual_seed(3)
    residual = LossNetwork("classification", form="residual")
    for a, b in zip(plain.net[:-1].parameters(), residual.net[:-1].parameters()):
        assert torch.equal(a, b)  # same random hidden layers: only the last layer starts at zero
    assert residual.net[-1].weight.abs().sum() == 0 and plain.net[-1].weight.abs().sum() > 0


@pytest.mark.parametrize("task, variant", [("regression", "smooth"), ("classification", "smooth"), ("classification", "relu")])
def test_an_anchored_loss_is_lowest_at_the_target_for_any_phi(task, variant):
    """Whatever its weights (here large random ones, far from the start), the learned term is >= 0
    and 0 exactly at y_hat = y: on a grid of predictions, the loss of each target is lowest there."""
    torch.manual_seed(1)
    loss = LossNetwork(task, variant=variant, form="anchored").double()
    with torch.no_grad():
        for p in loss.parameters():
            p.copy_(3 * torch.randn_like(p))
    targets = torch.tensor([0.0, 1.0] if task == "classification" else [-0.5, 0.1, 0.4, 0.9], dtype=torch.float64)
    grid = torch.linspace(0, 1, 201, dtype=torch.float64) if task == "classification" else torch.linspace(-2, 2, 401)
    grid = grid.double()
    for y in targets:
        values = loss.pointwise(y.expand_as(grid), grid)
        assert values.min() >= 0
        at_target = loss.pointwise(y.view(1), y.view(1))
        assert at_target.abs().item() < 1e-12
        # the added term never decreases away from the target, on either side
        right, left = values[grid >= y], values[grid <= y].flip(0)
        assert (right.diff() >= -1e-12).all() and (left.diff() >= -1e-12).all()


def test_an_anchored_loss_starts_next_to_the_handcrafted_one_and_its_meta_gradient_flows():
    torch.manual_seed(0)
    loss = LossNetwork("regression", form="anchored").double()
    outputs = torch.randn(16, 1, dtype=torch.float64, requires_grad=True)
    targets = torch.randn(16, 1, dtype=torch.float64)
    handcrafted = HandcraftedLoss("regression")(outputs, targets)
    value = loss(outputs, targets)
    assert 0 <= (value - handcrafted).item() < 0.05 * handcrafted.item()  # within 5% of squared error
    (grad,) = torch.autograd.grad(value, outputs, create_graph=True)
    metas = torch.autograd.grad(grad.pow(2).sum(), [loss.net[0].weight, loss.net[-1].weight])
    assert all(m.abs().sum() > 0 for m in metas)  # through the monotone layers' |w| as well


def test_the_anchored_loss_is_a_selectable_form_and_counts_in_the_study_name():
    from pipeline.learned.config import RepresentationConfig
    from pipeline.learned.rules.registry import build_loss

    loss = build_loss("smooth_nn", "regression", 0, RepresentationConfig(loss_form="anchored"))
    assert isinstance(loss, LossNetwork) and loss.form == "anchored" and loss.net[0].in_features == 3
