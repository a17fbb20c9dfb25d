"""Every few-shot method's meta-gradient (theta_g and the rule) against central finite differences in float64,
MAML's against a hand-built reference, and the first-order switch (issue 15)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from pipeline.fewshot.learners import FewShotLearner
from pipeline.fewshot.models import Conv4, sinusoid_mlp
from pipeline.fewshot.tasks import image_tasks, sinusoid_tasks
from pipeline.methods import FEWSHOT_METHODS
from tests.meta.helpers import assert_matches_finite_differences

pytestmark = pytest.mark.gradcheck
MSE = lambda out, y: ((out - y) ** 2).mean()  # noqa: E731
METHODS = list(FEWSHOT_METHODS)  # every few-shot method of the registry


def sinusoid_learner(method: str, first_order: bool = False) -> FewShotLearner:
    torch.manual_seed(0)
    learner = FewShotLearner(sinusoid_mlp(hidden=5), method, inner_lr=0.05, first_order=first_order).double()
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():  # rules moved off their initial values, so no meta-parameter hides behind a zero
        for p in (learner.rule.parameters() if learner.rule is not None else []):
            p.add_(0.05 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return learner


def double_tasks(n: int = 3, shots: int = 4):
    tasks = sinusoid_tasks(n, shots, 6, torch.Generator().manual_seed(2))
    return type(tasks)(*(t.double() for t in (tasks.support_x, tasks.support_y, tasks.query_x, tasks.query_y)))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("steps", [1, 2])
def test_meta_gradient_matches_finite_differences(method, steps):
    learner, tasks = sinusoid_learner(method), double_tasks()
    assert_matches_finite_differences(lambda: learner.meta_loss(tasks, steps, MSE), list(learner.parameters()), eps=1e-6, rtol=1e-5)


def test_maml_meta_gradient_equals_hand_built_second_order_reference():
    """Task by task with plain autograd: L_q(theta - alpha grad L_s(theta)), create_graph=True, no torch.func."""
    learner, tasks = sinusoid_learner("maml"), double_tasks()
    params = list(learner.model.parameters())
    names = [n for n, _ in learner.model.named_parameters()]
    total = 0.0
    for i in range(len(tasks)):
        support = MSE(learner.model(tasks.support_x[i]), tasks.support_y[i])
        grads = torch.autograd.grad(support, params, create_graph=True)
        adapted = {n: p - 0.05 * g for n, p, g in zip(names, params, grads)}
        total = total + MSE(functional_call(learner.model, adapted, (tasks.query_x[i],)), tasks.query_y[i])
    reference = torch.autograd.grad(total / len(tasks), params)
    mine = torch.autograd.grad(learner.meta_loss(tasks, 1, MSE), params)
    for a, b in zip(mine, reference):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


def test_first_order_drops_the_hessian_vector_product():
    """FOMAML: the meta-gradient is grad L_q at theta' (the inner gradient a constant), not MAML's."""
    fo, so, tasks = sinusoid_learner("maml", first_order=True), sinusoid_learner("maml"), double_tasks()
    params = list(fo.model.parameters())
    names = [n for n, _ in fo.model.named_parameters()]
    reference = [torch.zeros_like(p) for p in params]
    for i in range(len(tasks)):
        grads = torch.autograd.grad(MSE(fo.model(tasks.support_x[i]), tasks.support_y[i]), params)
        adapted = {n: (p - 0.05 * g).detach().requires_grad_() for n, p, g in zip(names, params, grads)}
        query = MSE(functional_call(fo.model, adapted, (tasks.query_x[i],)), tasks.query_y[i])
        for r, g in zip(reference, torch.autograd.grad(query, list(adapted.values()))):
            r += g / len(tasks)
    first = torch.autograd.grad(fo.meta_loss(tasks, 1, MSE), params)
    second = torch.autograd.grad(so.meta_loss(tasks, 1, MSE), list(so.model.parameters()))
    for a, b in zip(first, reference):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
    assert any(not torch.allclose(a, b) for a, b in zip(first, second))


def test_conv_learner_meta_gradient_with_batch_statistics():
    """The conv net (BatchNorm on batch statistics inside the inner loop) with Meta-Curvature's conv factors."""
    torch.manual_seed(0)
    learner = FewShotLearner(Conv4(1, 4, ways=2, filters=3), "meta_curvature", inner_lr=0.1).double()
    with torch.no_grad():
        for p in learner.rule.parameters():
            p.add_(0.1 * torch.randn(p.shape, dtype=p.dtype))
    pool = [torch.randn(5, 1, 4, 4, dtype=torch.float64) + i for i in range(3)]
    tasks = image_tasks(pool, 2, 2, 1, 2, torch.Generator().manual_seed(0))
    assert_matches_finite_differences(lambda: learner.meta_loss(tasks, 1, F.cross_entropy), list(learner.parameters()),
                                      n_directions=2, eps=1e-6, rtol=1e-5)


def test_batch_statistics_norm_equals_torch_batchnorm_without_running_statistics():
    from pipeline.fewshot.models import BatchStatNorm2d

    x = torch.randn(6, 3, 4, 4, dtype=torch.float64)
    mine, theirs = BatchStatNorm2d(3).double(), torch.nn.BatchNorm2d(3, track_running_stats=False).double()
    with torch.no_grad():
        for a, b in ((mine.weight, theirs.weight), (mine.bias, theirs.bias)):
            a.normal_()
            b.copy_(a)
    torch.testing.assert_close(mine(x), theirs(x), rtol=1e-12, atol=1e-12)
