"""Where does a learned regression loss put its minimum? ŷ*(y) = argmin over ŷ of ℓ(y, ŷ), per target y.

    python -m tools.lfl export --pair diabetes_mlp --method ml3 --seed 2 --out ml3_2.pt
    python -m tools.loss_minimiser ml3_2.pt [adalfl_2.pt ...] [--targets 0.1 0.5 0.9]

A loss whose minimiser is not the target itself trains a biased regressor, whatever the optimiser:
with ŷ*(y) = 0.5 + 0.5 (y - 0.5) the model learns to predict half-way to 0.5. The printed offset
ŷ*(y) - y is 0 for squared error; the slope of ŷ* over the targets is 1 for an unbiased loss and
below 1 for one that shrinks its predictions. A loss with several minima can move ŷ* by jumps, where
the slope says little: the mean |ŷ*(y) - y| over the targets measures the bias either way. The steepness
columns divide the loss's slope dℓ/dŷ at y = 0.5 by squared error's, at four residuals: a loss ten
times as steep trains like squared error at ten times the learning rate.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from pipeline.api import LearnedLoss

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (outputs, targets) -> scalar
STEEPNESS_AT = (-0.3, -0.1, 0.1, 0.3)  # residuals ŷ - y at which the slope is compared with squared error's
GRID = torch.linspace(-1.0, 2.0, 3001)  # candidate predictions on the [0, 1]-scaled targets' scale, step 1e-3


def dtype_device_of(loss: Loss, fallback: torch.Tensor) -> torch.Tensor:
    """A tensor with the loss's dtype and device (its first parameter), or ``fallback`` for a plain function."""
    params = list(loss.parameters()) if isinstance(loss, torch.nn.Module) else []
    return params[0] if params else fallback


def minimiser(loss: Loss, target: float, grid: torch.Tensor = GRID) -> float:
    """The prediction in ``grid`` with the lowest loss for one target (one instance, one output)."""
    like = dtype_device_of(loss, grid)
    grid, y = grid.to(like), torch.tensor([[target]], dtype=like.dtype, device=like.device)
    with torch.no_grad():
        values = torch.stack([loss(g.view(1, 1), y) for g in grid])
    return float(grid[int(values.argmin())])


def shape(loss: Loss, targets: list[float]) -> tuple[list[float], float]:
    """(ŷ*(y) - y per target, the least-squares slope of ŷ* over y)."""
    found = [minimiser(loss, y) for y in targets]
    slope = float(np.polyfit(targets, found, 1)[0]) if len(targets) > 1 else float("nan")
    return [m - y for m, y in zip(found, targets)], slope


def steepness(loss: Loss, target: float = 0.5, residuals: tuple[float, ...] = STEEPNESS_AT) -> list[float]:
    """dℓ/dŷ at ŷ = target + r over squared error's 2r, per residual r: 1 where the loss is as steep as
    squared error. Under SGD a loss k times as steep trains like squared error at k times the learning
    rate (the paper's implicit learning-rate tuning, Sec. 5.4)."""
    like = dtype_device_of(loss, torch.zeros((), dtype=torch.float64))
    ratios = []
    for r in residuals:
        prediction = torch.tensor([[target + r]], dtype=like.dtype, device=like.device, requires_grad=True)
        y = torch.tensor([[target]], dtype=like.dtype, device=like.device)
        (slope,) = torch.autograd.grad(loss(prediction, y), prediction)
        ratios.append(float(slope) / (2 * r))
    return ratios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path, help="losses written by `python -m tools.lfl export`")
    parser.add_argument("--targets", nargs="+", type=float, default=[0.1, 0.3, 0.5, 0.7, 0.9])
    args = parser.parse_args(argv)
    heads = [f"y={y:g}" for y in args.targets] + ["slope of ŷ*", "mean |ŷ* - y|"]
    heads += [f"steepness r={r:+g}" for r in STEEPNESS_AT]
    print("file | " + " | ".join(heads))
    for path in args.files:
        loss = LearnedLoss.load(path)
        if loss.task != "regression":
            parser.error(f"{path}: a {loss.task} loss; the minimiser is defined here for regression losses only")
        offsets, slope = shape(loss, args.targets)
        cells = [f"{round(o, 3) + 0.0:+.3f}" for o in offsets] + [f"{slope:.2f}", f"{np.mean(np.abs(offsets)):.3f}"]
        cells += [f"{k:.1f}" for k in steepness(loss)]
        print(f"{path} | " + " | ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
