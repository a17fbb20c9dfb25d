"""DVC stage `meta_train@<family>-<method>`: meta-train one few-shot method, one learner per shot count."""

from __future__ import annotations

import argparse
import json
import sys

from pipeline.config import Params
from pipeline.utils.configparse import ConfigError
from stages.common import run_stage, stage_parser


def check_family_method(params: Params, family: str, method: str) -> None:
    cfg = params.fewshot
    if family not in cfg.families:
        raise ConfigError(f"fewshot.families: {family!r} is not listed ({', '.join(cfg.families) or 'none'})")
    if method not in cfg.methods:
        raise ConfigError(f"fewshot.methods: {method!r} is not listed ({', '.join(cfg.methods)})")


def main(args: argparse.Namespace, params: Params) -> None:
    check_family_method(params, args.family, args.method)
    import torch

    from pipeline.fewshot.artifacts import build_learner, load_pools
    from pipeline.fewshot.metatrain import fixed_tasks, meta_train
    from pipeline.utils.derive import resolve_device
    from pipeline.utils.io import atomic_path, write_json
    from pipeline.utils.paths import fewshot_model_dir as model_dir
    from pipeline.utils.paths import timings_file

    cfg = params.fewshot
    family = cfg.tasks[args.family]
    pools, info = load_pools(args.family)
    device = resolve_device(params.device)
    timings: dict[str, dict[str, float]] = {}
    with atomic_path(model_dir(args.family, args.method)) as tmp:
        tmp.mkdir()
        for shots in family.shots:
            learner = build_learner(cfg, args.family, args.method, info["image_shape"]).to(device)
            valid = fixed_tasks(
                family,
                pools["valid"] if pools else None,
                family.train.valid_tasks,
                shots,
                cfg.seed,
                f"fewshot-valid/{args.family}",
            ).to(device)
            label = f"meta_train {args.family} {args.method} K={shots}"
            record = meta_train(
                learner, args.family, family, pools["train"] if pools else None, valid, shots, cfg.seed, label
            )
            (tmp / f"K{shots}").mkdir()
            torch.save({k: v.cpu() for k, v in learner.state_dict().items()}, tmp / f"K{shots}" / "learner.pt")
            wall_time_s = record.pop("wall_time_s")  # a run fact, kept out of the output (pipeline.utils.runfacts)
            (tmp / f"K{shots}" / "history.json").write_text(json.dumps(record) + "\n")
            timings[f"K{shots}"] = {"wall_time_s": wall_time_s}
            last = record["history"]["valid_metric"][-1]
            print(f"{label}: {wall_time_s:.1f}s, meta-validation {last}", flush=True)
    write_json(timings_file("meta_train", f"{args.family}-{args.method}"), {"shots": timings})


def family_method_parser(description: str) -> argparse.ArgumentParser:
    """``--family`` and ``--method``: the few-shot stages' matrix axes."""
    parser = stage_parser(description)
    parser.add_argument("--family", required=True)
    parser.add_argument("--method", required=True)
    return parser


def build_parser() -> argparse.ArgumentParser:
    return family_method_parser(__doc__ or "")


if __name__ == "__main__":
    sys.exit(run_stage(main, build_parser()))
