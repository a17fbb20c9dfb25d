"""DVC stage `check`: validate the whole params.yaml before any other stage runs.

It depends on every key of params.yaml, so any edit (even a key no stage reads, like a
stray ``seed:`` beside ``seeds:``) re-runs it, and a bad file stops `dvc repro` here with
one line naming the key. Its output never changes while the file is valid, so a passing
check re-runs nothing downstream.
"""

from __future__ import annotations

import argparse
import sys

from pipeline.config import Params
from pipeline.configcheck import run_summary
from pipeline.utils.paths import PARAMS_CHECKED
from stages.common import run_stage, stage_parser


def main(args: argparse.Namespace, params: Params) -> None:
    print(f"check: {args.params} is valid. {run_summary(params)}", flush=True)
    PARAMS_CHECKED.parent.mkdir(parents=True, exist_ok=True)
    PARAMS_CHECKED.write_text("params.yaml passed validation (python -m tools.config check)\n")


if __name__ == "__main__":
    sys.exit(run_stage(main, stage_parser(__doc__ or "")))
