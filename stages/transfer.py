"""DVC stage `transfer@<pair>-<method>-<source>`: train a pair with the loss another pair learned.

ML3's meta-test (pipeline/training/transfer.py): the method starts from the source pair's offline output
(`data/init/<source>/<init>/seed<k>`) and trains the pair's seed-k model, whose initial weights and
batches are its baseline's; the runs are the pair's method `<method>_from_<source>`. The
learning rates are params.yaml's (a tuned method's values belong to its own offline phase).
"""

from __future__ import annotations

import argparse
import sys

from pipeline.config import Params
from pipeline.inputs import transfer_inputs
from pipeline.methods import METHODS
from pipeline.training.setup import setup_without_offline
from pipeline.training.transfer import run_name, transfer_runs
from pipeline.utils.configparse import ConfigError
from pipeline.utils.derive import resolve_device
from pipeline.utils.paths import timings_file
from stages.common import check_method, pair_and_data_dir, run_parser, run_stage
from stages.train import train_every_seed


def main(args: argparse.Namespace, params: Params) -> None:
    _, data_dir = pair_and_data_dir(params, args.pair)
    check_method(params, args.method, args.params)
    if (args.pair, args.method, args.loss_from) not in transfer_runs(params.transfer):
        raise ConfigError(
            f"transfer: {args.pair} x {args.method} x {args.loss_from} is not listed in transfer.pairs, "
            f"transfer.methods and transfer.loss_from"
        )
    resolve_device(params.device)  # a missing GPU fails here, before any seed starts
    inputs = transfer_inputs(args.pair, args.method, args.loss_from)  # what run_inputs' digest covers
    train_every_seed(
        args,
        params,
        data_dir,
        setup_without_offline(params, args.pair, args.method),
        None,
        run_name(args.method, args.loss_from),
        inputs.init_folder,
        timings_file("transfer", f"{args.pair}-{args.method}-{args.loss_from}"),
        args.loss_from,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = run_parser(__doc__ or "", "method", METHODS)
    parser.add_argument("--loss-from", required=True, help="the pair whose offline output the method starts from")
    return parser


if __name__ == "__main__":
    sys.exit(run_stage(main, build_parser()))
