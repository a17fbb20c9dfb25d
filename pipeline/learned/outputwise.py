"""Apply a pointwise learned loss l(y, y_hat) output-wise and average (paper Sec. 2.2).

M(y, f(x)) = mean over the batch of (1/C) sum_i l(y_i, f(x)_i), which makes the loss
invariant to the number of outputs C. For classification the predictions are softmax
probabilities and the targets one-hot vectors.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class OutputwiseLoss(nn.Module):
    """Base class: subclasses implement ``pointwise(y, y_hat)`` on tensors of equal shape."""

    def __init__(self, task: str) -> None:
        super().__init__()
        self.task = task

    def pointwise(self, y: torch.Tensor, y_hat: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        y, y_hat = self.prepare(y_pred, y_true)
        return self.pointwise(y, y_hat).mean()  # mean over outputs, then over the batch

    def prepare(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.task == "classification":
            y_hat = F.softmax(y_pred, dim=1)
            return F.one_hot(y_true, y_pred.shape[1]).to(y_hat.dtype), y_hat
        return y_true.to(y_pred.dtype).expand_as(y_pred), y_pred
