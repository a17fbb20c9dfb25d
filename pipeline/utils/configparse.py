"""Strict conversion of plain YAML data into typed, frozen dataclasses.

Every error names the key path (``methods.adalfl.online.meta_lr``) and what was
expected, so a bad ``params.yaml`` fails in one line before any work starts.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import types
import typing
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T")


class ConfigError(ValueError):
    """A params file that does not fit the schema; the message starts with the key path."""


def positive(name: str, value: float) -> None:
    if not value > 0:
        raise ConfigError(f"{name}: expected a positive number, got {value}")


def non_negative(name: str, value: float) -> None:
    if value < 0:
        raise ConfigError(f"{name}: expected a number >= 0, got {value}")


def parse_dataclass(cls: type[T], data: Any, path: str = "") -> T:
    """Build ``cls`` from a mapping, rejecting unknown and missing keys."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path or '<root>'}: expected a mapping, got {_describe(data)}")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(str(k) for k in data if k not in fields)
    if unknown:
        raise ConfigError(f"{key_path(path, unknown[0])}: unknown key (expected one of: {', '.join(fields)})")
    values: dict[str, Any] = {}
    for name, field in fields.items():
        field_path = _join(path, name)
        if name in data:
            values[name] = convert(hints[name], data[name], field_path)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{field_path}: missing required key")
    try:
        return cls(**values)
    except ConfigError as error:  # from __post_init__: the message starts with the field name
        raise ConfigError(_join(path, str(error))) from None


def convert(tp: Any, value: Any, path: str) -> Any:
    """Convert ``value`` to type ``tp`` or raise a ConfigError naming ``path``."""
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        return _convert_union(tp, value, path)
    if origin is Literal:
        if value in get_args(tp) and not isinstance(value, bool):
            return value
        choices = ", ".join(repr(a) for a in get_args(tp))
        raise ConfigError(f"{path}: expected one of {choices}, got {_describe(value)}")
    if origin is tuple:
        return _convert_tuple(tp, value, path)
    if origin is dict:
        return _convert_dict(tp, value, path)
    if dataclasses.is_dataclass(tp):
        return parse_dataclass(typing.cast(type, tp), value, path)
    if tp in (int, float, bool, str):
        return _convert_scalar(tp, value, path)
    raise TypeError(f"unsupported schema type {tp!r} at {path}")


def _convert_union(tp: Any, value: Any, path: str) -> Any:
    args = get_args(tp)
    if value is None:
        if type(None) in args:
            return None
        raise ConfigError(f"{path}: must not be empty")
    options = [a for a in args if a is not type(None)]
    if len(options) == 1:  # Optional[X]: X's own error, with its own (deeper) path
        return convert(options[0], value, path)
    errors = []
    for arg in options:
        try:
            return convert(arg, value, path)
        except ConfigError as error:
            message = str(error)
            errors.append(message.removeprefix(f"{path}: "))
    raise ConfigError(f"{path}: {' or '.join(errors)}")


def _convert_tuple(tp: Any, value: Any, path: str) -> tuple[Any, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{path}: expected a list, got {_describe(value)}")
    (item_type, _ellipsis) = get_args(tp)
    return tuple(convert(item_type, item, f"{path}[{i}]") for i, item in enumerate(value))


def _convert_dict(tp: Any, value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: expected a mapping, got {_describe(value)}")
    _key_type, value_type = get_args(tp)
    out = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise ConfigError(f"{key_path(path, str(key))}: keys must be strings")
        out[key] = convert(value_type, item, key_path(path, key))
    return out


def _convert_scalar(tp: type, value: Any, path: str) -> Any:
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is str:
        if isinstance(value, str) and value:
            return value
    elif isinstance(value, bool):
        pass  # YAML's true/false is never a number
    elif tp is int:
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            return int(value)
    else:  # float: `dvc exp run -S` writes 1e-05, which plain YAML loaders read as a string
        number = _to_float(value)
        if number is not None and math.isfinite(number):
            return number
    expected = {bool: "true or false", str: "a non-empty string", int: "an integer"}
    raise ConfigError(f"{path}: expected {expected.get(tp, 'a finite number')}, got {_describe(value)}")


def _to_float(value: Any) -> float | None:
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def key_path(path: str, key: str) -> str:
    """``path.key``, or ``path["key"]`` (JSON-escaped) for a key with spaces, dots or control characters."""
    if re.fullmatch(r"[A-Za-z0-9_\-]+", key):
        return _join(path, key)
    return f"{path or '<root>'}[{json.dumps(key)}]"


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}"
