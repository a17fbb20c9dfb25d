"""Digests as text: one ``<sha256>  <path>`` line per file, the format of ``sha256sum``.

The `code` stage writes one per stage module (tools/stage_deps.py) and the input stages one per
data consumer (pipeline/inputs.py); a stage depends on its digest file instead of on the files,
so it re-runs exactly when one of them changes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline.utils.io import sha256_file


def sha256_line(path: Path, name: str | Path | None = None) -> str:
    """``<sha256 of path's bytes>  <name>`` (``name`` defaults to the path)."""
    return f"{sha256_file(path)}  {name if name is not None else path}"


def tree_lines(path: Path) -> list[str]:
    """One line per file: ``path`` itself, or every file under the folder ``path``, sorted by path.

    A missing path is an error: a digest of nothing would look like a digest of an empty folder."""
    if path.is_file():
        return [sha256_line(path)]
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: missing; run the stage that writes it first (dvc repro)")
    return [sha256_line(file) for file in _files_under(path)]


def content_digest(folder: Path) -> str:
    """One SHA-256 of every file under ``folder`` (bytes and paths relative to it): where the
    folder lies does not change it, any edit inside does."""
    lines = [sha256_line(file, file.relative_to(folder).as_posix()) for file in _files_under(folder)]
    if not lines:
        raise FileNotFoundError(f"{folder}: missing or empty; run the stage that writes it first (dvc repro)")
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _files_under(folder: Path) -> list[Path]:
    """Every file under ``folder``, sorted by path (none for a missing folder)."""
    return sorted(p for p in folder.rglob("*") if p.is_file())
