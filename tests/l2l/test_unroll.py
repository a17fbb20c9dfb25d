"""Truncated BPTT of the L2L optimiser: its meta-gradient against finite differences (float64).

The paper treats the gradient fed to the LSTM as a constant. So the reference objective is
the meta-loss with the gradients of the base run held fixed: at the base phi the two agree,
and its finite differences must match the autograd meta-gradient.
"""

from __future__ import annotations

import pytest
import torch

from pipeline.l2l.problems import quadratic_instance
from pipeline.learned.lstm import CoordinatewiseLSTM
from pipeline.meta.unroll import truncation
from tests.meta.helpers import assert_matches_finite_differences

pytestmark = pytest.mark.gradcheck


def recorded_gradients(net, objective, theta0, steps):
    """The gradients the LSTM sees along one truncation at the current phi."""
    grads, theta, state = [], theta0.clone(), net.initial_state(theta0.numel(), theta0)
    with torch.no_grad():
        for _ in range(steps):
            with torch.enable_grad():
                leaf = theta.detach().requires_grad_()
                grads.append(torch.autograd.grad(objective(leaf, None), leaf)[0])
            update, state = net(grads[-1], state)
            theta = theta + update
    return grads


def fixed_gradient_meta_loss(net, objective, theta0, grads):
    theta, state, total = theta0, net.initial_state(theta0.numel(), theta0), 0.0
    for t, grad in enumerate(grads):
        if t > 0:
            total = total + objective(theta, None)
        update, state = net(grad, state)
        theta = theta + update
    return total + objective(theta, None)


@pytest.mark.parametrize("preprocess", ["none", "log_sign"])
def test_truncation_meta_gradient_matches_finite_differences(preprocess):
    torch.manual_seed(0)
    instance = quadratic_instance(seed=0, functions=2, dims=3, dtype=torch.float64)
    objective, theta0 = instance.objective, instance.theta0
    net = CoordinatewiseLSTM(hidden=4, layers=2, preprocess=preprocess, p=5.0, output_scale=0.1).double()
    steps = 5
    meta_loss, _, _, _ = truncation(net, objective, theta0, net.initial_state(theta0.numel(), theta0), [None] * steps)
    autograd = torch.autograd.grad(meta_loss, list(net.parameters()))
    grads = recorded_gradients(net, objective, theta0, steps)
    reference = fixed_gradient_meta_loss(net, objective, theta0, grads)
    torch.testing.assert_close(reference, meta_loss.detach(), rtol=1e-12, atol=0)
    for mine, expected in zip(autograd, torch.autograd.grad(reference, list(net.parameters()))):
        torch.testing.assert_close(mine, expected, rtol=1e-10, atol=1e-12)
    assert_matches_finite_differences(lambda: fixed_gradient_meta_loss(net, objective, theta0, grads), list(net.parameters()))


def test_benchmark_runs_every_optimiser_on_fresh_instances():
    """A tiny benchmark: every optimiser has a finite curve of eval_steps + 1 points per instance; lrs come from the grid."""
    from pipeline.l2l.benchmark import run_benchmark
    from pipeline.l2l.config import L2LConfig

    cfg = L2LConfig(problems=("quadratic",), steps=10, eval_steps=12, unroll=5, meta_epochs=3, seeds=(0, 1),
                    tune_seeds=(100,), lr_grid=(0.01, 1.0))
    result = run_benchmark("quadratic", cfg, None, progress=False)
    assert set(result["methods"]) == {"lstm", "sgd", "nesterov", "rmsprop", "adam"}
    assert all(lr in cfg.lr_grid for lr in result["tuned_lr"].values())
    for summary in result["methods"].values():
        assert len(summary["mean"]) == 13 and len(summary["final"]) == 2
        assert all(torch.isfinite(torch.tensor(summary["mean"])))
    assert result["methods"]["adam"]["final_mean"] < result["methods"]["adam"]["mean"][0]  # it optimised
    assert len(result["meta_history"]) == 3
