"""The tuning split: a seeded part of the training split that no method trains or meta-trains on.

A study that ranks its trials by the validation error is biased towards the methods that
meta-train on the validation split (ML3's offline phase and AdaLFL's online phase, with
``meta_split: valid``): AdaLFL follows the validation error's gradient during training, so its
final validation error says little about its test error (docs/reproduction.md, "Tuned, at the
paper's protocol"). With ``tune.objective_split: holdout`` a trial trains on the training split
less a held-out part (stratified for classification, drawn with ``data.split_seed``) and is
ranked by its error there; the validation split stays what the methods meta-train on. The train
stage afterwards uses the whole training split.
"""

from __future__ import annotations

import numpy as np
import torch

from pipeline.data.loading import LoadedData, SplitTensors
from pipeline.data.prepare import split_off
from pipeline.utils.configparse import ConfigError

HOLDOUT = "holdout"
SEED_OFFSET = 20_011  # so the draw does not coincide with prepare's validation or test draws of the same seed


def with_tuning_holdout(data: LoadedData, fraction: float, seed: int) -> LoadedData:
    """``data`` with a ``holdout`` split taken out of its training split."""
    train = data.splits["train"]
    n_held = round(fraction * len(train.y))
    if n_held < 1 or n_held >= len(train.y):
        raise ConfigError(
            f"tune.holdout_fraction: {fraction} of {len(train.y)} training instances holds out {n_held}; "
            "it must leave at least one instance on each side"
        )
    positions = np.arange(len(train.y))
    stratify = train.y.numpy() if data.task == "classification" else None
    try:
        kept, held = split_off(positions, stratify, n_held, seed + SEED_OFFSET)
    except ValueError as error:  # a class too rare to appear on both sides
        raise ConfigError(f"tune.holdout_fraction: cannot stratify the holdout ({error})") from None
    splits = {**data.splits, "train": _take(train, kept), HOLDOUT: _take(train, held)}
    meta = {**data.meta, "n_train": len(kept), f"n_{HOLDOUT}": len(held)}
    return LoadedData(meta, splits)


def _take(split: SplitTensors, positions: np.ndarray) -> SplitTensors:
    rows = torch.from_numpy(positions)
    return SplitTensors(split.x[rows], split.y[rows], split.index[rows])
