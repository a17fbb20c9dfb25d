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
        if form not in ("plain", "residual"):
            raise ValueError(f"unknown loss form {form!r}")
        self.variant, self.form = variant, form
        make_act = (lambda: SmoothLeakyReLU(beta, gamma)) if variant == "smooth" else nn.ReLU
        self.net = nn.Sequential(
            nn.Linear(2, hidden, bias=bias),
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
        self.output_activation: nn.Module = nn.Softplus() if variant == "relu" else nn.Identity()

    def forward(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        learned = super().forward(y_pred, y_true)
        return task_loss(self.task, y_pred, y_true) + learned if self.form == "residual" else learned

    def pointwise(self, y: torch.Tensor, y_hat: torch.Tensor) -> torch.Tensor:
        pairs = torch.stack([y, y_hat], dim=-1)
        return self.output_activation(self.net(pairs)).squeeze(-1)
