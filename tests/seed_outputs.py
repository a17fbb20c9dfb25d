"""A seed's output folder read back for comparison: tensors loaded, JSON parsed.

Nothing is dropped: wall times and node names live in reports/timings (pipeline.utils.runfacts),
so two runs of the same seed must write identical folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch


def seed_outputs(folder: Path) -> dict[str, Any]:
    """Every file a train or init_loss seed writes: ``.pt`` as tensors, ``.json`` parsed."""
    outputs: dict[str, Any] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix == ".pt":
            outputs[path.name] = torch.load(path, weights_only=True)
        else:
            outputs[path.name] = json.loads(path.read_text())
    return outputs


def assert_identical(got: dict[str, Any], expected: dict[str, Any]) -> None:
    """Equal keys, every tensor ``torch.equal``, everything else ``==``."""
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        if key.endswith(".pt"):
            flat_got, flat_expected = _flatten(got[key]), _flatten(value)
            assert flat_got.keys() == flat_expected.keys()
            for name, tensor in flat_expected.items():
                assert torch.equal(flat_got[name], tensor), f"{key}:{name} differs"
        else:
            assert got[key] == value, f"{key} differs"


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, torch.Tensor]:
    flat: dict[str, torch.Tensor] = {}
    for name, value in tree.items():
        flat.update(_flatten(value, f"{prefix}{name}.") if isinstance(value, dict) else {prefix + name: value})
    return flat
