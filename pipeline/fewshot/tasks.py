"""Task families: sinusoid regression (MAML's) and N-way K-shot image classification.

A task is a support set (K shots: what the inner loop adapts on) and a query set (what the
adapted model is scored on). Meta-training draws tasks from a seeded stream; meta-validation
and meta-test use fixed tasks, drawn once by the tasks stage, so every method is scored on
the same ones. Image families split *classes* between meta-train, meta-validation and
meta-test: a test task's classes were never seen in meta-training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from pipeline.fewshot.config import FamilyConfig

AMPLITUDE, PHASE, X_RANGE = (0.1, 5.0), (0.0, math.pi), (-5.0, 5.0)  # MAML's sinusoid distribution


@dataclass
class TaskBatch:
    """T tasks stacked on the first dimension: support and query inputs and targets."""

    support_x: torch.Tensor
    support_y: torch.Tensor
    query_x: torch.Tensor
    query_y: torch.Tensor

    def __len__(self) -> int:
        return self.support_x.shape[0]

    def to(self, device: torch.device) -> TaskBatch:
        return TaskBatch(*(t.to(device) for t in (self.support_x, self.support_y, self.query_x, self.query_y)))

    def part(self, start: int, stop: int) -> TaskBatch:
        return TaskBatch(*(t[start:stop] for t in (self.support_x, self.support_y, self.query_x, self.query_y)))


def _uniform(low_high: tuple[float, float], shape: tuple[int, ...], gen: torch.Generator) -> torch.Tensor:
    low, high = low_high
    return low + (high - low) * torch.rand(shape, generator=gen)


def sinusoid_tasks(n_tasks: int, shots: int, query: int, gen: torch.Generator) -> TaskBatch:
    """y = A sin(x - phase), A ~ U[0.1, 5], phase ~ U[0, pi], x ~ U[-5, 5]; inputs and targets (T, n, 1)."""
    amplitude, phase = _uniform(AMPLITUDE, (n_tasks, 1, 1), gen), _uniform(PHASE, (n_tasks, 1, 1), gen)
    xs, xq = _uniform(X_RANGE, (n_tasks, shots, 1), gen), _uniform(X_RANGE, (n_tasks, query, 1), gen)
    return TaskBatch(xs, amplitude * torch.sin(xs - phase), xq, amplitude * torch.sin(xq - phase))


ClassPool = list[torch.Tensor]  # one tensor of images (n_c, C, H, W) per class


def rotated_classes(
    images_by_label: dict[int, torch.Tensor], labels: tuple[int, ...], rotations: tuple[int, ...]
) -> ClassPool:
    """Every (label, rotation) as its own class: MAML's rotated copies of Omniglot characters."""
    return [
        torch.rot90(images_by_label[label], k=angle // 90, dims=(-2, -1)) for label in labels for angle in rotations
    ]


def episode_indices(
    pool: ClassPool, n_tasks: int, ways: int, shots: int, query: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """(classes (T, N), image picks (T, N, K + Q)): N classes per task, labelled 0..N-1 in draw order."""
    classes = torch.stack([torch.randperm(len(pool), generator=gen)[:ways] for _ in range(n_tasks)])
    picks = torch.stack(
        [
            torch.stack([torch.randperm(pool[c].shape[0], generator=gen)[: shots + query] for c in row.tolist()])
            for row in classes
        ]
    )
    return classes, picks


def gather_episodes(pool: ClassPool, classes: torch.Tensor, picks: torch.Tensor, shots: int) -> TaskBatch:
    """The images and labels of episodes given by ``episode_indices`` (support: the first K picks of each class)."""
    images = torch.stack(
        [torch.stack([pool[c][p] for c, p in zip(row.tolist(), row_picks)]) for row, row_picks in zip(classes, picks)]
    )
    n_tasks, ways, n = images.shape[:3]
    labels = torch.arange(ways).view(1, ways, 1).expand(n_tasks, ways, n)
    flat = lambda t: t.reshape(n_tasks, -1, *t.shape[3:])  # noqa: E731  (T, N, n, ...) -> (T, N * n, ...)
    return TaskBatch(
        flat(images[:, :, :shots]), flat(labels[:, :, :shots]), flat(images[:, :, shots:]), flat(labels[:, :, shots:])
    )


def image_tasks(pool: ClassPool, n_tasks: int, ways: int, shots: int, query: int, gen: torch.Generator) -> TaskBatch:
    return gather_episodes(pool, *episode_indices(pool, n_tasks, ways, shots, query, gen), shots)


def check_pool(pool: ClassPool, family: FamilyConfig, split: str, shots: int, query: int) -> None:
    """Enough classes and images per class for the family's tasks, or one line saying what is short."""
    if len(pool) < family.ways:
        raise ValueError(f"{split}: {len(pool)} classes, fewer than ways = {family.ways}")
    smallest = min(images.shape[0] for images in pool)
    if smallest < shots + query:
        raise ValueError(f"{split}: a class has {smallest} images, fewer than shots + query = {shots + query}")


def draw_tasks(
    family: FamilyConfig, pool: ClassPool | None, n_tasks: int, shots: int, query: int, gen: torch.Generator
) -> TaskBatch:
    """n_tasks tasks of the family (pool: the split's classes for an image family)."""
    if family.kind == "sinusoid":
        return sinusoid_tasks(n_tasks, shots, query, gen)
    assert pool is not None, "an image family needs its class pool"
    return image_tasks(pool, n_tasks, family.ways, shots, query, gen)
