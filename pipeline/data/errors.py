"""Errors a user can act on, each a single line."""

from __future__ import annotations

from pathlib import Path


class DataError(RuntimeError):
    """A data set that cannot be read or does not pass validation."""


class DataUnavailableError(DataError):
    """A data set that needs a download and is not on disk."""

    def __init__(self, dataset: str, folder: Path, how: str) -> None:
        super().__init__(f"data set '{dataset}' not found: looked in {folder}/; {how}")
