"""Raw loaders for the image data sets, reading torchvision's on-disk layouts.

The formats are parsed here (IDX, CIFAR pickle batches, SVHN .mat) so that a truncated or
corrupt file gives a clear error and the tests can write tiny files in each format.
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.data.errors import DataError, DataUnavailableError
from pipeline.data.tabular import RawDataset

TORCHVISION_HINT = (
    'fetch it on a machine with network access with python -c "import torchvision; '
    "torchvision.datasets.{cls}('{root}', {args}download=True)\" and copy the folder here"
)

# ---------------------------------------------------------------- MNIST (IDX files)
IDX_DTYPES: dict[int, Any] = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: Path) -> np.ndarray:
    """Parse an IDX file (optionally gzipped), checking the header against the payload size."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            blob = handle.read()
    except (OSError, EOFError) as error:
        raise DataError(f"{path}: unreadable ({error})") from None
    if len(blob) < 4 or blob[0] != 0 or blob[1] != 0 or blob[2] not in IDX_DTYPES:
        raise DataError(f"{path}: not an IDX file (bad magic number)")
    ndim = blob[3]
    header = 4 + 4 * ndim
    if len(blob) < header:
        raise DataError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(blob[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(IDX_DTYPES[blob[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(blob) - header != expected:
        raise DataError(
            f"{path}: IDX payload has {len(blob) - header} bytes, header promises {expected} (truncated file?)"
        )
    return np.frombuffer(blob, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _idx_file(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def load_mnist(root: Path) -> RawDataset:
    folder = root / "MNIST" / "raw"
    stems = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    paths = [_idx_file(folder, stem) for stem in stems]
    if any(p is None for p in paths):
        raise DataUnavailableError("mnist", folder, TORCHVISION_HINT.format(cls="MNIST", root=root, args=""))
    x_train, y_train, x_test, y_test = (read_idx(p) for p in paths if p is not None)
    for images, labels, split in ((x_train, y_train, "train"), (x_test, y_test, "t10k")):
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(f"{folder}: {split} images {images.shape} and labels {labels.shape} do not match")
    return RawDataset(x_train[:, None], y_train.astype(np.int64), x_test[:, None], y_test.astype(np.int64))


# ---------------------------------------------------------------- CIFAR (python pickle batches)
class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickle CIFAR batches without executing arbitrary code: numpy arrays and builtins only."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def read_cifar_batch(path: Path, label_key: bytes) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as handle:
            batch = _ArrayOnlyUnpickler(handle, encoding="bytes").load()
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[label_key], dtype=np.int64)
    except (OSError, EOFError, pickle.UnpicklingError, KeyError, TypeError, ValueError, AttributeError) as error:
        raise DataError(f"{path}: not a readable CIFAR batch ({type(error).__name__}: {error})") from None
    if data.ndim != 2 or data.shape[1] != 3072 or len(data) != len(labels):
        raise DataError(f"{path}: expected data of shape (N, 3072) with N labels, got {data.shape} and {labels.shape}")
    return data.reshape(-1, 3, 32, 32), labels


def _load_cifar(
    root: Path, name: str, folder_name: str, train: list[str], test: str, label_key: bytes, cls: str
) -> RawDataset:
    folder = root / folder_name
    files = train + [test]
    if not all((folder / f).is_file() for f in files):
        raise DataUnavailableError(name, folder, TORCHVISION_HINT.format(cls=cls, root=root, args=""))
    parts = [read_cifar_batch(folder / f, label_key) for f in train]
    x_test, y_test = read_cifar_batch(folder / test, label_key)
    x_train = np.concatenate([x for x, _ in parts])
    y_train = np.concatenate([y for _, y in parts])
    return RawDataset(x_train, y_train, x_test, y_test)


def load_cifar10(root: Path) -> RawDataset:
    batches = [f"data_batch_{i}" for i in range(1, 6)]
    return _load_cifar(root, "cifar10", "cifar-10-batches-py", batches, "test_batch", b"labels", "CIFAR10")


def load_cifar100(root: Path) -> RawDataset:
    return _load_cifar(root, "cifar100", "cifar-100-python", ["train"], "test", b"fine_labels", "CIFAR100")


# ---------------------------------------------------------------- SVHN (MATLAB .mat files)
def read_svhn_mat(path: Path) -> tuple[np.ndarray, np.ndarray]:
    from scipy.io import loadmat

    try:
        mat = loadmat(path)
        images, labels = np.asarray(mat["X"]), np.asarray(mat["y"]).reshape(-1).astype(np.int64)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DataError(f"{path}: not a readable SVHN .mat file ({type(error).__name__}: {error})") from None
    if images.ndim != 4 or images.shape[:3] != (32, 32, 3) or images.shape[3] != len(labels):
        raise DataError(f"{path}: expected X of shape (32, 32, 3, N) with N labels, got {images.shape}")
    labels[labels == 10] = 0  # the .mat files store digit 0 as label 10
    return np.ascontiguousarray(images.transpose(3, 2, 0, 1)).astype(np.uint8), labels


def load_svhn(root: Path) -> RawDataset:
    folder = root / "svhn"
    train, test = folder / "train_32x32.mat", folder / "test_32x32.mat"
    if not (train.is_file() and test.is_file()):
        hint = TORCHVISION_HINT.format(cls="SVHN", root=folder, args="split='train', ") + " (and split='test')"
        raise DataUnavailableError("svhn", folder, hint)
    return RawDataset(*read_svhn_mat(train), *read_svhn_mat(test))
