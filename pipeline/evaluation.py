"""Error of a base model on a split: error rate (classification) or MSE (regression)."""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call

from pipeline.learned.handcrafted import task_error
from pipeline.optim import Params


@torch.no_grad()
def split_error(
    model: nn.Module,
    params: Params,
    buffers: Params,
    x: torch.Tensor,
    y: torch.Tensor,
    task: str,
    batch_size: int = 1000,
) -> float:
    """Inference-mode error (BatchNorm uses its running statistics, dropout is off)."""
    was_training = model.training
    model.eval()
    try:
        device = next(iter(params.values())).device
        total = 0.0
        for start in range(0, len(x), batch_size):
            xb, yb = x[start : start + batch_size].to(device), y[start : start + batch_size].to(device)
            out = functional_call(model, (params, buffers), (xb,))
            total += float(task_error(task, out, yb)) * len(xb)
        return total / len(x)
    finally:
        model.train(was_training)


def trivial_error(task: str, train_y: torch.Tensor, test_y: torch.Tensor) -> float:
    """The error of a predictor that ignores its input, fitted on the training split.

    Classification: always the training split's most frequent class. Regression: always
    the training mean. A trained model at or above this error learned nothing usable.
    """
    if task == "classification":
        majority = int(torch.bincount(train_y).argmax())
        return float((test_y != majority).float().mean())
    return float(((test_y.float() - train_y.float().mean()) ** 2).mean())
