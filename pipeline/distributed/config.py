"""``executor:`` in params.yaml: where seeds run. It never changes a result, so no DVC stage depends on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from pipeline.utils.configparse import ConfigError


class ExecutorError(RuntimeError):
    """A cluster that cannot be reached, or a seed whose retries ran out: one line for the stage to print.

    Defined here, beside the config, so that every stage can catch it without importing the executor."""


@dataclass(frozen=True)
class ExecutorConfig:
    """``local``: the stage's own process, seed after seed (no Ray import). ``ray``: one Ray task per seed."""

    kind: Literal["local", "ray"] = "local"
    address: str | None = None  # host:port of the head (or ray://host:10001); null: RAY_ADDRESS, else a local instance
    gpus_per_task: float = 0  # Ray sets CUDA_VISIBLE_DEVICES per task; device: auto then picks its GPU
    cpus_per_task: float = 1  # also torch's thread count in the task
    max_retries: int = 2  # re-runs of a seed whose worker or node died (a Python error is never retried)
    workers: int = 1  # local: seeds run in this many processes at once (1: one after another in the stage)

    @property
    def threads(self) -> int:
        """torch's thread count for one seed, wherever it runs."""
        return max(1, int(self.cpus_per_task))

    def __post_init__(self) -> None:
        if self.cpus_per_task <= 0:
            raise ConfigError(f"cpus_per_task: expected a positive number, got {self.cpus_per_task}")
        if self.gpus_per_task < 0:
            raise ConfigError(f"gpus_per_task: expected a number >= 0, got {self.gpus_per_task}")
        if self.workers < 1:
            raise ConfigError(f"workers: expected an integer >= 1, got {self.workers}")
        if self.workers > 1 and self.kind != "local":
            raise ConfigError("workers: only used with executor.kind: local (Ray runs as many seeds as it has CPUs)")
        if self.max_retries < 0:
            raise ConfigError(f"max_retries: expected an integer >= 0, got {self.max_retries}")
        if self.address is not None and self.kind != "ray":
            raise ConfigError("address: only used with executor.kind: ray (set kind: ray, or address: null)")
        if self.address is not None and "@" in (
            urlsplit(self.address if "//" in self.address else "//" + self.address).netloc
        ):
            raise ConfigError(
                "address: contains credentials, which would be copied into the repository; Ray reads "
                "its token from RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token instead"
            )
