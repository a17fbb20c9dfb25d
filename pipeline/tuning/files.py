"""Where the tune stage writes (``reports/tuning/<pair>/<method>/``) and reading it back; no torch needed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TUNING_ROOT = Path("reports/tuning")


def tuning_dir(pair: str, method: str, root: Path = TUNING_ROOT) -> Path:
    return root / pair / method


def read_tuning(folder: Path) -> dict[str, Any]:
    """The tune stage's result.json."""
    path = folder / "result.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; run the tune stage first (dvc repro)")
    return json.loads(path.read_text())
