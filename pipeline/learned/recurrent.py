"""Recurrent update rules: the step depends on a per-coordinate state carried from step to step.

Two rules of the seeds, both coordinatewise (one small map shared by every parameter entry,
so the meta-parameters do not grow with the model):

* ``LSTMOptimiserRule`` (L2L, seed 002): theta' = theta + m_phi(d), m_phi the 2-layer
  LSTM of ``pipeline.learned.lstm``; its state is each layer's (h, c) per coordinate.
* ``MetaLSTMRule`` (Ravi & Larochelle, seed 003): theta is the cell state,
  theta' = f (.) theta - i (.) d, with gates
  i = sigmoid(w_i . [pre(d), pre(L), theta, i_prev] + b_i) and f likewise with f_prev;
  the state is the previous gates. Weights start at zero and b_i = logit(lr), so the first
  step is the pair's SGD step with a forget gate sigmoid(b_f) (b_f = 12 by default:
  1 - f = 6e-6, a weight decay of 6e-6 / lr).

Every rule maps flat tensors (all parameters concatenated, ``flatten``) and a scalar loss to
the next flat parameters and state. Because each coordinate's trajectory depends only on
its own inputs, a truncation can be re-run and differentiated one slice of coordinates at
a time (``pipeline.meta.truncated``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from pipeline.learned.lstm import CoordinatewiseLSTM, Preprocess, preprocess_gradient
from pipeline.optim import Params

RecurrentState = list[torch.Tensor]  # per-coordinate tensors, first dimension = coordinates
CHUNK = 4096  # coordinates per slice: the LSTM's (n, 80) temporaries stay in cache (3.5x faster at n = 1M)


class RecurrentRule(nn.Module):
    """theta_{t+1}, state_{t+1} = rule(theta_t, d_t, L_t, state_t), coordinatewise."""

    def initial_state(self, theta: torch.Tensor) -> RecurrentState:
        raise NotImplementedError

    def forward(
        self, theta: torch.Tensor, direction: torch.Tensor, loss: torch.Tensor, state: RecurrentState
    ) -> tuple[torch.Tensor, RecurrentState]:
        raise NotImplementedError

    def step_chunked(
        self, theta: torch.Tensor, direction: torch.Tensor, loss: torch.Tensor, state: RecurrentState
    ) -> tuple[torch.Tensor, RecurrentState]:
        """``forward`` without a graph, CHUNK coordinates at a time.

        The same numbers up to rounding, with less memory traffic."""
        parts: list[tuple[torch.Tensor, RecurrentState]] = []
        with torch.no_grad():
            for start in range(0, theta.numel(), CHUNK):
                part = slice(start, start + CHUNK)
                parts.append(self(theta[part], direction[part], loss, [s[part] for s in state]))
        new_theta = torch.cat([p[0] for p in parts])
        return new_theta, [torch.cat([p[1][i] for p in parts]) for i in range(len(state))]


class LSTMOptimiserRule(RecurrentRule):
    """L2L's optimiser on a pair: theta + m_phi(d); state (h_1, c_1, h_2, c_2) per coordinate.

    ``zero_head``: the linear head starts at zero, so the rule starts as "no step" and learns
    to step. With torch's random head, the untrained LSTM moves every coordinate by nearly
    the same amount (on the Digits MLP: mean -9.6e-4, spread 2.2e-5 per step, 40 times the
    gradient-dependent part), a drift that pushed LeNet-5 to chance on 2 of 3 seeds before
    the meta-gradient, flat at chance, could correct it (docs/update_rules.md).
    """

    def __init__(
        self,
        hidden: int = 20,
        layers: int = 2,
        preprocess: Preprocess = "log_sign",
        p: float = 10.0,
        output_scale: float = 0.01,
        zero_head: bool = True,
    ) -> None:
        super().__init__()
        self.lstm = CoordinatewiseLSTM(hidden, layers, preprocess, p, output_scale)
        if zero_head:
            nn.init.zeros_(self.lstm.head.weight)
            nn.init.zeros_(self.lstm.head.bias)

    def initial_state(self, theta: torch.Tensor) -> RecurrentState:
        return [t for pair in self.lstm.initial_state(theta.numel(), theta) for t in pair]

    def forward(
        self, theta: torch.Tensor, direction: torch.Tensor, loss: torch.Tensor, state: RecurrentState
    ) -> tuple[torch.Tensor, RecurrentState]:
        pairs = [(state[i], state[i + 1]) for i in range(0, len(state), 2)]
        update, new_pairs = self.lstm(direction, pairs)
        return theta + update, [t for pair in new_pairs for t in pair]


class MetaLSTMRule(RecurrentRule):
    """Ravi & Larochelle's gated update, theta' = f theta - i d; state (i_prev, f_prev)."""

    def __init__(self, lr: float, p: float = 10.0, forget_bias: float = 12.0) -> None:
        super().__init__()
        if not 0 < lr < 1:
            raise ValueError(
                f"the Meta-LSTM's input gate starts at the learning rate, which must lie in (0, 1); got {lr}"
            )
        self.p = p
        self.input_weight = nn.Parameter(torch.zeros(6))  # on [pre(d) (2), pre(L) (2), theta, i_prev]
        self.input_bias = nn.Parameter(torch.tensor(math.log(lr / (1 - lr))))
        self.forget_weight = nn.Parameter(torch.zeros(6))
        self.forget_bias = nn.Parameter(torch.tensor(float(forget_bias)))

    def initial_state(self, theta: torch.Tensor) -> RecurrentState:
        """The gates a zero-weight cell would give: differentiable in the biases (the few-shot inner loop
        starts from them; ``pipeline.meta.truncated`` holds a truncation's start state constant)."""
        return [torch.sigmoid(self.input_bias).expand_as(theta), torch.sigmoid(self.forget_bias).expand_as(theta)]

    def forward(
        self, theta: torch.Tensor, direction: torch.Tensor, loss: torch.Tensor, state: RecurrentState
    ) -> tuple[torch.Tensor, RecurrentState]:
        i_prev, f_prev = state
        shared = torch.cat(
            [
                preprocess_gradient(direction, self.p),
                preprocess_gradient(loss.reshape(1), self.p).expand(theta.numel(), 2),
                theta.unsqueeze(1),
            ],
            dim=1,
        )
        i = torch.sigmoid(torch.cat([shared, i_prev.unsqueeze(1)], 1) @ self.input_weight + self.input_bias)
        f = torch.sigmoid(torch.cat([shared, f_prev.unsqueeze(1)], 1) @ self.forget_weight + self.forget_bias)
        return f * theta - i * direction, [i, f]


def flatten(params: Params) -> torch.Tensor:
    """All parameters as one flat vector, in the dict's order."""
    return torch.cat([p.reshape(-1) for p in params.values()])


def unflatten(flat: torch.Tensor, like: Params) -> Params:
    """The inverse of ``flatten`` for parameters shaped like ``like``."""
    out, start = {}, 0
    for name, p in like.items():
        out[name] = flat[start : start + p.numel()].view_as(p)
        start += p.numel()
    return out
