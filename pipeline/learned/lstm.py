"""The learned LSTM optimiser of "Learning to learn by gradient descent by gradient descent" (seed 002).

m_phi maps each coordinate's gradient to that coordinate's update, theta <- theta + m_phi(g),
with one small LSTM shared by every coordinate (coordinatewise: its weights do not grow with
the model). Two LSTM layers of 20 units, a linear head, and a constant output scale.

Gradient preprocessing (the paper's Appendix A): g becomes (log|g| / p, sign g) where
|g| >= e^-p, else (-1, e^p g), so gradients of very different magnitudes reach the LSTM on
one scale. The paper writes p = 10; the authors' code (learning_to_learn ``util.py``)
uses k = 5 and an output scale of 0.01 for MNIST, and no preprocessing and scale 1 for the
quadratic functions. All three are configurable (``l2l.optimiser``; the per-problem defaults
and why: ``pipeline.l2l.problems.OPTIMISER_DEFAULTS``).

The cell is written by hand (``nn.LSTM`` has no double backward or forward-mode path on
some back ends); ``tests/learned/test_lstm.py`` checks it against ``nn.LSTMCell``.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

LSTMState = list[tuple[torch.Tensor, torch.Tensor]]  # (h, c) per layer, each (coordinates, hidden)
Preprocess = Literal["log_sign", "none"]


class HandLSTMCell(nn.Module):
    """One LSTM cell, torch's gate order (input, forget, cell, output) and parameter names."""

    def __init__(self, input_size: int, hidden: int) -> None:
        super().__init__()
        bound = 1 / math.sqrt(hidden)  # nn.LSTMCell's initialisation
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden, input_size).uniform_(-bound, bound))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden, hidden).uniform_(-bound, bound))
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden).uniform_(-bound, bound))
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = state
        gates = x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c


def preprocess_gradient(g: torch.Tensor, p: float) -> torch.Tensor:
    """(log|g| / p, sign g) where |g| >= e^-p, else (-1, e^p g): shape (coordinates, 2)."""
    big = g.abs() >= math.exp(-p)
    first = torch.where(big, g.abs().clamp_min(math.exp(-p)).log() / p, torch.full_like(g, -1.0))
    second = torch.where(big, g.sign(), math.exp(p) * g)
    return torch.stack([first, second], dim=1)


class CoordinatewiseLSTM(nn.Module):
    """m_phi: a flat gradient (N,) and the state -> a flat update (N,) and the next state."""

    def __init__(
        self,
        hidden: int = 20,
        layers: int = 2,
        preprocess: Preprocess = "log_sign",
        p: float = 10.0,
        output_scale: float = 0.01,
    ) -> None:
        super().__init__()
        if preprocess not in ("log_sign", "none"):
            raise ValueError(f"unknown preprocessing {preprocess!r} (known: log_sign, none)")
        self.preprocess, self.p, self.output_scale, self.hidden = preprocess, p, output_scale, hidden
        sizes = [2 if preprocess == "log_sign" else 1] + [hidden] * layers
        self.cells = nn.ModuleList(HandLSTMCell(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.head = nn.Linear(hidden, 1)

    def initial_state(self, n: int, like: torch.Tensor) -> LSTMState:
        zeros = like.new_zeros(n, self.hidden)
        return [(zeros, zeros) for _ in self.cells]

    def forward(self, grad: torch.Tensor, state: LSTMState) -> tuple[torch.Tensor, LSTMState]:
        x = preprocess_gradient(grad, self.p) if self.preprocess == "log_sign" else grad.unsqueeze(1)
        new_state: LSTMState = []
        for cell, layer_state in zip(self.cells, state):
            h, c = cell(x, layer_state)
            new_state.append((h, c))
            x = h
        return self.output_scale * self.head(x).squeeze(1), new_state
