"""DVC stage `init_loss@<pair>-<init>`: the offline phase (Algorithm 1 or 3) for every seed.

Keyed by what it computes (the representation ``init``), so ML3 and AdaLFL share one
initialisation per pair and seed. The seeds run here one after another, or as Ray tasks
(`executor:`).
"""

from __future__ import annotations

import argparse
import sys

from pipeline.config import Params
from pipeline.data.loading import load_prepared
from pipeline.distributed.jobs import OfflineSeed
from pipeline.distributed.seeds import run_seeds
from pipeline.methods import INITS
from pipeline.utils.derive import resolve_device
from pipeline.utils.io import atomic_path
from pipeline.utils.paths import init_dir, timings_file
from pipeline.utils.runfacts import gather
from stages.common import pair_and_data_dir, run_parser, run_stage, seeds_of


def main(args: argparse.Namespace, params: Params) -> None:
    pair, data_dir = pair_and_data_dir(params, args.pair)
    resolve_device(params.device)  # a missing GPU fails here, before any seed starts
    job = OfflineSeed(
        load_prepared(data_dir),
        args.pair,
        pair,
        args.init,
        params.offline_for(args.pair, args.init),
        params.device,
        params.representation,
    )
    with atomic_path(init_dir(args.pair, args.init)) as out:  # all seeds appear together, or none
        out.mkdir()
        for done in run_seeds(job, seeds_of(args, params), params.executor, out):
            if done.summary:
                print(done.summary, flush=True)
        gather(out, timings_file("init_loss", f"{args.pair}-{args.init}"))


def build_parser() -> argparse.ArgumentParser:
    return run_parser(__doc__ or "", "init", INITS)


if __name__ == "__main__":
    sys.exit(run_stage(main, build_parser()))
