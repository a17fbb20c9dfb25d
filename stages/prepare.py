"""DVC stage `prepare@<dataset>`: load, split, normalise, validate and write one data set."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.config import Params
from pipeline.data.prepare import prepare_dataset
from pipeline.data.registry import DATASETS
from pipeline.data.store import write_prepared
from pipeline.utils.paths import prepared_dir
from stages.common import run_stage, stage_parser


def main(args: argparse.Namespace, params: Params) -> None:
    info = DATASETS[args.dataset]
    print(f"prepare {info.name}: loading {info.origin(Path(params.data.root))}", flush=True)
    prepared = prepare_dataset(info, info.load(Path(params.data.root)), params.data)
    out = prepared_dir(params.data.prepared_dir, info.name)
    meta = write_prepared(prepared, out)
    print(f"prepare {info.name}: wrote {out} (train {meta['n_train']}, valid {meta['n_valid']}, test {meta['n_test']})")


def build_parser() -> argparse.ArgumentParser:
    parser = stage_parser(__doc__ or "")
    parser.add_argument("--dataset", required=True, choices=sorted(DATASETS))
    return parser


if __name__ == "__main__":
    sys.exit(run_stage(main, build_parser()))
