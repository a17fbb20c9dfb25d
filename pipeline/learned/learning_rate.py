"""A learnable, positive base learning rate (Meta-LR, paper Appendix D.1).

It is stored as log(alpha), so every meta update keeps alpha > 0; the meta learning rate
therefore acts on log(alpha) (a relative change of alpha).
"""

from __future__ import annotations

import math

import torch
from torch import nn


class LearnedLearningRate(nn.Module):
    def __init__(self, initial: float) -> None:
        super().__init__()
        if not initial > 0:
            raise ValueError(f"the initial learning rate must be positive, got {initial}")
        self.log_lr = nn.Parameter(torch.tensor(math.log(initial)))

    def forward(self) -> torch.Tensor:
        return self.log_lr.exp()
