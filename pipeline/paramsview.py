"""A stage's view of the config: only the params its `dvc.yaml` entry declares.

DVC re-runs a stage when one of its declared ``params:`` changes, and only then. A stage that
reads a section it does not declare would be served a stale cache after an edit there. So
each stage gets the config through this view: reading an undeclared key raises a
ConfigError with the stage's name and the ``params:`` entry to add, so the two cannot drift.

The lists a stage's matrix fans out over are readable by it (they say which stages exist), and so are
the keys its ``meta: {params_in_digests: […]}`` names: their values reach it through a digest file it
depends on (pipeline/inputs.py writes ``offline.<init>`` into the digests of train and tune). Keys
that never change a result are always readable (``checkpoint``, ``executor``: where and
how often a run saves or runs, never what it computes; ``data.prepared_dir``: where the
prepared data lie, whose content is a declared dep).
"""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from pipeline.utils.configparse import ConfigError

ALWAYS_READABLE = ("checkpoint", "executor", "data.prepared_dir")
_ITEM = re.compile(r"\$\{\s*item\.(\w+)\s*\}")
_TEMPLATE = re.compile(r"\$\{\s*([\w.]+)\s*\}")


def _within(path: str, entry: str) -> bool:
    return path == entry or path.startswith(entry + ".")


class _Access:
    """Which key paths a stage may read, and the error for one it may not."""

    def __init__(self, stage: str, declared: tuple[str, ...]) -> None:
        self.stage, self.declared = stage, declared + ALWAYS_READABLE

    def readable(self, path: str) -> bool:
        return any(_within(path, entry) for entry in self.declared)

    def leads_to_declared(self, path: str) -> bool:
        return any(entry.startswith(path + ".") for entry in self.declared)

    def denied(self, path: str) -> ConfigError:
        return ConfigError(
            f"{path}: stage {self.stage} reads it, but dvc.yaml does not list it under the stage's "
            f"params:, so DVC would not re-run the stage when it changes; add `- {path}` there"
        )


def _wrap(value: Any, path: str, access: _Access) -> Any:
    if access.readable(path):
        return value
    if not access.leads_to_declared(path):
        raise access.denied(path)
    if isinstance(value, dict):
        return _MappingView(value, path, access)
    if dataclasses.is_dataclass(value):
        return ParamsView(value, path, access)
    raise access.denied(path)


class ParamsView:
    """A dataclass config seen through a stage's declared params (methods run against the view too)."""

    def __init__(self, target: Any, path: str, access: _Access) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_access", access)

    def __getattr__(self, name: str) -> Any:
        member = getattr(type(self._target), name, None)
        if isinstance(member, types.FunctionType):  # a method reads fields through the view as well
            return types.MethodType(member, self)
        if isinstance(member, property):
            return member.fget(self)  # type: ignore[misc]
        return _wrap(getattr(self._target, name), f"{self._path}.{name}" if self._path else name, self._access)

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


class _MappingView:
    """A dict section (``pairs``, ``methods``, ``offline``): its keys are readable, its values as declared."""

    def __init__(self, target: dict, path: str, access: _Access) -> None:
        self._target, self._path, self._access = target, path, access

    def __getitem__(self, key: str) -> Any:
        return _wrap(self._target[key], f"{self._path}.{key}", self._access)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self._target else default

    def __contains__(self, key: object) -> bool:
        return key in self._target

    def __iter__(self) -> Iterator[str]:
        return iter(self._target)

    def __len__(self) -> int:
        return len(self._target)

    def keys(self) -> Any:
        return self._target.keys()

    def items(self) -> Iterator[tuple[str, Any]]:
        return ((key, self[key]) for key in self._target)

    def values(self) -> Iterator[Any]:
        return (self[key] for key in self._target)


def declared_params(dvc_yaml: Path, stage: str, args: dict[str, Any]) -> tuple[str, tuple[str, ...] | None]:
    """The stage's DVC name (``train@digits_mlp-adalfl``) and its ``params:`` entries with ``${item.*}``
    filled in from ``args`` (the stage's command-line values); None where it may read every key."""
    spec = (yaml.safe_load(dvc_yaml.read_text()) or {}).get("stages", {}).get(stage)
    if spec is None:
        return stage, None
    item = {axis: str(args[axis]) for axis in spec.get("matrix") or {} if args.get(axis) is not None}
    name = f"{stage}@{'-'.join(item.values())}" if item else stage
    entries: list[str] = []
    for entry in spec.get("params") or []:
        if not isinstance(entry, str):
            return name, None  # `params.yaml:` with no keys: every key
        entries.append(_ITEM.sub(lambda m: item.get(m.group(1), m.group(0)), entry))
    # the lists the matrix fans out over say which stages exist, not what one computes: a stage may check
    # that it is listed (DVC would not run it otherwise) without re-running whenever another entry is added
    entries += [
        m.group(1) for spec_value in (spec.get("matrix") or {}).values() for m in _TEMPLATE.finditer(str(spec_value))
    ]
    # keys whose values reach the stage through a digest it depends on (``meta: {params_in_digests: […]}``,
    # pipeline/inputs.py): DVC cannot name ``offline.<the method's init>`` per stage, the digest carries it
    entries += [str(key) for key in (spec.get("meta") or {}).get("params_in_digests") or []]
    return name, tuple(entries)


def stage_view(params: Any, stage: str, args: dict[str, Any], dvc_yaml: Path = Path("dvc.yaml")) -> Any:
    """``params`` as ``stage`` may read them; unchanged where there is no dvc.yaml or no such stage."""
    if not dvc_yaml.is_file():
        return params
    name, declared = declared_params(dvc_yaml, stage, args)
    return params if declared is None else ParamsView(params, "", _Access(name, declared))
