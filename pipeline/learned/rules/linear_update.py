"""Meta-SGD and Meta-Curvature (seed 003): a learned linear map from SGD's direction d to the step."""

from __future__ import annotations

import torch
from torch import nn

from pipeline.learned.rules.base import ForwardMetaContext, RuleSetup, UpdateRule
from pipeline.learned.update import MetaCurvature, MetaSGDRates
from pipeline.optim import Params

LinearUpdate = MetaSGDRates | MetaCurvature


class LinearUpdateRule(UpdateRule):
    """theta' = theta - M(d), M linear in its learned factors (per-parameter rates or curvature factors)."""

    def __init__(self, loss: nn.Module, base_lr: float, update_map: LinearUpdate) -> None:
        super().__init__(loss, base_lr)
        self.update_map = update_map

    def meta_module(self) -> nn.Module:
        return self.update_map

    def apply(self, params: Params, directions: Params, lr: float | torch.Tensor) -> Params:
        """theta - M(d); the map carries its own scale (it starts at the base learning rate)."""
        return {k: p - self.update_map.step(k, directions[k]) for k, p in params.items()}

    def forward_meta_gradients(self, context: ForwardMetaContext) -> list[torch.Tensor | None]:
        """Closed form: d does not depend on the factors and M is linear in them (``pipeline.learned.update``)."""
        return list(self.update_map.meta_gradients(context.directions, context.v))


def build_meta_sgd(setup: RuleSetup) -> UpdateRule:
    rates = MetaSGDRates(setup.shapes("meta_sgd"), setup.base_lr, setup.representation.rate_form)
    return LinearUpdateRule(setup.loss, setup.base_lr, rates)


def build_meta_curvature(setup: RuleSetup) -> UpdateRule:
    curvature = MetaCurvature(setup.shapes("meta_curvature"), setup.base_lr, setup.representation.curvature_rank)
    return LinearUpdateRule(setup.loss, setup.base_lr, curvature)
