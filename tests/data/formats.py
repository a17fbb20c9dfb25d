"""Writers of tiny files in each data set's own distribution format (for loader tests)."""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    blob = header + array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        with gzip.open(str(path) + ".gz", "wb") as handle:
            handle.write(blob)
    else:
        path.write_bytes(blob)


def write_mnist(root: Path, n_train: int = 40, n_test: int = 10, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    folder = root / "MNIST" / "raw"
    for prefix, n, gz in (("train", n_train, False), ("t10k", n_test, True)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)), gz)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10, gz)


def write_cifar_batch(path: Path, n: int, label_key: str, n_classes: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    batch = {b"batch_label": b"tiny", label_key.encode(): [int(v) for v in np.arange(n) % n_classes], b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        pickle.dump(batch, handle, protocol=2)  # the protocol of the published files


def write_cifar10(root: Path, per_batch: int = 20) -> None:
    folder = root / "cifar-10-batches-py"
    for i in range(1, 6):
        write_cifar_batch(folder / f"data_batch_{i}", per_batch, "labels", 10, i)
    write_cifar_batch(folder / "test_batch", per_batch, "labels", 10, 99)


def write_cifar100(root: Path, n: int = 200) -> None:
    folder = root / "cifar-100-python"
    write_cifar_batch(folder / "train", n, "fine_labels", 100, 1)
    write_cifar_batch(folder / "test", 50, "fine_labels", 100, 2)


def write_svhn(root: Path, n_train: int = 50, n_test: int = 20) -> None:
    from scipy.io import savemat

    rng = np.random.default_rng(0)
    folder = root / "svhn"
    folder.mkdir(parents=True, exist_ok=True)
    for name, n in (("train", n_train), ("test", n_test)):
        labels = (np.arange(n) % 10) + 1  # the .mat files use 1..10, with 10 for the digit 0
        savemat(folder / f"{name}_32x32.mat", {"X": rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8), "y": labels.reshape(-1, 1)})


def write_crime(root: Path, n: int = 60) -> None:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        ident = ["8", "?" if i % 3 else "5", "?", f"Town{i}city", str(i % 10 + 1)]
        predictive = [f"{v:.2f}" for v in rng.random(122)]
        predictive[20] = "?" if i % 7 == 0 else predictive[20]  # an attribute with missing values
        rows.append(",".join(ident + predictive + [f"{rng.random():.2f}"]))
    (root / "crime").mkdir(parents=True, exist_ok=True)
    (root / "crime" / "communities.data").write_text("\n".join(rows) + "\n")


def write_california(root: Path, n: int = 60) -> None:
    rng = np.random.default_rng(0)
    lines = []
    for _ in range(n):
        households = rng.integers(50, 500)
        values = [-122 + rng.random(), 37 + rng.random(), rng.integers(1, 52), households * 5, households, households * 3, households, 1 + 8 * rng.random(), rng.integers(15000, 500001)]
        lines.append(",".join(f"{float(v):.6f}" for v in values))
    blob = ("\n".join(lines) + "\n").encode()
    folder = root / "california"
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / "cal_housing.tgz", "w:gz") as tar:
        info = tarfile.TarInfo("CaliforniaHousing/cal_housing.data")
        info.size = len(blob)
        tar.addfile(info, io.BytesIO(blob))
