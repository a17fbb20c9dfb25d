"""What every stage entry point shares: argument parsing and one-line errors."""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from pipeline.config import Params, load_params
from pipeline.configparse import ConfigError
from pipeline.data.errors import DataError


def stage_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    return parser


def run_stage(main: Callable[[argparse.Namespace, Params], None], parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    """Parse, load params, run; known failures become one line on stderr and exit code 2."""
    args = parser.parse_args(argv)
    try:
        main(args, load_params(args.params))
    except (ConfigError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
