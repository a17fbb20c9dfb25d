"""DVC stage `tune@<pair>-<method>`: an Optuna study of the method's learning rates (off by default).

The DVC matrix creates one such stage per pair in `tune.pairs` x method in `tune.methods`;
with both lists empty (the default) there is no tune stage at all and `train` uses params.yaml.

    python -m stages.tune --pair P --method M             # the stage: run the study, write reports/tuning/P/M/
    python -m stages.tune --pair P --method M --worker    # join the same study from another process or machine
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pipeline.config import Params
from pipeline.methods import METHODS
from pipeline.tuning.space import is_tuned
from pipeline.utils.configparse import ConfigError
from pipeline.utils.io import atomic_path, write_json
from pipeline.utils.paths import tuning_dir
from stages.common import check_method, pair_and_data_dir, run_parser, run_stage


def main(args: argparse.Namespace, params: Params) -> None:
    _, data_dir = pair_and_data_dir(params, args.pair)
    check_method(params, args.method, args.params)
    label = f"tune {args.pair} {args.method}"
    if not is_tuned(params.tune, args.pair, args.method):
        raise ConfigError(
            f"tune: {args.pair} x {args.method} is not tuned (tune.pairs: {list(params.tune.pairs)}, "
            f"tune.methods: {list(params.tune.methods)})"
        )
    from pipeline.tuning.run import tune_method  # torch and optuna only when there is work

    def log(line: str) -> None:
        print(f"[{label}] {line}", flush=True)

    summary = tune_method(params, args.pair, args.method, data_dir, args.worker, args.n_trials, log)
    if summary is not None:
        write_output(tuning_dir(args.pair, args.method), summary, f"{args.pair} {args.method}: Optuna study")
        print(
            f"[{label}] best {summary['best_value']:.4f} with {summary['best_params']} "
            f"({summary['n_trials']} trials: {summary['n_complete']} complete, "
            f"{summary['n_pruned']} pruned, {summary['n_failed']} failed)"
        )


def write_output(folder: Path, summary: dict[str, Any], title: str) -> None:
    """result.json and history.png of the study, all or nothing."""
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        write_json(tmp / "result.json", summary)
        from pipeline.report.plots import optimisation_history

        optimisation_history(tmp / "history.png", title, summary["trials"], summary["objective"])


def build_parser() -> argparse.ArgumentParser:
    parser = run_parser(__doc__ or "", "method", METHODS, seeds=False)  # a study uses tune.seeds
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--worker", action="store_true", help="join the study as an extra worker (writes no stage output)"
    )
    parser.add_argument(
        "--n-trials", type=int, help="run exactly this many trials here (default: until the study's budget is used)"
    )
    return parser


if __name__ == "__main__":
    sys.exit(run_stage(main, build_parser()))
