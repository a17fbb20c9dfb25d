"""What each model needs of a data set: checked when params are parsed, without importing torch.

The builders live in ``registry``; config validation (every stage's first step, and the
whole of a disabled tune stage) needs only names and requirements.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Needs = Literal["any", "classification", "image", "rgb32"]


@dataclass(frozen=True)
class ModelInfo:
    name: str
    build: Callable[[tuple[int, ...], int], Any]  # -> torch.nn.Module
    needs: Needs  # what the data set must offer
    example_shape: tuple[int, ...]  # the input the paper pairs it with (for the listing)
    example_outputs: int = 10


MODEL_NEEDS: dict[str, Needs] = {
    "logistic": "classification",
    "mlp": "any",
    "lenet5": "image",
    "vgg16": "rgb32",
    "allcnnc": "rgb32",
    "resnet18": "rgb32",
    "squeezenet": "rgb32",
    "wrn28_10": "rgb32",
    "wrn16_8": "rgb32",
}
RGB32_DATASETS = ("cifar10", "cifar100", "svhn")


def check_pairing(dataset: str, model: str) -> str | None:
    """Why ``model`` cannot be trained on ``dataset``, or None when it can."""
    from pipeline.data.registry import DATASETS

    info, needs = DATASETS[dataset], MODEL_NEEDS[model]
    if needs == "classification" and info.task != "classification":
        return f"{model} needs a classification data set, {dataset} is {info.task}"
    if needs == "image" and info.kind != "image":
        return f"{model} needs an image data set, {dataset} is {info.kind}"
    if needs == "rgb32" and dataset not in RGB32_DATASETS:
        return f"{model} needs 32x32 RGB images ({', '.join(RGB32_DATASETS)}), not {dataset}"
    return None
