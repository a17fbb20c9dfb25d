"""The AdaLFL paper's Table 1 (mean ± std over 10 seeds, no learning-rate schedule)."""

from __future__ import annotations

# (dataset, model) -> method -> (mean, std)
TABLE1: dict[tuple[str, str], dict[str, tuple[float, float]]] = {
    ("crime", "mlp"): {"baseline": (0.0274, 0.0017), "ml3": (0.0270, 0.0025), "adalfl": (0.0263, 0.0023)},
    ("diabetes", "mlp"): {"baseline": (0.0432, 0.0013), "ml3": (0.0430, 0.0012), "adalfl": (0.0420, 0.0014)},
    ("california", "mlp"): {"baseline": (0.0157, 0.0001), "ml3": (0.0276, 0.0058), "adalfl": (0.0151, 0.0007)},
    ("mnist", "logistic"): {"baseline": (0.0766, 0.0009), "ml3": (0.0710, 0.0010), "adalfl": (0.0697, 0.0010)},
    ("mnist", "mlp"): {"baseline": (0.0203, 0.0006), "ml3": (0.0185, 0.0004), "adalfl": (0.0184, 0.0006)},
    ("mnist", "lenet5"): {"baseline": (0.0125, 0.0007), "ml3": (0.0094, 0.0005), "adalfl": (0.0091, 0.0004)},
    ("cifar10", "vgg16"): {"baseline": (0.1036, 0.0049), "ml3": (0.1024, 0.0055), "adalfl": (0.0903, 0.0032)},
    ("cifar10", "allcnnc"): {"baseline": (0.1030, 0.0062), "ml3": (0.1015, 0.0055), "adalfl": (0.0835, 0.0050)},
    ("cifar10", "resnet18"): {"baseline": (0.0871, 0.0057), "ml3": (0.0883, 0.0041), "adalfl": (0.0788, 0.0035)},
    ("cifar10", "squeezenet"): {"baseline": (0.1226, 0.0080), "ml3": (0.1162, 0.0052), "adalfl": (0.1083, 0.0049)},
    ("cifar100", "wrn28_10"): {"baseline": (0.3046, 0.0087), "ml3": (0.3108, 0.0075), "adalfl": (0.2668, 0.0283)},
    ("svhn", "wrn16_8"): {"baseline": (0.0512, 0.0043), "ml3": (0.0500, 0.0034), "adalfl": (0.0441, 0.0014)},
}

# Offline stand-ins shown beside the paper's numbers for the data set they subsample.
PAPER_DATASET: dict[str, str] = {"mnist5k": "mnist"}
