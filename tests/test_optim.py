"""The functional optimisers against torch.optim (SGD, Adam, RMSprop) over many steps."""

from __future__ import annotations

import pytest
import torch

from pipeline.models.small import MLP
from pipeline.optim import AdaptiveConfig, SGDConfig, adam_step, detached, hand_designed_step, rmsprop_step, sgd_step

CONFIGS = [
    SGDConfig(),
    SGDConfig(weight_decay=5e-4),
    SGDConfig(momentum=0.9),
    SGDConfig(momentum=0.9, dampening=0.1),
    SGDConfig(momentum=0.9, nesterov=True, weight_decay=5e-4),
]


def run_side_by_side(optimizer, reference, step, state, steps, dtype=torch.float32):
    """``steps`` steps of torch.optim on ``reference`` and of the functional ``step`` on a copy of its weights."""
    params = {k: v.detach().clone() for k, v in reference.named_parameters()}
    functional_model = MLP((5,), 3, hidden=16).to(dtype)
    for _ in range(steps):
        x, y = torch.randn(8, 5, dtype=dtype), torch.randint(0, 3, (8,))
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(reference(x), y).backward()
        optimizer.step()
        leaves = {k: v.requires_grad_() for k, v in params.items()}
        loss = torch.nn.functional.cross_entropy(torch.func.functional_call(functional_model, leaves, (x,)), y)
        grads = dict(zip(leaves, torch.autograd.grad(loss, list(leaves.values()))))
        params, state = step(detached(leaves), grads, state)
        params, state = detached(params), detached(state)
    return params, state


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: f"mom{c.momentum}-damp{c.dampening}-nest{c.nesterov}-wd{c.weight_decay}")
def test_functional_sgd_equals_torch_optim_sgd_over_20_steps(cfg):
    torch.manual_seed(0)
    reference = MLP((5,), 3, hidden=16)
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.05, momentum=cfg.momentum, dampening=cfg.dampening,
                                nesterov=cfg.nesterov, weight_decay=cfg.weight_decay)
    params, buffers = run_side_by_side(optimizer, reference, lambda p, g, b: sgd_step(p, g, b, 0.05, cfg), {}, 20)
    for name, param in reference.named_parameters():
        torch.testing.assert_close(params[name], param.detach(), rtol=0, atol=1e-6)
        if cfg.momentum:
            torch.testing.assert_close(buffers[name], optimizer.state[param]["momentum_buffer"], rtol=0, atol=1e-6)


def test_tensor_learning_rate_is_differentiable():
    lr = torch.tensor(0.1, requires_grad=True)
    params, grads = {"w": torch.ones(3)}, {"w": torch.full((3,), 2.0)}
    new, _ = sgd_step(params, grads, {}, lr, SGDConfig())
    (d_lr,) = torch.autograd.grad(new["w"].sum(), lr)
    assert d_lr.item() == pytest.approx(-6.0)


@pytest.mark.parametrize("weight_decay", [0.0, 1e-3])
@pytest.mark.parametrize("kind", ["adam", "rmsprop"])
def test_functional_adaptive_optimisers_equal_torch_optim_over_30_steps(kind, weight_decay):
    """adam_step / rmsprop_step against torch.optim.Adam / RMSprop (defaults), float64, 30 steps."""
    torch.manual_seed(0)
    reference = MLP((5,), 3, hidden=16).double()
    initial = {k: v.detach().clone() for k, v in reference.named_parameters()}
    cfg = AdaptiveConfig(weight_decay=weight_decay)
    optimizer = (torch.optim.Adam(reference.parameters(), lr=0.01, weight_decay=weight_decay) if kind == "adam"
                 else torch.optim.RMSprop(reference.parameters(), lr=0.01, weight_decay=weight_decay))
    step_fn = adam_step if kind == "adam" else rmsprop_step
    params, _ = run_side_by_side(optimizer, reference, lambda p, g, s: step_fn(p, g, s, 0.01, cfg), {}, 30, torch.float64)
    moved = max(float((params[k] - v).abs().max()) for k, v in initial.items())
    assert moved > 1e-3  # the parameters travelled: equality is not the initial weights'
    for name, param in reference.named_parameters():
        torch.testing.assert_close(params[name], param.detach(), rtol=1e-12, atol=1e-13)


def test_hand_designed_step_names_each_optimiser():
    """sgd and nesterov are the functional SGD (nesterov adds momentum 0.9 where the pair has none); unknown fails."""
    params, grads = {"w": torch.ones(3)}, {"w": torch.full((3,), 2.0)}
    assert torch.equal(hand_designed_step("sgd", params, grads, {}, 0.1)[0]["w"], sgd_step(params, grads, {}, 0.1, SGDConfig())[0]["w"])
    nesterov = sgd_step(params, grads, {}, 0.1, SGDConfig(momentum=0.9, nesterov=True))
    mine = hand_designed_step("nesterov", params, grads, {}, 0.1)
    assert torch.equal(mine[0]["w"], nesterov[0]["w"]) and torch.equal(mine[1]["w"], nesterov[1]["w"])
    assert torch.equal(hand_designed_step("adam", params, grads, {}, 0.1)[0]["w"], adam_step(params, grads, {}, 0.1)[0]["w"])
    with pytest.raises(ValueError, match="unknown optimiser 'adagrad'"):
        hand_designed_step("adagrad", params, grads, {}, 0.1)
