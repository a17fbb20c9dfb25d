"""How well each run fits its training split against its validation split: a test for overfitting.

    python -m tools.fit_gap                 # every pair x method under data/runs of this checkout
    python -m tools.fit_gap --root ../wt/data/runs --pairs diabetes_mlp

A learned loss steeper than the handcrafted one trains faster (the paper's implicit learning-rate
tuning, Sec. 5.4); on a small data set over many steps that can end in a lower training error and a
higher validation error than the baseline's. Per pair x method, means over seeds, from each run's
``history.json``: the final training and validation errors, the lowest validation error and the
(median) step it was reached at. Reads the checkout's runs, which saved study records do not keep.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from pipeline.report.paired import final_value
from pipeline.utils.paths import RUNS_ROOT


def run_fit(history: list[dict[str, Any]]) -> dict[str, float]:
    """Final train / valid error, lowest valid error and its step, of one run's evaluated rows."""
    train, valid = final_value(history, "train_error"), final_value(history, "valid_error")
    if train is None or valid is None:
        raise ValueError("no evaluated step in the history")
    best = min((r for r in history if r.get("valid_error") is not None), key=lambda r: r["valid_error"])
    return {"train": train, "valid": valid, "best_valid": best["valid_error"], "best_step": best["step"]}


def pair_method_fits(root: Path, pairs: list[str] | None = None) -> dict[tuple[str, str], list[dict[str, float]]]:
    """Every finished run's fit under ``root`` (``<pair>/<method>/seed<N>/history.json``)."""
    fits: dict[tuple[str, str], list[dict[str, float]]] = {}
    for history in sorted(root.glob("*/*/seed*/history.json")):
        pair, method = history.parts[-4], history.parts[-3]
        if pairs and pair not in pairs:
            continue
        fits.setdefault((pair, method), []).append(run_fit(json.loads(history.read_text())))
    return fits


def table(fits: dict[tuple[str, str], list[dict[str, float]]]) -> list[str]:
    lines = [
        "| pair | method | seeds | final train error | final valid error | lowest valid error | at step (median) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for (pair, method), runs in sorted(fits.items()):
        mean = {k: statistics.fmean(r[k] for r in runs) for k in ("train", "valid", "best_valid")}
        step = statistics.median(r["best_step"] for r in runs)
        lines.append(
            f"| {pair} | {method} | {len(runs)} | {mean['train']:.4f} | {mean['valid']:.4f} "
            f"| {mean['best_valid']:.4f} | {step:g} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=RUNS_ROOT, help="a data/runs folder")
    parser.add_argument("--pairs", nargs="+", help="only these pairs")
    args = parser.parse_args(argv)
    fits = pair_method_fits(args.root, args.pairs)
    if not fits:
        parser.error(f"no run histories under {args.root}: run dvc repro first")
    print("\n".join(table(fits)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
