"""Export a learned loss or update rule from the pipeline's outputs into a self-contained file.

    python -m tools.lfl export --pair digits_mlp --method adalfl --seed 0 --out loss.pt
    python -m tools.lfl export --pair digits_logistic --method meta_sgd --seed 0 --out rule.pt

The file needs neither params.yaml nor the pipeline's data to be used:
``pipeline.api.LearnedLoss.load("loss.pt")``, or for a method that learns an update rule (Meta-LR,
Meta-SGD, Meta-Curvature, the L2L LSTM, the Meta-LSTM) ``pipeline.api.LearnedOptimizer.load("rule.pt",
model.named_parameters())``, which steps like a ``torch.optim`` optimiser. It holds the loss after training (for AdaLFL:
where the online phase left it; for ML3: the offline phase's loss, fixed during training).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

import torch

from pipeline.api import LearnedLoss, LearnedOptimizer
from pipeline.config import load_params
from pipeline.data.errors import DataError
from pipeline.data.loading import read_meta
from pipeline.methods import METHODS
from pipeline.models.registry import build_model
from pipeline.report.stamp import git_commit, params_digest
from pipeline.training.exports import exports_a_loss, exports_a_rule
from pipeline.training.setup import base_setup, sgd_config
from pipeline.utils.configparse import ConfigError
from pipeline.utils.paths import RUNS_ROOT, prepared_dir, run_dir


def export_learned(
    params_path: Path, pair: str, method: str, seed: int, out: Path, runs_root: Path = RUNS_ROOT
) -> LearnedLoss | LearnedOptimizer:
    """Write the method's learned loss or rule after training (seed ``seed``) to ``out``."""
    params = load_params(params_path)
    if pair not in params.pairs:
        raise ConfigError(f"pairs.{pair}: not defined in {params_path}")
    if not (exports_a_loss(method) or exports_a_rule(method)):
        exportable = [m for m in METHODS if exports_a_loss(m) or exports_a_rule(m)]
        raise ConfigError(f"{method}: learns no loss or rule to export (methods that do: {', '.join(exportable)})")
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
    weights = torch.load(learned, weights_only=True, map_location="cpu")
    spec, representation = METHODS[method], asdict(params.representation)
    exported: LearnedLoss | LearnedOptimizer
    if exports_a_loss(method):
        exported = LearnedLoss(spec.loss, meta["task"], int(meta["n_outputs"]), representation, weights, source)
    else:
        setup = base_setup(params, pair, method)
        model = build_model(setup.pair.model, tuple(meta["input_shape"]), int(meta["n_outputs"]), 0)
        sgd = asdict(sgd_config(setup.pair))
        lr = setup.pair.optim.lr
        exported = LearnedOptimizer(model.named_parameters(), spec.init, lr, sgd, representation, weights, None, source)
    exported.save(out)
    return exported


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.lfl", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    export = sub.add_parser("export", help="write a learned loss or update rule to a self-contained file")
    export.add_argument("--pair", required=True)
    export.add_argument("--method", required=True)
    export.add_argument("--seed", type=int, required=True)
    export.add_argument("--out", type=Path, required=True)
    export.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args(argv)
    try:
        exported = export_learned(args.params, args.pair, args.method, args.seed, args.out)
    except (ConfigError, DataError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    what = (
        f"{exported.kind} loss for {exported.task} with {exported.n_outputs} outputs"
        if isinstance(exported, LearnedLoss)
        else f"{exported.kind} update rule for {len(exported.shapes)} parameter tensors"
    )
    print(f"{args.out}: {what} ({args.pair} {args.method} seed {args.seed}, commit {exported.source['commit']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
