"""Where a report came from: the code's git commit and a digest of the params file."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path


def git_commit(cwd: Path = Path(".")) -> str:
    """The short commit hash, with "+changes" when tracked files differ from it; "unknown" outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    # dvc exp run / dvc repro rewrite dvc.lock and the report itself while running: not code changes
    own_outputs = ("dvc.lock", "reports/", "params.yaml", "data/")
    code_changes = [line[3:] for line in changed.splitlines() if not line[3:].startswith(own_outputs)]
    return commit + ("+changes" if code_changes else "")


def params_digest(path: Path) -> str:
    """The first 12 hex digits of the params file's SHA-256 (equal digests: identical configurations)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def provenance(params_path: Path) -> str:
    return f"Generated from commit {git_commit()} with {params_path.name} sha256:{params_digest(params_path)}."
