"""Writing prepared data: ``<split>.pt`` tensors plus ``meta.json`` with checksums.

Every split passes the pandera checks first; the files go to a temporary folder that is
renamed into place, so a killed `prepare` never leaves a half-written data set.
(Reading lives in ``pipeline.data.loading``, which needs neither pandera nor scikit-learn.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from pipeline.data.prepare import PreparedDataset
from pipeline.data.validate import validate_disjoint, validate_split
from pipeline.utils.io import atomic_path, sha256_file


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
            tensors = {
                "x": torch.from_numpy(split.x),
                "y": torch.from_numpy(split.y),
                "index": torch.from_numpy(split.index),
            }
            torch.save(tensors, path)
            checksums[f"{name}.pt"] = sha256_file(path)
        meta["sha256"] = checksums
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta
