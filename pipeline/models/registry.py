"""Every architecture of the paper's Table 1, built from (input_shape, n_outputs) and a seed.

Initial weights are a function of the seed alone: every method (baseline, ML3, AdaLFL,
Meta-LR, Taylor) starts from bit-identical weights for the same seed, as the paper requires.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
from torch import nn

from pipeline.models.catalog import MODEL_NEEDS, RGB32_DATASETS, ModelInfo, check_pairing
from pipeline.models.cifar import VGG16, AllCNNC, SqueezeNet
from pipeline.models.resnet import ResNet18, WideResNet
from pipeline.models.small import MLP, LeNet5, LogisticRegression

__all__ = [
    "MODELS",
    "RGB32_DATASETS",
    "ModelInfo",
    "build_model",
    "check_pairing",
    "count_parameters",
    "describe_models",
]


def _info(
    name: str,
    build: Callable[[tuple[int, ...], int], nn.Module],
    example_shape: tuple[int, ...],
    example_outputs: int = 10,
) -> ModelInfo:
    return ModelInfo(name, build, MODEL_NEEDS[name], example_shape, example_outputs)


MODELS: dict[str, ModelInfo] = {
    info.name: info
    for info in [
        _info("logistic", LogisticRegression, (1, 28, 28)),
        _info("mlp", MLP, (1, 28, 28)),
        _info("lenet5", LeNet5, (1, 28, 28)),
        _info("vgg16", VGG16, (3, 32, 32)),
        _info("allcnnc", AllCNNC, (3, 32, 32)),
        _info("resnet18", ResNet18, (3, 32, 32)),
        _info("squeezenet", SqueezeNet, (3, 32, 32)),
        _info("wrn28_10", partial(WideResNet, depth=28, width=10), (3, 32, 32), 100),
        _info("wrn16_8", partial(WideResNet, depth=16, width=8), (3, 32, 32)),
    ]
}


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
        records.append(
            {
                "name": info.name,
                "input_shape": list(info.example_shape),
                "n_outputs": info.example_outputs,
                "n_params": count_parameters(model),
                "needs": info.needs,
            }
        )
    return records
