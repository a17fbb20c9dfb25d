"""CIFAR-form (32x32 input) convolutional networks: VGG-16, AllCNN-C and SqueezeNet."""

from __future__ import annotations

import torch
from torch import nn

VGG16_LAYOUT = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


class VGG16(nn.Module):
    """VGG-16 with BatchNorm in its CIFAR form (13 conv layers, one linear classifier on the
    512-d feature), as in kuangliu/pytorch-cifar: 14,728,266 parameters for 10 classes."""

    def __init__(self, input_shape: tuple[int, ...], n_outputs: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = input_shape[0]
        for item in VGG16_LAYOUT:
            if item == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                width = int(item)  # type: ignore[call-overload]  # the layout holds widths and 'M'
                layers += [nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
                channels = width
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(512, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


class AllCNNC(nn.Module):
    """All-CNN-C (Springenberg et al. 2015, Table 2 model C with strided convolutions
    instead of pooling, dropout 20% on the input and 50% after each stride-2 layer):
    1,369,738 parameters for 10 classes."""

    def __init__(self, input_shape: tuple[int, ...], n_outputs: int) -> None:
        super().__init__()

        def conv(c_in: int, c_out: int, kernel: int, stride: int = 1, padding: int = 1) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding), nn.ReLU()]

        self.net = nn.Sequential(
            nn.Dropout(0.2),
            *conv(input_shape[0], 96, 3),
            *conv(96, 96, 3),
            *conv(96, 96, 3, stride=2),
            nn.Dropout(0.5),
            *conv(96, 192, 3),
            *conv(192, 192, 3),
            *conv(192, 192, 3, stride=2),
            nn.Dropout(0.5),
            *conv(192, 192, 3, padding=0),
            *conv(192, 192, 1, padding=0),
            nn.Conv2d(192, n_outputs, 1),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Fire(nn.Module):
    def __init__(self, c_in: int, squeeze: int, expand: int) -> None:
        super().__init__()
        self.squeeze = nn.Sequential(nn.Conv2d(c_in, squeeze, 1), nn.ReLU())
        self.expand1 = nn.Sequential(nn.Conv2d(squeeze, expand, 1), nn.ReLU())
        self.expand3 = nn.Sequential(nn.Conv2d(squeeze, expand, 3, padding=1), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.squeeze(x)
        return torch.cat([self.expand1(s), self.expand3(s)], dim=1)


class SqueezeNet(nn.Module):
    """SqueezeNet 1.1 (Iandola et al. 2016; torchvision's fire-module layout) in a CIFAR
    form: a 3x3 stride-1 stem instead of the 3x3 stride-2 ImageNet stem, so 32x32 inputs
    keep spatial size; 727,626 parameters for 10 classes."""

    def __init__(self, input_shape: tuple[int, ...], n_outputs: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(input_shape[0], 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            Fire(64, 16, 64),
            Fire(128, 16, 64),
            nn.MaxPool2d(2),
            Fire(128, 32, 128),
            Fire(256, 32, 128),
            nn.MaxPool2d(2),
            Fire(256, 48, 192),
            Fire(384, 48, 192),
            Fire(384, 64, 256),
            Fire(512, 64, 256),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(0.5), nn.Conv2d(512, n_outputs, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
