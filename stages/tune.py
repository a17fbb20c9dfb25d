"""DVC stage `tune@<pair>-<method>`: an Optuna study of the method's learning rates (off by default).

With tuning off, or this pair/method not selected in `tune.pairs`/`tune.methods`, the stage
only records that (no torch import, well under a second) and `train` uses params.yaml.

    python -m stages.tune --pair P --method M             # the stage: run the study, write reports/tuning/P/M/
    python -m stages.tune --pair P --method M --worker    # join the same study from another process or machine
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pipeline.config import Params
from pipeline.configparse import ConfigError, key_path
from pipeline.interrupt import stop_on_signals
from pipeline.io import atomic_path, write_json
from pipeline.methods import METHODS
from pipeline.tuning.files import tuning_dir
from pipeline.tuning.space import is_tuned
from stages.common import pair_and_data_dir, run_stage, stage_parser


def main(args: argparse.Namespace, params: Params) -> None:
    _, data_dir = pair_and_data_dir(params, args.pair)
    if args.method not in params.methods:
        raise ConfigError(f"{key_path('methods', args.method)}: not defined in {args.params}")
    label = f"tune {args.pair} {args.method}"
    if not is_tuned(params.tune, args.pair, args.method):
        if args.worker:
            raise ConfigError(f"tune: {args.pair} x {args.method} is not tuned (tune.enabled, tune.pairs, tune.methods)")
        write_output(tuning_dir(args.pair, args.method), {"enabled": False, "pair": args.pair, "method": args.method}, None)
        print(f"[{label}] tuning off: train uses params.yaml's values")
        return
    summary = study_for(args, params, data_dir, label)
    if summary is not None:
        write_output(tuning_dir(args.pair, args.method), summary, f"{args.pair} {args.method}: Optuna study")
        print(f"[{label}] best {summary['best_value']:.4f} with {summary['best_params']} "
              f"({summary['n_trials']} trials: {summary['n_complete']} complete, {summary['n_pruned']} pruned, {summary['n_failed']} failed)")


def study_for(args: argparse.Namespace, params: Params, data_dir: Path, label: str) -> dict[str, Any] | None:
    """Run (or join) the study; the stage's result, or None for a worker (the stage writes it)."""
    import optuna  # the heavy imports only when there is work

    from pipeline.data.loading import load_prepared
    from pipeline.derive import resolve_device
    from pipeline.tuning.objective import make_objective
    from pipeline.tuning.space import base_setup, knobs_for, study_name
    from pipeline.tuning.study import fail_dead_trials, open_storage, open_study, run_trials, summarise

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # one line per trial, ours (failures add their traceback)
    tune, device = params.tune, resolve_device(params.device)
    setup = base_setup(params, args.pair, args.method)
    knobs = knobs_for(setup, tune.space)
    if not knobs:
        raise ConfigError(f"tune.space: nothing to tune for {args.method} (every range it uses is null)")
    try:
        storage, shown = open_storage(tune, args.pair, args.method)
    except Exception as error:  # an unreachable server, a bad URL, a missing driver: one line, no traceback
        first = (str(error).strip().splitlines() or [""])[0]
        raise ConfigError(f"tune.storage: cannot open the study storage ({type(error).__name__}: {first})") from None
    study = open_study(tune, storage, study_name(tune, setup, args.pair, args.method, knobs), worker=args.worker)
    revived = fail_dead_trials(study, storage)
    print(f"[{label}] study {study.study_name} on {shown}: {len(study.trials)} trials so far"
          + (f", {revived} left running by a dead process marked interrupted" if revived else ""), flush=True)
    objective = make_objective(load_prepared(data_dir), setup, args.method, knobs, tune.space, tune.seeds, device)
    with stop_on_signals() as stop:  # a stop between trials (or in an offline phase) ends the study cleanly
        ran = run_trials(study, storage, objective, tune.n_trials, tune.timeout_s, args.n_trials,
                         lambda line: print(f"[{label}] {line}", flush=True), stop)
    print(f"[{label}] {ran} trials run by this process", flush=True)
    if args.worker:
        return None
    try:
        return summarise(study, shown, knobs, tune.seeds)
    except ValueError as error:
        raise ConfigError(f"tune: {error}") from None


def write_output(folder: Path, summary: dict[str, Any], title: str | None) -> None:
    """result.json (+ history.png for a real study), all or nothing."""
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        write_json(tmp / "result.json", summary)
        if title is not None:
            from pipeline.report.plots import optimisation_history

            optimisation_history(tmp / "history.png", title, summary["trials"])


def build_parser() -> argparse.ArgumentParser:
    parser = stage_parser(__doc__ or "")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--pair", required=True)
    parser.add_argument("--method", required=True, choices=sorted(METHODS))
    parser.add_argument("--worker", action="store_true", help="join the study as an extra worker (writes no stage output)")
    parser.add_argument("--n-trials", type=int, help="run exactly this many trials here (default: until the study's budget is used)")
    return parser


if __name__ == "__main__":
    sys.exit(run_stage(main, build_parser()))
