"""DVC stage `run_inputs`: the digest of everything each train and transfer stage reads besides code and params.

``data/inputs/runs/train-<pair>-<method>.txt`` joins the pair's data digest, the offline phase's
output the method starts from and, for a tuned method, its study's result;
``transfer-<pair>-<method>-<source>.txt`` the source pair's offline output instead. Each train
stage depends on its own digest only, so a change to one offline phase or one study re-runs
exactly the trainings that read it (pipeline/inputs.py). ~0.3 s, no torch.
"""

from __future__ import annotations

import argparse
import sys

from pipeline.config import Params
from pipeline.inputs import run_digests, write_digests
from pipeline.utils.paths import DATA_DIGESTS, RUN_DIGESTS
from stages.common import run_stage, stage_parser


def main(args: argparse.Namespace, params: Params) -> None:
    names = write_digests(run_digests(params, DATA_DIGESTS), RUN_DIGESTS)
    print(f"run_inputs: {len(names)} digests in {RUN_DIGESTS}", flush=True)


if __name__ == "__main__":
    sys.exit(run_stage(main, stage_parser(__doc__ or "")))
