"""What every stage entry point shares: argument parsing and one-line errors."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from pipeline.config import PairConfig, Params, load_params
from pipeline.data.errors import DataError
from pipeline.distributed.config import ExecutorError
from pipeline.paramsview import stage_view
from pipeline.utils.configparse import ConfigError, key_path
from pipeline.utils.interrupt import Interrupted
from pipeline.utils.paths import prepared_dir
from stages import timing


def stage_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    return parser


def stage_name(main: Callable[..., None]) -> str:
    """``stages.train`` -> ``train``: the dvc.yaml stage whose command runs this module."""
    module = main.__module__
    if module == "__main__":  # python -m stages.<name>
        spec = getattr(sys.modules["__main__"], "__spec__", None)
        module = spec.name if spec is not None else module
    return module.rsplit(".", 1)[-1]


def run_stage(
    main: Callable[[argparse.Namespace, Params], None], parser: argparse.ArgumentParser, argv: list[str] | None = None
) -> int:
    """Parse, load params, run; known failures become one line on stderr and exit code 2.

    The stage sees only the params its dvc.yaml entry declares (pipeline.paramsview)."""
    args = parser.parse_args(argv)
    work_started, cpu_at_start = time.time(), timing.cpu_seconds()
    code, message = 0, None
    try:
        params = load_params(args.params)
        pin_torch_threads(params.executor.threads)
        main(args, stage_view(params, stage_name(main), vars(args)))
    except (ConfigError, DataError, FileNotFoundError, ExecutorError) as error:
        code, message = 2, f"error: {error}"
    except Interrupted as stop:
        code, message = stop.exit_code, f"stopped: {stop}"
    timing.report(stage_name(main), work_started, cpu_at_start, quiet=message is not None)
    if message is not None:  # a failure is one line on stderr, with no timing line beside it
        print(message, file=sys.stderr)
    return code


def pin_torch_threads(threads: int) -> None:
    """Compute with the executor's thread count, never the machine's: a stage's numbers must not depend on
    its core count (float sums in another order), as every seed run by the executor already does not.

    A torch imported later reads OMP_NUM_THREADS at its import; one already imported is set directly."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)


def pair_and_data_dir(params: Params, pair_name: str) -> tuple[PairConfig, Path]:
    """The pair's config and its prepared-data folder; an undefined pair is a config error."""
    if pair_name not in params.pairs:
        raise ConfigError(f"{key_path('pairs', pair_name)}: not defined (defined: {', '.join(params.pairs) or 'none'})")
    pair = params.pairs[pair_name]
    return pair, prepared_dir(params.data.prepared_dir, pair.dataset)


def seeds_of(args: argparse.Namespace, params: Params) -> tuple[int, ...]:
    """The seeds a stage runs: ``--seed`` where given, else every seed in params."""
    return tuple(args.seed) if getattr(args, "seed", None) else params.seeds


def check_method(params: Params, name: str, params_path: str) -> None:
    """A method the stage is asked for must be defined under ``methods:``."""
    if name not in params.methods:
        raise ConfigError(f"{key_path('methods', name)}: not defined in {params_path}")


def run_parser(description: str, axis: str, choices: Iterable[str], seeds: bool = True) -> argparse.ArgumentParser:
    """``--pair``, ``--<axis>`` (method or init) and, with ``seeds``, an optional repeatable ``--seed``."""
    parser = stage_parser(description)
    parser.add_argument("--pair", required=True)
    parser.add_argument(f"--{axis}", required=True, choices=sorted(choices))
    if seeds:
        parser.add_argument(
            "--seed", type=int, action="append", help="only this seed (repeatable; default: params seeds)"
        )
    return parser
