"""The shape of a learned loss on a fixed grid, for the paper's Figure 1/4 plots.

Classification: l(y, p) for p in [0, 1] with target y = 0 and y = 1.
Regression: l(y, y + r) for residuals r in [-1, 1] around the mid target y = 0.5
(targets are min-max scaled to [0, 1]).
"""

from __future__ import annotations

import torch
from torch import nn

from pipeline.learned.outputwise import OutputwiseLoss

GRID_POINTS = 101


def loss_grid(task: str) -> list[float]:
    low = 0.0 if task == "classification" else -1.0
    return torch.linspace(low, 1.0, GRID_POINTS).tolist()


@torch.no_grad()
def loss_snapshot(loss: nn.Module, task: str) -> dict[str, list[float]] | None:
    """Curves of the pointwise loss on the grid, or None for a handcrafted loss."""
    if not isinstance(loss, OutputwiseLoss):
        return None
    param = next(loss.parameters())
    grid = torch.tensor(loss_grid(task), dtype=param.dtype, device=param.device)
    if task == "classification":
        return {f"y={t}": loss.pointwise(torch.full_like(grid, float(t)), grid).tolist() for t in (0, 1)}
    middle = torch.full_like(grid, 0.5)
    return {"y=0.5": loss.pointwise(middle, middle + grid).tolist()}
