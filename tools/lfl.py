"""Export a learned loss from the pipeline's outputs into a self-contained file.

    python -m tools.lfl export --pair digits_mlp --method adalfl --seed 0 --out loss.pt

The file needs neither params.yaml nor the pipeline's data to be used:
``pipeline.api.LearnedLoss.load("loss.pt")``. It holds the loss after training (for AdaLFL:
where the online phase left it; for ML3: the offline phase's loss, fixed during training).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

import torch

from pipeline.api import LearnedLoss
from pipeline.config import load_params
from pipeline.data.errors import DataError
from pipeline.data.loading import read_meta
from pipeline.methods import METHODS
from pipeline.report.stamp import git_commit, params_digest
from pipeline.training.exports import exports_a_loss
from pipeline.utils.configparse import ConfigError
from pipeline.utils.paths import prepared_dir, run_dir


def export_loss(
    params_path: Path, pair: str, method: str, seed: int, out: Path, runs_root: Path = Path("data/runs")
) -> LearnedLoss:
    params = load_params(params_path)
    if pair not in params.pairs:
        raise ConfigError(f"pairs.{pair}: not defined in {params_path}")
    if not exports_a_loss(method):
        loss_methods = [m for m in METHODS if exports_a_loss(m)]
        raise ConfigError(f"{method}: learns no loss to export (methods that do: {', '.join(loss_methods)})")
    spec = METHODS[method]
    learned = run_dir(pair, method, seed, runs_root) / "learned.pt"
    if not learned.is_file():
        raise FileNotFoundError(f"{learned}: missing; run `dvc repro train@{pair}-{method}` first")
    meta = read_meta(prepared_dir(params.data.prepared_dir, params.pairs[pair].dataset))
    source = {
        "pair": pair,
        "method": method,
        "seed": seed,
        "commit": git_commit(),
        "params_sha256": params_digest(params_path),
    }
    loss = LearnedLoss(
        spec.loss,
        meta["task"],
        int(meta["n_outputs"]),
        asdict(params.representation),
        torch.load(learned, weights_only=True, map_location="cpu"),
        source,
    )
    loss.save(out)
    return loss


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.lfl", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    export = sub.add_parser("export", help="write a learned loss to a self-contained file")
    export.add_argument("--pair", required=True)
    export.add_argument("--method", required=True)
    export.add_argument("--seed", type=int, required=True)
    export.add_argument("--out", type=Path, required=True)
    export.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args(argv)
    try:
        loss = export_loss(args.params, args.pair, args.method, args.seed, args.out)
    except (ConfigError, DataError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(
        f"{args.out}: {loss.kind} loss for {loss.task} with {loss.n_outputs} outputs "
        f"({args.pair} {args.method} seed {args.seed}, commit {loss.source['commit']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
