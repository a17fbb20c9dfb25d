"""Which runs failed, by rule rather than by eye: diverged, no better than trivial, or collapsed.

A run *collapsed* when it finished, beat the trivial predictor (else it is "absurd"), and still lost
at least half of what the same seed's baseline gained over that predictor:

    error - baseline >= COLLAPSE_SHARE * (trivial - baseline)

The margin, not a fixed error, makes one rule fit both tasks: on Digits (chance 0.90, baseline 0.10)
it flags errors above 0.50; on Diabetes (training mean 0.064, baseline 0.030) above 0.047. The
baseline is paired by seed (the methods share initial weights and data order); where the pair has
no baseline, or the seed's baseline did not finish, nothing can be judged collapsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.methods import METHODS

COLLAPSE_SHARE = 0.5  # of the baseline's margin over the trivial predictor


def margin_lost(error: float, reference: float, trivial: float) -> float | None:
    """The share of the reference's margin over ``trivial`` that ``error`` gives back (None: no margin)."""
    if not trivial > reference:
        return None
    return (error - reference) / (trivial - reference)


def is_finished(record: dict[str, Any]) -> bool:
    """An evaluation record of a run that finished and has a test error."""
    return record["status"] == "finished" and record["test_error"] is not None


def offline_divergence(record: dict[str, Any]) -> str | None:
    """Where the run's offline phase diverged ("offline phase, meta step N"), or None if it did not."""
    at = record.get("offline_diverged_at")
    return None if at is None else f"offline phase, meta step {at}"


def collapsed(record: dict[str, Any], reference: float | None) -> bool:
    """Finished, better than trivial, yet at least COLLAPSE_SHARE of the paired baseline's margin lost."""
    if not is_finished(record) or record.get("absurd"):
        return False
    if reference is None or record.get("trivial_error") is None:
        return False
    lost = margin_lost(record["test_error"], reference, record["trivial_error"])
    return lost is not None and lost >= COLLAPSE_SHARE


def baseline_errors(records: list[dict[str, Any]]) -> dict[int, float]:
    """Seed -> test error of the baseline's finished runs."""
    return {r["seed"]: r["test_error"] for r in records if is_finished(r)}


@dataclass(frozen=True)
class Flag:
    """One run that failed: ``kind`` is "diverged", "absurd" or "collapsed"."""

    pair: str
    method: str
    seed: int
    kind: str
    detail: str


def run_flag(pair: str, method: str, record: dict[str, Any], reference: float | None) -> Flag | None:
    """The run's failure, or None where it finished and kept at least half the baseline's margin."""
    seed = record["seed"]
    if not is_finished(record):
        where = offline_divergence(record) or f"step {record.get('diverged_at')}"
        return Flag(pair, method, seed, "diverged", where)
    error, trivial = record["test_error"], record.get("trivial_error")
    if record.get("absurd"):
        return Flag(pair, method, seed, "absurd", f"test error {error:.4f}, trivial {trivial:.4f}")
    if collapsed(record, reference):
        assert reference is not None and trivial is not None
        lost = margin_lost(error, reference, trivial)
        return Flag(
            pair,
            method,
            seed,
            "collapsed",
            f"test error {error:.4f}, baseline {reference:.4f}, trivial "
            f"{trivial:.4f}: {lost:.0%} of the baseline's margin lost",
        )
    return None


def trains_with_learned_loss(name: str) -> bool:
    """A method (or a transferred run, ``<method>_from_<source>``) whose base loss is learned."""
    spec = METHODS.get(name.split("_from_")[0])
    return spec is not None and spec.loss != "handcrafted"


def pair_flags(pair: str, methods: dict[str, list[dict[str, Any]]], learned_loss_only: bool = False) -> list[Flag]:
    """Every failed run in one pair's evaluation record (``{"methods": ...}`` of data/eval/<pair>.json).

    ``learned_loss_only`` keeps the methods that train with a learned loss (ML3, AdaLFL, Taylor, ...)."""
    reference = baseline_errors(methods.get("baseline", []))
    flags = []
    for method, records in sorted(methods.items()):
        if learned_loss_only and not trains_with_learned_loss(method):
            continue
        for record in records:
            flag = run_flag(pair, method, record, reference.get(record["seed"]))
            if flag is not None:
                flags.append(flag)
    return flags
