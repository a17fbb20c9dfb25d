"""Run facts (wall time, the node that ran a seed) kept out of the outputs that stages depend on.

A re-run that computes equal tensors must leave its output's hash unchanged, or DVC re-runs
everything downstream of it. So a seed writes its facts to ``run_facts.json`` beside its
results, and the stage moves every seed's facts into one file per stage,
``reports/timings/<stage>@<item>.json`` (a DVC metrics file that only the report reads).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline.utils.io import write_json

SEED_FACTS = "run_facts.json"


def write_seed_facts(folder: Path, facts: dict[str, Any]) -> None:
    (folder / SEED_FACTS).write_text(json.dumps(facts, indent=2) + "\n")


def gather(out_dir: Path, dest: Path) -> dict[str, Any]:
    """Move each ``out_dir/seed<N>/run_facts.json`` into ``dest`` (``{"seeds": {"N": facts}}``)."""
    seeds: dict[str, Any] = {}
    for path in sorted(out_dir.glob(f"seed*/{SEED_FACTS}")):
        seeds[path.parent.name.removeprefix("seed")] = json.loads(path.read_text())
        path.unlink()
    record = {"seeds": seeds}
    write_json(dest, record)
    return record


def seed_facts(path: Path) -> dict[int, dict[str, Any]]:
    """Seed -> its facts, from a stage's timings file (empty when the file is absent)."""
    if not path.is_file():
        return {}
    return {int(seed): facts for seed, facts in json.loads(path.read_text())["seeds"].items()}
