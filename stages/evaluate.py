"""DVC stage `evaluate@<pair>-<method>`: final test error of every seed's trained model."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pipeline.artifacts import eval_file, load_run_model, run_dir, save_eval
from pipeline.config import Params
from pipeline.data.loading import LoadedData, load_prepared
from pipeline.evaluation import split_error
from pipeline.methods import METHODS
from pipeline.models.registry import build_model
from stages.common import pair_and_data_dir, run_parser, run_stage, seeds_of


def evaluate_seed(data: LoadedData, model_name: str, pair: str, method: str, seed: int) -> dict[str, Any]:
    params, buffers, result = load_run_model(run_dir(pair, method, seed))
    model = build_model(model_name, tuple(data.meta["input_shape"]), int(data.meta["n_outputs"]), seed)
    record = {"pair": pair, "method": method, "seed": seed, "task": data.task, "status": result["status"],
              "diverged_at": result["diverged_at"], "steps_done": result["steps_done"],
              "train_wall_time_s": result["wall_time_s"], "test_error": None, "valid_error": None}
    if result["status"] == "finished":  # a diverged model has no error worth averaging
        for split in ("test", "valid"):
            part = data.splits[split]
            record[f"{split}_error"] = split_error(model, params, buffers, part.x, part.y, data.task)
    return record


def main(args: argparse.Namespace, params: Params) -> None:
    pair, data_dir = pair_and_data_dir(params, args.pair)
    data = load_prepared(data_dir)
    records = [evaluate_seed(data, pair.model, args.pair, args.method, seed) for seed in seeds_of(args, params)]
    save_eval(eval_file(args.pair, args.method), {"pair": args.pair, "method": args.method, "seeds": records})
    for r in records:
        print(f"evaluate {args.pair} {args.method} seed {r['seed']}: {r['status']}, test error {r['test_error']}")


def build_parser() -> argparse.ArgumentParser:
    return run_parser(__doc__ or "", "method", METHODS)


if __name__ == "__main__":
    sys.exit(run_stage(main, build_parser()))
