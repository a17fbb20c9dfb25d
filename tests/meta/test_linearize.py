"""The split forward pass (primal graph + tangent-only graph) against eager PyTorch, in float64."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn
from torch.func import functional_call, jvp

from pipeline.meta.forward import batch_statistics_only, forward_meta_step
from pipeline.meta.linearize import aten, split_forward
from pipeline.meta.step import BaseState
from pipeline.models.registry import build_model
from tests.meta.helpers import copy_state, double_rule
from tests.meta.test_forward import NESTEROV, TinyBNNet, captured_meta_gradient

# (model, input shape): no buffers, convolutions, BatchNorm + residual adds, dropout
ZOO = [("logistic", (1, 8, 8)), ("mlp", (1, 8, 8)), ("lenet5", (1, 28, 28)), ("resnet18", (3, 32, 32)), ("allcnnc", (3, 32, 32))]


def float64_setup(name: str, shape: tuple[int, ...], batch: int = 4):
    model = build_model(name, shape, 10, seed=0).double().train()
    gen = torch.Generator().manual_seed(1)
    params = {k: p.detach().clone().requires_grad_() for k, p in model.named_parameters()}
    buffers = {k: b.detach().clone() for k, b in model.named_buffers()}
    # BatchNorm statistics away from their initial values, so a missed update would show
    for k, b in buffers.items():
        if b.is_floating_point():
            b.add_(torch.rand(b.shape, generator=gen, dtype=b.dtype))
    x = torch.randn(batch, *shape, generator=gen, dtype=torch.float64)
    v = {k: torch.randn(p.shape, generator=gen, dtype=p.dtype) for k, p in params.items()}
    return model, params, buffers, x, v


def reference_jvp(model: nn.Module, params, buffers, x, v) -> torch.Tensor:
    frozen = {k: b.clone() for k, b in buffers.items()}
    with batch_statistics_only(model), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*torch.jit.script.* is deprecated", category=FutureWarning)
        _, u = jvp(lambda p: functional_call(model, (p, frozen), (x,)), ({k: p.detach() for k, p in params.items()},), (v,))
    return u


@pytest.mark.parametrize(("name", "shape"), ZOO, ids=[z[0] for z in ZOO])
def test_split_forward_reproduces_the_eager_forward_its_gradient_and_the_jvp(name, shape):
    model, params, buffers, x, v = float64_setup(name, shape)
    expected_u = reference_jvp(model, params, buffers, x, v)
    rng = torch.get_rng_state()
    split = split_forward(model, params, buffers, x)
    assert split is not None
    assert torch.equal(torch.get_rng_state(), rng)  # tracing draws no random numbers
    eager_buffers, split_buffers = {k: b.clone() for k, b in buffers.items()}, {k: b.clone() for k, b in buffers.items()}
    torch.manual_seed(7)  # same dropout masks for both passes
    eager = functional_call(model, (params, eager_buffers), (x,))
    torch.manual_seed(7)
    outputs, saved = split.forward(params, split_buffers, x)
    torch.testing.assert_close(outputs, eager, rtol=0, atol=0)
    for k in buffers:  # running statistics updated exactly once, as the eager forward does
        torch.testing.assert_close(split_buffers[k], eager_buffers[k], rtol=0, atol=0)
        if buffers[k].is_floating_point():
            assert not torch.equal(split_buffers[k], buffers[k])
    weights = torch.linspace(-1, 1, eager.numel(), dtype=eager.dtype).reshape(eager.shape)
    for g_split, g_eager in zip(torch.autograd.grad((outputs * weights).sum(), list(params.values())),
                                torch.autograd.grad((eager * weights).sum(), list(params.values()))):
        torch.testing.assert_close(g_split, g_eager, rtol=0, atol=1e-12)
    if name != "allcnnc":  # torch.func.jvp draws its own dropout masks; the meta-step test below covers dropout
        torch.testing.assert_close(split.jvp(saved, v), expected_u, rtol=1e-10, atol=1e-12)


def test_the_input_batch_costs_no_tangent_work():
    """The input has no tangent: the primal graph holds one convolution per layer, no zeros."""
    model, params, buffers, x, _ = float64_setup("lenet5", (1, 28, 28))
    split = split_forward(model, params, buffers, x)
    targets = [n.target for n in split.primal.graph.nodes if n.op == "call_function"]
    n_convs = sum(isinstance(m, nn.Conv2d) for m in model.modules())
    assert targets.count(aten.convolution.default) == n_convs
    assert aten.zeros.default not in targets
    tangent_convs = [n for n in split.tangent.graph.nodes if n.target == aten.convolution.default]
    assert len(tangent_convs) == 2 * n_convs - 1  # conv(x_t, W) + conv(x, W_t), except the first layer


def test_one_trace_per_input_signature():
    model, params, buffers, x, _ = float64_setup("mlp", (1, 8, 8))
    first = split_forward(model, params, buffers, x)
    assert split_forward(model, params, buffers, x.clone()) is first
    assert split_forward(model, params, buffers, x[:3]) is not first  # another batch size is another graph


@pytest.mark.parametrize("name", ["allcnnc", "resnet18"], ids=["dropout", "batchnorm-residual"])
def test_meta_gradient_traced_equals_recomputed_on_zoo_models(name):
    """The tangent graph reuses the base forward's dropout masks and BatchNorm statistics; torch.func.jvp recomputes them."""
    shape = (3, 32, 32)
    model, _, _, x, _ = float64_setup(name, shape)
    state = BaseState.from_module(model)
    y, meta = torch.tensor([1, 2, 3, 4]), (x.flip(0), torch.tensor([0, 1, 2, 3]))
    grads = {}
    for traced in (True, False):
        torch.manual_seed(11)
        step = lambda *a, traced=traced: forward_meta_step(*a, traced=traced)  # noqa: E731
        grads[traced], _ = captured_meta_gradient(step, model, copy_state(state), double_rule("adalfl", "classification"), (x, y), meta, NESTEROV, "classification")
    for a, b in zip(grads[True], grads[False]):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-14)
    assert any(float(g.abs().max()) > 1e-8 for g in grads[True])


def test_untraceable_model_falls_back_to_torch_func_jvp_with_a_warning():
    """BatchNorm with momentum=None divides by a counter read in Python: no static graph."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8, momentum=None), nn.ReLU(), nn.Linear(8, 3)).double().train()
    state = BaseState.from_module(model)
    gen = torch.Generator().manual_seed(2)
    batch = (torch.randn(6, 3, generator=gen, dtype=torch.float64), torch.randint(0, 3, (6,), generator=gen))
    meta = (torch.randn(6, 3, generator=gen, dtype=torch.float64), torch.randint(0, 3, (6,), generator=gen))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        traced, _ = captured_meta_gradient(forward_meta_step, model, copy_state(state), double_rule("adalfl", "classification"), batch, meta, NESTEROV, "classification")
    assert any("cannot be traced" in str(w.message) for w in caught)
    plain, _ = captured_meta_gradient(lambda *a: forward_meta_step(*a, traced=False), model, copy_state(state), double_rule("adalfl", "classification"), batch, meta, NESTEROV, "classification")
    for a, b in zip(traced, plain):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_tiny_batchnorm_net_traces():
    """test_forward's float64 comparisons with BatchNorm run the traced path, not the fallback."""
    model = TinyBNNet().double().train()
    params = {k: p.detach() for k, p in model.named_parameters()}
    buffers = {k: b.detach().clone() for k, b in model.named_buffers()}
    assert split_forward(model, params, buffers, torch.randn(5, 3, dtype=torch.float64)) is not None


@pytest.mark.parametrize(("name", "shape"), [("resnet18", (3, 32, 32)), ("allcnnc", (3, 32, 32)), ("lenet5", (1, 28, 28))])
def test_tangent_keeps_no_more_alive_than_the_eager_autograd_graph(name, shape):
    """What the primal graph saves for the tangent is no larger than what eager autograd saves for backward.

    Without merging BatchNorm's duplicated centred inputs and recomputing x_hat in the
    tangent graph, ResNet-18 would keep about 1.6x as much alive between the two passes.
    """
    model, params, buffers, x, _ = float64_setup(name, shape)
    split = split_forward(model, params, buffers, x)
    _, saved = split.forward(params, {k: b.clone() for k, b in buffers.items()}, x)
    eager: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        eager[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        functional_call(model, (params, {k: b.clone() for k, b in buffers.items()}), (x,))
    kept = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in saved}
    assert 0 < sum(kept.values()) <= sum(eager.values())


def test_a_value_written_after_the_tangent_reads_it_is_refused():
    """The tangent graph runs after the whole primal graph; a later in-place write would change what it reads."""
    import torch.autograd.forward_ad as fwAD
    from torch.fx.experimental.proxy_tensor import make_fx

    from pipeline.meta.linearize import _cut

    def joint(p: torch.Tensor, w: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with fwAD.dual_level():
            h = fwAD.make_dual(p, t) * 3
            y = h * w  # the tangent h_t * w reads w
            w.mul_(2)  # ... which is then overwritten
            primal, tangent = fwAD.unpack_dual(y)
        return primal, tangent

    traced = make_fx(joint, tracing_mode="fake")(torch.ones(3), torch.ones(3), torch.ones(3))
    tangent_input = [n for n in traced.graph.nodes if n.op == "placeholder"][-1]
    with pytest.raises(ValueError, match="in place after the tangent reads it"):
        _cut(traced, [tangent_input])
