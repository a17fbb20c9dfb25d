"""Every meta-gradient against central finite differences in float64."""

from __future__ import annotations

import pytest
import torch

from pipeline.learned.config import RepresentationConfig
from pipeline.meta.offline import unrolled_meta_loss
from pipeline.meta.online import online_meta_loss
from pipeline.optim import SGDConfig
from tests.meta.helpers import assert_matches_finite_differences, copy_state, double_rule, tiny_problem

pytestmark = pytest.mark.gradcheck

PLAIN = SGDConfig()
NESTEROV = SGDConfig(momentum=0.9, nesterov=True, weight_decay=5e-4)
PAPER_FORM = RepresentationConfig(loss_form="plain")  # l_phi alone; the anchored form has its own test below


def with_momentum_buffer(state, seed: int = 5):
    gen = torch.Generator().manual_seed(seed)
    state.momentum = {k: 0.1 * torch.randn(v.shape, generator=gen, dtype=v.dtype) for k, v in state.params.items()}
    return state


def offline_objective(method, task, inner_steps, cfg, representation=PAPER_FORM):
    model, batch, meta_batch, state = tiny_problem(task)
    rule = double_rule(method, task, representation=representation)
    gen = torch.Generator().manual_seed(9)
    batches = [batch] + [(batch[0] + 0.1 * torch.randn(batch[0].shape, generator=gen, dtype=torch.float64), batch[1]) for _ in range(inner_steps - 1)]
    objective = lambda: unrolled_meta_loss(model, copy_state(state), rule, batches, meta_batch, cfg, task)[0]  # noqa: E731
    return objective, rule


def online_objective(method, task, cfg, momentum_buffer: bool, representation=PAPER_FORM):
    model, batch, meta_batch, state = tiny_problem(task)
    if momentum_buffer:
        state = with_momentum_buffer(state)
    rule = double_rule(method, task, representation=representation)
    objective = lambda: online_meta_loss(model, copy_state(state), rule, batch, meta_batch, cfg, task)[0]  # noqa: E731
    return objective, rule


@pytest.mark.parametrize("inner_steps", [1, 3])
def test_algorithm1_offline_loss_meta_gradient(inner_steps):
    objective, rule = offline_objective("ml3", "classification", inner_steps, SGDConfig(momentum=0.5))
    assert_matches_finite_differences(objective, rule.meta_parameters())


def test_algorithm1_regression_meta_gradient():
    objective, rule = offline_objective("adalfl", "regression", 1, PLAIN)
    assert_matches_finite_differences(objective, rule.meta_parameters())


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_anchored_loss_offline_and_online_meta_gradients(task):
    """The anchored form's |w| layers and relu(r)^2 inputs, through Algorithms 1 and 2."""
    anchored = RepresentationConfig(loss_form="anchored")
    objective, rule = offline_objective("ml3", task, 2, SGDConfig(momentum=0.5), anchored)
    assert_matches_finite_differences(objective, rule.meta_parameters())
    objective, rule = online_objective("adalfl", task, NESTEROV, momentum_buffer=True, representation=anchored)
    assert_matches_finite_differences(objective, rule.meta_parameters())


def test_algorithm2_online_meta_gradient_plain_sgd():
    objective, rule = online_objective("adalfl", "classification", PLAIN, momentum_buffer=False)
    assert_matches_finite_differences(objective, rule.meta_parameters())


def test_algorithm2_online_meta_gradient_nesterov_with_momentum_buffer():
    objective, rule = online_objective("adalfl", "classification", NESTEROV, momentum_buffer=True)
    assert_matches_finite_differences(objective, rule.meta_parameters())


def test_algorithm3_offline_learning_rate_meta_gradient():
    objective, rule = offline_objective("meta_lr", "classification", 2, SGDConfig(momentum=0.9))
    assert_matches_finite_differences(objective, rule.meta_parameters(), n_directions=2)


def test_algorithm4_online_learning_rate_meta_gradient():
    objective, rule = online_objective("meta_lr", "regression", NESTEROV, momentum_buffer=True)
    assert_matches_finite_differences(objective, rule.meta_parameters(), n_directions=2)


@pytest.mark.parametrize(("method", "task"), [("taylor_quadratic", "regression"), ("taylor_cubic", "classification")])
def test_taylor_loss_online_meta_gradient(method, task):
    objective, rule = online_objective(method, task, NESTEROV, momentum_buffer=True)
    assert_matches_finite_differences(objective, rule.meta_parameters())


def test_taylor_cubic_offline_meta_gradient_with_two_inner_steps():
    objective, rule = offline_objective("taylor_cubic", "regression", 2, PLAIN)
    assert_matches_finite_differences(objective, rule.meta_parameters())
