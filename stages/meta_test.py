"""DVC stage `meta_test@<family>-<method>`: score the meta-trained learners on the fixed meta-test tasks.

Per shot count: the metric after the meta-trained number of inner steps (the table's
number, with a 95% interval over tasks) and the adaptation curve after 0..test.steps steps.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from pipeline.config import Params
from stages.common import run_stage
from stages.meta_train import check_family_method, family_method_parser


def main(args: argparse.Namespace, params: Params) -> None:
    check_family_method(params, args.family, args.method)
    import torch

    from pipeline.fewshot.artifacts import build_learner, load_pools
    from pipeline.fewshot.metatrain import curves, fixed_tasks, objective_for, summary
    from pipeline.utils.derive import resolve_device
    from pipeline.utils.io import write_json
    from pipeline.utils.paths import fewshot_model_dir as model_dir
    from pipeline.utils.paths import fewshot_result_file as result_file
    from pipeline.utils.paths import timings_file

    cfg = params.fewshot
    family = cfg.tasks[args.family]
    objective = objective_for(family)
    pools, info = load_pools(args.family)
    device = resolve_device(params.device)
    record: dict = {
        "family": args.family,
        "method": args.method,
        "metric": objective.name,
        "lower_is_better": objective.lower_is_better,
        "inner_steps": family.train.inner_steps,
        "shots": {},
    }
    timings: dict[str, dict[str, float]] = {}
    for shots in family.shots:
        folder = model_dir(args.family, args.method) / f"K{shots}"
        learner = build_learner(cfg, args.family, args.method, info["image_shape"])
        learner.load_state_dict(torch.load(folder / "learner.pt", weights_only=True))
        learner.to(device)
        tasks = fixed_tasks(
            family, pools["test"] if pools else None, cfg.test.tasks, shots, cfg.seed, f"fewshot-test/{args.family}"
        ).to(device)
        started = time.monotonic()
        values = curves(learner, tasks, cfg.test.steps, objective)
        timings[f"K{shots}"] = {"wall_time_s": time.monotonic() - started}  # a run fact: kept out of the output
        trained = json.loads((folder / "history.json").read_text())
        record["shots"][str(shots)] = {
            "result": summary(values[:, family.train.inner_steps]),
            "curve": [summary(values[:, step]) for step in range(cfg.test.steps + 1)],
            "valid_history": trained["history"],
        }
        result = record["shots"][str(shots)]["result"]
        print(
            f"meta_test {args.family} {args.method} K={shots}: {objective.name} {result['mean']} ± {result['ci95']} "
            f"({result['tasks']} tasks, {result['diverged_tasks']} diverged)",
            flush=True,
        )
    write_json(result_file(args.family, args.method), record)
    write_json(timings_file("meta_test", f"{args.family}-{args.method}"), {"shots": timings})


def build_parser() -> argparse.ArgumentParser:
    return family_method_parser(__doc__ or "")


if __name__ == "__main__":
    sys.exit(run_stage(main, build_parser()))
