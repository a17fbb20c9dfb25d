"""Representation options: the loss network's biases and initialisation, Meta-LR's parametrisation."""

from __future__ import annotations

import math

import pytest
import torch

from pipeline.config import RepresentationConfig
from pipeline.learned.learning_rate import LearnedLearningRate
from pipeline.learned.network import LossNetwork
from pipeline.learned.rules import build_rule


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
