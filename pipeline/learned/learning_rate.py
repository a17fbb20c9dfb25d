"""A learnable base learning rate (Meta-LR, paper Appendix D.1).

``form="direct"`` (the default) learns alpha itself, exactly as Algorithms 3-4 write it:
alpha <- alpha - eta * dL/dalpha, with Adam in place of the plain step. Nothing keeps it
positive; like hypergradient descent's rate it may cross zero late in training, which
acts as early stopping (paper Sec. 5.5).

``form="log"`` learns log(alpha): alpha stays positive and one Adam step changes it by a
relative amount (about eta * alpha), so at alpha = 0.01 it moves about 100 times less
than the direct form at the same meta learning rate (docs/reproduction.md measures both).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

LrForm = Literal["direct", "log"]


class LearnedLearningRate(nn.Module):
    def __init__(self, initial: float, form: LrForm = "direct") -> None:
        super().__init__()
        if not initial > 0:
            raise ValueError(f"the initial learning rate must be positive, got {initial}")
        if form not in ("direct", "log"):
            raise ValueError(f"unknown learning-rate form {form!r} (known: direct, log)")
        self.form = form
        value = initial if form == "direct" else math.log(initial)
        self.value = nn.Parameter(torch.tensor(value))

    def forward(self) -> torch.Tensor:
        return self.value if self.form == "direct" else self.value.exp()
