"""Reproducibility helpers: stable derived seeds and generators, and the device choice."""

from __future__ import annotations

import hashlib

import torch

from pipeline.utils.configparse import ConfigError


def derive_seed(seed: int, *tags: object) -> int:
    """A 63-bit seed that depends only on ``seed`` and the tags (stable across runs and machines)."""
    text = "/".join([str(seed), *map(str, tags)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def generator(seed: int, *tags: object) -> torch.Generator:
    gen = torch.Generator()
    gen.manual_seed(derive_seed(seed, *tags))
    return gen


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when available; ``cuda`` without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device: cuda was requested but no CUDA device is available (use device: auto or cpu)")
    return torch.device(name)
