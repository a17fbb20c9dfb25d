"""Splitting, train-only normalisation, pandera validation and the prepared store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from pipeline.config import DataConfig
from pipeline.data.errors import DataError
from pipeline.data.prepare import Split, prepare_dataset
from pipeline.data.registry import DATASETS
from pipeline.data.loading import load_prepared
from pipeline.data.store import validate_prepared, write_prepared
from pipeline.data.tabular import RawDataset, load_diabetes, load_digits
from tests.data import formats

CFG = DataConfig()


def test_digits_stratified_holdout_and_sizes():
    prepared = prepare_dataset(DATASETS["digits"], load_digits(Path(".")), CFG)
    meta = prepared.meta
    assert meta["n_train"] + meta["n_valid"] + meta["n_test"] == 1797
    assert abs(meta["n_valid"] - 0.1 * (meta["n_train"] + meta["n_valid"])) <= 1
    for split in ("train", "valid", "test"):
        counts = np.bincount(prepared.splits[split].y, minlength=10) / len(prepared.splits[split].y)
        np.testing.assert_allclose(counts, 0.1, atol=0.02)  # each class keeps its ~10% share


def test_official_test_split_is_kept(tmp_path):
    formats.write_mnist(tmp_path, n_train=100, n_test=30)
    info = DATASETS["mnist"]
    prepared = prepare_dataset(info, info.load(tmp_path), CFG)
    assert prepared.meta["n_test"] == 30 and prepared.meta["official_test_split"]
    np.testing.assert_array_equal(prepared.splits["test"].index, np.arange(100, 130))
    assert prepared.meta["n_valid"] == 10


def test_split_is_seeded():
    raw = load_digits(Path("."))
    a = prepare_dataset(DATASETS["digits"], raw, CFG).splits["valid"].index
    b = prepare_dataset(DATASETS["digits"], raw, CFG).splits["valid"].index
    c = prepare_dataset(DATASETS["digits"], raw, DataConfig(split_seed=1)).splits["valid"].index
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_tabular_normalisation_uses_training_statistics_only():
    raw = load_diabetes(Path("."))
    prepared = prepare_dataset(DATASETS["diabetes"], raw, CFG)
    train = prepared.splits["train"]
    np.testing.assert_allclose(train.x.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(train.x.std(axis=0), 1, atol=1e-4)
    raw_train_x = raw.x_train[train.index]
    np.testing.assert_allclose(prepared.meta["x_stats"]["mean"], raw_train_x.mean(axis=0))
    assert not np.allclose(prepared.meta["x_stats"]["mean"], raw.x_train.mean(axis=0))  # not all rows
    y = prepared.splits["train"].y
    assert y.min() == 0 and y.max() == 1  # min-max scaled on train
    assert prepared.meta["y_stats"]["min"] == raw.y_train[train.index].min()


def test_image_statistics_are_per_channel_on_train(tmp_path):
    formats.write_cifar10(tmp_path)
    info = DATASETS["cifar10"]
    raw = info.load(tmp_path)
    prepared = prepare_dataset(info, raw, CFG)
    train = prepared.splits["train"]
    expected = raw.x_train[train.index].astype(np.float64).mean(axis=(0, 2, 3))
    np.testing.assert_allclose(prepared.meta["x_stats"]["mean"], expected)
    assert train.x.dtype == np.uint8


def test_write_then_load_roundtrip(tmp_path):
    prepared = prepare_dataset(DATASETS["digits"], load_digits(Path(".")), CFG)
    meta = write_prepared(prepared, tmp_path / "digits")
    data = load_prepared(tmp_path / "digits")
    assert data.splits["train"].x.shape == (meta["n_train"], 1, 8, 8)
    assert data.splits["train"].x.dtype == torch.float32
    means = data.splits["train"].x.mean(dim=(0, 2, 3))
    assert torch.allclose(means, torch.zeros(1), atol=1e-5)
    assert set(json.loads((tmp_path / "digits" / "meta.json").read_text())["sha256"]) == {"train.pt", "valid.pt", "test.pt"}


def _with_split(prepared, name: str, **changes):
    old = prepared.splits[name]
    fields = {"x": old.x, "y": old.y, "index": old.index, **changes}
    splits = dict(prepared.splits, **{name: Split(**fields)})
    return type(prepared)(prepared.info, splits, prepared.meta)


@pytest.fixture(scope="module")
def diabetes():
    return prepare_dataset(DATASETS["diabetes"], load_diabetes(Path(".")), CFG)


@pytest.fixture(scope="module")
def digits():
    return prepare_dataset(DATASETS["digits"], load_digits(Path(".")), CFG)


def test_pandera_rejects_non_finite_features(diabetes):
    x = diabetes.splits["valid"].x.copy()
    x[3, 2] = np.nan
    with pytest.raises(DataError, match=r"split 'valid': pandera check failed.*f2"):
        validate_prepared(_with_split(diabetes, "valid", x=x))


def test_pandera_rejects_label_out_of_range(digits):
    y = digits.splits["test"].y.copy()
    y[0] = 10
    with pytest.raises(DataError, match=r"split 'test': pandera check failed.*in_range"):
        validate_prepared(_with_split(digits, "test", y=y))


def test_pandera_rejects_overlapping_splits(digits):
    index = digits.splits["valid"].index.copy()
    index[0] = digits.splits["train"].index[0]
    with pytest.raises(DataError, match=r"splits train/valid/test: pandera check failed"):
        validate_prepared(_with_split(digits, "valid", index=index))


def test_pandera_rejects_duplicate_index_within_a_split(digits):
    index = digits.splits["train"].index.copy()
    index[1] = index[0]
    with pytest.raises(DataError, match=r"split 'train': pandera check failed"):
        validate_prepared(_with_split(digits, "train", index=index))


def test_shape_check_rejects_wrong_feature_count(diabetes):
    with pytest.raises(DataError, match=r"split 'train': shape check failed"):
        validate_prepared(_with_split(diabetes, "train", x=diabetes.splits["train"].x[:, :5]))


def test_regression_train_targets_outside_unit_interval_are_rejected(diabetes):
    y = diabetes.splits["train"].y.copy()
    y[0] = 1.5
    with pytest.raises(DataError, match=r"split 'train': pandera check failed"):
        validate_prepared(_with_split(diabetes, "train", y=y))


def test_failed_write_leaves_previous_output_intact(tmp_path, digits):
    out = tmp_path / "digits"
    write_prepared(digits, out)
    before = (out / "meta.json").read_text()
    y = digits.splits["test"].y.copy()
    y[0] = -1
    with pytest.raises(DataError):
        write_prepared(_with_split(digits, "test", y=y), out)
    assert (out / "meta.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digits"]  # no temporary leftovers


def test_corrupted_prepared_file_is_detected(tmp_path, digits):
    out = tmp_path / "digits"
    write_prepared(digits, out)
    blob = bytearray((out / "train.pt").read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (out / "train.pt").write_bytes(bytes(blob))
    with pytest.raises(DataError, match="train.pt: checksum does not match"):
        load_prepared(out)


def test_regression_without_official_test_split_gets_seeded_test_split():
    raw = RawDataset(np.random.default_rng(0).normal(size=(100, 3)), np.arange(100, dtype=float))
    prepared = prepare_dataset(DATASETS["diabetes"], raw, CFG)
    assert prepared.meta["n_test"] == 20 and prepared.meta["test_fraction"] == 0.2
    assert prepared.splits["train"].y.shape == (prepared.meta["n_train"], 1)
