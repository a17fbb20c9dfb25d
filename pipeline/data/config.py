"""The ``data:`` section: where data sets are looked for and written, and how they are split."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.utils.configparse import ConfigError


@dataclass(frozen=True)
class DataConfig:
    root: str = "data/raw"  # where data sets that need a download are looked for
    prepared_dir: str = "data/prepared"
    valid_fraction: float = 0.1  # of the training instances, held out for validation
    test_fraction: float = 0.2  # only for data sets without an official test split
    split_seed: int = 0

    def __post_init__(self) -> None:
        for name in ("valid_fraction", "test_fraction"):
            value = getattr(self, name)
            if not 0 < value < 1:
                raise ConfigError(f"{name}: expected a fraction in (0, 1), got {value}")
