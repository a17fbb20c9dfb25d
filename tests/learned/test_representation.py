"""Representation options: the loss network's biases and initialisation, Meta-LR's parametrisation."""

from __future__ import annotations

import math

import pytest
import torch

from pipeline.config import RepresentationConfig
from pipeline.learned.learning_rate import LearnedLearningRate
from pipeline.learned.network import LossNetwork
from pipeline.learned.rules import build_rule, taylor_scale
from pipeline.learned.taylor import TaylorLoss


def test_loss_network_without_biases_has_weights_only():
    loss = LossNetwork("regression", bias=False, init="kaiming_normal")
    names = [name for name, _ in loss.named_parameters()]
    assert names == ["net.0.weight", "net.2.weight", "net.4.weight"]


def test_kaiming_normal_initialisation_has_its_variance():
    torch.manual_seed(0)
    weights = torch.cat([LossNetwork("regression", init="kaiming_normal").net[2].weight.flatten() for _ in range(20)])
    assert weights.std().item() == pytest.approx(math.sqrt(2 / 40), rel=0.05)  # gain sqrt(2), fan_in 40


def test_rule_builds_the_configured_representation():
    rep = RepresentationConfig(loss_bias=False, loss_init="kaiming_normal", lr_form="log")
    assert len(build_rule("adalfl", "regression", 0.01, 0, rep).meta_parameters()) == 3
    assert build_rule("meta_lr", "regression", 0.01, 0, rep).learned_lr.form == "log"


@pytest.mark.parametrize("n_classes", [3, 10, 100])
def test_matched_taylor_scale_gives_cross_entropys_logit_gradient_on_a_fresh_model(n_classes):
    """At uniform probabilities (a fresh model) kappa * squared error pulls the logits exactly as cross-entropy does."""
    loss = TaylorLoss("classification", degree=2)
    loss.set_squared_error(taylor_scale("classification", n_classes))
    logits = torch.zeros(1, n_classes, dtype=torch.float64, requires_grad=True)
    target = torch.tensor([1])
    (ours,) = torch.autograd.grad(loss.double()(logits, target), logits)
    (reference,) = torch.autograd.grad(torch.nn.functional.cross_entropy(logits, target), logits)
    assert torch.allclose(ours, reference, atol=1e-12)


def test_taylor_scale_option_and_regression():
    assert taylor_scale("regression", 1) == 1.0 and taylor_scale("classification", 10) == 50.0
    matched = build_rule("taylor_quadratic", "classification", 0.01, 0, RepresentationConfig(), n_outputs=10).loss
    unit = build_rule("taylor_quadratic", "classification", 0.01, 0, RepresentationConfig(taylor_scale="unit"), n_outputs=10).loss
    assert torch.allclose(matched.weights, 50 * unit.weights)  # the same seeded noise, scaled
    regression = build_rule("taylor_cubic", "regression", 0.01, 0, RepresentationConfig(), n_outputs=1).loss
    assert torch.allclose(regression.weights, build_rule("taylor_cubic", "regression", 0.01, 0, RepresentationConfig(taylor_scale="unit")).loss.weights)


def _one_adam_step(form: str, meta_lr: float = 1e-3) -> float:
    """alpha after one Adam step on the meta-loss alpha (gradient +1)."""
    rate = LearnedLearningRate(0.01, form)
    optimizer = torch.optim.Adam(rate.parameters(), lr=meta_lr)
    rate().backward()
    optimizer.step()
    return float(rate().detach())


def test_direct_form_moves_alpha_by_the_meta_learning_rate():
    assert _one_adam_step("direct") == pytest.approx(0.01 - 1e-3, rel=1e-4)  # Algorithm 4's update, Adam-scaled


def test_log_form_moves_alpha_relatively():
    assert _one_adam_step("log") == pytest.approx(0.01 * math.exp(-1e-3), rel=1e-4)  # ~100x smaller change


def test_learned_rate_rejects_bad_input():
    with pytest.raises(ValueError, match="positive"):
        LearnedLearningRate(0.0)
    with pytest.raises(ValueError, match="known: direct, log"):
        LearnedLearningRate(0.1, "sqrt")
