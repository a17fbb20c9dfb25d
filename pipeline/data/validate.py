"""pandera checks on every prepared split before it is written (and after it is read back).

Each split becomes a DataFrame (tabular: one column per feature; images: per-sample pixel
range) plus its labels and source indices; a failure names the split and the check.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from pipeline.data.errors import DataError


def split_frame(x: np.ndarray, y: np.ndarray, index: np.ndarray, kind: str) -> pd.DataFrame:
    columns: dict[str, Any] = {"index": index, "y": y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y}
    flat = x.reshape(len(x), -1)
    if kind == "tabular":
        columns.update({f"f{j}": flat[:, j] for j in range(flat.shape[1])})
    else:  # images: summarise each sample instead of one column per pixel
        columns["x_min"] = flat.min(axis=1).astype(np.int64) if len(flat) else np.zeros(0, np.int64)
        columns["x_max"] = flat.max(axis=1).astype(np.int64) if len(flat) else np.zeros(0, np.int64)
    return pd.DataFrame(columns)


def split_schema(meta: dict[str, Any], split: str) -> pa.DataFrameSchema:
    finite = pa.Check(lambda s: np.isfinite(s), name="finite")
    columns: dict[str, pa.Column] = {"index": pa.Column("int64", pa.Check.ge(0), unique=True)}
    if meta["task"] == "classification":
        columns["y"] = pa.Column("int64", pa.Check.in_range(0, meta["n_outputs"] - 1))
    else:
        checks = [finite] + ([pa.Check.in_range(0.0, 1.0)] if split == "train" else [])
        columns["y"] = pa.Column("float32", checks)
    if meta["kind"] == "tabular":
        n_features = int(np.prod(meta["input_shape"]))
        columns.update({f"f{j}": pa.Column("float32", finite) for j in range(n_features)})
    else:
        columns["x_min"] = pa.Column("int64", pa.Check.ge(0))
        columns["x_max"] = pa.Column("int64", pa.Check.le(255))
    return pa.DataFrameSchema(columns, strict=True, coerce=False)


def validate_split(split: str, x: np.ndarray, y: np.ndarray, index: np.ndarray, meta: dict[str, Any]) -> None:
    expected_shape = tuple(meta["input_shape"])
    if tuple(x.shape[1:]) != expected_shape or len(x) != len(y) or len(y) != len(index):
        raise DataError(
            f"split '{split}': shape check failed: x {tuple(x.shape)}, y {tuple(y.shape)}, "
            f"index {tuple(index.shape)}, expected samples of shape {expected_shape}"
        )
    if len(x) == 0:
        raise DataError(f"split '{split}': non-empty check failed: no instances")
    if meta["kind"] == "image" and x.dtype != np.uint8:
        raise DataError(f"split '{split}': dtype check failed: images must be uint8, got {x.dtype}")
    _run(split_schema(meta, split), split_frame(x, y, index, meta["kind"]), f"split '{split}'")


def validate_disjoint(indices: dict[str, np.ndarray]) -> None:
    """No instance may appear in two splits."""
    frame = pd.DataFrame(
        {
            "index": np.concatenate(list(indices.values())),
            "split": np.repeat(list(indices), [len(v) for v in indices.values()]),
        }
    )
    schema = pa.DataFrameSchema({"index": pa.Column("int64", unique=True), "split": pa.Column(str)})
    _run(schema, frame, "splits train/valid/test")


def _run(schema: pa.DataFrameSchema, frame: pd.DataFrame, what: str) -> None:
    try:
        schema.validate(frame, lazy=False)
    except (SchemaError, SchemaErrors) as error:
        first = str(error).strip().splitlines()[0]
        raise DataError(f"{what}: pandera check failed: {first[:300]}") from None
