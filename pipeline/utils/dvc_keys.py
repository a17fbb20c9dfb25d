"""The params keys that `dvc.yaml` reads, checked as DVC reads them: written in the file.

The typed config fills defaults (``fewshot.families: []`` when the section is absent), but
DVC's templating and its ``params:`` lists look at the raw file, where an absent key stops
`dvc repro` before any stage runs ("Could not find 'fewshot.families'"). So every key that
`dvc.yaml` templates over (``${run.pairs}``) or lists as a stage's param (``pairs.${item.pair}``,
resolved for every matrix item) must be written in the params file; this module says which
one is not, with the stage that needs it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from pipeline.utils.configparse import ConfigError

_TEMPLATE = re.compile(r"\$\{\s*([^}]+?)\s*\}")


def lookup(raw: Any, dotted: str) -> tuple[bool, Any]:
    """(found, value) of a dotted key path in plain YAML data."""
    node = raw
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _templates(value: Any) -> Iterator[str]:
    """Every ``${expr}`` inside a YAML value, at any depth."""
    if isinstance(value, str):
        yield from _TEMPLATE.findall(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _templates(key)
            yield from _templates(item)
    elif isinstance(value, list):
        for item in value:
            yield from _templates(item)


def _require(raw: Any, dotted: str, where: str, hint: str = "") -> Any:
    found, value = lookup(raw, dotted)
    if not found:
        raise ConfigError(
            f"{dotted}: missing required key ({where} reads it, and DVC fills no defaults: write it in the file{hint})"
        )
    return value


def _matrix_items(raw: Any, name: str, matrix: dict[str, Any]) -> list[dict[str, Any]]:
    """The matrix's items as DVC resolves them from the raw params."""
    axes: dict[str, list[Any]] = {}
    for axis, spec in matrix.items():
        templates = list(_templates(spec))
        if isinstance(spec, str) and templates:
            values = _require(
                raw, templates[0], f"dvc.yaml's stage {name} (matrix.{axis})", "; an empty list runs no such stage"
            )
        else:
            values = spec
        axes[axis] = list(values) if isinstance(values, (list, tuple)) else []
    return [dict(zip(axes, combo)) for combo in itertools.product(*axes.values())]


def _substitute(text: str, item: dict[str, Any]) -> str:
    return _TEMPLATE.sub(lambda m: str(item.get(m.group(1).removeprefix("item."), m.group(0))), text)


def check_dvc_keys(raw: Any, dvc_yaml: str | Path = "dvc.yaml") -> None:
    """Raise a ConfigError naming the first key that `dvc.yaml` needs and the file lacks."""
    spec = yaml.safe_load(Path(dvc_yaml).read_text()) or {}
    for name, stage in (spec.get("stages") or {}).items():
        matrix = stage.get("matrix") or {}
        for expr in _templates({k: v for k, v in stage.items() if k != "matrix"}):
            if not expr.startswith("item."):
                _require(raw, expr, f"dvc.yaml's stage {name}", "; an empty list runs no such stage")
        for item in _matrix_items(raw, name, matrix) if matrix else [{}]:
            for entry in stage.get("params") or []:
                if isinstance(entry, str):
                    where = f"stage {name}@{'-'.join(map(str, item.values()))}" if item else f"stage {name}"
                    _require(raw, _substitute(entry, item), f"dvc.yaml's {where} (params:)")
    for expr in _templates(spec.get("plots") or []):
        _require(raw, expr, "dvc.yaml's plots")
