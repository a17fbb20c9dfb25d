"""Learned update rules that transform the gradient, not the loss (seed 003: Meta-SGD, Meta-Curvature).

Both map the SGD direction d of every parameter (the gradient, plus weight decay and
momentum as ``torch.optim.SGD`` forms it) to the step subtracted from theta:

* ``MetaSGDRates``: theta' = theta - alpha (.) d, one learning rate per parameter entry
  (Li et al. 2017). ``form="log"`` (the default) learns log alpha, so every rate stays
  positive and Adam moves it by relative amounts; ``form="direct"`` learns alpha itself,
  the paper's plain form. Every rate starts at the pair's base learning rate.
* ``MetaCurvature``: theta' = theta - lr * M(d) with a learned linear map M per tensor
  (Park & Oliva 2019), identity at the start: dense weights W (out x in) get
  M(d) = A d B (A: out x out, B: in x in, each I + R / size, see ``MetaCurvature``);
  convolution weights (out x in x kh x kw) get the paper's three factors, one per mode (out,
  in, the kh*kw filter positions); vectors (biases, BatchNorm scales) an element-wise scale.

Because M is linear in its factors and d does not depend on them, the one-step
meta-gradient has a closed form: with V = grad L_val(theta'), dL/dalpha = -V (.) d, and for
W' = W - lr A d B: dL/dA = -lr V (d B)^T, dL/dB = -lr (A d)^T V (``meta_gradients``).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

Params = dict[str, torch.Tensor]
RateForm = Literal["log", "direct"]


def _key(name: str) -> str:
    return name.replace(".", "__")  # ParameterDict keys cannot contain dots


class MetaSGDRates(nn.Module):
    """Per-parameter learning rates alpha, shaped like the model's parameters."""

    def __init__(self, shapes: dict[str, torch.Size], initial: float, form: RateForm = "log") -> None:
        super().__init__()
        if not initial > 0:
            raise ValueError(f"the initial learning rate must be positive, got {initial}")
        if form not in ("log", "direct"):
            raise ValueError(f"unknown rate form {form!r} (known: log, direct)")
        self.form = form
        value = math.log(initial) if form == "log" else initial
        self.rates = nn.ParameterDict()  # filled one by one: built from a dict, ParameterDict sorts its keys
        for name, shape in shapes.items():
            self.rates[_key(name)] = nn.Parameter(torch.full(tuple(shape), value))
        self.names = list(shapes)

    def alpha(self, name: str) -> torch.Tensor:
        raw = self.rates[_key(name)]
        return raw.exp() if self.form == "log" else raw

    def step(self, name: str, direction: torch.Tensor) -> torch.Tensor:
        return self.alpha(name) * direction

    def meta_gradients(self, directions: Params, v: Params) -> list[torch.Tensor]:
        """dL/d(raw rates) for L = L_val(theta - alpha (.) d), in ``parameters()`` order."""
        grads = []
        for name in self.names:
            grad = -v[name] * directions[name]
            grads.append(
                grad * self.alpha(name).detach() if self.form == "log" else grad
            )  # d alpha / d log alpha = alpha
        return grads


class MetaCurvature(nn.Module):
    """Per-tensor curvature factors, identity at the start; the base learning rate stays fixed.

    A matrix factor of size n is I + R / n with R learned from zero: Adam moves every entry
    of R by about its learning rate, a change of spectral norm up to n * lr in R itself, so
    without the 1/n a 1000 x 1000 factor of the 2 x 1000 MLP grows 1000 times faster than a
    3 x 3 filter factor (measured: digits_mlp collapsed to chance on 2 of 3 seeds). Vector
    factors are 1 + r.

    With ``rank`` r, a dense weight's factors larger than r are I + U W^T / n (U seeded
    N(0, 1/r), W from zero, so the rule still starts at the identity) and are applied as
    operators: O(r n^2) per step instead of the O(n^3) of full n x n factors, which cost 16x a
    plain step on the 2 x 1000 MLP (README). Convolution factors stay full (they are small).
    """

    def __init__(self, shapes: dict[str, torch.Size], lr: float, rank: int | None = None) -> None:
        super().__init__()
        self.lr, self.rank = lr, rank
        self.raw = nn.ParameterDict()  # filled one by one: built from a dict, ParameterDict sorts its keys
        self.keys: dict[str, list[str]] = {}  # parameter name -> its factors' keys, in mode order
        self.low_rank: set[str] = set()  # dense weights whose factors are I + U W^T / n
        gen = torch.Generator().manual_seed(0)  # U's draw; the rule is identity at the start whatever it is
        for name, shape in shapes.items():
            sizes = _mode_sizes(shape)
            self.keys[name] = [f"{_key(name)}__m{i}" for i in range(len(sizes))]
            if rank is not None and len(sizes) == 2 and max(sizes) > rank:
                self.low_rank.add(name)
                for key, size in zip(self.keys[name], sizes):
                    self.raw[key + "u"] = nn.Parameter(torch.randn(size, rank, generator=gen) / math.sqrt(rank))
                    self.raw[key + "w"] = nn.Parameter(torch.zeros(size, rank))
                continue
            for key, size in zip(self.keys[name], sizes):
                self.raw[key] = nn.Parameter(torch.zeros(size, size) if len(sizes) > 1 else torch.zeros(size))
        self.names = list(shapes)

    def _scales(self, name: str) -> list[float]:
        return [1.0 / self.raw[k].shape[0] if self.raw[k].dim() == 2 else 1.0 for k in self.keys[name]]

    def _factors(self, name: str) -> list[torch.Tensor]:
        factors = []
        for key, scale in zip(self.keys[name], self._scales(name)):
            raw = self.raw[key]
            identity = (
                torch.eye(raw.shape[0], dtype=raw.dtype, device=raw.device) if raw.dim() == 2 else torch.ones_like(raw)
            )
            factors.append(identity + scale * raw)
        return factors

    def _low_rank_factors(self, name: str) -> list[LowRankFactor]:
        return [LowRankFactor(self.raw[k + "u"], self.raw[k + "w"]) for k in self.keys[name]]

    def step(self, name: str, direction: torch.Tensor) -> torch.Tensor:
        if name in self.low_rank:
            a, b = self._low_rank_factors(name)
            return self.lr * a.left(b.right(direction))
        return self.lr * transform(self._factors(name), direction)

    def meta_gradients(self, directions: Params, v: Params) -> list[torch.Tensor]:
        """dL/d(factors) for L = L_val(theta - lr M(d)), in ``parameters()`` order."""
        grads: list[torch.Tensor] = []
        for name in self.names:
            if name in self.low_rank:  # dL/dA = -lr V (dB)^T, dL/dB = -lr (Ad)^T V, each P Q^T with thin P, Q
                a, b = (f.detached() for f in self._low_rank_factors(name))
                d, vv = directions[name], -self.lr * v[name]
                grads.extend(a.gradients(vv, b.right(d)) + b.gradients(a.left(d).T, vv.T))
                continue
            factors = [f.detach() for f in self._factors(name)]
            adjoints = transform_adjoints(factors, directions[name], v[name])
            grads.extend(
                -self.lr * scale * g for g, scale in zip(adjoints, self._scales(name))
            )  # d factor / d raw = scale
        return grads


class LowRankFactor:
    """F = I + U W^T / n as an operator (never formed): F x, x F and the gradients of <P Q^T, F>."""

    def __init__(self, u: torch.Tensor, w: torch.Tensor) -> None:
        self.u, self.w, self.scale = u, w, 1.0 / u.shape[0]

    def detached(self) -> LowRankFactor:
        return LowRankFactor(self.u.detach(), self.w.detach())

    def left(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.scale * (self.u @ (self.w.T @ x))

    def right(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.scale * ((x @ self.u) @ self.w.T)

    def gradients(self, p: torch.Tensor, q: torch.Tensor) -> list[torch.Tensor]:
        """(dL/dU, dL/dW) where dL/dF = P Q^T: s P (Q^T W) and s Q (P^T U), O(n k r)."""
        return [self.scale * (p @ (q.T @ self.w)), self.scale * (q @ (p.T @ self.u))]


def _mode_sizes(shape: torch.Size) -> list[int]:
    if len(shape) == 2:
        return [shape[0], shape[1]]
    if len(shape) == 4:
        return [shape[0], shape[1], shape[2] * shape[3]]
    return [math.prod(shape)]  # element-wise: biases, norm scales, anything else


def _mode_product(factor: torch.Tensor, t: torch.Tensor, mode: int) -> torch.Tensor:
    """``factor`` applied along ``mode`` of a 3-way tensor (one small matrix product, never an outer product)."""
    return torch.movedim(torch.tensordot(factor, t, dims=([1], [mode])), 0, mode)


def transform(factors: list[torch.Tensor], d: torch.Tensor) -> torch.Tensor:
    """M(d): A d B for a matrix, the three mode products for a conv kernel, m (.) d otherwise."""
    if len(factors) == 2:
        a, b = factors
        return a @ d @ b
    if len(factors) == 3:
        flat = d.reshape(d.shape[0], d.shape[1], -1)
        for mode, factor in enumerate(factors):
            flat = _mode_product(factor, flat, mode)
        return flat.reshape(d.shape)
    return factors[0].reshape(d.shape) * d


def transform_adjoints(factors: list[torch.Tensor], d: torch.Tensor, v: torch.Tensor) -> list[torch.Tensor]:
    """The gradients of <v, M(d)> in each factor (closed form; M is linear in each one)."""
    if len(factors) == 2:
        a, b = factors
        return [v @ (d @ b).T, (a @ d).T @ v]
    if len(factors) == 3:
        flat_d, flat_v = d.reshape(d.shape[0], d.shape[1], -1), v.reshape(v.shape[0], v.shape[1], -1)
        grads = []
        for mode in range(3):  # <v, F_m x_m> with x_m = d times the other two factors: grad F_m = V_(m) x_m,(m)^T
            x = flat_d
            for other in (m for m in range(3) if m != mode):
                x = _mode_product(factors[other], x, other)
            grads.append(
                torch.tensordot(torch.movedim(flat_v, mode, 0), torch.movedim(x, mode, 0), dims=([1, 2], [1, 2]))
            )
        return grads
    return [(v * d).reshape(-1)]
