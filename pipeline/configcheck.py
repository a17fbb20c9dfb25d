"""Check a params file without running anything: ``python -m pipeline.config check``.

Prints what the file resolves to (every default filled in) and what `dvc repro` would run,
or the first error with its key path (exit code 2). The ``check`` DVC stage runs the same
validation before every other stage, so a typo anywhere in ``params.yaml`` stops
`dvc repro` before any work, even when no stage that reads the key would re-run.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

import yaml

from pipeline.config import Params, load_params
from pipeline.configparse import ConfigError
from pipeline.dvc_keys import check_dvc_keys
from pipeline.transfer import run_name, transfer_runs


def plain(value: Any) -> Any:
    """Dataclasses, tuples and dicts as plain YAML-safe values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def load_checked(params_path: str | Path, dvc_yaml: str | Path | None = "dvc.yaml") -> Params:
    """The typed params, after checking that every key `dvc.yaml` reads is written in the file."""
    params = load_params(params_path)
    if dvc_yaml is not None and Path(dvc_yaml).exists():
        try:
            check_dvc_keys(yaml.safe_load(Path(params_path).read_text()), dvc_yaml)
        except ConfigError as error:
            raise ConfigError(f"{params_path}: {error}") from None
    return params


def run_summary(params: Params) -> str:
    """What `dvc repro` would compute, in one paragraph."""
    run, extra = params.run, params.run_extra
    n_runs = (len(run.pairs) * len(run.methods) + len(extra.pairs) * len(extra.methods)) * len(params.seeds)
    tuned = len(params.tune.pairs) * len(params.tune.methods)
    return (
        f"{len(run.pairs)} pairs ({', '.join(run.pairs) or 'none'}) x {len(run.methods)} methods "
        f"({', '.join(run.methods) or 'none'})"
        + (
            f" + {len(extra.pairs)} pairs ({', '.join(extra.pairs)}) x {len(extra.methods)} methods "
            f"({', '.join(extra.methods)})"
            if extra.pairs
            else ""
        )
        + f" x {len(params.seeds)} seeds = {n_runs} training runs; "
        f"offline phases: {', '.join((*run.inits, *extra.inits)) or 'none'}; data sets: {', '.join(params.datasets)}; "
        f"tuning: {str(tuned) + ' studies' if tuned else 'off'}; "
        f"transfer: {', '.join(f'{p} with {run_name(m, s)}' for p, m, s in transfer_runs(params.transfer)) or 'off'}; "
        f"few-shot: {_fewshot_summary(params)}"
    )


def _fewshot_summary(params: Params) -> str:
    fewshot = params.fewshot
    if not fewshot.families:
        return "off"
    return (
        f"{len(fewshot.families)} families ({', '.join(fewshot.families)}) x "
        f"{len(fewshot.methods)} methods ({', '.join(fewshot.methods)})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.config", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="validate a params file and print what it resolves to")
    check.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    check.add_argument(
        "--dvc-yaml",
        default="dvc.yaml",
        help="the pipeline whose templated keys must be written (default: dvc.yaml; skipped if absent)",
    )
    check.add_argument("--quiet", action="store_true", help="print only the summary line, not the resolved config")
    args = parser.parse_args(argv)
    try:
        params = load_checked(args.params, args.dvc_yaml)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(yaml.safe_dump(plain(params), sort_keys=False), end="")
    print(f"{args.params}: valid. {run_summary(params)}")
    return 0
