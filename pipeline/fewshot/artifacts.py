"""Where the few-shot stages write, and the learner they build for a family, method and shot count."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from pipeline.fewshot.config import FewshotConfig
from pipeline.fewshot.learners import FewShotLearner
from pipeline.fewshot.models import build_fewshot_model
from pipeline.fewshot.tasks import ClassPool
from pipeline.utils.paths import FEWSHOT_TASKS


def load_pools(family: str, root: Path = FEWSHOT_TASKS) -> tuple[dict[str, ClassPool] | None, dict[str, Any]]:
    folder = root / family
    if not (folder / "pools.pt").is_file():
        raise FileNotFoundError(f"{folder}/pools.pt: missing; run the fewshot_tasks@{family} stage first")
    return torch.load(folder / "pools.pt", weights_only=True), json.loads((folder / "info.json").read_text())


def build_learner(cfg: FewshotConfig, family_name: str, method: str, image_shape: list[int] | None) -> FewShotLearner:
    """theta_g at its seeded initial value (the same for every method) and the method's rule."""
    family = cfg.tasks[family_name]
    model = build_fewshot_model(
        family.kind, cfg.seed, family.hidden, tuple(image_shape or (1, 8, 8)), family.ways, family.filters
    )
    return FewShotLearner(model, method, family.train.inner_lr, family.train.first_order)
