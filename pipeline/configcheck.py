"""The whole params file's checks and its one-line summary (the ``check`` stage, ``python -m tools.config check``).

The ``check`` DVC stage runs this validation before every other stage, so a typo anywhere in
``params.yaml`` stops `dvc repro` before any work, even when no stage that reads the key would re-run.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from pipeline.config import Params, load_params
from pipeline.training.transfer import run_name, transfer_runs
from pipeline.utils.configparse import ConfigError
from pipeline.utils.dvc_keys import check_dvc_keys


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
