"""Every architecture of the paper's Table 1, built from (input_shape, n_outputs) and a seed.

Initial weights are a function of the seed alone: every method (baseline, ML3, AdaLFL,
Meta-LR, Taylor) starts from bit-identical weights for the same seed, as the paper requires.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable, Literal

import torch
from torch import nn

from pipeline.models.cifar import VGG16, AllCNNC, SqueezeNet
from pipeline.models.resnet import ResNet18, WideResNet
from pipeline.models.small import MLP, LeNet5, LogisticRegression

Needs = Literal["any", "classification", "image", "rgb32"]


@dataclass(frozen=True)
class ModelInfo:
    name: str
    build: Callable[[tuple[int, ...], int], nn.Module]
    needs: Needs  # what the data set must offer
    example_shape: tuple[int, ...]  # the input the paper pairs it with (for the listing)
    example_outputs: int = 10


MODELS: dict[str, ModelInfo] = {
    info.name: info
    for info in [
        ModelInfo("logistic", LogisticRegression, "classification", (1, 28, 28)),
        ModelInfo("mlp", MLP, "any", (1, 28, 28)),
        ModelInfo("lenet5", LeNet5, "image", (1, 28, 28)),
        ModelInfo("vgg16", VGG16, "rgb32", (3, 32, 32)),
        ModelInfo("allcnnc", AllCNNC, "rgb32", (3, 32, 32)),
        ModelInfo("resnet18", ResNet18, "rgb32", (3, 32, 32)),
        ModelInfo("squeezenet", SqueezeNet, "rgb32", (3, 32, 32)),
        ModelInfo("wrn28_10", partial(WideResNet, depth=28, width=10), "rgb32", (3, 32, 32), 100),
        ModelInfo("wrn16_8", partial(WideResNet, depth=16, width=8), "rgb32", (3, 32, 32)),
    ]
}

RGB32_DATASETS = ("cifar10", "cifar100", "svhn")


def check_pairing(dataset: str, model: str) -> str | None:
    """Why ``model`` cannot be trained on ``dataset``, or None when it can."""
    from pipeline.data.registry import DATASETS

    info, needs = DATASETS[dataset], MODELS[model].needs
    if needs == "classification" and info.task != "classification":
        return f"{model} needs a classification data set, {dataset} is {info.task}"
    if needs == "image" and info.kind != "image":
        return f"{model} needs an image data set, {dataset} is {info.kind}"
    if needs == "rgb32" and dataset not in RGB32_DATASETS:
        return f"{model} needs 32x32 RGB images ({', '.join(RGB32_DATASETS)}), not {dataset}"
    return None


def build_model(name: str, input_shape: tuple[int, ...], n_outputs: int, seed: int) -> nn.Module:
    """A freshly initialised model whose weights depend on ``seed`` only (the global RNG is left untouched)."""
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r} (known: {', '.join(MODELS)})")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MODELS[name].build(tuple(input_shape), n_outputs)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def describe_models() -> list[dict[str, object]]:
    """One record per model, built on the input the paper pairs it with."""
    records = []
    for info in MODELS.values():
        model = build_model(info.name, info.example_shape, info.example_outputs, seed=0)
        records.append({"name": info.name, "input_shape": list(info.example_shape), "n_outputs": info.example_outputs,
                        "n_params": count_parameters(model), "needs": info.needs})
    return records


