"""Taylor-polynomial learned losses (the paper's Taylor baselines, after TaylorGLO).

l(y, y_hat) = sum_k w_k a^i_k b^j_k with a = y - c_y, b = y_hat - c_yhat and a learnable
centre (c_y, c_yhat). Only monomials whose derivative w.r.t. y_hat is non-zero (j >= 1)
are kept: the others cannot influence training. Degree 2 keeps b, ab, b^2; degree 3
adds a^2 b, a b^2, b^3. With c = 0 and weights (b: 0, ab: -2, b^2: 1) the loss is
(y_hat - y)^2 - y^2: squared error up to a term that does not depend on y_hat.

Initialisation: those squared-error coefficients times ``scale`` (kappa, see
``rules.taylor_scale``: for classification it matches cross-entropy's gradient scale on a fresh
model) plus N(0, (0.1 kappa)^2) noise (seeded by the caller). A fully random polynomial usually
pushes predictions the wrong way, which the short offline phase of the default profile cannot
repair; starting near a known-good loss is the usual choice for Taylor-parametrised losses
(TaylorGLO starts its search the same way)."""

from __future__ import annotations

import torch
from torch import nn

from pipeline.learned.outputwise import OutputwiseLoss


def taylor_exponents(degree: int) -> list[tuple[int, int]]:
    """(i, j) exponents of a^i b^j with j >= 1 and i + j <= degree, ordered by total degree."""
    return [(total - j, j) for total in range(1, degree + 1) for j in range(total, 0, -1)]


class TaylorLoss(OutputwiseLoss):
    def __init__(self, task: str, degree: int, scale: float = 1.0) -> None:
        super().__init__(task)
        if degree not in (2, 3):
            raise ValueError(f"Taylor losses of degree 2 or 3 are supported, got {degree}")
        self.degree = degree
        self.exponents = taylor_exponents(degree)
        self.centre = nn.Parameter(torch.zeros(2))  # (c_y, c_yhat)
        self.weights = nn.Parameter(torch.zeros(len(self.exponents)))
        self.set_squared_error(scale)
        with torch.no_grad():
            self.weights.add_(0.1 * scale * torch.randn(len(self.exponents)))

    def pointwise(self, y: torch.Tensor, y_hat: torch.Tensor) -> torch.Tensor:
        a, b = y - self.centre[0], y_hat - self.centre[1]
        terms = [a**i * b**j for i, j in self.exponents]
        return sum(w * t for w, t in zip(self.weights, terms))  # type: ignore[return-value]

    def set_squared_error(self, scale: float = 1.0) -> None:
        """Coefficients whose y_hat-gradient is exactly ``scale`` times that of squared error."""
        with torch.no_grad():
            self.centre.zero_()
            self.weights.zero_()
            self.weights[self.exponents.index((1, 1))] = -2.0 * scale
            self.weights[self.exponents.index((0, 2))] = 1.0 * scale
