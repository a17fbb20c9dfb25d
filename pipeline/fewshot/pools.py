"""Class pools of the image families: every class's images, split into meta-train / -valid / -test classes.

Digits and MNIST-5k come from the prepared data set (all of its splits: few-shot learning
splits classes, not images); their classes are assigned to the meta-splits by digit
(``fewshot.tasks.<family>.classes``). Omniglot is read in its own format: a folder per
alphabet, a folder per character, one PNG per drawing, under ``images_background/``
(meta-train and meta-valid characters) and ``images_evaluation/`` (meta-test), resized to
28 x 28 as the MAML code does. Each (class, rotation) is a class of its own.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from pipeline.data.errors import DataUnavailableError
from pipeline.fewshot.config import FamilyConfig
from pipeline.fewshot.tasks import ClassPool, rotated_classes

OMNIGLOT_SIZE = 28
OMNIGLOT_VALID_FRACTION = 0.15  # of the background characters, held out for meta-validation


def pools_from_prepared(data_splits: dict, family: FamilyConfig) -> dict[str, ClassPool]:
    """Digits / MNIST-5k: all images by label, the digits of each meta-split with their rotations."""
    x = torch.cat([s.x for s in data_splits.values()])
    y = torch.cat([s.y for s in data_splits.values()])
    by_label = {int(label): x[y == label] for label in torch.unique(y)}
    return {
        split: rotated_classes(by_label, tuple(digits), family.rotations) for split, digits in family.classes.items()
    }


def read_omniglot_characters(folder: Path) -> list[torch.Tensor]:
    """One (n, 1, 28, 28) tensor per character folder (alphabet/character/*.png), ink = 1, background = 0."""
    from PIL import Image

    characters = []
    for alphabet in sorted(p for p in folder.iterdir() if p.is_dir()):
        for character in sorted(p for p in alphabet.iterdir() if p.is_dir()):
            drawings = [
                np.asarray(
                    Image.open(png).convert("L").resize((OMNIGLOT_SIZE, OMNIGLOT_SIZE), Image.Resampling.LANCZOS),
                    dtype=np.float32,
                )
                for png in sorted(character.glob("*.png"))
            ]
            if drawings:
                characters.append(1.0 - torch.from_numpy(np.stack(drawings)).unsqueeze(1) / 255.0)
    return characters


def omniglot_pools(root: Path, family: FamilyConfig, seed: int) -> dict[str, ClassPool]:
    """Background characters -> meta-train and meta-valid (a seeded hold-out), evaluation -> meta-test."""
    parts = {}
    for name in ("images_background", "images_evaluation"):
        folder = root / name
        if not folder.is_dir():
            raise DataUnavailableError(
                "omniglot",
                folder,
                "download Omniglot's images_background.zip and images_evaluation.zip "
                f"(github.com/brendenlake/omniglot, python/) and unzip them into {root}",
            )
        parts[name] = read_omniglot_characters(folder)
        if not parts[name]:
            raise DataUnavailableError("omniglot", folder, "expected alphabet/character/*.png folders")
    background = parts["images_background"]
    order = torch.randperm(len(background), generator=torch.Generator().manual_seed(seed)).tolist()
    n_valid = max(1, round(OMNIGLOT_VALID_FRACTION * len(background)))
    chosen = {"valid": order[:n_valid], "train": order[n_valid:]}
    by_index = dict(enumerate(background))
    pools = {split: rotated_classes(by_index, tuple(indices), family.rotations) for split, indices in chosen.items()}
    evaluation = dict(enumerate(parts["images_evaluation"]))
    pools["test"] = rotated_classes(evaluation, tuple(evaluation), family.rotations)
    return {split: pools[split] for split in ("train", "valid", "test")}
