"""DVC stage `data_inputs`: the digest of the prepared data set each pair, few-shot family and L2L problem reads.

``data/inputs/data/pair-<pair>.txt`` (and ``family-…``, ``problem-…``) holds the SHA-256 of every
file of that data set; init_loss, tune, evaluate, fewshot_tasks and l2l depend on their digest
instead of the whole ``data/prepared`` folder, so a new or changed data set re-runs only the stages
that read it (pipeline/inputs.py). ~0.3 s, no torch.
"""

from __future__ import annotations

import argparse
import sys

from pipeline.config import Params
from pipeline.inputs import data_digests, write_digests
from pipeline.utils.paths import DATA_DIGESTS
from stages.common import run_stage, stage_parser


def main(args: argparse.Namespace, params: Params) -> None:
    names = write_digests(data_digests(params), DATA_DIGESTS)
    print(f"data_inputs: {len(names)} digests in {DATA_DIGESTS}: {', '.join(names) or 'none'}", flush=True)


if __name__ == "__main__":
    sys.exit(run_stage(main, stage_parser(__doc__ or "")))
