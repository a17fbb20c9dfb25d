"""Gather the evaluate and train outputs of every (pair, method, seed) the run names."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from pipeline.config import Params
from pipeline.methods import METHODS, has_offline_phase
from pipeline.report.health import baseline_errors, collapsed, is_finished
from pipeline.training.grid import methods_on
from pipeline.utils.paths import (
    EVAL_ROOT,
    INIT_ROOT,
    RUNS_ROOT,
    TIMINGS_ROOT,
    eval_file,
    init_dir,
    run_dir,
    timings_file,
)
from pipeline.utils.runfacts import seed_facts


@dataclass
class Cell:
    """One (pair, method): the per-seed records and their summary."""

    records: list[dict[str, Any]] = field(default_factory=list)
    offline_s: list[float] = field(default_factory=list)  # the offline phase's wall time per seed (empty: none)
    train_s: list[float] = field(default_factory=list)  # training's wall time per seed (reports/timings)
    reference: dict[int, float] = field(default_factory=dict)  # seed -> the pair's baseline test error

    @property
    def finished(self) -> list[dict[str, Any]]:
        return [r for r in self.records if is_finished(r)]

    @property
    def diverged(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r["status"] != "finished"]

    @property
    def diverged_seeds(self) -> list[int]:
        return [r["seed"] for r in self.diverged]

    @property
    def absurd_seeds(self) -> list[int]:
        """Finished seeds no better than the trivial predictor (chance / training mean); still averaged."""
        return [r["seed"] for r in self.finished if r.get("absurd")]

    @property
    def collapsed_seeds(self) -> list[int]:
        """Finished seeds that lost at least half the paired baseline's margin over trivial (report/health.py)."""
        return [r["seed"] for r in self.finished if collapsed(r, self.reference.get(r["seed"]))]

    @property
    def tuned(self) -> dict[str, float] | None:
        """The Optuna values the runs used (the same for every seed), or None."""
        return next((r["tuned"] for r in self.records if r.get("tuned")), None)

    def summary(self) -> dict[str, Any]:
        errors = np.array([r["test_error"] for r in self.finished], dtype=float)
        extra: dict[str, Any] = {"tuned": self.tuned} if self.tuned else {}
        if self.absurd_seeds:
            extra["absurd_seeds"] = self.absurd_seeds
        if self.collapsed_seeds:
            extra["collapsed_seeds"] = self.collapsed_seeds
        if self.diverged_seeds:
            extra["diverged_seeds"] = self.diverged_seeds
        times = self.wall_times()
        if len(errors) == 0:
            return {
                "test_error_mean": None,
                "test_error_std": None,
                "test_error_ci95": None,
                "n_seeds": 0,
                **times,
                **extra,
            }
        return {
            "test_error_mean": float(errors.mean()),
            "test_error_std": float(errors.std()),
            "test_error_ci95": ci95_half_width(errors),
            "n_seeds": len(errors),
            **times,
            **extra,
        }

    def wall_times(self) -> dict[str, float | None]:
        """Mean seconds per seed: the offline phase (shared by the methods that start from it) and training."""
        return {
            "offline_s": float(np.mean(self.offline_s)) if self.offline_s else None,
            "train_s": float(np.mean(self.train_s)) if self.train_s else None,
        }


def ci95_half_width(values: np.ndarray) -> float | None:
    """Half-width of the 95% confidence interval of the mean (Student's t, sample std); None for one seed."""
    if len(values) < 2:
        return None
    return float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))


def stage_wall_times(stage: str, item: str, seeds: tuple[int, ...], root: Path = TIMINGS_ROOT) -> list[float]:
    """The seeds' wall times from a stage's timings file (seeds it lacks are left out)."""
    facts = seed_facts(timings_file(stage, item, root))
    return [float(facts[s]["wall_time_s"]) for s in seeds if s in facts]


def collect(
    params: Params, eval_root: Path = EVAL_ROOT, timings_root: Path = TIMINGS_ROOT
) -> dict[str, dict[str, Cell]]:
    cells: dict[str, dict[str, Cell]] = {}
    for pair in params.run.pairs:
        for method in methods_on(params, pair):
            cell = cells.setdefault(pair, {}).setdefault(method, Cell())
            init = METHODS[method].init
            if has_offline_phase(init):
                cell.offline_s = stage_wall_times("init_loss", f"{pair}-{init}", params.seeds, timings_root)
            cell.train_s = stage_wall_times("train", f"{pair}-{method}", params.seeds, timings_root)
            cell.records.extend(eval_records(pair, method, params.seeds, eval_root))
        pair_reference(cells[pair], cells[pair])
    return cells


def pair_reference(row: dict[str, Cell], judged: dict[str, Cell]) -> None:
    """Give every cell in ``judged`` the seed-paired baseline errors of ``row`` (none without a baseline)."""
    reference = baseline_errors(row["baseline"].records) if "baseline" in row else {}
    for cell in judged.values():
        cell.reference = reference


def eval_records(pair: str, method: str, seeds: tuple[int, ...], eval_root: Path = EVAL_ROOT) -> list[dict[str, Any]]:
    """The evaluate stage's record of each seed of one (pair, method); a missing seed is an error."""
    evaluated = json.loads(eval_file(pair, eval_root).read_text())["methods"]
    records = {r["seed"]: r for r in evaluated.get(method, [])}
    missing = [s for s in seeds if s not in records]
    if missing:
        raise FileNotFoundError(
            f"{eval_file(pair, eval_root)}: no evaluation of {method} for seeds {missing}; run dvc repro"
        )
    return [records[s] for s in seeds]


def load_offline_info(
    pair: str, init: str, seeds: tuple[int, ...], init_root: Path = INIT_ROOT
) -> list[dict[str, Any]]:
    """Each seed's offline-phase info.json with its meta-loss curve; empty for a method without one.

    A seed without one is skipped: with a tuned offline meta lr, train runs its own offline phase.
    """
    if not has_offline_phase(init):
        return []
    infos = []
    for seed in seeds:
        folder = init_dir(pair, init, seed, init_root)
        if not (folder / "info.json").is_file():
            continue
        info = json.loads((folder / "info.json").read_text())
        info["meta_loss"] = json.loads((folder / "history.json").read_text())["meta_loss"]
        infos.append(info)
    return infos


def load_histories(
    pair: str, method: str, seeds: tuple[int, ...], runs_root: Path = RUNS_ROOT
) -> list[list[dict[str, Any]]]:
    return [json.loads((run_dir(pair, method, s, runs_root) / "history.json").read_text()) for s in seeds]


def load_snapshots(pair: str, method: str, seed: int, runs_root: Path = RUNS_ROOT) -> list[dict[str, Any]]:
    return json.loads((run_dir(pair, method, seed, runs_root) / "snapshots.json").read_text())


def finished_runs(runs: list, seeds: tuple[int, ...], diverged: set[int]) -> list:
    """The curves of the seeds that finished (a diverged seed's errors would swamp a mean); may be empty."""
    return [run for seed, run in zip(seeds, runs) if seed not in diverged]


def mean_curve(histories: list[list[dict[str, Any]]], key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(steps, mean, std) over the seeds, up to the shortest history (a diverged run stops early)."""
    length = min(len(h) for h in histories)
    steps = np.array([row["step"] for row in histories[0][:length]])
    values = np.array(
        [[row[key] if row[key] is not None else np.nan for row in h[:length]] for h in histories], dtype=float
    )
    return steps, np.nanmean(values, axis=0), np.nanstd(values, axis=0)
