"""The files the API reads and writes: tensors and plain data only (``torch.load(weights_only=True)``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

VERSION = 1  # of every file format below; a file of another version fails with one line


class LossFileError(ValueError):
    """A file that is not a learned loss (or rule) this version can read; the message is one line naming it."""


def read_file(path: Path, file_format: str, what: str, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The saved dict of a file of ``file_format`` and this VERSION; ``what`` names the kind in errors."""
    try:
        saved = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise LossFileError(f"{path}: no such file") from None
    except Exception as error:  # truncated, corrupt, or holding objects beyond tensors and plain data
        raise LossFileError(f"{path}: cannot be read as a {what} file ({type(error).__name__})") from None
    if not isinstance(saved, dict) or saved.get("format") != file_format:
        raise LossFileError(f"{path}: not a {what} file (no format {file_format!r})")
    if saved.get("version") != VERSION:
        raise LossFileError(
            f"{path}: format version {saved.get('version')!r}, this code reads version {VERSION}; "
            f"export it again with this version"
        )
    return saved
