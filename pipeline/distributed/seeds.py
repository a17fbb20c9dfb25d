"""Run a stage's job for every seed, where ``executor`` says, and yield each seed as it finishes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from pipeline.distributed.config import ExecutorConfig, ExecutorError
from pipeline.distributed.job import SeedDone, SeedJob

__all__ = ["ExecutorError", "SeedDone", "SeedJob", "run_seeds"]


def no_inputs(seed: int) -> Path | None:
    return None


def run_seeds(
    job: SeedJob,
    seeds: tuple[int, ...],
    executor: ExecutorConfig,
    out_dir: Path,
    inputs: Callable[[int], Path | None] = no_inputs,
) -> Iterator[SeedDone]:
    """``job`` for every seed, writing ``out_dir/seed<N>``; ``inputs(seed)`` is the folder a seed reads.

    Locally the seeds run one after another in this process (Ray is not even imported), or
    with ``workers > 1`` in that many forked processes; every seed gets ``cpus_per_task``
    torch threads wherever it runs, so its result does not depend on the machine's core count.
    With Ray every seed is a task; the stage's data and each seed's input folder travel with
    the tasks, so the nodes share no filesystem.
    """
    if executor.kind == "local" and executor.workers > 1:
        from pipeline.distributed.local_pool import run_in_processes

        for seed, summary in run_in_processes(job, seeds, executor.workers, executor.threads, out_dir, inputs):
            yield SeedDone(seed, summary, None)
        return
    if executor.kind == "local":
        import torch

        torch.set_num_threads(executor.threads)  # as in a worker or a Ray task: the same result on any machine
        for seed in seeds:
            yield SeedDone(seed, job(seed, out_dir / f"seed{seed}", inputs(seed)), None)
        return
    from pipeline.distributed.ray_tasks import run_on_ray

    yield from run_on_ray(job, seeds, executor, out_dir, inputs)
