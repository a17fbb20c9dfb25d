"""DVC stage `train@<pair>-<method>`: train the base model with the method's rule, every seed.

The learning rates come from params.yaml, or from the tune stage's study where tuning is on.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from pipeline.artifacts import init_dir, run_dir, save_run
from pipeline.config import Params
from pipeline.data.loading import load_prepared
from pipeline.derive import resolve_device
from pipeline.io import atomic_path
from pipeline.methods import METHODS
from pipeline.phases import starting_rule
from pipeline.train import Checkpointing, run_fingerprint, train
from pipeline.tuning.files import tuning_dir
from pipeline.tuning.space import training_setup
from stages.common import check_method, pair_and_data_dir, run_parser, run_stage, seeds_of


def main(args: argparse.Namespace, params: Params) -> None:
    _, data_dir = pair_and_data_dir(params, args.pair)
    check_method(params, args.method, args.params)
    device = resolve_device(params.device)
    data = load_prepared(data_dir)
    init = METHODS[args.method].init
    setup, tuned = training_setup(params, args.pair, args.method, tuning_dir(args.pair, args.method))
    if tuned is not None:  # the method's own offline phase with the tuned values replaces the shared init
        print(f"[train {args.pair} {args.method}] tuned values {tuned}", flush=True)
    pair, method = setup.pair, setup.method
    checkpoints = Path(params.checkpoint.dir) / args.pair / args.method
    with atomic_path(run_dir(args.pair, args.method)) as out:
        out.mkdir()
        for seed in seeds_of(args, params):
            init_folder = init_dir(args.pair, init, seed) if init != "handcrafted" else None
            rule = starting_rule(data, pair, args.method, seed, device, init_folder, setup.offline if tuned else None,
                                 representation=params.representation)
            label = f"train {args.pair} {args.method} seed {seed}"
            checkpoint = None
            if params.checkpoint.every > 0:  # a finished seed keeps its final checkpoint until the stage is done
                checkpoint = Checkpointing(checkpoints / f"seed{seed}.ckpt", params.checkpoint.every,
                                           run_fingerprint(data, pair, method, rule, seed, device))
            result = train(data, pair, method, rule, seed, device, label, checkpoint=checkpoint)
            save_run(out / f"seed{seed}", result, rule, {"pair": args.pair, "method": args.method, "seed": seed, "tuned": tuned})
            last = result.history[-1]
            print(f"[{label}] {result.status} after {result.steps_done} steps, valid error {last['valid_error']:.4f}, {result.wall_time_s:.1f}s", flush=True)
    shutil.rmtree(checkpoints, ignore_errors=True)  # the outputs are in place: nothing left to resume


def build_parser() -> argparse.ArgumentParser:
    return run_parser(__doc__ or "", "method", METHODS)


if __name__ == "__main__":
    sys.exit(run_stage(main, build_parser()))
