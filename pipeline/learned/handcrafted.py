"""The handcrafted task losses and error metrics: cross-entropy / squared error."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def task_loss(task: str, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """L_T: cross-entropy on logits (classification) or mean squared error (regression)."""
    if task == "classification":
        return F.cross_entropy(outputs, targets)
    return F.mse_loss(outputs, targets)


def task_error(task: str, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The reported metric: error rate (classification) or mean squared error (regression)."""
    if task == "classification":
        return (outputs.argmax(dim=1) != targets).float().mean()
    return F.mse_loss(outputs, targets)


class HandcraftedLoss(nn.Module):
    """The baseline's loss behind the same ``(y_pred, y_true) -> scalar`` interface as the learned ones."""

    def __init__(self, task: str) -> None:
        super().__init__()
        self.task = task

    def forward(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return task_loss(self.task, y_pred, y_true)
