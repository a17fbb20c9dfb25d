"""Truncated BPTT for the recurrent rules (L2L's LSTM, Meta-LSTM): the sliced surrogate
meta-gradient against autograd through the whole truncation and central finite differences,
in float64 (issue 14)."""

from __future__ import annotations

import pytest
import torch

import pipeline.learned.recurrent as recurrent
import pipeline.meta.truncated as truncated
from pipeline.learned.handcrafted import HandcraftedLoss, task_loss
from pipeline.learned.recurrent import LSTMOptimiserRule, MetaLSTMRule, flatten, unflatten
from pipeline.meta.step import BaseState, forward
from pipeline.meta.truncated import TruncatedTrainer, loss_and_gradients
from pipeline.optim import SGDConfig, sgd_step
from tests.meta.helpers import assert_matches_finite_differences, copy_state, tiny_problem

pytestmark = pytest.mark.gradcheck
NESTEROV = SGDConfig(momentum=0.9, nesterov=True, weight_decay=5e-4)


def rule_of(kind: str) -> recurrent.RecurrentRule:
    """The rule in float64, moved off its initial value so that every weight matters."""
    torch.manual_seed(0)
    rule = (LSTMOptimiserRule(hidden=4, output_scale=0.1) if kind == "l2l_lstm" else MetaLSTMRule(0.1, forget_bias=3.0)).double()
    gen = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p in rule.parameters():
            p.add_(0.2 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return rule


def run_truncation(rule, model, state, batches, meta_batches, sgd):
    """Run one truncation through TruncatedTrainer; returns (its meta-gradient, the window's constants)."""
    optimizer = torch.optim.SGD(rule.parameters(), lr=0.0)  # leaves the installed gradients in .grad
    trainer = TruncatedTrainer(model, rule, HandcraftedLoss("classification"), sgd, "classification", len(batches), optimizer)
    trainer.start(state)
    window = trainer.window
    for batch, meta_batch in zip(batches, meta_batches):
        state, _, _ = trainer.advance(state, batch, meta_batch)
    return [p.grad.clone() for p in rule.parameters()], window


def meta_loss_with_constants(rule, model, start, window, meta_batches):
    """J(phi) = sum_t L_meta(theta_t(phi)), the whole truncation in one graph, d_t and L_t held at the run's values."""
    theta, state = flatten(start.params), window.state  # the state at the truncation's start is a constant
    total = theta.new_zeros(())
    for direction, loss, meta_batch in zip(window.directions, window.losses, meta_batches):
        theta, state = rule(theta, direction, loss, state)
        x, y = meta_batch
        total = total + task_loss("classification", forward(model, unflatten(theta, start.params), start.buffers, x, False), y)
    return total


@pytest.mark.parametrize("kind", ["l2l_lstm", "meta_lstm"])
@pytest.mark.parametrize("sgd", [SGDConfig(), NESTEROV], ids=["sgd", "nesterov"])
def test_sliced_meta_gradient_equals_whole_truncation_and_finite_differences(kind, sgd, monkeypatch):
    monkeypatch.setattr(recurrent, "CHUNK", 7)  # several slices, the last one short
    monkeypatch.setattr(truncated, "CHUNK", 7)
    model, batch, meta_batch, start = tiny_problem("classification")
    gen = torch.Generator().manual_seed(9)
    batches = [(batch[0] + 0.1 * i, batch[1]) for i in range(4)]
    meta_batches = [(meta_batch[0] + 0.1 * torch.randn(meta_batch[0].shape, generator=gen, dtype=torch.float64), meta_batch[1])
                    for _ in range(4)]
    rule = rule_of(kind)
    sliced, window = run_truncation(rule, model, copy_state(start), batches, meta_batches, sgd)
    assert len(window.directions) == 4
    objective = lambda: meta_loss_with_constants(rule, model, start, window, meta_batches)  # noqa: E731
    whole = torch.autograd.grad(objective(), list(rule.parameters()), allow_unused=True)
    for a, b in zip(sliced, whole):
        torch.testing.assert_close(a, torch.zeros_like(a) if b is None else b, rtol=1e-10, atol=1e-12)
    assert all(float(g.abs().max()) > 0 for g in sliced), "every meta-parameter should get a gradient"
    assert_matches_finite_differences(objective, list(rule.parameters()))


def test_chunked_step_equals_one_pass(monkeypatch):
    monkeypatch.setattr(recurrent, "CHUNK", 5)
    rule = rule_of("l2l_lstm")
    gen = torch.Generator().manual_seed(1)
    theta, direction = torch.randn(23, generator=gen, dtype=torch.float64), torch.randn(23, generator=gen, dtype=torch.float64)
    state = rule.initial_state(theta)
    state = [s + 0.1 * torch.randn(s.shape, generator=gen, dtype=s.dtype) for s in state]
    with torch.no_grad():
        expected = rule(theta, direction, torch.tensor(0.7, dtype=torch.float64), state)
    got = rule.step_chunked(theta, direction, torch.tensor(0.7, dtype=torch.float64), state)
    torch.testing.assert_close(got[0], expected[0], rtol=1e-12, atol=1e-15)  # matmul blocking: rounding only
    for a, b in zip(got[1], expected[1]):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-15)


def test_meta_lstm_starts_as_the_pairs_sgd_step():
    """Zero gate weights, input gate = lr: the first steps are SGD's up to the forget gate's 6e-6 decay."""
    model, batch, _, start = tiny_problem("classification")
    rule = MetaLSTMRule(0.1).double()
    trainer = TruncatedTrainer(model, rule, HandcraftedLoss("classification"), NESTEROV, "classification", 20, None)
    trainer.start(start)
    state, expected = copy_state(start), copy_state(start)
    for _ in range(3):
        state, _, _ = trainer.advance(state, batch, None)
        _, grads = loss_and_gradients(model, expected.params, expected.buffers, batch, HandcraftedLoss("classification"), True)
        params, momentum = sgd_step(expected.params, grads, expected.momentum, 0.1, NESTEROV)
        expected = BaseState(params, expected.buffers, momentum)
    for name, value in expected.params.items():
        torch.testing.assert_close(state.params[name], value, rtol=0, atol=3e-5 * float(value.abs().max()))
        assert not torch.equal(state.params[name], value)  # the forget gate is a hair below 1, not exactly 1


def test_l2l_rule_is_coordinatewise_and_seeded():
    from pipeline.config import RepresentationConfig
    from pipeline.learned.rules import build_rule

    a, b = (build_rule("l2l_lstm", "classification", 0.01, 3, RepresentationConfig()).meta_module() for _ in range(2))
    c = build_rule("l2l_lstm", "classification", 0.01, 4, RepresentationConfig()).meta_module()
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))
    assert sum(p.numel() for p in a.parameters()) == 4 * 20 * (2 + 20) + 8 * 20 + 4 * 20 * 40 + 8 * 20 + 21


def test_l2l_rule_with_a_zero_head_starts_as_no_step_and_still_gets_a_meta_gradient():
    model, batch, meta_batch, start = tiny_problem("classification")
    torch.manual_seed(0)
    rule = LSTMOptimiserRule(hidden=4, output_scale=0.1).double()  # zero_head by default
    optimizer = torch.optim.SGD(rule.parameters(), lr=0.0)
    trainer = TruncatedTrainer(model, rule, HandcraftedLoss("classification"), SGDConfig(), "classification", 2, optimizer)
    trainer.start(start)
    state, _, _ = trainer.advance(copy_state(start), batch, meta_batch)
    assert all(torch.equal(state.params[k], v) for k, v in start.params.items())  # no step yet
    trainer.advance(state, batch, meta_batch)
    assert float(rule.lstm.head.weight.grad.abs().max()) > 0  # but the head learns to step
