"""Where the tune stage writes (``reports/tuning/<pair>/<method>/``) and reading it back; no torch needed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_tuning(folder: Path) -> dict[str, Any]:
    """The tune stage's result.json."""
    path = folder / "result.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; run the tune stage first (dvc repro)")
    return json.loads(path.read_text())
