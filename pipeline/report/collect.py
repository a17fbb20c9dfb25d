"""Gather the evaluate and train outputs of every (pair, method, seed) the run names."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.artifacts import EVAL_ROOT, RUNS_ROOT, eval_file, run_dir
from pipeline.config import Params


@dataclass
class Cell:
    """One (pair, method): the per-seed records and their summary."""

    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def finished(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r["status"] == "finished" and r["test_error"] is not None]

    @property
    def diverged_seeds(self) -> list[int]:
        return [r["seed"] for r in self.records if r["status"] != "finished"]

    @property
    def absurd_seeds(self) -> list[int]:
        """Finished seeds no better than the trivial predictor (chance / training mean); still averaged."""
        return [r["seed"] for r in self.finished if r.get("absurd")]

    @property
    def tuned(self) -> dict[str, float] | None:
        """The Optuna values the runs used (the same for every seed), or None."""
        return next((r["tuned"] for r in self.records if r.get("tuned")), None)

    def summary(self) -> dict[str, Any]:
        errors = np.array([r["test_error"] for r in self.finished], dtype=float)
        extra: dict[str, Any] = {"tuned": self.tuned} if self.tuned else {}
        if self.absurd_seeds:
            extra["absurd_seeds"] = self.absurd_seeds
        if len(errors) == 0:
            return {"test_error_mean": None, "test_error_std": None, "n_seeds": 0, **extra}
        return {"test_error_mean": float(errors.mean()), "test_error_std": float(errors.std()), "n_seeds": len(errors), **extra}


def collect(params: Params, eval_root: Path = EVAL_ROOT) -> dict[str, dict[str, Cell]]:
    cells: dict[str, dict[str, Cell]] = {}
    for pair in params.run.pairs:
        for method in params.run.methods:
            cell = cells.setdefault(pair, {}).setdefault(method, Cell())
            evaluated = json.loads(eval_file(pair, eval_root).read_text())["methods"]
            records = {r["seed"]: r for r in evaluated.get(method, [])}
            missing = [s for s in params.seeds if s not in records]
            if missing:
                raise FileNotFoundError(f"{eval_file(pair, eval_root)}: no evaluation of {method} for seeds {missing}; run dvc repro")
            cell.records.extend(records[s] for s in params.seeds)
    return cells


def load_histories(pair: str, method: str, seeds: tuple[int, ...], runs_root: Path = RUNS_ROOT) -> list[list[dict[str, Any]]]:
    return [json.loads((run_dir(pair, method, s, runs_root) / "history.json").read_text()) for s in seeds]


def load_snapshots(pair: str, method: str, seed: int, runs_root: Path = RUNS_ROOT) -> list[dict[str, Any]]:
    return json.loads((run_dir(pair, method, seed, runs_root) / "snapshots.json").read_text())


def mean_curve(histories: list[list[dict[str, Any]]], key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(steps, mean, std) over the seeds, up to the shortest history (a diverged run stops early)."""
    length = min(len(h) for h in histories)
    steps = np.array([row["step"] for row in histories[0][:length]])
    values = np.array([[row[key] if row[key] is not None else np.nan for row in h[:length]] for h in histories], dtype=float)
    return steps, np.nanmean(values, axis=0), np.nanstd(values, axis=0)
