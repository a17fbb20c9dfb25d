"""DVC stage `report`: Table-1-style results, plots, metrics for `dvc exp show`, index.html."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.config import Params
from pipeline.report.build import build_report
from pipeline.report.stamp import provenance
from stages.common import run_stage, stage_parser


def main(args: argparse.Namespace, params: Params) -> None:
    build_report(params, Path(args.out), stamp=provenance(Path(args.params)))
    print(f"report: wrote {args.out}/results.md, metrics.json, metrics_detail.json, index.html, plots/")
    print(Path(args.out, "results.md").read_text())


def build_parser() -> argparse.ArgumentParser:
    parser = stage_parser(__doc__ or "")
    parser.add_argument("--out", default="reports")
    return parser


if __name__ == "__main__":
    sys.exit(run_stage(main, build_parser()))
