"""What the prepared files hold, shared by the writer and the (light-weight) reader."""

from __future__ import annotations

import numpy as np

SPLITS = ("train", "valid", "test")


def normalise_images(x_uint8: np.ndarray, stats: dict[str, list[float]]) -> np.ndarray:
    """Per-channel standardisation applied when an image split is loaded."""
    mean = np.asarray(stats["mean"], dtype=np.float32).reshape(1, -1, 1, 1)
    std = np.asarray(stats["std"], dtype=np.float32).reshape(1, -1, 1, 1)
    return (x_uint8.astype(np.float32) - mean) / std
