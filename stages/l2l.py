"""DVC stage `l2l@<problem>`: the L2L paper's benchmark (seed 002) for one optimisee family.

Meta-trains the coordinatewise LSTM optimiser, tunes SGD, Nesterov, RMSprop and Adam on
other instances, and runs all of them on fresh evaluation instances. One stage per entry
of `l2l.problems` (none in the default profile; `profiles/l2l.yaml` runs them).
"""

from __future__ import annotations

import argparse
import json

from pipeline.config import Params
from pipeline.l2l.problems import PROBLEMS
from pipeline.utils.configparse import ConfigError
from pipeline.utils.io import atomic_path, write_json
from pipeline.utils.paths import L2L_ROOT, prepared_dir
from stages.common import run_stage, stage_parser

OUT = L2L_ROOT


def main(args: argparse.Namespace, params: Params) -> None:
    cfg = params.l2l
    if args.problem not in cfg.problems:
        raise ConfigError(f"l2l.problems: {args.problem!r} is not listed ({', '.join(cfg.problems) or 'none'})")
    from pipeline.data.loading import load_prepared  # torch only when there is work
    from pipeline.l2l.benchmark import run_benchmark
    from pipeline.l2l.report import curves_figure, table

    images = None
    if args.problem != "quadratic":
        data = load_prepared(prepared_dir(params.data.prepared_dir, cfg.dataset))
        train = data.splits["train"]
        images = (train.x, train.y, int(data.meta["n_outputs"]))
    result = run_benchmark(args.problem, cfg, images)
    with atomic_path(OUT / args.problem) as tmp:  # curves, table and every number, all or nothing
        tmp.mkdir()
        (tmp / "detail.json").write_text(json.dumps(result) + "\n")
        curves_figure(tmp / "curves.png", result)
        (tmp / "table.md").write_text(table(result))
    write_json(OUT / f"{args.problem}.json", {m: s["final_mean"] for m, s in result["methods"].items()})  # dvc exp show
    print(table(result))


def build_parser() -> argparse.ArgumentParser:
    parser = stage_parser(__doc__ or "")
    parser.add_argument("--problem", required=True, choices=PROBLEMS)
    return parser


if __name__ == "__main__":
    raise SystemExit(run_stage(main, build_parser()))
