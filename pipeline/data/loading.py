"""Reading prepared data: checksums first, then cheap shape/label checks, then normalisation.

The files were validated with pandera when written; the SHA-256 in ``meta.json`` proves
they are unchanged, so reading needs only torch (stages start fast).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pipeline.data.errors import DataError
from pipeline.data.store_format import SPLITS, normalise_images
from pipeline.utils.io import sha256_file


@dataclass(frozen=True)
class SplitTensors:
    x: torch.Tensor  # float32, normalised
    y: torch.Tensor  # int64 labels or float32 (N, 1) targets
    index: torch.Tensor


@dataclass(frozen=True)
class LoadedData:
    meta: dict[str, Any]
    splits: dict[str, SplitTensors]

    @property
    def task(self) -> str:
        return str(self.meta["task"])


def read_meta(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / "meta.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"{path}: not found; run the prepare stage first (dvc repro prepare)") from None
    except json.JSONDecodeError as error:
        raise DataError(f"{path}: corrupt JSON ({error})") from None


def load_prepared(folder: str | Path) -> LoadedData:
    folder = Path(folder)
    meta = read_meta(folder)
    splits = {}
    for name in SPLITS:
        path = folder / f"{name}.pt"
        if not path.is_file():
            raise DataError(f"{path}: missing; run the prepare stage again")
        if sha256_file(path) != meta.get("sha256", {}).get(f"{name}.pt"):
            raise DataError(
                f"{path}: checksum does not match meta.json (corrupt or modified file); run the prepare stage again"
            )
        raw = torch.load(path, weights_only=True)
        x, y, index = raw["x"].numpy(), raw["y"].numpy(), raw["index"].numpy()
        check_loaded_split(name, x, y, meta)
        features = normalise_images(x, meta["x_stats"]) if meta["kind"] == "image" else x.astype(np.float32)
        splits[name] = SplitTensors(torch.from_numpy(features), torch.from_numpy(y), torch.from_numpy(index))
    return LoadedData(meta, splits)


def check_loaded_split(name: str, x: np.ndarray, y: np.ndarray, meta: dict[str, Any]) -> None:
    if tuple(x.shape[1:]) != tuple(meta["input_shape"]) or len(x) != len(y) or len(x) != meta[f"n_{name}"]:
        raise DataError(f"split '{name}': shape {tuple(x.shape)} does not match meta.json; run the prepare stage again")
    if meta["task"] == "classification" and len(y) and not (0 <= y.min() and y.max() < meta["n_outputs"]):
        raise DataError(f"split '{name}': labels outside [0, {meta['n_outputs'] - 1}]; run the prepare stage again")
