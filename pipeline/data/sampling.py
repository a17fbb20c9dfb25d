"""Seeded mini-batch streams over a split, with the CIFAR/SVHN augmentation.

Each stream owns its generator, so the training order depends on the seed only: the
baseline and every meta-learning method see the same training batches in the same order
(meta-objective batches come from a separate stream).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional as F


class BatchStream:
    """Endless epochs of shuffled mini-batches (the last partial batch of an epoch is dropped)."""

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        generator: torch.Generator,
        augment: bool = False,
        flip: bool = False,
        device: torch.device | None = None,
    ) -> None:
        self.x, self.y = x, y
        self.batch_size = min(batch_size, len(x))
        self.generator = generator
        self.augment, self.flip = augment, flip
        self.device = device or torch.device("cpu")
        self.order = torch.empty(0, dtype=torch.long)
        self.position = 0

    def __call__(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.position + self.batch_size > len(self.order):
            self.order = torch.randperm(len(self.x), generator=self.generator)
            self.position = 0
        idx = self.order[self.position : self.position + self.batch_size]
        self.position += self.batch_size
        x, y = self.x[idx], self.y[idx]
        if self.augment:
            x = random_crop_flip(x, self.generator, self.flip)
        return x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state(), "order": self.order.clone(), "position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])
        self.order, self.position = state["order"].clone(), int(state["position"])


def random_crop_flip(x: torch.Tensor, generator: torch.Generator, flip: bool, padding: int = 4) -> torch.Tensor:
    """Random crop after zero padding (zero is the channel mean after normalisation), optional horizontal flip."""
    n, _, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))
    dy = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    rows = (dy[:, None] + torch.arange(h)[None, :])[:, None, :, None]  # (n, 1, h, 1)
    cols = (dx[:, None] + torch.arange(w)[None, :])[:, None, None, :]  # (n, 1, 1, w)
    out = padded[torch.arange(n)[:, None, None, None], torch.arange(x.shape[1])[None, :, None, None], rows, cols]
    if flip:
        mirror = torch.rand(n, generator=generator) < 0.5
        out = torch.where(mirror[:, None, None, None], out.flip(-1), out)
    return out
