"""DVC stage `init_loss@<pair>-<init>`: the offline phase (Algorithm 1 or 3) for every seed.

Keyed by what it computes (the representation ``init``), so ML3 and AdaLFL share one
initialisation per pair and seed.
"""

from __future__ import annotations

import argparse
import sys
import time

from pipeline.artifacts import init_dir, save_init
from pipeline.config import Params
from pipeline.data.loading import load_prepared
from pipeline.derive import resolve_device
from pipeline.io import atomic_path
from pipeline.meta.offline import meta_loss_rose
from pipeline.methods import INITS
from pipeline.phases import offline_phase
from stages.common import pair_and_data_dir, run_parser, run_stage, seeds_of


def main(args: argparse.Namespace, params: Params) -> None:
    pair, data_dir = pair_and_data_dir(params, args.pair)
    offline = params.offline_for(args.pair, args.init)
    data = load_prepared(data_dir)
    device = resolve_device(params.device)
    with atomic_path(init_dir(args.pair, args.init)) as out:  # all seeds appear together, or none
        out.mkdir()
        for seed in seeds_of(args, params):
            label = f"init_loss {args.pair} {args.init} seed {seed}"
            started = time.monotonic()
            rule, history = offline_phase(data, pair, args.init, offline, seed, device, label, representation=params.representation)
            info = {"pair": args.pair, "init": args.init, "seed": seed, "steps": len(history),
                    "wall_time_s": time.monotonic() - started, "meta_loss_rose": meta_loss_rose(history)}
            save_init(out / f"seed{seed}", rule, history, info)
            if history:
                print(f"[{label}] meta-loss {history[0]:.4f} -> {history[-1]:.4f} in {info['wall_time_s']:.1f}s", flush=True)
            if info["meta_loss_rose"]:
                print(f"WARNING [{label}] the meta-loss ended higher than it started (mean of the last tenth of the "
                      f"steps above the first tenth's): the offline phase made the loss worse", flush=True)


def build_parser() -> argparse.ArgumentParser:
    return run_parser(__doc__ or "", "init", INITS)


if __name__ == "__main__":
    sys.exit(run_stage(main, build_parser()))
