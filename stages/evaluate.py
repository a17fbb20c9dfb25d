"""DVC stage `evaluate@<pair>`: final test error of every method's and seed's trained model.

One stage per pair rather than per method: evaluation takes about a second, while each
extra process costs several seconds of start-up (see README, "The pipeline").
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pipeline.config import Params
from pipeline.data.loading import LoadedData, load_prepared
from pipeline.evaluation import split_error, trivial_error
from pipeline.models.registry import build_model
from pipeline.training.artifacts import load_run_model, save_eval
from pipeline.training.grid import methods_on
from pipeline.training.transfer import run_name, transfer_runs
from pipeline.utils.paths import eval_file, run_dir
from stages.common import pair_and_data_dir, run_stage, seeds_of, stage_parser


def evaluate_seed(
    data: LoadedData, model_name: str, pair: str, method: str, seed: int, trivial: float
) -> dict[str, Any]:
    """One run's test and validation error, and whether it beats ``trivial``.

    ``trivial`` is the input-blind predictor's test error."""
    params, buffers, result = load_run_model(run_dir(pair, method, seed))
    model = build_model(model_name, tuple(data.meta["input_shape"]), int(data.meta["n_outputs"]), seed)
    record = {
        "pair": pair,
        "method": method,
        "seed": seed,
        "task": data.task,
        "status": result["status"],
        "diverged_at": result["diverged_at"],
        "steps_done": result["steps_done"],
        "tuned": result.get("tuned"),
        "test_error": None,
        "valid_error": None,
    }
    if "offline_diverged_at" in result:  # it never started: its offline phase diverged (the key only then)
        record["offline_diverged_at"] = result["offline_diverged_at"]
    if result["status"] == "finished":  # a diverged model has no error worth averaging
        for split in ("test", "valid"):
            part = data.splits[split]
            record[f"{split}_error"] = split_error(model, params, buffers, part.x, part.y, data.task)
    record["trivial_error"] = trivial
    # "absurd": finished, but no better than ignoring the input (chance / the training mean)
    record["absurd"] = record["test_error"] is not None and record["test_error"] >= record["trivial_error"]
    return record


def main(args: argparse.Namespace, params: Params) -> None:
    pair, data_dir = pair_and_data_dir(params, args.pair)
    data = load_prepared(data_dir)
    # the pair's methods, then the runs that started from another pair's offline output (transfer)
    methods = args.method or [
        *methods_on(params, args.pair),
        *(run_name(m, s) for _, m, s in transfer_runs(params.transfer, args.pair)),
    ]
    trivial = trivial_error(
        data.task, data.splits["train"].y, data.splits["test"].y
    )  # the same for every run of the pair
    results = {
        m: [evaluate_seed(data, pair.model, args.pair, m, s, trivial) for s in seeds_of(args, params)] for m in methods
    }
    save_eval(eval_file(args.pair), {"pair": args.pair, "methods": results})
    for method, records in results.items():
        errors = ", ".join(f"{r['test_error']:.4f}" if r["test_error"] is not None else r["status"] for r in records)
        print(f"evaluate {args.pair} {method}: test error per seed {errors}")
        for r in records:
            if r["absurd"]:
                print(
                    f"WARNING evaluate {args.pair} {method} seed {r['seed']}: "
                    f"test error {r['test_error']:.4f} is no better "
                    f"than the trivial predictor's {r['trivial_error']:.4f} (absurd result)",
                    flush=True,
                )


def build_parser() -> argparse.ArgumentParser:
    parser = stage_parser(__doc__ or "")
    parser.add_argument("--pair", required=True)
    parser.add_argument(
        "--method",
        action="append",
        help="only this method (repeatable; default: the pair's methods in run and run_extra, and its transfer runs)",
    )
    parser.add_argument("--seed", type=int, action="append", help="only this seed (repeatable; default: params seeds)")
    return parser


if __name__ == "__main__":
    sys.exit(run_stage(main, build_parser()))
