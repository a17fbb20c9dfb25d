"""What each few-shot method meta-learns, and its inner loop (functional, ``torch.func``).

Every method meta-learns theta_g, the model's initial weights; the update rule of the
inner loop is the axis (the rules of ``pipeline.learned``, reused):

* ``maml`` and ``pretrain``: theta' = theta - alpha g, alpha fixed;
* ``meta_sgd``: theta' = theta - alpha (.) g, alpha per parameter (the paper's plain alpha);
* ``meta_curvature``: theta' = theta - alpha M(g), the three-factor curvature (identity at the start);
* ``meta_lstm``: theta' = f (.) theta - i (.) g, the gated update (SGD with alpha at the start).

The meta-objective is the query loss after the inner steps; its gradient runs through them
(second order: the Hessian-vector products come from autograd through ``torch.func.grad``),
or, with ``first_order``, treats each inner gradient as a constant (FOMAML).
``tests/fewshot/test_meta_gradients.py`` checks every method against finite differences.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call, grad_and_value, vmap

from pipeline.fewshot.tasks import TaskBatch
from pipeline.learned.config import RepresentationConfig
from pipeline.learned.handcrafted import HandcraftedLoss
from pipeline.learned.rules import RULE_BUILDERS, RuleSetup, RuleState, UpdateRule
from pipeline.methods import FEWSHOT_METHODS
from pipeline.optim import Params

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
# The inner loop's rules, built by the pair rules' registry: Meta-SGD in the paper's form (alpha itself),
# Meta-Curvature's full factors, the Meta-LSTM at SGD with the inner learning rate.
INNER_REPRESENTATION = RepresentationConfig(rate_form="direct")


def inner_rule(method: str, shapes: dict[str, torch.Size], inner_lr: float) -> UpdateRule:
    """The few-shot method's inner-loop rule (its base loss goes unused: ``adapt`` takes the family's loss)."""
    if method not in FEWSHOT_METHODS:
        raise ValueError(f"unknown few-shot method {method!r}")
    setup = RuleSetup(HandcraftedLoss("regression"), inner_lr, 0, INNER_REPRESENTATION, shapes, learns_lr=False)
    return RULE_BUILDERS[FEWSHOT_METHODS[method].update](setup)


class FewShotLearner(nn.Module):
    """theta_g (``model``'s parameters) and the method's inner-loop rule (``rule``'s parameters)."""

    def __init__(self, model: nn.Module, method: str, inner_lr: float, first_order: bool = False) -> None:
        super().__init__()
        self.model, self.method, self.inner_lr, self.first_order = model, method, inner_lr, first_order
        shapes = {k: p.shape for k, p in model.named_parameters()}
        self.update_rule = inner_rule(method, shapes, inner_lr)
        meta = self.update_rule.meta_module()
        self.rule: nn.Module | None = meta if self.update_rule.is_learned else None  # its parameters: "rule.*"

    def initial_state(self, params: Params) -> RuleState:
        return self.update_rule.initial_state(params)

    def inner_step(
        self, params: Params, grads: Params, loss: torch.Tensor, state: RuleState
    ) -> tuple[Params, RuleState]:
        return self.update_rule.update(params, grads, loss, state)

    def adapt(self, params: Params, x: torch.Tensor, y: torch.Tensor, steps: int, loss_fn: Loss) -> list[Params]:
        """The parameters after 0, 1, ..., ``steps`` inner steps on (x, y)."""

        def support_loss(p: Params) -> torch.Tensor:
            return loss_fn(functional_call(self.model, p, (x,)), y)

        trajectory, state = [params], self.initial_state(params)
        for _ in range(steps):
            grads, loss = grad_and_value(support_loss)(params)
            if self.first_order:
                grads, loss = {k: g.detach() for k, g in grads.items()}, loss.detach()
            params, state = self.inner_step(params, grads, loss, state)
            trajectory.append(params)
        return trajectory

    def query_curves(
        self, tasks: TaskBatch, steps: int, loss_fn: Loss, metric: Loss, meta_graph: bool = True
    ) -> torch.Tensor:
        """(T, steps + 1): the query metric of every task after 0..steps inner steps.

        ``meta_graph=False`` (meta-test) adapts from detached parameters: the same values, without
        recording the graph back to theta that only meta-training differentiates."""
        start = {k: p if meta_graph else p.detach() for k, p in self.model.named_parameters()}

        def one_task(xs: torch.Tensor, ys: torch.Tensor, xq: torch.Tensor, yq: torch.Tensor) -> torch.Tensor:
            trajectory = self.adapt(start, xs, ys, steps, loss_fn)
            return torch.stack([metric(functional_call(self.model, p, (xq,)), yq) for p in trajectory])

        return vmap(one_task)(tasks.support_x, tasks.support_y, tasks.query_x, tasks.query_y)

    def meta_loss(self, tasks: TaskBatch, steps: int, loss_fn: Loss) -> torch.Tensor:
        """The mean query loss after ``steps`` inner steps.

        pretrain: theta_g's own loss on support and query, no step."""
        if not FEWSHOT_METHODS[self.method].adapts:

            def both(x1: torch.Tensor, y1: torch.Tensor, x2: torch.Tensor, y2: torch.Tensor) -> torch.Tensor:
                inputs = (torch.cat([x1, x2]),)
                return loss_fn(
                    functional_call(self.model, dict(self.model.named_parameters()), inputs), torch.cat([y1, y2])
                )

            return vmap(both)(tasks.support_x, tasks.support_y, tasks.query_x, tasks.query_y).mean()
        return self.query_curves(tasks, steps, loss_fn, loss_fn)[:, -1].mean()
