"""DVC stage `train@<pair>-<method>`: train the base model with the method's rule, every seed.

The learning rates come from params.yaml, or from the tune stage's study where tuning is on.
The seeds run here one after another, or as Ray tasks (`executor:`).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from pipeline.config import Params
from pipeline.data.loading import load_prepared
from pipeline.distributed.jobs import TrainSeed
from pipeline.distributed.seeds import run_seeds
from pipeline.inputs import train_inputs
from pipeline.methods import METHODS
from pipeline.training.setup import MethodSetup
from pipeline.tuning.space import training_setup
from pipeline.utils.derive import resolve_device
from pipeline.utils.io import atomic_path
from pipeline.utils.paths import run_dir, timings_file, tuning_dir
from pipeline.utils.runfacts import gather
from stages.common import check_method, pair_and_data_dir, run_parser, run_stage, seeds_of


def main(args: argparse.Namespace, params: Params) -> None:
    _, data_dir = pair_and_data_dir(params, args.pair)
    check_method(params, args.method, args.params)
    resolve_device(params.device)  # a missing GPU fails here, before any seed starts
    inputs = train_inputs(params, args.pair, args.method)  # what run_inputs' digest of this stage covers
    setup, tuned = training_setup(params, args.pair, args.method, tuning_dir(args.pair, args.method))
    if tuned is not None:  # the method's own offline phase with the tuned values replaces the shared init
        print(f"[train {args.pair} {args.method}] tuned values {tuned}", flush=True)
    train_every_seed(
        args,
        params,
        data_dir,
        setup,
        tuned,
        args.method,
        inputs.init_folder,
        timings_file("train", f"{args.pair}-{args.method}"),
    )


def train_every_seed(
    args: argparse.Namespace,
    params: Params,
    data_dir: Path,
    setup: MethodSetup,
    tuned: dict[str, float] | None,
    name: str,
    inputs: Callable[[int], Path | None],
    timings: Path,
    loss_from: str | None = None,
) -> None:
    """Train ``args.method`` on ``args.pair`` for every seed into ``data/runs/<pair>/<name>``.

    The transfer stage trains through it too."""
    checkpoints = (Path(params.checkpoint.dir) / args.pair / name).resolve()
    job = TrainSeed(
        load_prepared(data_dir),
        args.pair,
        args.method,
        setup,
        tuned,
        params.device,
        checkpoints if params.checkpoint.every > 0 else None,
        params.checkpoint.every,
        loss_from,
    )
    with atomic_path(run_dir(args.pair, name)) as out:
        out.mkdir()
        for done in run_seeds(job, seeds_of(args, params), params.executor, out, inputs=inputs):
            print(done.summary, flush=True)
        gather(out, timings)
    shutil.rmtree(checkpoints, ignore_errors=True)  # the outputs are in place: nothing left to resume


def build_parser() -> argparse.ArgumentParser:
    return run_parser(__doc__ or "", "method", METHODS)


if __name__ == "__main__":
    sys.exit(run_stage(main, build_parser()))
