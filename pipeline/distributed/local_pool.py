"""``executor.kind: local`` with ``workers > 1``: a stage's seeds in parallel processes on this machine.

Each seed is one independent job (its own seed fixes data order, initial weights and sampling)
and runs with ``cpus_per_task`` torch threads, as it does sequentially: the outputs are equal
bit for bit to a one-after-another run (tests/distributed/test_local_pool.py). The workers
are forked from the stage's process, so they do not import torch again; a process that has
already initialised CUDA spawns them instead (CUDA does not survive a fork).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path

import torch

from pipeline.distributed.job import SeedJob
from pipeline.utils.interrupt import Interrupted


class _Stopped:
    """A seed stopped by a signal, carried back as a value: a KeyboardInterrupt would break the pool."""

    def __init__(self, message: str, exit_code: int) -> None:
        self.message, self.exit_code = message, exit_code


def _set_threads(threads: int) -> None:
    torch.set_num_threads(threads)


def _run_one(job: SeedJob, seed: int, out: Path, inputs: Path | None) -> str | _Stopped:
    try:
        return job(seed, out, inputs)
    except Interrupted as stop:  # its checkpoint is written; the stage exits as a sequential run would
        return _Stopped(str(stop), stop.exit_code)


def _forward_stop_signals(pool: ProcessPoolExecutor) -> dict[int, object]:
    """SIGTERM / SIGINT to the stage reach its workers, which checkpoint and stop as a sequential run does.

    Returns the handlers to put back (none off the main thread, where Python allows no handler)."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def forward(signum: int, frame: object) -> None:
        for process in list((pool._processes or {}).values()):  # the pool's worker processes (no public accessor)
            if process.pid is not None:
                os.kill(process.pid, signum)

    return {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}


def _context() -> multiprocessing.context.BaseContext:
    return multiprocessing.get_context("spawn" if torch.cuda.is_initialized() else "fork")


def run_in_processes(
    job: SeedJob,
    seeds: tuple[int, ...],
    workers: int,
    threads: int,
    out_dir: Path,
    inputs: Callable[[int], Path | None],
) -> Iterator[tuple[int, str]]:
    """Run every seed on up to ``workers`` processes; yield (seed, the job's line) as each finishes.

    A seed that raises stops the stage with its error once the seeds already running end (their
    outputs and checkpoints stay for a resume); a stop request is re-raised as ``Interrupted``."""
    torch.set_num_threads(threads)  # the parent computes nothing, but a fork must not inherit a busy thread pool
    with ProcessPoolExecutor(
        max_workers=min(workers, len(seeds)), mp_context=_context(), initializer=_set_threads, initargs=(threads,)
    ) as pool:
        pending: dict[Future[str | _Stopped], int] = {
            pool.submit(_run_one, job, seed, out_dir / f"seed{seed}", inputs(seed)): seed for seed in seeds
        }
        previous = _forward_stop_signals(pool)
        try:
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    seed, result = pending.pop(future), future.result()
                    if isinstance(result, _Stopped):
                        raise Interrupted(result.message, result.exit_code - 128)
                    yield seed, result
        finally:
            for future in pending:
                future.cancel()
            for signum, handler in previous.items():
                signal.signal(signum, handler)  # type: ignore[arg-type]
