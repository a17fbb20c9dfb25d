"""The few-shot papers' models: MAML's 2 x 40 ReLU MLP for sinusoids and its 4-layer conv net.

The conv net keeps MAML's blocks (3 x 3 convolution, BatchNorm, ReLU, 2 x 2 max-pooling)
and pools only while the feature map is at least 2 pixels wide, so 8 x 8 Digits (3 pools)
and 28 x 28 MNIST or Omniglot (4 pools) both end in filters x 1 x 1 features. BatchNorm
keeps no running statistics: every forward pass, inner loop included, normalises with the
batch's own statistics, as the MAML reference code does (README). It is written out
(``BatchStatNorm2d``) rather than ``nn.BatchNorm2d``: under ``torch.func.vmap`` the latter's
second derivative is wrong (measured: 3e-3 off autograd per task; ``tests/fewshot``).
"""

from __future__ import annotations

import torch
from torch import nn

from pipeline.utils.derive import derive_seed


def sinusoid_mlp(hidden: int = 40) -> nn.Module:
    return nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))


class BatchStatNorm2d(nn.Module):
    """BatchNorm2d on the batch's statistics (biased variance, eps 1e-5, affine), no running statistics."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(0, 2, 3), keepdim=True)
        var = ((x - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class Conv4(nn.Module):
    def __init__(self, channels: int, size: int, ways: int, filters: int = 32) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        for i in range(4):
            blocks += [
                nn.Conv2d(channels if i == 0 else filters, filters, 3, padding=1),
                BatchStatNorm2d(filters),
                nn.ReLU(),
            ]
            if size >= 2:
                blocks.append(nn.MaxPool2d(2))
                size //= 2
        self.features = nn.Sequential(*blocks)
        self.head = nn.Linear(filters * size * size, ways)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


def build_fewshot_model(
    kind: str, seed: int, hidden: int = 40, image_shape: tuple[int, ...] = (1, 8, 8), ways: int = 5, filters: int = 32
) -> nn.Module:
    """The family's model with initial weights drawn from ``seed`` alone (the same for every method)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "fewshot-model", kind))
        if kind == "sinusoid":
            return sinusoid_mlp(hidden)
        return Conv4(image_shape[0], image_shape[-1], ways, filters)
