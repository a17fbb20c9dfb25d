"""Split and normalise a raw data set (the `prepare` stage's pure function).

* the official train/test partition is kept; where there is none, a seeded test split
  of ``test_fraction`` is drawn (stratified for classification);
* ``valid_fraction`` of the training instances is held out for validation
  (stratified for classification, seeded);
* statistics come from the training split only: tabular features are standardised,
  images keep their uint8 values plus per-channel mean/std (applied when loaded),
  regression targets are min-max scaled to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from pipeline.data.config import DataConfig
from pipeline.data.registry import DatasetInfo
from pipeline.data.tabular import RawDataset


@dataclass(frozen=True)
class Split:
    x: np.ndarray  # tabular: float32 standardised; images: uint8 (N, C, H, W)
    y: np.ndarray  # classification: int64 (N,); regression: float32 (N, 1) scaled
    index: np.ndarray  # int64 position in the source (train rows first, then test rows)


@dataclass(frozen=True)
class PreparedDataset:
    info: DatasetInfo
    splits: dict[str, Split]
    meta: dict[str, Any] = field(default_factory=dict)


def prepare_dataset(info: DatasetInfo, raw: RawDataset, cfg: DataConfig) -> PreparedDataset:
    test_idx, pool_idx = _with_test_split(info, raw, cfg)
    train_idx, valid_idx = split_off(
        pool_idx, _class_labels(info, raw.y_train, pool_idx), cfg.valid_fraction, cfg.split_seed
    )
    x_all = np.concatenate([raw.x_train] + ([raw.x_test] if raw.x_test is not None else []))
    y_all = np.concatenate([raw.y_train] + ([raw.y_test] if raw.y_test is not None else []))
    x_stats = _feature_stats(info, x_all[train_idx])
    y_stats = _target_stats(info, y_all[train_idx])
    splits = {
        name: Split(
            _normalise_x(info, x_all[idx], x_stats), _normalise_y(info, y_all[idx], y_stats), idx.astype(np.int64)
        )
        for name, idx in (("train", train_idx), ("valid", valid_idx), ("test", test_idx))
    }
    meta = {
        "dataset": info.name,
        "task": info.task,
        "kind": info.kind,
        "n_train": len(train_idx),
        "n_valid": len(valid_idx),
        "n_test": len(test_idx),
        "input_shape": list(raw.x_train.shape[1:]),
        "n_outputs": info.n_classes if info.task == "classification" else 1,
        "official_test_split": raw.x_test is not None,
        "valid_fraction": cfg.valid_fraction,
        "test_fraction": None if raw.x_test is not None else cfg.test_fraction,
        "split_seed": cfg.split_seed,
        "x_stats": x_stats,
        "y_stats": y_stats,
    }
    return PreparedDataset(info, splits, meta)


def _with_test_split(info: DatasetInfo, raw: RawDataset, cfg: DataConfig) -> tuple[np.ndarray, np.ndarray]:
    """Indices (into train rows followed by test rows) of the test split and of the pool left for train+valid."""
    n_train = len(raw.y_train)
    if raw.y_test is not None:
        return np.arange(n_train, n_train + len(raw.y_test)), np.arange(n_train)
    # A fixed, seeded split where the data set has no official one; the seed is offset so
    # that it does not coincide with the validation hold-out's draw.
    pool = np.arange(n_train)
    pool_idx, test_idx = split_off(
        pool, _class_labels(info, raw.y_train, pool), cfg.test_fraction, cfg.split_seed + 10_007
    )
    return test_idx, pool_idx


def split_off(
    idx: np.ndarray, labels: np.ndarray | None, size: float | int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``idx`` into (kept, held-out), both sorted; ``size`` is a fraction or a count of ``idx``.

    Stratified by ``labels`` (one per entry of ``idx``) where given. The validation and test splits
    and tuning's holdout (pipeline/tuning/holdout.py) are all drawn by it."""
    kept, held = train_test_split(idx, test_size=size, random_state=seed, stratify=labels)
    return np.sort(kept), np.sort(held)


def _class_labels(info: DatasetInfo, y: np.ndarray, idx: np.ndarray) -> np.ndarray | None:
    """The labels to stratify ``idx`` by: ``y[idx]`` for classification, none for regression."""
    return y[idx] if info.task == "classification" else None


def _feature_stats(info: DatasetInfo, x_train: np.ndarray) -> dict[str, list[float]]:
    if info.kind == "image":  # per channel, over samples and pixels
        values = x_train.astype(np.float64)
        mean, std = values.mean(axis=(0, 2, 3)), values.std(axis=(0, 2, 3))
    else:
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)  # constant features stay constant (0) instead of NaN
    return {"mean": mean.tolist(), "std": std.tolist()}


def _target_stats(info: DatasetInfo, y_train: np.ndarray) -> dict[str, float] | None:
    if info.task == "classification":
        return None
    low, high = float(y_train.min()), float(y_train.max())
    return {"min": low, "max": high if high > low else low + 1.0}


def _normalise_x(info: DatasetInfo, x: np.ndarray, stats: dict[str, list[float]]) -> np.ndarray:
    if info.kind == "image":
        return np.ascontiguousarray(x, dtype=np.uint8)
    return ((x - np.asarray(stats["mean"])) / np.asarray(stats["std"])).astype(np.float32)


def _normalise_y(info: DatasetInfo, y: np.ndarray, stats: dict[str, float] | None) -> np.ndarray:
    if stats is None:
        return y.astype(np.int64)
    return ((y - stats["min"]) / (stats["max"] - stats["min"])).astype(np.float32).reshape(-1, 1)
