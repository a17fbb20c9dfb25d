"""The neural loss l_phi: R^2 -> R of AdaLFL (and of ML3, for the Table 5 ablation)."""

from __future__ import annotations

from typing import cast

import torch
from torch import nn
from torch.nn import functional as F

from pipeline.learned.handcrafted import task_loss
from pipeline.learned.outputwise import OutputwiseLoss


class SmoothLeakyReLU(nn.Module):
    """phi(x) = softplus_beta(x) * (1 - gamma) + gamma * x (paper eq. 4).

    Smooth (so the loss is C^1) and unbounded in both directions (so it does not
    encourage flat regions). Its derivative is (e^{beta x} + gamma) / (e^{beta x} + 1), eq. 25.
    """

    def __init__(self, beta: float = 10.0, gamma: float = 0.01) -> None:
        super().__init__()
        self.beta, self.gamma = beta, gamma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Above beta*x = 40 softplus is the identity to within e^-40, and e^{beta x} would
        # only risk overflow; torch's default switch-over at 20 is a visible 2e-9 kink.
        return F.softplus(x, beta=self.beta, threshold=40.0) * (1 - self.gamma) + self.gamma * x


class LossNetwork(OutputwiseLoss):
    """l_phi with 2 hidden layers of 40 units.

    ``variant="smooth"`` (AdaLFL): smooth leaky ReLU hidden activations, identity output.
    ``variant="relu"`` (ML3, Bechtle et al. 2021): ReLU hidden, Softplus output (loss >= 0).
    ``form="residual"``: the handcrafted loss plus the network, whose last layer starts at zero, so
    learning starts from cross-entropy / squared error and moves away only as the meta-gradient
    asks (as the AdaLFL authors' later ``LearnedLossNetwork`` returns the task loss plus its output).
    ``form="plain"``: the network alone (the paper's form).
    ``form="anchored"``: the handcrafted loss plus M(y, relu(r)^2, relu(-r)^2) - M(y, 0, 0), r = y_hat - y,
    where M is monotone in its last two inputs (non-negative weights on every path from them, increasing
    activations). The added term is >= 0 and 0 exactly at y_hat = y, so for any phi the loss is lowest
    at the target: it cannot learn to shrink or shift its predictions (docs/reproduction.md "Collapse,
    by rule"), but it can shape how fast the loss grows on each side. Its last layer starts at
    |w| <= 1e-3, so learning starts next to the handcrafted loss; the weights are |raw|, which Adam
    grows by about meta_lr per step from any start.
    """

    def __init__(
        self,
        task: str,
        variant: str = "smooth",
        hidden: int = 40,
        beta: float = 10.0,
        gamma: float = 0.01,
        bias: bool = True,
        init: str = "torch",
        form: str = "plain",
    ) -> None:
        super().__init__(task)
        if variant not in ("smooth", "relu"):
            raise ValueError(f"unknown loss-network variant {variant!r}")
        if init not in ("torch", "kaiming_normal"):
            raise ValueError(f"unknown loss-network initialisation {init!r}")
        if form not in ("plain", "residual", "anchored"):
            raise ValueError(f"unknown loss form {form!r}")
        self.variant, self.form = variant, form
        make_act = (lambda: SmoothLeakyReLU(beta, gamma)) if variant == "smooth" else nn.ReLU
        self.net = nn.Sequential(
            nn.Linear(3 if form == "anchored" else 2, hidden, bias=bias),
            make_act(),
            nn.Linear(hidden, hidden, bias=bias),
            make_act(),
            nn.Linear(hidden, 1, bias=bias),
        )
        if init == "kaiming_normal":  # the paper's Appendix B form (phi^T h, no biases) as its authors' code builds it
            for layer in self.net:
                if isinstance(layer, nn.Linear):
                    nn.init.kaiming_normal_(layer.weight)
        if form == "residual":  # NN_phi = 0 at the start: the loss is the handcrafted one
            last = cast(nn.Linear, self.net[-1])
            nn.init.zeros_(last.weight)
            if last.bias is not None:
                nn.init.zeros_(last.bias)
        if form == "anchored":  # |w| <= 1e-3, not 0: |.| has no gradient at 0
            nn.init.uniform_(cast(nn.Linear, self.net[-1]).weight, -1e-3, 1e-3)
        self.output_activation: nn.Module = nn.Softplus() if variant == "relu" else nn.Identity()

    def forward(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        learned = super().forward(y_pred, y_true)
        return learned if self.form == "plain" else task_loss(self.task, y_pred, y_true) + learned

    def pointwise(self, y: torch.Tensor, y_hat: torch.Tensor) -> torch.Tensor:
        if self.form == "anchored":
            over, under = F.relu(y_hat - y).square(), F.relu(y - y_hat).square()  # C^1 at the target
            zero = torch.zeros_like(y)
            at, target = torch.stack([y, over, under], dim=-1), torch.stack([y, zero, zero], dim=-1)
            return (self._monotone(at) - self._monotone(target)).squeeze(-1)
        pairs = torch.stack([y, y_hat], dim=-1)
        return self.output_activation(self.net(pairs)).squeeze(-1)

    def _monotone(self, inputs: torch.Tensor) -> torch.Tensor:
        """M(y, over, under): non-decreasing in ``over`` and ``under`` (weights |raw| on their paths)."""
        first, second, last = (cast(nn.Linear, self.net[i]) for i in (0, 2, 4))
        weight = torch.cat([first.weight[:, :1], first.weight[:, 1:].abs()], dim=1)  # y's column is free
        hidden = self.net[1](F.linear(inputs, weight, first.bias))
        hidden = self.net[3](F.linear(hidden, second.weight.abs(), second.bias))
        return self.output_activation(F.linear(hidden, last.weight.abs(), last.bias))
