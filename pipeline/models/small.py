"""The small models: logistic regression, the MLP of Baydin et al. (2018) and LeNet-5."""

from __future__ import annotations

import math

import torch
from torch import nn


class LogisticRegression(nn.Module):
    """A single linear layer on the flattened input (10 classes on 28x28 MNIST: 7,850 parameters)."""

    def __init__(self, input_shape: tuple[int, ...], n_outputs: int) -> None:
        super().__init__()
        self.linear = nn.Linear(math.prod(input_shape), n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.flatten(1))


class MLP(nn.Module):
    """Two hidden layers of 1000 ReLU units (Baydin et al. 2018, "Online learning rate
    adaptation with hypergradient descent"); 1,796,010 parameters on 28x28 MNIST."""

    def __init__(self, input_shape: tuple[int, ...], n_outputs: int, hidden: int = 1000) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(math.prod(input_shape), hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_outputs),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x.flatten(1))


def to_32x32(input_shape: tuple[int, ...]) -> nn.Module:
    """Bring a square image to LeNet-5's 32x32: 28x28 (MNIST) is zero-padded by 2 as in
    LeCun et al. (1998); sizes dividing 32 (Digits' 8x8) are upsampled by nearest neighbour
    (8x8 -> 32x32 is a 4x upsampling, each pixel becoming a 4x4 block)."""
    size = input_shape[-1]
    if input_shape[-2] != size:
        raise ValueError(f"LeNet-5 needs square images, got {input_shape}")
    if size == 32:
        return nn.Identity()
    if size == 28:
        return nn.ZeroPad2d(2)
    if 32 % size == 0:
        return nn.Upsample(scale_factor=32 // size, mode="nearest")
    raise ValueError(f"LeNet-5 cannot bring {size}x{size} images to 32x32")


class LeNet5(nn.Module):
    """LeNet-5 (LeCun et al. 1998) with ReLU and max-pooling; 61,706 parameters for 10
    classes on 1-channel input (conv 6@5x5, conv 16@5x5, fc 120, 84, 10)."""

    def __init__(self, input_shape: tuple[int, ...], n_outputs: int) -> None:
        super().__init__()
        channels = input_shape[0]
        self.resize = to_32x32(input_shape)
        self.features = nn.Sequential(
            nn.Conv2d(channels, 6, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, n_outputs),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(self.resize(x)).flatten(1))
