"""How far the online phase moved phi in tuned runs saved before runs kept their start (start.pt).

    python -m tools.tuned_movement --pairs digits_mlp --seeds 0 1      # in the checkout the profile ran in
    python -m tools.tuned_movement --save movement.json                # every tuned method, every seed

A tuned method runs its own offline phase with its tuned values (pipeline/training/offline.py);
until the runs saved that phase's result, the report measured the online phase from the shared
init_loss output, which such a run never started from (pipeline/report/movement.py). This re-runs
each tuned run's offline phase (same code, seed and values: the same phi, on the same CPU) and
prints, per seed, the relative change from that start to the run's learned.pt beside what the
report printed. Tuned methods without an online phase (ML3) are the control: their learned.pt is
their offline phase's result, so they must read 0 where the offline phase re-ran bit for bit.
Needs the checkout's data/prepared, data/runs, reports/tuning and params.yaml.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from pipeline.config import Params, load_params
from pipeline.data.loading import load_prepared
from pipeline.methods import METHODS
from pipeline.report.movement import relative_change
from pipeline.training.offline import starting_rule
from pipeline.tuning.config import is_tuned
from pipeline.tuning.space import training_setup
from pipeline.utils.paths import init_dir, prepared_dir, run_dir, tuning_dir


def tuned_offline_methods(params: Params, pairs: list[str] | None) -> list[tuple[str, str]]:
    """(pair, method) of every tuned method with an offline phase (with an online phase or not: the control)."""
    return [
        (pair, method)
        for pair in params.run.pairs
        for method in params.run.methods
        if (not pairs or pair in pairs) and METHODS[method].has_offline_phase and is_tuned(params.tune, pair, method)
    ]


def remeasure(params: Params, pair: str, method: str, seeds: list[int]) -> list[dict[str, float | None]]:
    """Per seed: the online phase's true relative change, and the one from the shared init (the old report's)."""
    setup, tuned = training_setup(params, pair, method, tuning_dir(pair, method))  # digests the data set: once
    assert tuned is not None, f"{pair} {method} is not tuned"
    data = load_prepared(prepared_dir(params.data.prepared_dir, setup.pair.dataset))
    rows: list[dict[str, float | None]] = []
    for seed in seeds:
        start = (
            starting_rule(
                data, setup.pair, method, seed, torch.device("cpu"), None, setup.offline, False, setup.representation
            )
            .meta_module()
            .state_dict()
        )
        end = torch.load(run_dir(pair, method, seed) / "learned.pt", weights_only=True, map_location="cpu")
        shared = init_dir(pair, METHODS[method].init, seed) / "state.pt"
        from_shared = relative_change(torch.load(shared, weights_only=True), end) if shared.is_file() else None
        rows.append({"seed": seed, "online": relative_change(start, end), "from_shared": from_shared})
        print_row(pair, method, rows[-1])
    return rows


def print_row(pair: str, method: str, row: dict[str, float | None]) -> None:
    shared = "–" if row["from_shared"] is None else f"{row['from_shared']:.4g}"
    print(
        f"{pair} {method} seed {row['seed']}: online phase moved phi {row['online']:.4g} "
        f"(the old report, from the shared init: {shared})",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--pairs", nargs="*", help="default: every pair of run.pairs")
    parser.add_argument("--seeds", type=int, nargs="*", help="default: the params' seeds")
    parser.add_argument("--save", type=Path, help="write {pair: {method: [per-seed rows]}} as JSON here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # the train stage's threads: the same offline phase, bit for bit
    params = load_params(args.params)
    found = tuned_offline_methods(params, args.pairs)
    if not found:
        parser.error(f"{args.params}: no tuned method with an offline phase (tune.pairs x tune.methods)")
    seeds = args.seeds if args.seeds else list(params.seeds)
    results: dict[str, dict[str, list[dict[str, float | None]]]] = {}
    for pair, method in found:
        results.setdefault(pair, {})[method] = remeasure(params, pair, method, seeds)
    if args.save is not None:
        args.save.write_text(json.dumps(results, indent=1) + "\n")
    return 1 if unreproduced_controls(results) else 0


def unreproduced_controls(results: dict[str, dict[str, list[dict[str, float | None]]]]) -> list[str]:
    """The control runs (no online phase) whose re-run offline phase did not give their learned.pt exactly."""
    bad = [
        f"{pair} {method} seed {row['seed']}"
        for pair, by_method in results.items()
        for method, rows in by_method.items()
        if not METHODS[method].online
        for row in rows
        if row["online"] != 0.0
    ]
    if bad:
        print("not reproduced bit for bit (another CPU or code?): " + ", ".join(bad), file=sys.stderr)
    return bad


if __name__ == "__main__":
    sys.exit(main())
