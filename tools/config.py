"""Check a params file without running anything: ``python -m tools.config check [--params FILE]``.

Prints what the file resolves to (every default filled in) and what `dvc repro` would run,
or the first error with its key path (exit code 2); the ``check`` stage runs the same validation
(pipeline/configcheck.py).
"""

from __future__ import annotations

import argparse
import sys

import yaml

from pipeline.configcheck import load_checked, plain, run_summary
from pipeline.utils.configparse import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.config", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
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


if __name__ == "__main__":
    sys.exit(main())
