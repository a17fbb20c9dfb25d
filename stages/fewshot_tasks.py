"""DVC stage `fewshot_tasks@<family>`: a few-shot family's fixed class split and class pools (seed 003).

Sinusoids need no data (their tasks are drawn from the seed); an image family writes each
meta-split's classes, so meta_train and meta_test read exactly the same images.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipeline.config import Params
from pipeline.utils.configparse import ConfigError
from pipeline.utils.paths import fewshot_tasks_dir, prepared_dir
from stages.common import run_stage, stage_parser


def main(args: argparse.Namespace, params: Params) -> None:
    cfg = params.fewshot
    if args.family not in cfg.families:
        raise ConfigError(f"fewshot.families: {args.family!r} is not listed ({', '.join(cfg.families) or 'none'})")
    import torch

    from pipeline.data.loading import load_prepared
    from pipeline.fewshot.pools import omniglot_pools, pools_from_prepared
    from pipeline.fewshot.tasks import check_pool
    from pipeline.utils.io import atomic_path

    family = cfg.tasks[args.family]
    pools = None
    if family.kind == "images":
        if family.dataset == "omniglot":
            pools = omniglot_pools(Path(family.root), family, cfg.seed)
        else:
            pools = pools_from_prepared(
                load_prepared(prepared_dir(params.data.prepared_dir, str(family.dataset))).splits, family
            )
        for split, pool in pools.items():
            for shots in family.shots:
                try:
                    check_pool(pool, family, split, shots, max(family.query, family.test_query))
                except ValueError as error:
                    raise ConfigError(f"fewshot.tasks.{args.family}: {error}") from None
    info = {
        "family": args.family,
        "kind": family.kind,
        "classes": {s: len(p) for s, p in pools.items()} if pools else None,
        "images": {s: sum(int(c.shape[0]) for c in p) for s, p in pools.items()} if pools else None,
        "image_shape": list(pools["train"][0].shape[1:]) if pools else None,
    }
    with atomic_path(fewshot_tasks_dir(args.family)) as tmp:
        tmp.mkdir()
        torch.save(pools, tmp / "pools.pt")
        (tmp / "info.json").write_text(json.dumps(info, indent=2) + "\n")
    print(f"tasks {args.family}: {json.dumps(info)}")


def build_parser() -> argparse.ArgumentParser:
    parser = stage_parser(__doc__ or "")
    parser.add_argument("--family", required=True)
    return parser


if __name__ == "__main__":
    sys.exit(run_stage(main, build_parser()))
