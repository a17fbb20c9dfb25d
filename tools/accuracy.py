"""`python -m tools.accuracy [--pair P]`: do the fast meta-gradient variants train AdaLFL as well?

Runs AdaLFL on one pair of params.yaml for every seed with the unrolled meta-gradient
(k = 1), the forward-mode one (k = 1) and forward-mode with a meta step every 5 base steps,
all from the same offline initialisation, and prints the final test error (mean ± std).
``--online-meta-lr`` overrides the online meta learning rate: at the default (the paper's
1e-5) phi barely moves within a short run, so a larger one makes the online steps matter.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import statistics

import torch

from pipeline.config import load_params
from pipeline.data.loading import load_prepared
from pipeline.evaluation import split_error
from pipeline.training.loop import train
from pipeline.training.offline import offline_phase
from pipeline.training.setup import initial_model
from pipeline.utils.paths import prepared_dir

VARIANTS = {"unrolled_k1": ("unrolled", 1), "forward_k1": ("forward", 1), "forward_k5": ("forward", 5)}


def compare(
    params_path: str, pair_name: str, online_meta_lr: float | None = None
) -> dict[str, dict[str, float | list[float]]]:
    params = load_params(params_path)
    pair = params.pairs[pair_name]
    data = load_prepared(prepared_dir(params.data.prepared_dir, pair.dataset))
    online = params.methods["adalfl"].online
    assert online is not None
    if online_meta_lr is not None:
        online = dataclasses.replace(online, meta_lr=online_meta_lr)
    device = torch.device("cpu")
    errors: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for seed in params.seeds:
        initial_rule, _ = offline_phase(
            data, pair, "smooth_nn", params.offline_for(pair_name, "smooth_nn"), seed, device, progress=False
        )
        for name, (mode, k) in VARIANTS.items():
            rule = copy.deepcopy(initial_rule)  # every variant starts from the same phi
            method = dataclasses.replace(
                params.methods["adalfl"],
                online=dataclasses.replace(online, meta_grad=mode, meta_interval=k),  # type: ignore[arg-type]
            )
            result = train(data, pair, method, rule, seed, device, progress=False)
            test, model = data.splits["test"], initial_model(data, pair, seed, device)
            errors[name].append(
                split_error(model, result.state.params, result.state.buffers, test.x, test.y, data.task)
            )
    return {
        name: {"mean": statistics.mean(v), "std": statistics.pstdev(v), "per_seed": v} for name, v in errors.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--pair", default="digits_mlp")
    parser.add_argument("--online-meta-lr", type=float, default=None, help="override methods.adalfl.online.meta_lr")
    args = parser.parse_args()
    results = compare(args.params, args.pair, args.online_meta_lr)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
