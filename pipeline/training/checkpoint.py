"""Checkpoint files: everything a training run needs to continue bit for bit.

A checkpoint is one file: a JSON header line (format, step, fingerprint, SHA-256 and size
of the payload) followed by the ``torch.save`` payload. It is written to a temporary
file and renamed over the old one, so a kill at any moment leaves either the previous
checkpoint or the new one, never a mixture; a damaged file fails its checksum.

The fingerprint names what the run *is* (configs, seed, initial meta-parameters, code
version): a checkpoint of another run is stale and ignored, never resumed from.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import torch

from pipeline.data.errors import DataError
from pipeline.utils.io import write_bytes

FORMAT = "lfl-checkpoint-1"
CODE_ROOT = Path(__file__).parent


class CheckpointError(DataError):
    """A checkpoint that exists but cannot be trusted (truncated, altered, unreadable)."""


def fingerprint(parts: dict[str, Any]) -> str:
    """A stable digest of JSON-able ``parts`` plus the library's source code."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(f"{text}\n{code_version()}".encode()).hexdigest()


def code_version() -> str:
    """SHA-256 over the library's Python sources: a checkpoint never outlives a code change."""
    digest = hashlib.sha256()
    for path in sorted(CODE_ROOT.rglob("*.py")):
        digest.update(path.relative_to(CODE_ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def tensors_digest(tensors: dict[str, torch.Tensor]) -> str:
    """A digest of named tensors' exact bytes (e.g. the meta-parameters a run starts from)."""
    digest = hashlib.sha256()
    for name, value in sorted(tensors.items()):
        digest.update(name.encode())
        digest.update(value.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def save_checkpoint(path: Path, step: int, run_fingerprint: str, state: dict[str, Any]) -> None:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    header = {
        "format": FORMAT,
        "step": step,
        "fingerprint": run_fingerprint,
        "sha256": hashlib.sha256(payload).hexdigest(),
        "size": len(payload),
    }
    write_bytes(path, json.dumps(header, sort_keys=True).encode() + b"\n" + payload)


def read_header(path: Path) -> dict[str, Any]:
    with open(path, "rb") as handle:
        line = handle.readline(4096)
    try:
        header = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise CheckpointError(
            f"{path}: not a checkpoint (unreadable header); delete it to start this run afresh"
        ) from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a {FORMAT} checkpoint; delete it to start this run afresh")
    return header


def load_checkpoint(path: Path, run_fingerprint: str) -> dict[str, Any] | None:
    """The saved state, or None where there is no checkpoint or it belongs to another run.

    Raises CheckpointError for a checkpoint of this run whose payload is damaged.
    """
    if not path.is_file():
        return None
    header = read_header(path)
    if header.get("fingerprint") != run_fingerprint:
        return None
    raw = path.read_bytes()
    payload = raw[raw.index(b"\n") + 1 :]
    if len(payload) != header.get("size") or hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        raise CheckpointError(
            f"{path}: checksum mismatch (truncated or altered checkpoint at step {header.get('step')}); "
            "delete it to start this run afresh"
        )
    return torch.load(io.BytesIO(payload), weights_only=True, map_location="cpu")
