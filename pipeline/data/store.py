"""Prepared data on disk: ``<split>.pt`` tensors plus ``meta.json`` with checksums.

Writing goes to a temporary folder that is renamed into place, so a killed `prepare`
never leaves a half-written data set; reading checks the checksums and re-runs the
pandera validation so a corrupted file is reported, not trained on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pipeline.data.errors import DataError
from pipeline.data.prepare import SPLITS, PreparedDataset, normalise_images
from pipeline.data.validate import validate_disjoint, validate_split
from pipeline.io import atomic_path, sha256_file


def validate_prepared(prepared: PreparedDataset) -> None:
    for name, split in prepared.splits.items():
        validate_split(name, split.x, split.y, split.index, prepared.meta)
    validate_disjoint({name: split.index for name, split in prepared.splits.items()})


def write_prepared(prepared: PreparedDataset, out_dir: str | Path) -> dict[str, Any]:
    """Validate, then write atomically; returns the meta data written."""
    validate_prepared(prepared)
    meta = dict(prepared.meta)
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        checksums = {}
        for name, split in prepared.splits.items():
            path = tmp / f"{name}.pt"
            tensors = {"x": torch.from_numpy(split.x), "y": torch.from_numpy(split.y), "index": torch.from_numpy(split.index)}
            torch.save(tensors, path)
            checksums[f"{name}.pt"] = sha256_file(path)
        meta["sha256"] = checksums
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


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
            raise DataError(f"{path}: checksum does not match meta.json (corrupt or modified file); run the prepare stage again")
        raw = torch.load(path, weights_only=True)
        x, y, index = raw["x"].numpy(), raw["y"].numpy(), raw["index"].numpy()
        validate_split(name, x, y, index, meta)
        features = normalise_images(x, meta["x_stats"]) if meta["kind"] == "image" else x.astype(np.float32)
        splits[name] = SplitTensors(torch.from_numpy(features), torch.from_numpy(y), torch.from_numpy(index))
    return LoadedData(meta, splits)
