"""List every failed run in evaluation records: diverged, no better than trivial, or collapsed.

    python -m tools.run_health                         # data/eval and every studies/results/*/eval
    python -m tools.run_health studies/results/tuned   # some records (a checkout or a saved record)
    python -m tools.run_health --learned-loss --check  # only learned-loss runs; exit 1 if any failed
    python -m tools.run_health --learned-loss --form anchored   # only records of one loss form

The rules are the report's (pipeline/report/health.py): a run *collapsed* when it lost at least half of
the same seed's baseline margin over the trivial predictor. This is issue 26's "no learned-loss run
diverges, collapses or is flagged absurd" read off the records, one line per record and one per failed run.
Each record's line names its learned loss's form (representation.loss_form in the params.yaml it ran
with; records saved before tools.save_study kept the params say "form not recorded").
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import yaml

from pipeline.report.health import Flag, pair_flags, trains_with_learned_loss
from tools.paired_runs import eval_folder

KINDS = ("diverged", "absurd", "collapsed")
UNRECORDED = "form not recorded"


def default_records(root: Path) -> list[Path]:
    """The checkout itself (where its data/eval holds a record) and every saved study record with an eval folder."""
    found = [root] if any((root / "data/eval").glob("*.json")) else []
    return found + sorted(p.parent for p in (root / "studies/results").glob("*/eval") if p.is_dir())


def loss_form(record: Path) -> str:
    """The record's representation.loss_form, from the params.yaml it ran with (a checkout's or a saved one's).

    A params file without the key ran before the option existed, with the paper's form (plain)."""
    params = record / "params.yaml"
    if not params.is_file():
        return UNRECORDED
    representation = (yaml.safe_load(params.read_text()) or {}).get("representation") or {}
    return str(representation.get("loss_form", "plain"))


def record_flags(record: Path, learned_loss_only: bool) -> tuple[int, list[Flag]]:
    """(runs judged, failed runs) over every pair of one record."""
    runs, flags = 0, []
    for path in sorted(eval_folder(record).glob("*.json")):
        content = json.loads(path.read_text())
        methods = content["methods"]
        runs += sum(len(r) for m, r in methods.items() if not learned_loss_only or trains_with_learned_loss(m))
        flags += pair_flags(content.get("pair", path.stem), methods, learned_loss_only)
    return runs, flags


def report(records: list[Path], learned_loss_only: bool) -> tuple[list[str], int]:
    """The printed lines and the number of failed runs (a record without runs counts as one)."""
    lines, failed = [], 0
    for record in records:
        runs, flags = record_flags(record, learned_loss_only)
        counts = Counter(f.kind for f in flags)
        summary = ", ".join(f"{counts[k]} {k}" for k in KINDS if counts[k]) or "none failed"
        if not runs:  # a record with nothing in it must not pass a check
            summary = "nothing evaluated (counted as failed)"
        lines.append(f"{record} ({loss_form(record)}): {runs} runs, {summary}")
        lines += [f"    {f.pair} {f.method} seed {f.seed}: {f.kind} ({f.detail})" for f in flags]
        failed += len(flags) if runs else 1
    return lines, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("records", nargs="*", type=Path, help="checkouts or saved study records (default: all)")
    parser.add_argument("--learned-loss", action="store_true", help="only methods that train with a learned loss")
    parser.add_argument("--check", action="store_true", help="exit 1 if any run failed")
    parser.add_argument("--form", help=f"only records of this loss form (plain, residual, anchored, '{UNRECORDED}')")
    args = parser.parse_args(argv)
    records = args.records or default_records(Path("."))
    if args.form is not None:
        records = [r for r in records if loss_form(r) == args.form]
    if not records:
        where = f" of loss form {args.form!r}" if args.form is not None else ""
        parser.error(f"no records{where}: run dvc repro, or name a checkout or a studies/results/<name> folder")
    lines, failed = report(records, args.learned_loss)
    print("\n".join(lines))
    print(f"{failed} failed runs in {len(records)} records")
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
